"""Print daemon throughput and latency, with the real WMS (gunicorn on PostgreSQL) and 50 fake Zebras on 127.0.0.1.

1. Baseline: raw `sendall` of every label straight to the 50 fakes (one connection per label, one thread per
   printer, no WMS, no daemon) — what the printers and this machine can take.
2. Print path alone: the daemon's own work for the same labels (journal with fsync, ~HS/~HQES before and after,
   send, outbox) fed straight to it in this process, its reports taken by a local sink instead of HTTP.
3. Daemon: the same labels enqueued as print jobs in one transaction; one `printserver` process claims them
   (250 per claim, up to 1000 held at once), checks each printer with ~HS/~HQES before and after every job,
   sends, journals and reports to the WMS (reports batched, up to 200 per call). Prints
   labels/s until the last byte is at the printers, and until the WMS has every job `printed`.
4. Latency: 20 OPs (one per rack zone, each to the printer at its zone head) enqueued in one transaction via
   `enqueue_job` — what a wave release does — to the last byte of the last OP at its printer; p50 / max over runs.
   (A full wave release also plans and books slots; that part belongs to the waves bench, not this one.)

Usage: python bench/printing.py [--labels 2000] [--printers 50] [--runs 7] [--workers 3]
       (WMS_BENCH_PG_ADMIN_URL picks the PostgreSQL server)
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402

from tests.fakes.zebra import FakeZebra  # noqa: E402
from wms import create_app  # noqa: E402
from wms.dbcli import alembic_config  # noqa: E402

ADMIN = os.environ.get("WMS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "wms_bench_printing"


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + DB
    command.upgrade(alembic_config(url), "head")
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(app, zebras: list[FakeZebra]) -> tuple[str, dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    """A warehouse with one rack zone per printer, a printer at each zone head, a site token."""
    from wms.auth.tokens import issue_token
    from wms.db import db
    from wms.enums import PrinterPlace, TokenPurpose, ZoneKind
    from wms.layout import services as layout

    with app.app_context():
        wh = layout.create_warehouse("BENCH", "Print bench")
        zones, printers = {}, {}
        for n, zebra in enumerate(zebras):
            zone = layout.add_zone(wh, f"Z{n:02d}", ZoneKind.RACK, aisle_length_m=20)
            printer = layout.add_printer(wh, f"PR-{n:02d}", place=PrinterPlace.RACK_HEAD, zone=zone,
                                         connection=f"socket://127.0.0.1:{zebra.port}")
            db.session.flush()
            zones[zone.code], printers[printer.code] = zone.id, printer.id
        _token, raw = issue_token(name="bench-daemon", purpose=TokenPurpose.PRINT_SITE, warehouse_id=wh.id)
        db.session.commit()
        return raw, zones, printers


def wait_for(condition, timeout: float, what: str, every: float = 0.0005) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def received(zebras: list[FakeZebra]) -> int:
    return sum(len(conn.labels) for zebra in zebras for conn in zebra.connections)


def baseline(zebras: list[FakeZebra], labels: list[bytes]) -> float:
    """labels/s of raw sendall, one connection per label, one thread per printer."""
    start_count = received(zebras)
    per_printer: list[list[bytes]] = [[] for _ in zebras]
    for n, label in enumerate(labels):
        per_printer[n % len(zebras)].append(label)

    def push(zebra: FakeZebra, mine: list[bytes]) -> None:
        for label in mine:
            with socket.create_connection(zebra.address, timeout=5) as sock:
                sock.sendall(label)

    threads = [threading.Thread(target=push, args=(z, mine)) for z, mine in zip(zebras, per_printer, strict=True)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: received(zebras) - start_count >= len(labels), 60, "baseline labels")
    return len(labels) / (time.perf_counter() - t0)


class SinkClient:
    """Stands in for the WMS in the print-path figure only: claims nothing, takes every report at once."""

    def __init__(self, printers: list[dict]) -> None:
        self._printers = printers

    def printers(self) -> list[dict]:
        return self._printers

    def claim(self, max_jobs: int, wait_seconds: float, key: str) -> tuple[int, list[dict]]:
        time.sleep(min(wait_seconds, 0.5))
        return 3600, []

    def renew(self, job_id: int) -> dict:
        return {}

    def report(self, job_id: int, body: dict, key: str) -> dict:
        return {"state": body["outcome"]}

    def report_many(self, reports: list[tuple[int, str, dict]]) -> list[dict]:
        return [{"status": 200, "state": body["outcome"]} for _job_id, _key, body in reports]

    def report_status(self, printers: list[dict], key: str) -> dict:
        return {}

    def close(self) -> None:
        pass


def print_path(zebras: list[FakeZebra], labels: list[bytes]) -> float:
    """labels/s of the daemon's own work (journal with fsync, ~HS/~HQES before/after, send, outbox), no HTTP."""
    import base64

    from printserver.config import Settings
    from printserver.daemon import Daemon

    printers = [{"code": f"PR-{n:02d}", "name": "", "connection": f"socket://127.0.0.1:{z.port}",
                 "language": "zpl", "enabled": True} for n, z in enumerate(zebras)]
    state = Path(tempfile.mkdtemp(prefix="bench-printpath-"))
    settings = Settings(wms_url="http://127.0.0.1:1", token="-", state_dir=state, daemon_id="bench-path",
                        max_local_jobs=len(labels) + 1, status_interval_seconds=600)
    daemon = Daemon(settings, client=SinkClient(printers))  # type: ignore[arg-type]
    daemon.start()
    jobs = [{"id": 10_000_000 + n, "attempt": 1, "reference": "bench", "content_type": "application/vnd.zebra.zpl",
             "payload_b64": base64.b64encode(label).decode(), "copies": 1, "possible_duplicate": False,
             "printer": printers[n % len(printers)], "backup": None} for n, label in enumerate(labels)]
    before = received(zebras)
    t0 = time.perf_counter()
    for start in range(0, len(jobs), 100):
        daemon.accept(jobs[start:start + 100], 3600)
    wait_for(lambda: received(zebras) - before >= len(labels), 300, "print-path labels", every=0.01)
    rate = len(labels) / (time.perf_counter() - t0)
    daemon.stop()
    return rate


def enqueue(app, items: list[tuple[bytes, str, str]]) -> None:  # type: ignore[no-untyped-def]
    """(payload, printer code or None, zone code or None) → queued jobs, one transaction."""
    from sqlalchemy import select

    from wms.db import db
    from wms.layout.models import Zone
    from wms.printing import jobs
    from wms.printing.models import DocumentKind, Printer

    with app.app_context():
        printers = {p.code: p for p in db.session.scalars(select(Printer))}
        zones = {z.code: z.id for z in db.session.scalars(select(Zone))}
        warehouse_id = next(iter(printers.values())).warehouse_id
        for payload, printer, zone in items:
            jobs.enqueue_job(warehouse_id=warehouse_id, kind=DocumentKind.PICK_ORDER, reference="bench",
                             payload=payload, content_type=jobs.ZPL, idempotency_key=secrets.token_hex(12),
                             printer=printers[printer] if printer else None, zone_id=zones.get(zone))
        db.session.commit()


def count_printed(app) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from wms.db import db
    from wms.printing.models import JobState, PrintJob

    with app.app_context():
        return db.session.scalar(select(func.count()).where(PrintJob.state == JobState.PRINTED)) or 0


def op_payload(zone: str, run: int) -> bytes:
    from wms.labels.documents import PickLine, PickOrderDocument

    lines = tuple(PickLine(s, f"{zone}-01-{s:02d}", f"SKU-{s}", f"Item {s}", s, tote=f"T{s}") for s in range(1, 9))
    doc = PickOrderDocument(f"OP-{run}-{zone}", zone, f"W{run}", datetime(2026, 1, 1, 8), datetime(2026, 1, 1, 9),
                            lines)
    return doc.to_zpl().encode("ascii")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=2000)
    parser.add_argument("--printers", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop gunicorn and the daemon on the way out

    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    zebras = [FakeZebra().start() for _ in range(args.printers)]
    token, zones, _printers = seed(app, zebras)
    port = free_port()
    env = {**os.environ, "WMS_DATABASE_URL": url, "WMS_SECRET_KEY": secrets.token_urlsafe(32),
           "WMS_BIND": f"127.0.0.1:{port}", "WMS_WORKERS": str(args.workers), "WMS_ACCESS_LOG": "/dev/null",
           "WMS_LOG_LEVEL": "warning"}
    web = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--config", "deploy/gunicorn.conf.py"], cwd=ROOT,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = Path(tempfile.mkdtemp(prefix="bench-printserver-"))
    daemon = None
    try:
        wait_for(lambda: _healthy(f"http://127.0.0.1:{port}/api/v1/health"), 60, "gunicorn", every=0.2)
        labels = [b"^XA^CI28^FO20,20^A0N,30,30^FH^FDBENCH LABEL %06d^FS^XZ" % n for n in range(args.labels)]
        base = baseline(zebras, labels)
        path = print_path(zebras, labels)

        # The jobs are queued first, then the daemon starts: the figure is the daemon's, not the enqueue's.
        codes = [f"PR-{n:02d}" for n in range(args.printers)]
        t0 = time.perf_counter()
        enqueue(app, [(label, codes[n % len(codes)], None) for n, label in enumerate(labels)])
        t_enqueued = time.perf_counter() - t0
        denv = {**os.environ, "PRINTSERVER_WMS_URL": f"http://127.0.0.1:{port}", "PRINTSERVER_TOKEN": token,
                "PRINTSERVER_STATE_DIR": str(state), "PRINTSERVER_DAEMON_ID": "bench",
                "PRINTSERVER_CLAIM_BATCH": "250", "PRINTSERVER_MAX_LOCAL_JOBS": "1000",
                "PRINTSERVER_LONG_POLL_SECONDS": "20", "PRINTSERVER_STATUS_INTERVAL_SECONDS": "60"}
        log = open(state / "daemon.log", "wb")  # noqa: SIM115 - closed in finally
        before = received(zebras)
        t0 = time.perf_counter()
        daemon = subprocess.Popen([str(ROOT / ".venv/bin/python"), "-m", "printserver", "--log-level", "WARNING"],
                                  cwd=ROOT, env=denv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: received(zebras) - before >= len(labels), 300, "daemon labels", every=0.01)
        t_bytes = time.perf_counter() - t0
        wait_for(lambda: count_printed(app) >= len(labels), 300, "printed reports", every=0.2)
        t_reported = time.perf_counter() - t0

        latencies = []
        zone_codes = sorted(zones)[:20]
        for run in range(args.runs):
            payloads = {z: op_payload(z, run) for z in zone_codes}
            targets = {z: zebras[int(z[1:])] for z in zone_codes}
            counts = {z: len(targets[z].received) for z in zone_codes}
            time.sleep(1.0)  # the daemon is back in its long-poll
            t0 = time.perf_counter()
            enqueue(app, [(payloads[z], None, z) for z in zone_codes])
            pages = {z: payloads[z].count(b"^XA") for z in zone_codes}  # ^XA in a field is escaped by ^FH
            wait_for(lambda t=targets, c=counts, p=pages: all(len(t[z].received) >= c[z] + p[z] for z in zone_codes),
                     60, "20 OPs")
            latencies.append(time.perf_counter() - t0)

        print(f"print daemon bench: {args.labels} labels to {args.printers} fake Zebras on 127.0.0.1, "
              f"WMS on gunicorn ({args.workers} workers) + PostgreSQL")
        print(f"  baseline raw sendall (no WMS, no daemon): {base:8.0f} labels/s")
        print(f"  printserver print path alone (journal fsync + ~HS/~HQES + send, reports to a local sink, "
              f"no HTTP): {path:8.0f} labels/s ({path / base:.2f} x baseline)")
        print(f"  printserver, last byte at the printers:   {len(labels) / t_bytes:8.0f} labels/s "
              f"({len(labels) / t_bytes / base:.2f} x baseline; from the daemon's start, jobs queued before)")
        print(f"  printserver, all reported printed in WMS: {len(labels) / t_reported:8.0f} labels/s")
        print(f"  (queueing the {len(labels)} jobs in the WMS took {t_enqueued:.1f} s, not counted above)")
        print(f"  20 OPs (one per zone) enqueue -> last byte at the last printer, {args.runs} runs: "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
    finally:
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=60)
        for zebra in zebras:
            zebra.stop()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    main()
