"""Pack-to-label time per carrier: from the packer's scan of the last item to the label's last byte at the pack
station's printer, next to the carrier stand-in's own answer time measured in the same run.

The system runs as in production, on loopback only: gunicorn (deploy/gunicorn.conf.py, the helper of
tests/integration/gunicorn_server.py: 4 workers x 4 threads) on PostgreSQL at 127.0.0.1 (a fresh database,
migrated), the site print daemon (`python -m printserver`, production long-poll and status intervals) and a fake
Zebra on 127.0.0.1 as the pack station's printer (tests/fakes/zebra.py). The six carriers are configured against
their stand-ins of tests/standins/ (the settings of tests/integration/test_carrier_registry_wiring.py), each a
real HTTP server in this process.

The world: the pack world of tests/integration/test_packing_services.py (a released wave, every order picked and
in its totes, boxes, pack station PACK-1 with its printer), one order per carrier and round. A round, per carrier
(carriers interleaved, the first round of each carrier a warm-up not counted): the packer (a personal API token,
the REST packing API of wms/outbound/api.py, which the handheld's /hh/api/pack calls share) scans the tote and all
items but the last; then the clock starts as the last item's scan is sent, and the box, weight and finish calls
follow at once (no think time); the clock stops when the fake Zebra has parsed the `^XZ` of the last format of that
label (a hook in this bench on the fake's format store). The label is checked: the bytes at the printer are the
print job's payload, and the carrier's tracking number is in them.

The stand-in's answer: a WSGI wrapper around each stand-in app, in this bench, times every request from the moment
the stand-in's server hands it to the app (request line and headers read) to the moment its last response byte
was written to the socket (the response iterable closed); a round's figure is the sum over that carrier's calls in
the round (the number of calls per label is printed). Ratio: pack-to-label p50 / stand-in p50; "WMS" is the p50
of each round's pack-to-label minus its stand-in time (HTTP, database, label storage, print queue, daemon claim,
printer checks and send). Load average (os.getloadavg) at the start, per carrier (mean 1-min over its rounds) and
at the end: client, gunicorn, PostgreSQL, daemon and stand-ins share this machine.

Usage: python bench/pack_to_label.py [--rounds 20] [--carrier colissimo ...] [--pause 0.3]
       (WMS_BENCH_PG_ADMIN_URL picks the PostgreSQL server)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.e2e.printserver_support import DaemonProcess, WmsServer, daemon_env, delivered, wait_until  # noqa: E402
from tests.fakes.zebra import Connection, FakeZebra  # noqa: E402
from tests.integration.gunicorn_server import WORKERS, gunicorn  # noqa: E402
from tests.integration.test_carrier_registry_wiring import CODES, Standins  # noqa: E402

ADMIN = os.environ.get("WMS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "wms_bench_pack_to_label"
RELAY_POINT = "066974"  # the Mondial Relay point the stand-ins know (Standins)


# --- timing hooks (bench only) ---------------------------------------------------------------------------------


class StampedZebra(FakeZebra):
    """The fake Zebra, with the time each format (`^XA`...`^XZ`) was complete in its buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[float, bytes]] = []

    def _store(self, conn: Connection, label: bytes) -> None:
        at = time.perf_counter()
        with self._lock:
            self.stamps.append((at, label))
        super()._store(conn, label)


class _Closing:
    """A response iterable that calls `done` once the server has written it all (WSGI close())."""

    def __init__(self, inner: Iterable[bytes], done: Callable[[], None]) -> None:
        self.inner, self.done = inner, done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.inner)

    def close(self) -> None:
        try:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()
        finally:
            self.done()


class TimedApp:
    """WSGI wrapper: (start, end, path) of every request a stand-in answered, end = last byte written."""

    def __init__(self, inner: Callable[..., Iterable[bytes]]) -> None:
        self.inner = inner
        self.spans: list[tuple[float, float, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        t0 = time.perf_counter()
        path = environ.get("PATH_INFO", "")

        def done() -> None:
            with self.lock:
                self.spans.append((t0, time.perf_counter(), path))

        return _Closing(self.inner(environ, start_response), done)

    def since(self, t: float) -> list[tuple[float, float, str]]:
        with self.lock:
            return [s for s in self.spans if s[0] >= t]


def standin_of(standins: Standins, code: str) -> Any:
    return {"colissimo": standins.colissimo, "chronopost": standins.chronopost, "dpd-france": standins.dpd,
            "gls": standins.gls, "mondial-relay": standins.mr, "sendcloud": standins.sendcloud}[code]


# --- the world ---------------------------------------------------------------------------------------------------


@dataclass
class World:
    warehouse: str
    station: str
    token: str  # the packer's personal API token
    totes: dict[tuple[int, str], str]  # (round, carrier) -> a tote of that order
    site_token: str  # the print daemon's


def build(url: str, secret: str, carriers: list[str], rounds: int, printer_port: int) -> World:
    """The pack world with one picked order per (round, carrier), its carrier set; the pack station's printer at
    the fake Zebra; the packer's personal token and the print daemon's site token."""
    from sqlalchemy import select

    from tests.integration.test_packing_services import build_pack_world
    from wms import create_app
    from wms.auth.tokens import issue_token
    from wms.db import db
    from wms.enums import TokenPurpose
    from wms.orders.models import OrderStatus
    from wms.printing.models import Printer

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret})
    slots = [(r, c) for r in range(rounds) for c in carriers]
    with app.app_context():
        w = build_pack_world(orders=len(slots))
        pick_the_rest(w.pick)
        orders = sorted(w.pick.site.orders, key=lambda o: o.id)
        totes: dict[tuple[int, str], str] = {}
        tote_of = {ln.order_line.order_id: ln.tote for op in w.pick.ops() for ln in op.lines if ln.tote}
        for (r, c), order in zip(slots, orders, strict=True):
            assert order.status == OrderStatus.PICKED, (order.external_id, order.status)
            order.carrier_code = order.carrier_used = c  # as if the channel had asked for it at intake
            order.relay_point_id = RELAY_POINT if c == "mondial-relay" else None
            totes[(r, c)] = tote_of[order.id]
        printer = db.session.scalar(select(Printer).where(Printer.code == "PRN-PACK"))
        assert printer is not None
        printer.connection = f"socket://127.0.0.1:{printer_port}"
        _t, packer_token = issue_token(name="bench-packer", purpose=TokenPurpose.USER, user=w.packer)
        _t, site = issue_token(name="bench-daemon", purpose=TokenPurpose.PRINT_SITE,
                               warehouse_id=w.pick.site.warehouse.id)
        code, station = w.pick.site.warehouse.code, w.station.code
        db.session.commit()
    db.engine(app).dispose()
    return World(code, station, packer_token, totes, site)


def pick_the_rest(world: Any) -> None:
    """build_pack_world picks one OP per zone; a bigger wave has more: pick them all the same way."""
    from tests.integration.test_packing_services import pick_everything
    from wms.waves.models import PickOrderStatus

    while True:
        left = {op.zone_id for op in world.ops() if op.status == PickOrderStatus.RELEASED}
        if not left:
            return
        if left != {z.id for z in world.site.zones.values()}:
            raise SystemExit(f"released OPs left in some zones only ({left}): the world's wave is uneven")
        pick_everything(world)


# --- one pack -----------------------------------------------------------------------------------------------------


@dataclass
class Round:
    carrier: str
    pack_to_label: float  # s, last-item scan sent -> last byte of the label at the printer
    steps: float  # s, last-item scan sent -> finish sent (the scan, box and weight calls)
    finish: float  # s, the finish call: sent -> answered (carrier label stored, print job queued)
    printing: float  # s, finish answered -> last byte at the printer (daemon claim, printer checks, send)
    standin: float  # s, sum of the stand-in's answer times in this round
    calls: int
    load1: float
    tracking: str
    paths: list[str] = field(default_factory=list)


class Packer:
    """The packer's client: the REST packing API with a personal bearer token, one keep-alive session."""

    def __init__(self, base: str, world: World) -> None:
        self.base, self.world = base, world
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {world.token}", "X-Device-Id": "bench-pack",
                                  "Accept": "application/json"})

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.http.post(f"{self.base}/api/v1{path}", json=body, timeout=60,
                              headers={"Idempotency-Key": str(uuid.uuid4())})
        if resp.status_code != 200:
            raise SystemExit(f"POST {path} answered {resp.status_code}: {resp.text[:500]}")
        return resp.json()


def pack_one(packer: Packer, zebra: StampedZebra, timed: TimedApp, carrier: str, tote: str,
             payload_of: Callable[[int], bytes]) -> Round:
    w = packer.world
    shipment = packer.post(f"/warehouses/{w.warehouse}/packing", {"station": w.station, "tote": tote})
    sid = shipment["id"]
    assert shipment["carrier"] == carrier, (shipment["carrier"], carrier)
    scans = [ln["barcodes"][0] for ln in shipment["lines"] for _ in range(ln["to_pack"] - ln["packed"])]
    for code in scans[:-1]:
        shipment = packer.post(f"/shipments/{sid}/items", {"code": code})
    with zebra._lock:
        formats_before = len(zebra.stamps)
    bytes_before = len(delivered(zebra))
    t0 = time.perf_counter()
    shipment = packer.post(f"/shipments/{sid}/items", {"code": scans[-1]})
    box = (shipment.get("suggested_box") or {}).get("box") or "M"
    shipment = packer.post(f"/shipments/{sid}/box", {"box": box})
    shipment = packer.post(f"/shipments/{sid}/weight", {"weight_g": shipment["expected_weight_g"]})
    t_finish_sent = time.perf_counter()
    shipment = packer.post(f"/shipments/{sid}/finish", {})
    t_finish = time.perf_counter()
    (parcel,) = shipment["parcels"]
    payload = payload_of(parcel["label_print_job_id"])
    formats = payload.count(b"^XZ")
    wait_until(lambda: len(zebra.stamps) >= formats_before + formats, 60, f"the {carrier} label at the printer",
               every=0.0005)
    with zebra._lock:
        mine = zebra.stamps[formats_before:formats_before + formats]
    t_last = mine[-1][0]
    # The label is the carrier's: the printer got the job's bytes exactly, and the tracking number is in them.
    wait_until(lambda: payload in delivered(zebra)[bytes_before:], 10, "the label's bytes")
    tracking = parcel["tracking_number"]
    assert tracking and tracking.encode() in b"".join(label for _at, label in mine), (carrier, tracking)
    spans = timed.since(t0)
    return Round(carrier, t_last - t0, t_finish_sent - t0, t_finish - t_finish_sent, t_last - t_finish,
                 sum(end - start for start, end, _p in spans), len(spans), os.getloadavg()[0], tracking,
                 [p for _s, _e, p in spans])


# --- the run ------------------------------------------------------------------------------------------------------


@contextmanager
def carrier_settings(config: dict[str, Any]) -> Iterator[None]:
    """The carriers' settings as WMS_* variables (JSON values keep their types) for the gunicorn started inside."""
    saved = {k: os.environ.get(k) for k in (f"WMS_{key}" for key in config)}
    os.environ.update({f"WMS_{key}": json.dumps(value) for key, value in config.items()})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(url: str, carriers: list[str], rounds: int, *, warmup: int = 1, pause: float = 0.3,
        state_dir: Path | None = None, server: str = "gunicorn", long_poll: float = 25.0) -> dict[str, Any]:
    """The core: `url` is a migrated, empty database (with the job engine's schema). Returns the rounds measured
    (warm-up rounds left out), the load before and after, and the stand-ins' schema violations. `long_poll`: the
    daemon's claim long-poll (production's 25 s; stopping the daemon waits for the one in flight)."""
    from wms import create_app
    from wms.db import db
    from wms.printing.models import PrintJob

    secret = secrets.token_urlsafe(32)
    state = state_dir or Path(tempfile.mkdtemp(prefix="bench-pack-to-label-"))
    load_before = os.getloadavg()
    with ExitStack() as stack:
        zebra = StampedZebra().start()
        stack.callback(zebra.stop)
        standins = Standins(stack)
        timed = {}
        for code in carriers:
            standin = standin_of(standins, code)
            timed[code] = TimedApp(standin.app.wsgi_app)
            standin.app.wsgi_app = timed[code]
        world = build(url, secret, carriers, warmup + rounds, zebra.port)
        if server == "gunicorn":
            stack.enter_context(carrier_settings(standins.config()))
            base = stack.enter_context(gunicorn(url, secret))
        else:  # "werkzeug": the app in this process (the smoke test; quicker to start, not how production serves)
            web_app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret, **standins.config()})
            stack.callback(lambda: db.engine(web_app).dispose())
            served = WmsServer(web_app).start()
            stack.callback(served.stop)
            base = served.url
        daemon = DaemonProcess(state, daemon_env(base, world.site_token, state, long_poll_seconds=long_poll,
                                                 status_interval_seconds=15)).start()

        def stop_daemon() -> None:
            if daemon.alive():
                daemon.terminate()

        stack.callback(stop_daemon)
        reader = create_app({"DATABASE_URL": url, "SECRET_KEY": secret})
        stack.callback(lambda: db.engine(reader).dispose())

        def payload_of(job_id: int) -> bytes:
            with reader.app_context():
                job = db.session.get(PrintJob, job_id)
                assert job is not None
                return bytes(job.payload)

        packer = Packer(base, world)
        measured: list[Round] = []
        for r in range(warmup + rounds):
            order = carriers[r % len(carriers):] + carriers[:r % len(carriers)]  # who goes first rotates
            for code in order:
                time.sleep(pause)  # the packer takes the next tote; the daemon is back in its long-poll
                one = pack_one(packer, zebra, timed[code], code, world.totes[(r, code)], payload_of)
                if r >= warmup:
                    measured.append(one)
        violations = standins.violations()
        if not daemon.alive():
            raise SystemExit("the print daemon died:\n" + daemon.text()[-3000:])
    return {"rounds": measured, "load_before": load_before, "load_after": os.getloadavg(),
            "violations": violations}


def pct(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(result: dict[str, Any], carriers: list[str], rounds: int) -> None:
    lb, la = result["load_before"], result["load_after"]
    print(f"pack-to-label bench: {rounds} rounds per carrier (+1 warm-up each, not counted), carriers interleaved; "
          f"gunicorn ({WORKERS} workers) + PostgreSQL + print daemon + fake Zebra + stand-ins, all on 127.0.0.1; "
          f"{os.cpu_count()} CPUs")
    print(f"  load average at start {lb[0]:.2f} {lb[1]:.2f} {lb[2]:.2f}, at end {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}")
    print("  pack-to-label: last item's scan sent -> last byte of that carrier label at the pack station's printer")
    print("  stand-in: its own answer time (request handed to it -> last response byte written), summed per label")
    print(f"  {'carrier':<14}{'p50 ms':>8}{'p95 ms':>8}{'stand-in':>10}{'calls':>6}{'ratio':>8}{'WMS':>6}"
          f"{'steps':>7}{'finish':>8}{'print':>7}{'load1':>7}")
    med = statistics.median
    for code in carriers:
        rows = [r for r in result["rounds"] if r.carrier == code]
        total = [r.pack_to_label * 1000 for r in rows]
        carrier = med(r.standin * 1000 for r in rows)
        ratio = f"{med(total) / carrier:7.1f}x" if carrier else "      -"
        print(f"  {code:<14}{med(total):>8.0f}{pct(total, 95):>8.0f}{carrier:>10.1f}{med(r.calls for r in rows):>6.0f}"
              f"{ratio:>8}{med((r.pack_to_label - r.standin) * 1000 for r in rows):>6.0f}"
              f"{med(r.steps * 1000 for r in rows):>7.0f}{med(r.finish * 1000 for r in rows):>8.0f}"
              f"{med(r.printing * 1000 for r in rows):>7.0f}{statistics.mean(r.load1 for r in rows):>7.2f}")
    print("  ms; stand-in = p50 of its answer time per label (calls: requests per label); ratio = pack-to-label p50 /"
          " stand-in p50; WMS = p50 of (pack-to-label - stand-in) per label;")
    print("  steps = the last scan, box and weight calls; finish = the finish call (carrier label, print job queued);"
          " print = finish answered -> last byte at the printer; all p50; load1 = mean 1-min load over the rounds")
    for code in carriers:
        first = next(r for r in result["rounds"] if r.carrier == code)
        print(f"  {code}: stand-in calls per label {', '.join(first.paths)}")
    if result["violations"]:
        print(f"  stand-in schema violations: {result['violations']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--carrier", action="append", choices=CODES, help="only this carrier (repeatable)")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between two packs")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop gunicorn and the daemon on the way out
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-ins' request lines
    from alembic import command

    from tests import pg
    from wms.dbcli import alembic_config
    from wms.jobs import admin

    carriers = args.carrier or list(CODES)
    url = pg.create_database(ADMIN, DB)
    command.upgrade(alembic_config(url), "head")
    admin.apply_schema(url.replace("postgresql+psycopg://", "postgresql://", 1))
    result = run(url, carriers, args.rounds, pause=args.pause)
    report(result, carriers, args.rounds)


if __name__ == "__main__":
    main()
