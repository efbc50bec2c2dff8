"""The channel race, shared by tests/e2e/test_channels_converge.py and bench/channel_oversell.py.

Four platform stand-ins (PrestaShop, WooCommerce, Shopify, Mirakl; tests/standins/) each connected with
`connect_channel` to a channel of the demo warehouse, their listings imported and mapped by SKU, and the till
(a POS channel with its token) sell the same SKUs at once. Everything the product runs is real:

- the WMS app is served over HTTP by werkzeug's threaded server in this process, so the stand-ins' signed
  webhooks POST to /api/v1/channels/<code>/platform-webhooks and the till POSTs /api/v1/warehouses/DEMO/sales;
- the sync runs in a `wms jobs worker` subprocess (procrastinate on the same PostgreSQL database, its periodic
  dispatcher included); nothing here calls a sync pass itself;
- the stand-ins decrement their own stock at checkout, as the shops do.

`Race.start()` builds it all; `probe_round()` measures the oversell window (a one-unit sale on each origin at
once, each on its own SKU, and the time until every other channel's stand-in shows the new figure);
`run_shoppers()` races checkouts on every origin; `converged()` says what is still out of line; `oversold()`
counts the units taken in beyond stock (backordered); `advised_buffer()` is the buffer rule of the README.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import random
import signal
import statistics
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from tests.standins.base import StandIn
from tests.standins.mirakl import MiraklStandIn
from tests.standins.prestashop import PrestaShopStandIn
from tests.standins.shopify import ShopifyStandIn
from tests.standins.woocommerce import WooCommerceStandIn

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("prestashop", "woocommerce", "shopify", "mirakl")
CODES = {"prestashop": "PS", "woocommerce": "WOO", "shopify": "SHOPIFY", "mirakl": "MIRAKL"}
TILL = "till"
TILL_CODE = "RTILL"         # the demo has its shop's till TILL (another warehouse); this one sells from DEMO
WEBHOOK_PATH = "/api/v1/channels/{code}/platform-webhooks"
# Where a customer follows an own-fleet parcel: WooCommerce's Shipment Tracking needs a link (or a provider name)
# for a carrier it does not know, and refuses the write-back without one (visible as a failed fulfilment).
TRACKING_URL = "https://track.example/parcel/{tracking_number}"
DISPATCH_TICK_S = 10.0        # channels.dispatch (wms/channels/jobs.py): a due pull waits for the next tick
POLLED = ("prestashop", "mirakl")   # no order webhooks: a sale there is seen at the next pull
MIRAKL_PACING = 0.02          # the stand-in's minute shrunk to 1.2 s; the connector paces itself to it


def _standin(kind: str) -> StandIn:
    if kind == "prestashop":
        return PrestaShopStandIn()
    if kind == "woocommerce":
        return WooCommerceStandIn()
    if kind == "shopify":
        return ShopifyStandIn()
    return MiraklStandIn(pacing_scale=MIRAKL_PACING)


def wait_until(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    """`predicate()` once truthy (returned), else None after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def percentile(values: Iterable[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]


class Server:
    """The WMS app on a free loopback port, werkzeug's threaded server in a thread."""

    def __init__(self, app: Flask) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)   # one line per request of five servers: noise
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="wms-http", daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """`wms jobs worker` in a subprocess against the app's database (same SECRET_KEY: it decrypts credentials)."""

    def __init__(self, database_url: str, secret_key: str, *, concurrency: int = 4,
                 settings: dict[str, str] | None = None) -> None:
        env = {**os.environ, "WMS_DATABASE_URL": database_url, "WMS_SECRET_KEY": secret_key,
               **{f"WMS_{k}": v for k, v in (settings or {}).items()}}
        env.pop("WMS_CONFIG", None)
        env.pop("WMS_JOBS_DATABASE_URL", None)
        self.log = open(os.devnull, "w") if os.environ.get("RACE_WORKER_LOG") is None else open(  # noqa: SIM115
            os.environ["RACE_WORKER_LOG"], "a")
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "wms"), "jobs", "worker", "--concurrency", str(concurrency),
             "--name", "channel-race"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@dataclass
class Sale:
    origin: str          # a platform kind or "till"
    sku: str
    external_id: str     # the stand-in's order id, or the till's ticket
    at: float


@dataclass
class Probe:
    origin: str
    sku: str
    window_s: float | None                          # None: not every channel showed it in time
    per_channel: dict[str, float] = field(default_factory=dict)


@dataclass
class RaceResult:
    sales: list[Sale]
    refused: int          # checkouts a stand-in or the till refused for want of stock
    seconds: float
    refused_on: dict[str, int] = field(default_factory=dict)     # the same, per origin


class Race:
    """The world: demo warehouse, race SKUs in pick lanes, four connected channels and the till."""

    def __init__(self, app: Flask, *, skus: int = 5, stock: int = 40, poll_interval_s: int = 1,
                 worker_concurrency: int = 4) -> None:
        self.app = app
        self.skus = [f"RACE-{i}" for i in range(1, skus + 1)]
        self.stock = stock
        self.poll_interval_s = poll_interval_s
        self.worker_concurrency = worker_concurrency
        self.standins: dict[str, StandIn] = {}
        self.channel_ids: dict[str, int] = {}
        self.product_ids: dict[str, int] = {}
        self.lanes: dict[str, int] = {}
        self.till_token = ""
        self.server: Server | None = None
        self.worker: Worker | None = None
        self.sales: list[Sale] = []
        self.lock = threading.Lock()
        self.origins = (*PLATFORMS, TILL)

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> Race:
        for kind in PLATFORMS:
            self.standins[kind] = _standin(kind).start()
        self.app.config["OWN_FLEET_TRACKING_URL"] = TRACKING_URL
        self.server = Server(self.app)
        self._build()
        self.worker = Worker(self.app.config["DATABASE_URL"], self.app.config["SECRET_KEY"],
                             concurrency=self.worker_concurrency, settings={"OWN_FLEET_TRACKING_URL": TRACKING_URL})
        return self

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.server is not None:
            self.server.stop()
        for standin in self.standins.values():
            standin.stop()

    def _build(self) -> None:
        from wms.auth.tokens import issue_token
        from wms.catalog import barcodes
        from wms.catalog.models import Barcode, Product
        from wms.channels import services
        from wms.db import db
        from wms.demo.products import ean13
        from wms.demo.seed import pick_lanes, seed_demo
        from wms.enums import StockReason, TokenPurpose
        from wms.orders.models import Channel, ChannelKind
        from wms.stock.models import Quant
        from wms.stock.services import adjust_stock

        with self.app.app_context():
            warehouse = seed_demo(echo=lambda _line: None)
            used = set(db.session.scalars(select(Quant.location_id)))
            free = [lane for lane in pick_lanes(warehouse, "A") if lane.id not in used]
            for i, sku in enumerate(self.skus, start=1):
                product = Product(sku=sku, name=f"Race item {i}", weight_g=300, length_mm=100, width_mm=80,
                                  height_mm=60)
                scanned = barcodes.parse(ean13(f"29{i:010d}"))
                product.barcodes = [Barcode(code=scanned.code, normalized=scanned.normalized,
                                            symbology=scanned.symbology)]
                db.session.add(product)
                db.session.flush()
                adjust_stock(product, free[i - 1], self.stock, reason=StockReason.RECEIPT, reference="race")
                self.product_ids[sku], self.lanes[sku] = product.id, free[i - 1].id
            till = Channel(code=TILL_CODE, name="Shop till", kind=ChannelKind.POS, warehouse_id=warehouse.id)
            db.session.add(till)
            db.session.flush()
            token, self.till_token = issue_token(name="till", purpose=TokenPurpose.CHANNEL,
                                                 warehouse_id=warehouse.id)
            token.channel_id = till.id
            for kind in PLATFORMS:
                standin = self.standins[kind]
                code = CODES[kind]
                channel = Channel(code=code, name=f"{kind} stand-in", warehouse_id=warehouse.id,
                                  kind=ChannelKind.MARKETPLACE if kind == "mirakl" else ChannelKind.WEB_SHOP)
                db.session.add(channel)
                db.session.flush()
                self.channel_ids[kind] = channel.id
                config = standin.connector_config()  # type: ignore[attr-defined]
                services.connect_channel(channel, kind, config.base_url, dict(config.credentials),
                                         {**config.options, "poll_interval_s": self.poll_interval_s})
                if kind in ("woocommerce", "shopify"):
                    standin.webhook_url = self.server_url + WEBHOOK_PATH.format(code=code)  # type: ignore[attr-defined]
                for sku in self.skus:
                    standin.add_item(sku, 0)  # type: ignore[attr-defined]
            db.session.commit()
            for kind in PLATFORMS:
                report = services.import_listings(db.session.get(Channel, self.channel_ids[kind]))
                assert report.mapped == len(self.skus), (kind, report.lines())
            db.session.commit()

    @property
    def server_url(self) -> str:
        assert self.server is not None
        return self.server.url

    # --- settings ----------------------------------------------------------------------------------------------
    def set_buffers(self, units: int) -> None:
        """Every platform channel gets `buffer_units`, then a full reconciliation (the figures move at once)."""
        from wms.channels import services
        from wms.channels.models import ChannelConnection
        from wms.db import db
        from wms.orders.models import Channel

        with self.app.app_context():
            for kind in PLATFORMS:
                conn = db.session.scalar(select(ChannelConnection).where(
                    ChannelConnection.channel_id == self.channel_ids[kind]))
                assert conn is not None
                conn.buffer_units = units
                services.request_resync(db.session.get(Channel, self.channel_ids[kind]), orders=False,
                                        fulfilments=False)
            db.session.commit()

    def restock(self, units: int | None = None) -> None:
        """Count every race lane back to `units` (default the starting stock): a fresh round on the same world."""
        from wms.catalog.models import Product
        from wms.db import db
        from wms.enums import StockReason
        from wms.layout.models import Location
        from wms.stock import operations as ops
        from wms.stock.models import Quant

        with self.app.app_context():
            for sku in self.skus:
                quant = db.session.scalar(select(Quant).where(Quant.product_id == self.product_ids[sku],
                                                              Quant.location_id == self.lanes[sku]))
                current = quant.on_hand if quant is not None else 0
                delta = (self.stock if units is None else units) + (quant.reserved if quant else 0) - current
                if delta:
                    ops.change(db.session.get(Product, self.product_ids[sku]),
                               db.session.get(Location, self.lanes[sku]), delta, StockReason.ADJUSTMENT,
                               ops.Actor(), reference="race restock")
            db.session.commit()

    # --- selling -----------------------------------------------------------------------------------------------
    def sell(self, origin: str, sku: str) -> Sale | None:
        """One unit of `sku` bought on `origin` (a stand-in checkout, or a till sale over HTTP); None when short."""
        at = time.monotonic()
        if origin == TILL:
            ticket = f"T-{uuid.uuid4().hex[:10]}"
            resp = requests.post(f"{self.server_url}/api/v1/warehouses/DEMO/sales",
                                 json={"reference": ticket, "lines": [{"sku": sku, "quantity": 1}]},
                                 headers={"Authorization": f"Bearer {self.till_token}",
                                          "Idempotency-Key": str(uuid.uuid4())}, timeout=30)
            if resp.status_code == 409:
                return None
            assert resp.status_code == 201, (resp.status_code, resp.text)
            external_id = ticket
        else:
            placed = self.standins[origin].checkout(sku, 1)  # type: ignore[attr-defined]
            if placed is None:
                return None
            external_id = str(placed)
        sale = Sale(origin, sku, external_id, at)
        with self.lock:
            self.sales.append(sale)
        return sale

    def shown(self, kind: str, sku: str) -> int:
        return int(self.standins[kind].stock_of(sku))  # type: ignore[attr-defined]

    def run_shoppers(self, seconds: float, *, gap_s: float, jitter: float = 0.1, per_platform: int = 2,
                     seed: int = 14) -> RaceResult:
        """Shoppers on every origin (`per_platform` on each stand-in, one at the till) for `seconds`: each tries
        one unit of each SKU in turn, one SKU every gap_s/len(skus) s (± jitter), so each shopper buys a given SKU
        at most once per gap_s × (1 − jitter) seconds."""
        stop = threading.Event()
        refused: Counter[str] = Counter()
        start = time.monotonic()
        step = gap_s / len(self.skus)
        before = len(self.sales)

        def shopper(origin: str, n: int) -> None:
            rng = random.Random(f"{seed}-{origin}-{n}")
            skus = self.skus[n % len(self.skus):] + self.skus[:n % len(self.skus)]
            time.sleep(rng.uniform(0, step))
            for sku in itertools.cycle(skus):
                if stop.is_set():
                    return
                if self.sell(origin, sku) is None:
                    with self.lock:
                        refused[origin] += 1
                if stop.wait(step * rng.uniform(1 - jitter, 1 + jitter)):
                    return

        threads = [threading.Thread(target=shopper, args=(origin, n), daemon=True, name=f"shopper-{origin}-{n}")
                   for origin in self.origins for n in range(1 if origin == TILL else per_platform)]
        for t in threads:
            t.start()
        stop.wait(seconds)
        stop.set()
        for t in threads:
            t.join(30)
        return RaceResult(self.sales[before:], sum(refused.values()), time.monotonic() - start, dict(refused))

    def shoppers(self, per_platform: int = 2) -> int:
        return per_platform * len(PLATFORMS) + 1

    # --- the window ------------------------------------------------------------------------------------------
    def probe_round(self, timeout: float = 40.0) -> list[Probe]:
        """A one-unit sale on every origin at once, each on its own SKU; for each, the time until every OTHER
        channel's stand-in shows the figure the sale left (what it showed, one less). Needs as many SKUs as
        origins, the world converged, no buffer hiding the change (stock above the buffer)."""
        assert len(self.skus) >= len(self.origins)
        plan = dict(zip(self.origins, self.skus, strict=False))
        expected = {origin: {kind: self.shown(kind, sku) - 1 for kind in PLATFORMS if kind != origin}
                    for origin, sku in plan.items()}
        probes: dict[str, Probe] = {}
        barrier = threading.Barrier(len(plan))

        def one(origin: str, sku: str) -> None:
            barrier.wait()
            sale = self.sell(origin, sku)
            assert sale is not None, f"{origin} could not sell {sku}"
            probe = probes[origin] = Probe(origin, sku, None)
            waiting = dict(expected[origin])
            deadline = sale.at + timeout
            while waiting and time.monotonic() < deadline:
                for kind, want in list(waiting.items()):
                    if self.shown(kind, sku) == want:
                        probe.per_channel[kind] = time.monotonic() - sale.at
                        del waiting[kind]
                time.sleep(0.02)
            if not waiting:
                probe.window_s = max(probe.per_channel.values())

        threads = [threading.Thread(target=one, args=item, daemon=True) for item in plan.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout + 10)
        return [probes[o] for o in plan if o in probes]

    def window_bound(self, probes: Iterable[Probe]) -> float:
        """The window to size buffers for: the longest measured, and never less than what the configuration
        implies for a polled platform (a sale there waits up to one dispatcher tick plus the poll interval, then
        takes the push path a webhook sale takes): a few probes may all land just before a tick."""
        measured = [p.window_s for p in probes if p.window_s is not None]
        pushed = [p.window_s for p in probes if p.window_s is not None and p.origin not in POLLED]
        return max([*measured, DISPATCH_TICK_S + self.poll_interval_s + max(pushed, default=0.0)])

    @staticmethod
    def advised_buffer(window_s: float, *, shoppers: int, gap_s: float, jitter: float = 0.1,
                       margin: float = 1.5) -> int:
        """The buffer rule: the most units of one SKU all channels together can sell within one oversell window.
        Here the demand is known: each shopper buys a SKU at most once per gap_s × (1 − jitter), so within
        `window_s × margin` one shopper buys at most floor(that / min gap) + 1 units of it."""
        least_gap = gap_s * (1 - jitter)
        return shoppers * (math.floor(window_s * margin / least_gap) + 1)

    # --- what the WMS holds ------------------------------------------------------------------------------------
    def available(self) -> dict[str, dict[str, int]]:
        """channel_available per platform channel and SKU, as the WMS computes it now."""
        from wms.channels.availability import channel_available
        from wms.db import db
        from wms.orders.models import Channel

        with self.app.app_context():
            skus = {pid: sku for sku, pid in self.product_ids.items()}
            out = {}
            for kind in PLATFORMS:
                atp = channel_available(db.session.get(Channel, self.channel_ids[kind]), skus)
                out[kind] = {skus[pid]: qty for pid, qty in atp.items()}
            return out

    def orders_here(self) -> dict[str, list[str]]:
        """External ids of the orders the WMS holds, per platform kind (with repeats, if any)."""
        from wms.db import db
        from wms.orders.models import Order

        with self.app.app_context():
            rows = db.session.execute(select(Order.channel_id, Order.external_id)).all()
        by_channel = {cid: kind for kind, cid in self.channel_ids.items()}
        out: dict[str, list[str]] = {kind: [] for kind in PLATFORMS}
        for cid, external_id in rows:
            if cid in by_channel:
                out[by_channel[cid]].append(external_id)
        return out

    def mismatches(self) -> list[str]:
        """What is not converged yet: a stand-in showing another figure than channel_available, a checkout the
        WMS has not taken in (or holds twice)."""
        out = []
        for kind, per_sku in self.available().items():
            for sku, qty in per_sku.items():
                if self.shown(kind, sku) != qty:
                    out.append(f"{kind} {sku}: shows {self.shown(kind, sku)}, may sell {qty}")
        here = self.orders_here()
        with self.lock:
            sold = {kind: sorted(s.external_id for s in self.sales if s.origin == kind) for kind in PLATFORMS}
        for kind in PLATFORMS:
            if sorted(here[kind]) != sold[kind]:
                missing = set(sold[kind]) - set(here[kind])
                out.append(f"{kind}: {len(sold[kind])} checkouts, {len(here[kind])} orders here"
                           f" (missing {sorted(missing)[:5]})")
        return out

    def converge(self, timeout: float) -> list[str]:
        """Wait until nothing is out of line; returns what still is after `timeout` (empty: converged)."""
        left: list[str] = []

        def done() -> bool:
            nonlocal left
            left = self.mismatches()
            return not left

        wait_until(done, timeout, step=0.25)
        return left

    def oversold(self) -> dict[str, int]:
        """Units taken in beyond stock (lines of backordered orders short of allocation), per platform kind."""
        from wms.db import db
        from wms.orders.models import Order, OrderLine, OrderStatus

        with self.app.app_context():
            rows = db.session.execute(
                select(Order.channel_id, func.sum(OrderLine.quantity - OrderLine.allocated))
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(Order.status == OrderStatus.BACKORDERED).group_by(Order.channel_id)).all()
        by_channel = {cid: kind for kind, cid in self.channel_ids.items()}
        out = dict.fromkeys(PLATFORMS, 0)
        for cid, units in rows:
            if cid in by_channel:
                out[by_channel[cid]] = int(units or 0)
        return out

    def cancel_open_orders(self) -> None:
        """Between bench rounds: every race order cancelled here (units back), so the next round starts clean."""
        from wms.db import db
        from wms.orders import services as order_services
        from wms.orders.models import OPEN_ORDER_STATUSES, Order

        with self.app.app_context():
            for order in db.session.scalars(select(Order).where(
                    Order.channel_id.in_(self.channel_ids.values()), Order.status.in_(OPEN_ORDER_STATUSES))):
                order_services.cancel_order(order)
            db.session.commit()


def summary(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (f"p50 {percentile(values, 0.5):.2f} s, p99 {percentile(values, 0.99):.2f} s, "
            f"max {max(values):.2f} s, mean {statistics.mean(values):.2f} s (n={len(values)})")


# --- shipping through the WMS: wave, pick, pack (carrier label), stage, pick-up, departure ----------------------
def _free_hour_at_door(door: str, *, after: Any) -> Any:
    """The first whole hour from `after` with the door free for 45 minutes (the demo books DOOR-2 itself)."""
    import datetime as dt

    from wms.db import db
    from wms.layout.models import Resource
    from wms.waves.models import TimeSlot

    resource_id = db.session.scalar(select(Resource.id).where(Resource.code == door))
    at = after.replace(minute=0, second=0, microsecond=0)
    while db.session.scalar(select(TimeSlot.id).where(
            TimeSlot.resource_id == resource_id, TimeSlot.starts_at < at + dt.timedelta(minutes=45),
            TimeSlot.ends_at > at).limit(1)) is not None:
        at += dt.timedelta(hours=1)
    return at


def ship_orders(race: Race, orders: list[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Ship (platform kind, external id) orders the real way, the demo's people doing each step through the API
    and the handheld services; returns each order's parcel tracking numbers."""
    import datetime as dt

    from wms.auth.models import User
    from wms.auth.tokens import issue_token
    from wms.catalog.models import Product
    from wms.db import db
    from wms.enums import TokenPurpose
    from wms.layout.models import Zone
    from wms.picking import services as ps
    from wms.picking.context import ScanContext
    from wms.waves.models import PickOrder

    app = race.app
    client = app.test_client()
    tracking: dict[tuple[str, str], list[str]] = {}
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        auth = {}
        for name in ("supervisor", "packer"):
            _token, raw = issue_token(name=f"race-{name}", purpose=TokenPurpose.USER, user=users[name])
            auth[name] = {"Authorization": f"Bearer {raw}"}
        db.session.commit()

        def call(who: str, method: str, path: str, body: Any = None) -> Any:
            headers = {**auth[who], "Idempotency-Key": str(uuid.uuid4())}
            resp = client.open(f"/api/v1{path}", method=method, json=body, headers=headers,
                               base_url="https://localhost")
            assert resp.status_code in (200, 201), (method, path, resp.status_code, resp.get_json())
            return resp.get_json()

        picker = users["picker"]
        parcels: list[str] = []
        for kind, external_id in orders:
            code = CODES[kind]
            starts = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
            wave = call("supervisor", "POST", "/warehouses/DEMO/waves",
                        {"orders": [{"channel": code, "external_id": external_id}], "starts_at": starts})
            call("supervisor", "POST", f"/waves/{wave['id']}/release")
            totes = []
            for op in db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave["id"])):
                ctx = ScanContext(user=picker, device_id="race", idempotency_key=str(uuid.uuid4()))
                taken, event = ps.take_next_pick_order(picker, db.session.get(Zone, op.zone_id), ctx)
                assert taken is not None and taken.id == op.id, event.message
                while (state := ps.pick_state(op)).line is not None:
                    line = state.line
                    barcode = db.session.get(Product, line.product_id).barcodes[0].code
                    for result in (
                            ps.scan_location(op, line.location.code, _ctx(picker), line_id=line.id),
                            ps.scan_item(op, barcode, _ctx(picker), line_id=line.id),
                            ps.scan_tote(op, line.tote or "", _ctx(picker), line_id=line.id),
                            ps.confirm_quantity(op, line.quantity, _ctx(picker), line_id=line.id)):
                        assert not result.refused, result.message
                totes.append(op.lines[0].tote)
                assert not ps.drop_at_sas(op, "SAS-01", _ctx(picker)).refused
                db.session.commit()
            numbers = []
            for tote in totes:
                shipment = call("packer", "POST", "/warehouses/DEMO/packing", {"station": "PS-1", "tote": tote})
                sid = shipment["id"]
                for item in call("packer", "GET", f"/shipments/{sid}")["lines"]:
                    call("packer", "POST", f"/shipments/{sid}/items", {"code": item["barcodes"][0],
                                                                      "quantity": item["to_pack"]})
                state = call("packer", "GET", f"/shipments/{sid}")
                call("packer", "POST", f"/shipments/{sid}/box", {"box": state["suggested_box"]["box"]})
                expected = call("packer", "GET", f"/shipments/{sid}")["expected_weight_g"]
                call("packer", "POST", f"/shipments/{sid}/weight", {"weight_g": expected})
                done = call("packer", "POST", f"/shipments/{sid}/finish", {})
                for parcel in done["parcels"]:
                    call("packer", "POST", "/warehouses/DEMO/dock/staging",
                         {"parcel": f"(00){parcel['sscc']}", "location": "SHIP-01"})
                    numbers.append(parcel["tracking_number"])
                    parcels.append(parcel["sscc"])
            tracking[(kind, external_id)] = numbers
        at = _free_hour_at_door("DOOR-2", after=dt.datetime.now(dt.UTC) + dt.timedelta(hours=3))
        pickup = call("supervisor", "POST", "/warehouses/DEMO/pickups", {
            "carrier": "own-fleet", "door": "DOOR-2", "starts_at": at.isoformat(),
            "ends_at": (at + dt.timedelta(minutes=30)).isoformat()})
        call("supervisor", "POST", "/warehouses/DEMO/manifests", {"carrier": "own-fleet", "pickup_id": pickup["id"]})
        call("supervisor", "POST", f"/pickups/{pickup['id']}/depart")
    return tracking


def _ctx(user: Any) -> Any:
    from wms.picking.context import ScanContext

    return ScanContext(user=user, device_id="race", idempotency_key=str(uuid.uuid4()))


def diagnose(race: Race, limit: int = 12) -> list[str]:
    """What to look at when the sync did not converge: failed sync runs, channel jobs not succeeded, the
    stand-ins' own counts of what they refused."""
    from wms.channels.models import ChannelListing, ChannelSyncLog
    from wms.db import db

    out = []
    by_channel = {cid: kind for kind, cid in race.channel_ids.items()}
    with race.app.app_context():
        for row in db.session.scalars(select(ChannelSyncLog).where(ChannelSyncLog.ok.is_(False))
                                      .order_by(ChannelSyncLog.id.desc()).limit(limit)):
            out.append(f"sync log {by_channel.get(row.channel_id)} {row.direction}: {row.error} {row.detail or ''}")
        for listing in db.session.scalars(select(ChannelListing).where(ChannelListing.dirty.is_(True)).limit(limit)):
            out.append(f"dirty {by_channel.get(listing.channel_id)} {listing.channel_sku} since {listing.dirty_since}"
                       f" push_error={listing.push_error}")
        rows = db.session.execute(func.now().select()).all()   # the database's clock, to read scheduled_at by
        out.append(f"database now {rows[0][0]}")
        from sqlalchemy import text

        for task, status, args, scheduled, attempts in db.session.execute(text(
                "SELECT task_name, status::text, args::text, scheduled_at, attempts FROM procrastinate_jobs"
                " WHERE task_name LIKE 'channels.%' AND status::text NOT IN ('succeeded')"
                " ORDER BY id DESC LIMIT :n"), {"n": limit}):
            out.append(f"job {task} {status} {args} scheduled {scheduled} attempts {attempts}")
        for pid, state, wait, age, query in db.session.execute(text(
                "SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, ''), now() - xact_start,"
                " left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'")):
            out.append(f"backend {pid} {state} {wait} for {age}: {query}")
    for kind, standin in race.standins.items():
        refused = [f"{c.method} {c.path} {c.status}" for c in standin.calls if c.status >= 400][-5:]
        if refused or standin.violations:
            out.append(f"{kind}: refused {refused}, violations {standin.violations[-3:]}")
    return out
