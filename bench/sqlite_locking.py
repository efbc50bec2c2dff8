"""What BEGIN IMMEDIATE on every SQLite transaction costs the reads (docs/stock.md, "SQLite").

On a fresh migrated SQLite file with one product in 3 pick lanes and a channel, one gunicorn
(deploy/gunicorn.conf.py, 4 workers x 4 threads) serves the WMS: 8 reader threads send
`GET /api/v1/warehouses/WH/stock/<sku>` (token check, availability query) in a closed loop, alone and then beside 4
writer threads sending one-unit orders (`POST /api/v1/channels/SHOP/orders`), for `--seconds` each. Twice: the app
as shipped (every transaction `BEGIN IMMEDIATE`) and `bench.sqlite_locking:deferred_reads_app()`, where GET
requests open a deferred `BEGIN` instead (reads beside writers on a WAL snapshot; bench-only: a GET that writes,
such as a token's last use, could then fail with SQLITE_BUSY_SNAPSHOT). Prints reads/s, read p50/p95, orders/s and the answers that were not 2xx (all runs),
the two servers interleaved over `--rounds`, with the ratio of each to the deferred variant.

    .venv/bin/python bench/sqlite_locking.py [--seconds 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from alembic import command
from flask import Flask, has_request_context, request
from sqlalchemy import event, select

from wms import create_app
from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import _begin_immediate, db
from wms.dbcli import alembic_config
from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind
from wms.stock.services import adjust_stock

ROOT = Path(__file__).resolve().parents[1]
READERS, WRITERS, SERVER_WORKERS = 8, 4, 4


def _deferred_reads(conn: Any) -> None:
    if has_request_context() and request.method in ("GET", "HEAD"):
        conn.exec_driver_sql("BEGIN")
    else:
        _begin_immediate(conn)


def deferred_reads_app() -> Flask:
    """The WMS app with GET requests in deferred transactions (bench only)."""
    app = create_app()
    engine = db.engine(app)
    event.remove(engine, "begin", _begin_immediate)
    event.listen(engine, "begin", _deferred_reads)
    return app


def _seed(url: str) -> str:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=10)
        rep = layout.add_aisle(zone, "R0", Face.REPLENISH, 0)
        pick = layout.add_aisle(zone, "P1", Face.PICK, 1)
        layout.add_rack(zone, "A01", pick, rep, bays=3, levels=1, bay_width_m=2.0)
        product = Product(sku="BENCH-1", name="Bench")
        db.session.add(product)
        db.session.flush()
        for loc in db.session.scalars(select(Location).where(Location.zone_id == zone.id)):
            adjust_stock(product, loc, 1_000_000, reason=StockReason.RECEIPT)
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
        db.session.add(channel)
        db.session.flush()
        token, raw = issue_token(name="bench", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
        token.channel_id = channel.id
        db.session.commit()
    db.engine(app).dispose()
    return raw


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, url: str, app_spec: str | None) -> None:
        port = _free_port()
        env = {**os.environ, "WMS_DATABASE_URL": url, "WMS_SECRET_KEY": "bench", "WMS_BIND": f"127.0.0.1:{port}",
               "WMS_WORKERS": str(SERVER_WORKERS), "WMS_ACCESS_LOG": "/dev/null"}
        args = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "deploy/gunicorn.conf.py"]
        self.process = subprocess.Popen(args + ([app_spec] if app_spec else []), cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.base + "/api/v1/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        time.sleep(2)  # every worker up

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def _run(base: str, token: str, seconds: float, writers: int) -> tuple[list[float], int, int]:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    placed, failed = [0], [0]
    lock = threading.Lock()
    auth = {"Authorization": f"Bearer {token}"}

    def read() -> None:
        with requests.Session() as http:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                r = http.get(f"{base}/api/v1/warehouses/WH/stock/BENCH-1", headers=auth, timeout=60)
                with lock:
                    if r.status_code == 200:
                        latencies.append(time.perf_counter() - t0)
                    else:
                        failed[0] += 1

    def write() -> None:
        with requests.Session() as http:
            while time.monotonic() < stop:
                r = http.post(f"{base}/api/v1/channels/SHOP/orders", timeout=60,
                              headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
                              json={"external_id": str(uuid.uuid4()), "lines": [{"sku": "BENCH-1", "quantity": 1}]})
                with lock:
                    if r.status_code == 201:
                        placed[0] += 1
                    else:
                        failed[0] += 1

    threads = [threading.Thread(target=read) for _ in range(READERS)]
    threads += [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, placed[0], failed[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    modes = {"immediate": None, "deferred reads": "bench.sqlite_locking:deferred_reads_app()"}
    results: dict[tuple[str, int], list[tuple[float, float, float, float, int]]] = {}
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        command.upgrade(alembic_config(url), "head")
        token = _seed(url)
        for _round in range(args.rounds):
            for mode, spec in modes.items():
                server = Server(url, spec)
                try:
                    for writers in (0, WRITERS):
                        lat, placed, failed = _run(server.base, token, args.seconds, writers)
                        qs = statistics.quantiles(lat, n=20)
                        results.setdefault((mode, writers), []).append(
                            (len(lat) / args.seconds, qs[9] * 1000, qs[18] * 1000, placed / args.seconds, failed))
                finally:
                    server.stop()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"{READERS} readers, {args.seconds:g} s per run, {args.rounds} rounds (mean), gunicorn {SERVER_WORKERS} "
          "workers x 4 threads")
    print(f"{'mode':<16}{'writers':>8}{'reads/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'orders/s':>10}{'non-2xx':>9}"
          f"{'reads ratio':>13}")
    for (mode, writers), rows in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        mean = [statistics.fmean(col) for col in zip(*rows, strict=True)]
        base = statistics.fmean(r[0] for r in results[("deferred reads", writers)])
        print(f"{mode:<16}{writers:>8}{mean[0]:>10.0f}{mean[1]:>9.1f}{mean[2]:>9.1f}{mean[3]:>10.0f}"
              f"{sum(r[4] for r in rows):>9}{mean[0] / base:>13.2f}")


if __name__ == "__main__":
    main()
