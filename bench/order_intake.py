"""Order intake throughput on PostgreSQL: our API (5-line orders, 8 concurrent clients) vs bare INSERTs.

Both run in this process against the same fresh database, one after the other:
- baseline: each client inserts one order row and its 5 line rows with plain psycopg, one transaction per order;
- ours, in-process: each client POSTs the order to /api/v1/channels/<c>/orders through the WSGI app
  (authentication, validation, idempotency record, row-locked reservation in pick lanes, ledger rows, outbox events,
  commit) in this Python process, so all clients share one interpreter lock: this measures CPU per order;
- ours, served: the same POSTs over HTTP to gunicorn (deploy/gunicorn.conf.py, --workers processes) on 127.0.0.1,
  the way production serves it.
Usage: python bench/order_intake.py [--orders 400] [--clients 8] [--workers 3]
       (WMS_BENCH_PG_ADMIN_URL to pick the server)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402

from wms import create_app  # noqa: E402
from wms.dbcli import alembic_config  # noqa: E402

ADMIN = os.environ.get("WMS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "wms_bench_intake"
SKUS = 200


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + DB
    command.upgrade(alembic_config(url), "head")
    return url


def seed(app) -> str:  # type: ignore[no-untyped-def]
    """A rack zone, SKUS products with plenty of stock in pick lanes, a channel and its token."""
    from sqlalchemy import select

    from wms.auth.tokens import issue_token
    from wms.catalog.models import Product
    from wms.db import db
    from wms.enums import Face, StockReason, TokenPurpose, ZoneKind
    from wms.layout import services as layout
    from wms.layout.models import Location
    from wms.orders.models import Channel, ChannelKind
    from wms.stock.services import adjust_stock

    with app.app_context():
        wh = layout.create_warehouse("BENCH", "Bench")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=40)
        aisles = [layout.add_aisle(zone, f"X{i}", Face.PICK if i % 2 else Face.REPLENISH, i) for i in range(5)]
        for r in range(4):
            pick, rep = (aisles[r + 1], aisles[r]) if aisles[r + 1].face == Face.PICK else (aisles[r], aisles[r + 1])
            layout.add_rack(zone, f"A{r:02d}", pick, rep, bays=20, levels=3, bay_width_m=2.0)
        lanes = list(db.session.scalars(select(Location).where(Location.zone_id == zone.id).order_by(Location.id)))
        for i in range(SKUS):
            product = Product(sku=f"SKU-{i:04d}", name=f"Product {i}")
            db.session.add(product)
            db.session.flush()
            adjust_stock(product, lanes[i % len(lanes)], 100_000, reason=StockReason.RECEIPT)
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
        db.session.add(channel)
        db.session.flush()
        token, raw = issue_token(name="bench", purpose=TokenPurpose.CHANNEL, warehouse_id=wh.id)
        token.channel_id = channel.id
        db.session.commit()
        return raw


def lines(rng: random.Random) -> list[dict]:  # type: ignore[type-arg]
    return [{"sku": f"SKU-{s:04d}", "quantity": rng.randint(1, 3)} for s in rng.sample(range(SKUS), 5)]


def run(clients: int, total: int, one_order) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(clients)
    per_client = total // clients
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(n)
        state = one_order.setup() if hasattr(one_order, "setup") else None
        barrier.wait()
        mine = []
        for i in range(per_client):
            t0 = time.perf_counter()
            one_order(state, rng, f"c{n}-{i}")
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return per_client * clients / (time.perf_counter() - started), latencies


class BareInsert:
    def __init__(self, url: str, channel_id: int, warehouse_id: int, product_ids: list[int]) -> None:
        self.url, self.channel_id, self.warehouse_id, self.product_ids = url, channel_id, warehouse_id, product_ids

    def setup(self) -> psycopg.Connection:
        return psycopg.connect(self.url)

    def __call__(self, conn, rng, ext) -> None:  # type: ignore[no-untyped-def]
        with conn.transaction():
            oid = conn.execute(
                "INSERT INTO orders (channel_id, external_id, content_hash, warehouse_id, status, priority, ship_to,"
                " created_at, updated_at) VALUES (%s, %s, '', %s, 'accepted', 0, '{}', now(), now()) RETURNING id",
                (self.channel_id, "bare-" + ext, self.warehouse_id)).fetchone()[0]
            for n, pid in enumerate(rng.sample(self.product_ids, 5), 1):
                conn.execute("INSERT INTO order_lines (order_id, line_no, product_id, quantity, allocated, picked)"
                             " VALUES (%s, %s, %s, %s, 0, 0)", (oid, n, pid, rng.randint(1, 3)))


class ApiOrder:
    def __init__(self, app, token: str) -> None:  # type: ignore[no-untyped-def]
        self.app, self.token = app, token

    def setup(self):  # type: ignore[no-untyped-def]
        return self.app.test_client()

    def __call__(self, client, rng, ext) -> None:  # type: ignore[no-untyped-def]
        r = client.post("/api/v1/channels/SHOP/orders", json={"external_id": ext, "lines": lines(rng)},
                        headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid.uuid4())},
                        base_url="https://localhost")
        if r.status_code != 201:
            raise SystemExit(f"order refused: {r.status_code} {r.get_data(as_text=True)[:300]}")


class HttpOrder:
    """POST over HTTP/1.1 keep-alive to a gunicorn serving the app."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    def setup(self):  # type: ignore[no-untyped-def]
        import http.client

        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def __call__(self, conn, rng, ext) -> None:  # type: ignore[no-untyped-def]
        import json

        body = json.dumps({"external_id": "http-" + ext, "lines": lines(rng)})
        conn.request("POST", "/api/v1/channels/SHOP/orders", body=body, headers={
            "Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json", "X-Forwarded-Proto": "https"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 201:
            raise SystemExit(f"order refused: {r.status} {data[:300]!r}")


class Gunicorn:
    def __init__(self, url: str, workers: int, threads: int) -> None:
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, WMS_DATABASE_URL=url, WMS_SECRET_KEY="bench", WMS_BIND=f"127.0.0.1:{self.port}",
                   WMS_WORKERS=str(workers), WMS_THREADS=str(threads), WMS_ACCESS_LOG="/dev/null",
                   WMS_LOG_LEVEL="warning")
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config",
                                      str(root / "deploy" / "gunicorn.conf.py")], cwd=root, env=env)
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


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(p * len(values)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=400)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=3, help="gunicorn worker processes for the served run")
    args = ap.parse_args()
    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "DATABASE_ENGINE_OPTIONS": {
        "pool_size": args.clients + 2, "max_overflow": 4}})
    token = seed(app)
    with psycopg.connect(url) as conn:
        channel_id, warehouse_id = conn.execute("SELECT id, warehouse_id FROM channels").fetchone()
        product_ids = [r[0] for r in conn.execute("SELECT id FROM products")]
    print(f"order intake, PostgreSQL, {args.clients} concurrent clients, 5 lines per order, {args.orders} orders each run")
    base_rate, base_lat = run(args.clients, args.orders, BareInsert(url, channel_id, warehouse_id, product_ids))
    api_rate, api_lat = run(args.clients, args.orders, ApiOrder(app, token))
    server = Gunicorn(url, args.workers, max(1, args.clients // args.workers + 1))
    try:
        http_rate, http_lat = run(args.clients, args.orders, HttpOrder(server.port, token))
    finally:
        server.stop()
    print(f"{'':28}{'orders/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs bare':>10}")
    print(f"{'bare INSERT (baseline)':28}{base_rate:10.1f}{pct(base_lat, .5):10.2f}{pct(base_lat, .99):10.2f}{1:10.2f}")
    print(f"{'API intake + reservation':28}{api_rate:10.1f}{pct(api_lat, .5):10.2f}{pct(api_lat, .99):10.2f}"
          f"{api_rate / base_rate:10.2f}")
    print(f"{f'API via gunicorn ({args.workers} workers)':28}{http_rate:10.1f}{pct(http_lat, .5):10.2f}"
          f"{pct(http_lat, .99):10.2f}{http_rate / base_rate:10.2f}")
    print(f"mean API latency {statistics.mean(api_lat) * 1000:.2f} ms; the API does auth, validation, idempotency,"
          " row-locked reservation, ledger and outbox rows in one transaction")
    from wms.db import db

    db.engine(app).dispose()
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
