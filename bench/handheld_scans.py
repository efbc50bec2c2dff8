"""Handheld confirm-pick under load, against gunicorn + PostgreSQL, next to a minimal locked-update endpoint.

One gunicorn (deploy/gunicorn.conf.py, gthread) serves `bench.handheld_scans:bench_app()`: the WMS app plus, only
in this bench, a tiny blueprint with two baselines that each do one row-locked UPDATE of a quant and one ledger
INSERT in the request's transaction (no auth, no CSRF, no idempotency, no audit): `POST /bench/minimal` through the
SQLAlchemy session like any view (begin, update, insert, commit: four round trips), and `POST /bench/pipelined`
with both statements in one psycopg pipeline (two round trips with the commit), the technique the confirm itself
uses. The product never registers them.

Seed: PICKERS pickers, each with a signed session (badge sign-in skipped: the cookie is signed with the app's key,
as Flask would) and a released OP of one line of 10^6 units in its own lane, taken and scanned up to the quantity
step. Every confirm is `POST /hh/api/pick/<op>/scan {"step": "quantity", "quantity": 1}` with CSRF header,
Idempotency-Key and device id: everything a real confirm does (session, CSRF, the person checked against the
database, idempotency record, OP row lock, reservation and quant row locks, PICK ledger row, order line, OP line,
scan event, the stored answer, commit). On PostgreSQL that is the hot path of ``handheld.api._confirm_fast`` and
``wms.picking.quick``: BEGIN, then person, key, OP lines and locks in one pipelined round trip, the writes and
the stored answer in one statement, then the commit.

Measures:
1. saturation: CLIENTS closed-loop clients for SECONDS/2 each, confirm vs each baseline (interleaved in three
   rounds), each client on its own lane: requests/s and the ratios;
2. open loop: RATE confirms/s spread evenly over the pickers for SECONDS; latency counted from the scheduled send
   time (no coordinated omission): p50 / p99 / max, and how many were late to start. When RATE is above what the
   server sustains, the queue grows for the whole run, so a second open loop at half the measured saturation
   shows the latency where it keeps up.
Client, gunicorn and PostgreSQL share this machine's cores; the load average is printed before and after.
Usage: python bench/handheld_scans.py [--rate 200] [--seconds 20] [--pickers 100] [--clients 16] [--workers 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from flask import Blueprint, Flask  # noqa: E402

from wms import create_app  # noqa: E402
from wms.dbcli import alembic_config  # noqa: E402

ADMIN = os.environ.get("WMS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "wms_bench_handheld"
SECRET = "bench-handheld-secret"
AGENT = "wms-bench"
UNITS = 1_000_000
ROUNDS = 3


def bench_app() -> Flask:
    """The WMS app plus the bench-only minimal endpoint (gunicorn entry point of this bench)."""
    from sqlalchemy import text

    from wms import csrf
    from wms.db import db

    app = create_app()
    bp = Blueprint("bench_minimal", __name__, url_prefix="/bench")

    @bp.post("/minimal/<int:quant_id>")
    def minimal(quant_id: int):  # type: ignore[no-untyped-def]
        on_hand = db.session.execute(text("UPDATE quants SET on_hand = on_hand - 1 WHERE id = :id RETURNING on_hand"),
                                     {"id": quant_id}).scalar_one()
        db.session.execute(text(
            "INSERT INTO stock_ledger (at, product_id, location_id, delta_on_hand, delta_reserved, reason, note) "
            "SELECT now(), product_id, location_id, -1, 0, 'adjustment', 'bench' FROM quants WHERE id = :id"),
            {"id": quant_id})
        return {"on_hand": on_hand}

    @bp.post("/pipelined/<int:quant_id>")
    def pipelined(quant_id: int):  # type: ignore[no-untyped-def]
        conn = db.driver_connection()
        with conn.pipeline():
            on_hand = conn.execute("UPDATE quants SET on_hand = on_hand - 1 WHERE id = %(id)s RETURNING on_hand",
                                   {"id": quant_id})
            conn.execute(
                "INSERT INTO stock_ledger (at, product_id, location_id, delta_on_hand, delta_reserved, reason, note) "
                "SELECT now(), product_id, location_id, -1, 0, 'adjustment', 'bench' FROM quants WHERE id = %(id)s",
                {"id": quant_id})
        row = on_hand.fetchone()
        return {"on_hand": row[0] if row else None}

    csrf.exempt(bp)
    app.register_blueprint(bp)
    return app


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + DB
    command.upgrade(alembic_config(url), "head")
    return url


def seed(url: str, pickers: int) -> list[dict]:  # type: ignore[type-arg]
    """Pickers with a taken OP at the quantity step; returns per picker: cookie, csrf, op id, line id, quant id."""
    from flask import g, session
    from flask_login.utils import _create_identifier
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select

    from wms.auth import sessions
    from wms.auth.models import User, UserRole, UserWarehouse
    from wms.auth.sessions import SESSION_KEY
    from wms.catalog.models import Product
    from wms.db import db
    from wms.enums import Face, Role, StockReason, TaskKind, ZoneKind
    from wms.layout import services as layout
    from wms.layout.models import Location
    from wms.orders.models import Channel, ChannelKind
    from wms.orders.services import LineRequest, OrderRequest, create_order
    from wms.picking import services as ps
    from wms.picking.context import ScanContext
    from wms.stock.models import Quant
    from wms.stock.services import adjust_stock
    from wms.tasks.services import create_task
    from wms.waves.models import PickOrder, PickOrderLine, PickOrderStatus, Wave, WaveStatus

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    out = []
    with app.app_context():
        wh = layout.create_warehouse("BENCH", "Bench")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=40)
        aisles = [layout.add_aisle(zone, f"X{i}", Face.PICK if i % 2 else Face.REPLENISH, i) for i in range(5)]
        for r in range(4):
            pick, rep = (aisles[r + 1], aisles[r]) if aisles[r + 1].face == Face.PICK else (aisles[r], aisles[r + 1])
            layout.add_rack(zone, f"A{r:02d}", pick, rep, bays=20, levels=3, bay_width_m=2.0)
        lanes = list(db.session.scalars(select(Location).where(Location.zone_id == zone.id).order_by(Location.id)))
        assert pickers <= len(lanes), f"at most {len(lanes)} pickers"
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
        db.session.add(channel)
        wave = Wave(warehouse_id=wh.id, code="W-BENCH", status=WaveStatus.RELEASED, params={}, summary={})
        db.session.add(wave)
        db.session.flush()
        for i in range(pickers):
            product = Product(sku=f"SKU-{i:04d}", name=f"Product {i}")
            db.session.add(product)
            db.session.flush()
            lane = lanes[i]
            adjust_stock(product, lane, 2 * UNITS, reason=StockReason.RECEIPT)
            order = create_order(channel, OrderRequest(external_id=f"o-{i}",
                                                       lines=[LineRequest(product.sku, UNITS)])).order
            line = order.lines[0]
            op = PickOrder(warehouse_id=wh.id, wave_id=wave.id, zone_id=zone.id, code=f"OP-B-{i:04d}", seq=i,
                           status=PickOrderStatus.RELEASED, totes=[f"T-{i:04d}"])
            db.session.add(op)
            db.session.flush()
            task = create_task(lane, TaskKind.PICK, product_id=product.id, quantity=UNITS)
            pol = PickOrderLine(pick_order_id=op.id, seq=0, order_line_id=line.id,
                                reservation_id=line.reservations[0].id, location_id=lane.id, product_id=product.id,
                                quantity=UNITS, tote=f"T-{i:04d}", task_id=task.id)
            db.session.add(pol)
            user = User(username=f"picker{i}", display_name=f"Picker {i}")
            user.role_rows = [UserRole(role=Role.PICKER)]
            user.warehouse_rows = [UserWarehouse(warehouse_id=wh.id)]
            db.session.add(user)
            db.session.flush()
            taken, _event = ps.take_next_pick_order(user, zone, ScanContext(user=user))
            assert taken is not None and taken.id == op.id
            ctx = ScanContext(user=user, device_id=f"bench-{i}")
            for result in (ps.scan_location(op, lane.code, ctx), ps.scan_item(op, product.sku, ctx),
                           ps.scan_tote(op, f"T-{i:04d}", ctx)):
                assert not result.refused, result.message
            quant = db.session.scalar(select(Quant).where(Quant.product_id == product.id,
                                                          Quant.location_id == lane.id))
            out.append({"user": user, "op": op.id, "line": pol.id, "quant": quant.id})
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        for row in out:
            user = row.pop("user")
            env = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": AGENT}
            with app.test_request_context("/hh/", environ_base=env):
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
                session["_id"] = _create_identifier()
                session[SESSION_KEY] = sessions.open_session(user)
                g.pop("csrf_token", None)  # the app context (and its g) is shared by these request contexts
                row["csrf"] = generate_csrf()
                row["cookie"] = serializer.dumps(dict(session))
        db.session.commit()
    db.engine(app).dispose()
    return out


class Gunicorn:
    def __init__(self, url: str, workers: int, threads: int) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, WMS_DATABASE_URL=url, WMS_SECRET_KEY=SECRET, WMS_BIND=f"127.0.0.1:{self.port}",
                   WMS_WORKERS=str(workers), WMS_THREADS=str(threads), WMS_ACCESS_LOG="/dev/null",
                   WMS_LOG_LEVEL="warning", WMS_SESSION_COOKIE_SECURE="false")
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config",
                                      str(root / "deploy" / "gunicorn.conf.py"), "bench.handheld_scans:bench_app()"],
                                     cwd=root, env=env)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Picker:
    """One device: a keep-alive connection, its session cookie, CSRF token and OP."""

    def __init__(self, port: int, row: dict) -> None:  # type: ignore[type-arg]
        self.port = port
        self.row = row
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.lock = threading.Lock()
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": AGENT,
                        "Cookie": f"wms_session={row['cookie']}", "X-CSRFToken": row["csrf"],
                        "X-Device-Id": f"bench-{row['op']}"}
        self.body = json.dumps({"step": "quantity", "quantity": 1, "line_id": row["line"]})

    def _send(self, method: str, path: str, body: str, headers: dict[str, str]) -> None:
        try:
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise SystemExit(f"{path} answered {resp.status}: {data[:300]!r}")
        if b'"refused"' in data:
            raise SystemExit(f"{path} refused: {data[:300]!r}")

    def confirm(self) -> None:
        with self.lock:
            self._send("POST", f"/hh/api/pick/{self.row['op']}/scan", self.body,
                       {**self.headers, "Idempotency-Key": str(uuid.uuid4())})

    def minimal(self) -> None:
        with self.lock:
            self._send("POST", f"/bench/minimal/{self.row['quant']}", "", {"User-Agent": AGENT})

    def pipelined(self) -> None:
        with self.lock:
            self._send("POST", f"/bench/pipelined/{self.row['quant']}", "", {"User-Agent": AGENT})


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))] * 1000


def open_loop(pickers: list[Picker], rate: float, seconds: float, threads: int) -> tuple[list[float], int, int]:
    """`rate` confirms per second on a fixed schedule, round robin over the pickers; latency from schedule.
    Sends still due after twice the run's length are not made (counted as unsent): an overloaded server would
    otherwise keep the bench running for minutes."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    latencies: list[float] = []
    late = 0
    unsent = 0
    give_up = start + 2 * seconds
    next_i = 0
    guard = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        nonlocal next_i, late, unsent
        while True:
            with guard:
                i = next_i
                next_i += 1
            if i >= total or errors:
                return
            due = start + i / rate
            if time.perf_counter() > give_up:
                with guard:
                    unsent += 1
                continue
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.005:
                with guard:
                    late += 1
            try:
                pickers[i % len(pickers)].confirm()
            except BaseException as exc:  # a thread's SystemExit would vanish silently
                errors.append(exc)
                return
            with guard:
                latencies.append(time.perf_counter() - due)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise SystemExit(f"open loop stopped: {errors[0]}")
    return latencies, late, unsent


def closed_loop(pickers: list[Picker], clients: int, seconds: float, call: str) -> float:
    """`clients` clients each sending back to back on their own picker/lane; requests per second."""
    stop = time.perf_counter() + seconds
    counts = [0] * clients
    errors: list[BaseException] = []

    def client(n: int) -> None:
        p = pickers[n]
        fn = getattr(p, call)
        while time.perf_counter() < stop:
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)
                return
            counts[n] += 1

    began = time.perf_counter()
    pool = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise SystemExit(f"{call} stopped: {errors[0]}")
    return sum(counts) / (time.perf_counter() - began)


def check_ledger(url: str) -> str:
    with psycopg.connect(url) as conn:
        bad = conn.execute(
            "SELECT count(*) FROM quants q WHERE q.on_hand <> (SELECT coalesce(sum(delta_on_hand), 0) FROM "
            "stock_ledger e WHERE e.product_id = q.product_id AND e.location_id = q.location_id)").fetchone()[0]
        picks = conn.execute("SELECT count(*) FROM stock_ledger WHERE reason = 'pick'").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM scan_events WHERE step = 'quantity'").fetchone()[0]
    return f"{picks} PICK ledger rows, {events} quantity scan events, quants off their ledger: {bad}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--pickers", type=int, default=100)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    url = fresh_database()
    rows = seed(url, args.pickers)
    server = Gunicorn(url, args.workers, args.threads)
    try:
        pickers = [Picker(server.port, row) for row in rows]
        clients = min(args.clients, len(pickers))
        closed_loop(pickers, clients, 3, "confirm")  # warm up workers and connections
        # Interleaved in rounds, so a change in the machine's background load weighs on all three alike.
        rates: dict[str, list[float]] = {"confirm": [], "minimal": [], "pipelined": []}
        for _ in range(ROUNDS):
            for call, got in rates.items():
                got.append(closed_loop(pickers, clients, args.seconds / 2 / ROUNDS, call))
        confirm_rate, minimal_rate, pipelined_rate = (sum(v) / ROUNDS for v in rates.values())
        ratio, strict = confirm_rate / minimal_rate, confirm_rate / pipelined_rate
        print(f"\nsaturation, {clients} closed-loop clients, {args.seconds / 2:.0f} s each in {ROUNDS} interleaved rounds "
              f"(gunicorn {args.workers} workers x {args.threads} threads):")
        each = {call: " / ".join(f"{r:.0f}" for r in got) for call, got in rates.items()}
        print(f"  confirm-pick   {confirm_rate:8.1f} /s   (rounds: {each['confirm']})")
        print(f"  minimal        {minimal_rate:8.1f} /s   (one locked UPDATE + one ledger INSERT, SQLAlchemy session; "
              f"rounds: {each['minimal']})")
        print(f"  pipelined      {pipelined_rate:8.1f} /s   (the same two statements in one psycopg pipeline; "
              f"rounds: {each['pipelined']})")
        print(f"  ratio          {ratio * 100:8.1f} %    of minimal;   target >= 50%: {'met' if ratio >= .5 else 'NOT met'}")
        print(f"                 {strict * 100:8.1f} %    of pipelined: {'met' if strict >= .5 else 'NOT met'} "
              "against the stricter baseline too")
        loads = [args.rate] + ([round(confirm_rate / 2, 1)] if confirm_rate / 2 < args.rate else [])
        for rate in loads:
            latencies, late, unsent = open_loop(pickers, rate, args.seconds, threads=64)
            p99 = pct(latencies, .99)
            label = "the target load" if rate == args.rate else "half the measured saturation, for comparison"
            print(f"\nopen loop at {rate:.0f} confirm-picks/s ({label}) for {args.seconds:.0f} s over "
                  f"{len(pickers)} pickers, latency from the scheduled send time:")
            print(f"  p50 {pct(latencies, .5):.1f} ms   p99 {p99:.1f} ms   max {max(latencies) * 1000:.1f} ms   "
                  f"({len(latencies)} confirms, {late} started >5 ms late"
                  + (f", {unsent} not sent: still queued at twice the run's length" if unsent else "") + ")"
                  + (f"   target p99 <= 50 ms: {'met' if p99 <= 50 else 'NOT met'}" if rate == args.rate else ""))
        print(f"\n{check_ledger(url)}; load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
