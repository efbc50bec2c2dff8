"""Channel sync throughput per platform, against the stand-ins of tests/standins/ on 127.0.0.1.

For each platform (PrestaShop, WooCommerce, Shopify, Mirakl, Amazon), on its own fresh PostgreSQL database (a
copy of one migrated template seeded with the products and their stock in pick lanes, procrastinate's schema in
it so the pushes' after-commit defers are real):

1. Stock push. A channel connected to the platform's stand-in, one mapped listing per SKU (the mapping rows are
   written straight into channel_listings: `import_listings` is not what is timed and would page through the
   listings at the platform's rate), the stand-in holding a stale quantity for each. Timed: one full
   reconciliation through the real sync path, `wms.channels.sync.stock.push_stock(channel, full=True)` (batches
   of 500, fresh ATP, the connector pacing itself), end to end. Printed next to the platform's own minimum time
   for the same updates under its limit, `max(0, calls - burst) / rate` with calls = updates / items per call
   (for Shopify the points its mutations cost over the restore rate, the bucket not counted; each platform's
   limit and where it comes from is printed with it), and the ratio ours / minimum (1.0 is perfect; below 1.0
   where a bucket full at the start takes what the sustained minimum counts: Shopify). Shopify is pushed twice:
   the first reconciliation of listings never pushed (compared with the quantities read at import) on
   1,000 SKUs, extrapolated by the points charged, then the nightly one of all 10,000, pushed before.
   Afterwards every stand-in quantity is compared with `channel_available`: a push of wrong figures would make
   the timing worthless. Where 10,000 SKUs cannot be pushed within a few minutes under the platform's limit
   (PrestaShop, Amazon: one call per SKU at 5/s is 2,000 s) a smaller
   count is measured and the time for 10,000 extrapolated (the further SKUs at the connector's pace per call;
   Mirakl, when run on fewer, by its call counts), printed as such.
2. Order pull. N orders of 5 lines on mapped SKUs placed on the stand-in; timed: one pull pass,
   `services.sync_now(channel, orders=True, stock=False, fulfilments=False)` (pages by checkpoint, intake with
   reservations, the source document of each order, acceptance on Mirakl): orders/s next to a baseline, the
   same orders created through `wms.orders.services.create_order` directly in this process (no platform; one
   commit per as many orders as the platform's page holds, as the pull commits per page), and the ratio; with
   the platform's minimum time for the pass under its page size and limit.

Stand-ins: PrestaShop unthrottled (PrestaShop documents no limit; the connector paces at its own 5 calls/s);
WooCommerce 2.5 calls/s burst 25 (the connector's own 2/s); Shopify a 1,000-point bucket restoring 50 points/s;
Mirakl with its minute shrunk to 1.2 s (`pacing_scale` 0.02, as the suite runs it; what the real minute means
is printed); Amazon at the documented per-operation rates (the connector paces at 90 %). The stand-ins are used
as they are: the extra lines of a 5-line order are added by `place_orders` to the order a checkout made, and
Shopify's charged points are summed by a subclass here.
Usage: python bench/channel_sync.py [--platform NAME ...] [--skus N] [--orders N]
       (WMS_BENCH_PG_ADMIN_URL to pick the server)
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402

from wms import create_app  # noqa: E402
from wms.dbcli import alembic_config  # noqa: E402

ADMIN = os.environ.get("WMS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TEMPLATE = "wms_bench_channels_tpl"
DB = "wms_bench_channels"
FULL = 10_000
PLATFORMS = ("prestashop", "woocommerce", "shopify", "mirakl", "amazon")
NAMES = {"prestashop": "PrestaShop", "woocommerce": "WooCommerce", "shopify": "Shopify", "mirakl": "Mirakl",
         "amazon": "Amazon"}
# measured counts of the default run (about 15 minutes on 2 cores); --skus / --orders set them for every platform
DEFAULT_SKUS = {"prestashop": 500, "woocommerce": FULL, "shopify": FULL, "mirakl": FULL, "amazon": 200}
DEFAULT_ORDERS = {"prestashop": 500, "woocommerce": 500, "shopify": 100, "mirakl": 200, "amazon": 40}
PULL_PAGE = {"prestashop": 50, "woocommerce": 100, "shopify": 8, "mirakl": 100, "amazon": 100}  # orders a page
SHOPIFY_FIRST = 1_000           # SKUs of Shopify's first reconciliation (its quantities read first)
STALE = 3                        # what every stand-in listing holds before the push (no ATP is 3)
LINES = 5


def load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def say(text: str) -> None:
    print(f"{text}  [load {load():.2f}]", flush=True)


# --- databases ---------------------------------------------------------------------------------------------------

def admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def url_of(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def build_template(products: int) -> None:
    """A migrated database with a rack zone and `products` SKUs in pick lanes (on hand 500..596, varied)."""
    admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{TEMPLATE}"')
    url = url_of(TEMPLATE)
    command.upgrade(alembic_config(url), "head")
    from wms.jobs import admin as jobs_admin
    from wms.jobs.engine import _plain_conninfo

    jobs_admin.apply_schema(_plain_conninfo(url))   # the after-commit defers of pushes are real INSERTs
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    from sqlalchemy import select

    from wms.catalog.models import Product
    from wms.db import db
    from wms.enums import Face, StockReason, ZoneKind
    from wms.layout import services as layout
    from wms.layout.models import Location
    from wms.stock.services import adjust_stock

    with app.app_context():
        wh = layout.create_warehouse("BENCH", "Bench")
        zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=40)
        aisles = [layout.add_aisle(zone, f"X{i}", Face.PICK if i % 2 else Face.REPLENISH, i) for i in range(5)]
        for r in range(4):
            pick, rep = (aisles[r + 1], aisles[r]) if aisles[r + 1].face == Face.PICK else (aisles[r], aisles[r + 1])
            layout.add_rack(zone, f"A{r:02d}", pick, rep, bays=20, levels=3, bay_width_m=2.0)
        lanes = list(db.session.scalars(select(Location).where(Location.zone_id == zone.id).order_by(Location.id)))
        for i in range(products):
            product = Product(sku=f"SKU-{i:05d}", name=f"Product {i}")
            db.session.add(product)
            db.session.flush()
            adjust_stock(product, lanes[i % len(lanes)], 500 + i % 97, reason=StockReason.RECEIPT)
            if i % 1000 == 999:
                db.session.commit()
        db.session.commit()
    db.engine(app).dispose()


def fresh_database() -> str:
    admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{DB}" TEMPLATE "{TEMPLATE}"')
    return url_of(DB)


# --- stand-ins -----------------------------------------------------------------------------------------------------

def make_standin(kind: str):  # type: ignore[no-untyped-def]
    if kind == "prestashop":
        from tests.standins.prestashop import PrestaShopStandIn

        return PrestaShopStandIn()
    if kind == "woocommerce":
        from tests.standins.woocommerce import WooCommerceStandIn

        return WooCommerceStandIn()
    if kind == "shopify":
        from tests.standins.shopify import ShopifyStandIn

        class CountingShopify(ShopifyStandIn):
            """The stand-in, adding up the actual query cost it charged per operation (for the minimum)."""

            def __init__(self) -> None:
                self.points: Counter[str] = Counter()
                super().__init__()

            def run(self, text: str, variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
                out = super().run(text, variables, operation_name)
                actual = ((out.get("extensions") or {}).get("cost") or {}).get("actualQueryCost")
                if actual is not None:
                    with self.lock:
                        self.points[operation_name or "?"] += actual
                return out

        return CountingShopify()
    if kind == "mirakl":
        from tests.standins.mirakl import MiraklStandIn

        return MiraklStandIn()
    from tests.standins.amazon import AmazonStandIn

    return AmazonStandIn()


def place_orders(kind: str, standin, baskets: list[list[tuple[str, int]]]) -> None:  # type: ignore[no-untyped-def]
    """Each basket as one order on the stand-in. The stand-ins' checkouts take one line (Mirakl's a basket,
    Shopify's fixture any lines): the other lines are added to the order the checkout made, under its lock,
    in the stand-in's own shape for a line."""
    for basket in baskets:
        first_sku, first_qty = basket[0]
        if kind == "mirakl":
            if standin.checkout_lines(basket) is None:
                raise SystemExit("mirakl stand-in refused a basket (stock)")
        elif kind == "shopify":
            standin.add_order(basket)
        elif kind == "prestashop":
            oid = standin.checkout(first_sku, first_qty)
            if oid is None:
                raise SystemExit("prestashop stand-in refused a checkout (stock)")
            with standin.lock:
                order = standin.db["orders"][int(oid)]
                row = order["rows"][0]
                for n, (sku, qty) in enumerate(basket[1:], start=2):
                    pid, cid, product = standin._item_of(sku)
                    order["rows"].append({**row, "id": int(oid) * 100 + n, "product_id": pid,
                                          "product_attribute_id": cid, "product_quantity": qty,
                                          "product_name": product["name"][1], "product_reference": sku})
        elif kind == "woocommerce":
            oid = standin.checkout(first_sku, first_qty)
            if oid is None:
                raise SystemExit("woocommerce stand-in refused a checkout (stock)")
            with standin.lock:
                order = standin.orders[int(oid)]
                line = order["line_items"][0]
                for sku, qty in basket[1:]:
                    pid, vid = standin.by_sku[sku]
                    item = standin._item(sku)
                    price = float(item["price"])
                    order["line_items"].append({**line, "id": next(standin._line_ids), "name": item["name"],
                                                "product_id": pid, "variation_id": vid, "quantity": qty,
                                                "subtotal": f"{price * qty:.2f}", "total": f"{price * qty:.2f}",
                                                "sku": sku, "price": price})
        else:
            oid = standin.checkout(first_sku, first_qty)
            if oid is None:
                raise SystemExit("amazon stand-in refused a checkout (stock)")
            with standin.lock:
                items = standin.order_items[oid]
                first = items[0]
                for n, (sku, qty) in enumerate(basket[1:], start=2):
                    listing = standin.listings[sku]
                    items.append({**first, "ASIN": listing["asin"], "SellerSKU": sku, "Title": listing["title"],
                                  "OrderItemId": f"{first['OrderItemId'][:-1]}{n}", "QuantityOrdered": qty,
                                  "ItemPrice": {"CurrencyCode": "EUR", "Amount": f"{19.9 * qty:.2f}"}})
                standin.orders[oid]["NumberOfItemsUnshipped"] = sum(i["QuantityOrdered"] for i in items)


# --- the platforms' minimum times ------------------------------------------------------------------------------------

def paced(calls: int, rate: float, burst: int) -> float:
    return max(0, calls - burst) / rate


@dataclass
class Minimum:
    seconds: float
    how: str


def push_minimum(kind: str, n: int, standin=None, connector_cls=None) -> Minimum:  # type: ignore[no-untyped-def]
    limit = connector_cls.rate_limit
    if kind == "prestashop":
        return Minimum(paced(n, limit.rate, limit.burst),
                       f"one PUT stock_availables per SKU; PrestaShop documents no webservice limit: the "
                       f"connector's own {limit.rate:g} calls/s (burst {limit.burst}), the stand-in unthrottled")
    if kind == "woocommerce":
        calls = math.ceil(n / limit.items_per_call)
        return Minimum(paced(calls, limit.rate, limit.burst),
                       f"products/batch of {limit.items_per_call} = {calls} calls; WooCommerce documents no REST "
                       f"limit: the connector's own {limit.rate:g} calls/s (burst {limit.burst}); stand-in 2.5/s")
    if kind == "shopify":
        from tests.standins.shopify import MUTATION_COST

        calls = math.ceil(n / limit.items_per_call)
        points = calls * MUTATION_COST
        return Minimum(points / standin.restore_rate,
                       f"inventorySetQuantities of {limit.items_per_call} = {calls} mutations x {MUTATION_COST} "
                       f"points = {points} points at {standin.restore_rate:g} points/s restored (sustained; a full "
                       f"{standin.bucket_size:g}-point bucket takes them at once)")
    if kind == "mirakl":
        from wms.channels.connectors.mirakl import MINUTE, OFFERS_PER_IMPORT, PAGE_SIZE

        general = connector_cls.general_limit
        reads = math.ceil(n / PAGE_SIZE)
        imports = math.ceil(n / OFFERS_PER_IMPORT)
        scale = standin.pacing_scale
        return Minimum(paced(reads, general.rate, general.burst) + (imports - 1) * MINUTE * scale,
                       f"OF21 reads {reads} pages of {PAGE_SIZE} (every offer field is sent back: an omitted one "
                       f"resets) at our {general.rate:g}/s + OF24 {imports} import(s) of up to "
                       f"{OFFERS_PER_IMPORT}, once a minute (stand-in minute {MINUTE * scale:g} s); import "
                       "processing not counted")
    return Minimum(paced(n, limit.rate, limit.burst),
                   f"patchListingsItem one per SKU, documented {limit.rate:g}/s burst {limit.burst} (the connector "
                   "paces at 90 %); SP-API's JSON_LISTINGS_FEED is not used by the connector")


def pull_minimum(kind: str, n: int, standin=None, connector_cls=None,  # type: ignore[no-untyped-def]
                 points: dict[str, int] | None = None) -> Minimum:
    if kind == "prestashop":
        from wms.channels.connectors.prestashop import PAGE_SIZE

        limit = connector_cls.rate_limit
        pages = math.ceil(n / PAGE_SIZE)
        calls = 3 * pages + 4
        return Minimum(paced(calls, limit.rate, limit.burst),
                       f"{pages} pages of {PAGE_SIZE} x (orders, addresses, customers) + 4 lookups = {calls} "
                       f"calls at the connector's {limit.rate:g}/s (no documented limit)")
    if kind == "woocommerce":
        from wms.channels.connectors.woocommerce import PAGE_SIZE

        limit = connector_cls.rate_limit
        pages = math.ceil(n / PAGE_SIZE)
        return Minimum(paced(pages, limit.rate, limit.burst),
                       f"{pages} pages of {PAGE_SIZE} at the connector's {limit.rate:g}/s (no documented limit)")
    if kind == "shopify":
        from wms.channels.connectors.shopify import ORDER_PAGE

        pages = math.ceil(n / ORDER_PAGE)
        points = (points or {}).get("WmsOrders", 0)
        return Minimum(points / standin.restore_rate,
                       f"{pages} queries of {ORDER_PAGE} orders (requested cost 906 each must be in the bucket), "
                       f"{points} actual points charged, at {standin.restore_rate:g} points/s (sustained)")
    if kind == "mirakl":
        from wms.channels.connectors.mirakl import MINUTE, PAGE_SIZE

        general = connector_cls.general_limit
        pages = math.ceil(n / PAGE_SIZE)
        scale = standin.pacing_scale
        return Minimum((pages - 1) * MINUTE * scale + paced(n, general.rate, general.burst),
                       f"OR11 {pages} pages of {PAGE_SIZE}, once a minute (stand-in minute {MINUTE * scale:g} s; "
                       f"at the real minute {(pages - 1) * MINUTE:g} s) + OR21 accept per order at our "
                       f"{general.rate:g}/s (no documented maximum)")
    from wms.channels.connectors.amazon import OPERATIONS

    items, orders = OPERATIONS["getOrderItems"], OPERATIONS["getOrders"]
    pages = math.ceil(n / standin.page_size)
    return Minimum(max(paced(n, items.rate, items.burst), paced(pages, orders.rate, orders.burst)),
                   f"getOrderItems once per order at the documented {items.rate:g}/s burst {items.burst}; "
                   f"getOrders {pages} page(s) of {standin.page_size} at {orders.rate:g}/s burst {orders.burst}")


# --- one platform -----------------------------------------------------------------------------------------------------

@dataclass
class Figures:
    kind: str
    skus: int = 0
    push_s: float = 0.0
    push_min: float = 0.0
    push_10k: float | None = None
    push_min_10k: float | None = None
    first: tuple[int, float, float, float, float] | None = None   # Shopify: n, s, min, 10k s, 10k min
    verified: bool = False
    orders: int = 0
    pull_s: float = 0.0
    base_s: float = 0.0
    pull_min: float = 0.0
    load: dict[str, float] = field(default_factory=dict)


def calls_summary(calls) -> str:  # type: ignore[no-untyped-def]
    counts = Counter(f"{c.method} {c.path.rsplit('/', 1)[0] if c.path[-1:].isdigit() else c.path}" for c in calls)
    statuses = Counter(c.status for c in calls)
    top = ", ".join(f"{k} x{v}" for k, v in counts.most_common(4))
    return f"{len(calls)} calls ({top}{', ...' if len(counts) > 4 else ''}); statuses {dict(statuses)}"


def insert_listings(channel_id: int, rows: list[tuple[int, str]], keys: dict[str, str],
                    pushed: int | None = None) -> None:
    """The mapping, written straight in: one listing per (product id, SKU), as import_listings would map it;
    `pushed` set: as if that quantity had been pushed before (last_pushed_qty) and the channel held it."""
    from wms.db import db

    db.session.connection().exec_driver_sql(
        "INSERT INTO channel_listings (channel_id, item_key, channel_sku, title, product_id, channel_quantity, "
        "last_pushed_qty, dirty, dirty_version, created_at) VALUES (%(c)s, %(k)s, %(s)s, %(t)s, %(p)s, %(q)s, "
        "%(l)s, true, 0, now())",
        [{"c": channel_id, "k": keys[sku], "s": sku, "t": f"Product {sku}", "p": pid, "q": STALE, "l": pushed}
         for pid, sku in rows])
    db.session.commit()


def timed_push(channel, standin):  # type: ignore[no-untyped-def]
    from wms.channels.sync import stock

    before = len(standin.calls)
    points = Counter(getattr(standin, "points", {}))
    t0 = time.perf_counter()
    result = stock.push_stock(channel, full=True)
    seconds = time.perf_counter() - t0
    spent = Counter(getattr(standin, "points", {}))
    spent.subtract(points)
    return result, seconds, standin.calls[before:], dict(spent)


def verify(channel, standin, rows: list[tuple[int, str]], result) -> bool:  # type: ignore[no-untyped-def]
    from wms.channels.availability import channel_available

    atp = channel_available(channel, [pid for pid, _ in rows])
    wrong = [(sku, standin.stock_of(sku), atp[pid]) for pid, sku in rows if standin.stock_of(sku) != atp[pid]]
    if wrong or result.failed or result.pushed != len(rows):
        print(f"    WRONG: pushed {result.pushed} of {len(rows)}, {len(wrong)} stand-in quantities differ from "
              f"channel_available, e.g. {wrong[:5]}; errors {result.errors[:3]}")
        return False
    print(f"    verified: all {len(rows)} stand-in quantities equal channel_available")
    return True


def report_push(name: str, n: int, seconds: float, minimum: Minimum,  # type: ignore[no-untyped-def]
                result, calls, points) -> None:
    say(f"{name} stock push, {n} SKUs: {seconds:.1f} s ({n / seconds:.0f} SKUs/s); platform minimum "
        f"{minimum.seconds:.1f} s; ratio {ratio(seconds, minimum.seconds)}")
    print(f"    minimum: {minimum.how}")
    print(f"    pushed {result.pushed}, failed {result.failed}, compare-and-set conflicts {result.conflicts}; "
          f"stand-in saw {calls_summary(calls)}")
    if points:
        print(f"    points charged by operation: {points}")


def run_platform(kind: str, skus: int, orders: int, seed: int) -> Figures:
    from sqlalchemy import select

    from wms.catalog.models import Product
    from wms.channels import services
    from wms.channels.connectors import connector_class
    from wms.db import db
    from wms.layout.models import Warehouse
    from wms.orders.models import Channel

    figures = Figures(kind, skus=skus, orders=orders)
    cls = connector_class(kind)
    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    standin = make_standin(kind).start()
    name = NAMES[kind]
    try:
        with app.app_context():
            wh = db.session.scalar(select(Warehouse).where(Warehouse.code == "BENCH"))
            rows = [(pid, sku) for pid, sku in db.session.execute(
                select(Product.id, Product.sku).order_by(Product.id).limit(skus))]
            keys = {sku: standin.add_item(sku, STALE, title=f"Product {sku}") for _pid, sku in rows}
            cfg = standin.connector_config()
            added = services.add_channel(kind.upper()[:10], name, kind, wh, base_url=cfg.base_url,
                                         credentials=dict(cfg.credentials), options=dict(cfg.options))
            db.session.commit()
            channel_id = added.channel.id
            if kind == "shopify":
                channel = db.session.get(Channel, channel_id)
                figures.verified = shopify_push(figures, channel, standin, rows, keys, cls)
            else:
                insert_listings(channel_id, rows, keys)
                channel = db.session.get(Channel, channel_id)
                result, seconds, calls, points = timed_push(channel, standin)
                figures.push_s, figures.load["push"] = seconds, load()
                minimum = push_minimum(kind, skus, standin, cls)
                figures.push_min = minimum.seconds
                report_push(name, skus, seconds, minimum, result, calls, points)
                figures.verified = verify(channel, standin, rows, result)
                if skus < FULL:
                    figures.push_min_10k = push_minimum(kind, FULL, standin, cls).seconds
                    figures.push_10k, how = extrapolate_push(kind, skus, seconds, calls, cls)
                    say(f"{name} stock push, {FULL} SKUs extrapolated from {skus}: ours {figures.push_10k:.0f} s, "
                        f"platform minimum {figures.push_min_10k:.0f} s; ratio "
                        f"{ratio(figures.push_10k, figures.push_min_10k)}")
                    print(f"    extrapolation: {how}")
                if kind == "mirakl":
                    mirakl_real_minute(skus, calls)
            if standin.violations:
                print(f"    stand-in violations: {standin.violations[:3]}")
            figures.verified = order_pull(figures, kind, standin, channel_id, wh.id, [sku for _p, sku in rows],
                                          seed, cls) and figures.verified
    finally:
        standin.stop()
        db.engine(app).dispose()
    return figures


def shopify_push(figures: Figures, channel, standin, rows, keys, cls) -> bool:  # type: ignore[no-untyped-def]
    """Shopify twice: the first reconciliation of listings never pushed (compare-and-set needs the quantity
    Shopify holds, read first: WmsLevels), on a share of the SKUs, extrapolated by points; then the nightly
    reconciliation of every SKU, whose last pushed quantity is known (the compare needs no read)."""
    from wms.channels.sync.stock import BATCH
    from wms.db import db
    from wms.orders.models import Channel

    name = NAMES["shopify"]
    first = min(len(rows), SHOPIFY_FIRST)
    insert_listings(channel.id, rows[:first], keys)
    result, seconds, calls, points = timed_push(channel, standin)
    minimum = push_minimum("shopify", first, standin, cls)
    print("  first reconciliation (listings never pushed: compared with the quantities read at import)")
    report_push(name, first, seconds, minimum, result, calls, points)
    ok = verify(channel, standin, rows[:first], result)
    total = sum(points.values())
    bucket, restore = standin.bucket_size, standin.restore_rate
    paced_s = max(0.0, total - bucket) / restore
    ours_10k = max(0.0, total * FULL / first - bucket) / restore + max(0.0, seconds - paced_s) * FULL / first
    min_10k = push_minimum("shopify", FULL, standin, cls).seconds
    figures.first = (first, seconds, minimum.seconds, ours_10k, min_10k)
    say(f"{name} first reconciliation, {FULL} SKUs extrapolated from {first}: ours {ours_10k:.0f} s, platform "
        f"minimum {min_10k:.0f} s; ratio {ratio(ours_10k, min_10k)}")
    print(f"    extrapolation: the {total} points charged x {FULL / first:g}, less the {bucket:g}-point bucket, at "
          f"{restore:g} points/s, plus the unpaced rest x {FULL / first:g}")
    if len(rows) > first:
        insert_listings(channel.id, rows[first:], keys, pushed=STALE)
    time.sleep(bucket / restore)
    channel = db.session.get(Channel, channel.id)
    print(f"  nightly reconciliation ({len(rows)} listings pushed before; {BATCH} a batch, 250 a mutation)")
    result, seconds, calls, points = timed_push(channel, standin)
    figures.push_s, figures.load["push"] = seconds, load()
    minimum = push_minimum("shopify", len(rows), standin, cls)
    figures.push_min = minimum.seconds
    report_push(name, len(rows), seconds, minimum, result, calls, points)
    if len(rows) < FULL:
        figures.push_10k, figures.push_min_10k = seconds * FULL / len(rows), min_10k
        say(f"{name} nightly reconciliation, {FULL} SKUs extrapolated linearly from {len(rows)}: ours "
            f"{figures.push_10k:.0f} s, platform minimum {min_10k:.0f} s")
    return verify(channel, standin, rows, result) and ok


def order_pull(figures: Figures, kind: str, standin, channel_id: int, warehouse_id: int,  # type: ignore[no-untyped-def]
               skus: list[str], seed: int, cls) -> bool:
    from wms.channels import services
    from wms.db import db
    from wms.orders.models import Channel, ChannelKind
    from wms.orders.services import LineRequest, OrderRequest, create_order

    name, orders = NAMES[kind], figures.orders
    rng = random.Random(seed)
    baskets = [[(sku, rng.randint(1, 3)) for sku in rng.sample(skus, LINES)] for _ in range(orders)]
    place_orders(kind, standin, baskets)
    direct = Channel(code="DIRECT", name="Direct", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse_id)
    db.session.add(direct)
    db.session.commit()

    def request(ext: str, basket: list[tuple[str, int]]) -> OrderRequest:
        return OrderRequest(external_id=ext, customer_email="c@example.com", lines=[
            LineRequest(sku=sku, quantity=qty, channel_line_ref=f"{ext}-{i}") for i, (sku, qty) in enumerate(basket)])

    create_order(direct, request("warm-up", baskets[0]))     # the first call compiles what every later one reuses
    db.session.commit()
    page = PULL_PAGE[kind]
    t0 = time.perf_counter()
    for n, basket in enumerate(baskets):
        create_order(direct, request(f"direct-{n}", basket))
        if n % page == page - 1:
            db.session.commit()
    db.session.commit()
    figures.base_s, figures.load["base"] = time.perf_counter() - t0, load()
    time.sleep(settle_s(kind, standin))   # the buckets the push used fill again first
    channel = db.session.get(Channel, channel_id)
    before = len(standin.calls)
    points = Counter(getattr(standin, "points", {}))
    t0 = time.perf_counter()
    report = services.sync_now(channel, orders=True, stock=False, fulfilments=False)
    figures.pull_s, figures.load["pull"] = time.perf_counter() - t0, load()
    calls = standin.calls[before:]
    spent = Counter(getattr(standin, "points", {}))
    spent.subtract(points)
    minimum = pull_minimum(kind, orders, standin, cls, dict(spent))
    figures.pull_min = minimum.seconds
    say(f"{name} order pull, {orders} orders x {LINES} lines: {figures.pull_s:.1f} s "
        f"({orders / figures.pull_s:.1f} orders/s); direct create_order {figures.base_s:.1f} s "
        f"({orders / figures.base_s:.1f} orders/s); pull/direct throughput {figures.base_s / figures.pull_s:.2f}")
    say(f"{name} order pull: platform minimum {minimum.seconds:.1f} s; ratio {ratio(figures.pull_s, minimum.seconds)}")
    print(f"    minimum: {minimum.how}")
    print(f"    read {report.orders_seen}, created {report.orders_created}, held {report.orders_held}; errors "
          f"{report.errors[:3]}; stand-in saw {calls_summary(calls)}")
    if kind == "mirakl":
        from wms.channels.connectors.mirakl import MINUTE, PAGE_SIZE, SKEW_MARGIN, SKEW_PAD

        pages = math.ceil(orders / PAGE_SIZE)
        print(f"    Mirakl OR11 once a minute: the pass reads its {pages} page(s) one after the other, each call "
              f"waiting for the connector's OR11 bucket ({MINUTE:g} s x {SKEW_MARGIN:g} + {SKEW_PAD:g} s, here with "
              f"the stand-in's minute x {standin.pacing_scale:g}); at the real minute the same pass waits "
              f"{(pages - 1) * (MINUTE * SKEW_MARGIN + SKEW_PAD):.0f} s more. The dispatcher defers a pass every "
              "poll_interval_s (300 s); a pass cut short resumes from its committed cursor.")
    if kind == "amazon":
        from wms.channels.connectors.amazon import OPERATIONS, PACE_MARGIN

        items = OPERATIONS["getOrderItems"]
        print(f"    500 orders: >= {paced(500, items.rate * PACE_MARGIN, items.burst - 1):.0f} s with getOrderItems "
              f"paced at {PACE_MARGIN:.0%} of {items.rate:g}/s; the documented minimum is "
              f"{paced(500, items.rate, items.burst):.0f} s")
    if standin.violations:
        print(f"    stand-in violations: {standin.violations[:3]}")
    if report.orders_created != orders:
        print(f"    WRONG: {orders} orders placed, {report.orders_created} created")
        return False
    return True


def settle_s(kind: str, standin) -> float:  # type: ignore[no-untyped-def]
    if kind == "shopify":
        return standin.bucket_size / standin.restore_rate
    return 5.0


def extrapolate_push(kind: str, n: int, seconds: float, calls,  # type: ignore[no-untyped-def]
                     cls) -> tuple[float, str]:
    """Our time for 10,000 SKUs from a smaller run, and how it was reckoned."""
    if kind == "mirakl":
        # every sync batch (the connector's push_batch) reads all the offers again (OF21)
        from wms.channels.connectors.mirakl import PAGE_SIZE

        BATCH = cls.push_batch  # noqa: N806
        rate = cls.general_limit.rate
        reads = sum(1 for c in calls if c.method == "GET" and c.path == "/api/offers")
        reads_10k = math.ceil(FULL / BATCH) * math.ceil(FULL / PAGE_SIZE)
        rest = max(0.0, seconds - reads / rate)
        return rest * FULL / n + reads_10k / rate, (
            f"{reads} OF21 reads here; {math.ceil(FULL / BATCH)} batches x {math.ceil(FULL / PAGE_SIZE)} pages = "
            f"{reads_10k} at {rate:g}/s, plus the rest ({rest:.1f} s) x {FULL / n:g}")
    # paced one call at a time: the SKUs beyond those measured cost the connector's pace per call
    rate = cls.rate_limit.rate * (0.9 if kind == "amazon" else 1.0)
    per_sku = len(calls) / n
    return seconds + (FULL - n) * per_sku / rate, (
        f"the measured {seconds:.1f} s + {FULL - n} more SKUs x {per_sku:.3f} calls each at the connector's "
        f"{rate:g} calls/s")


def mirakl_real_minute(n: int, calls) -> None:  # type: ignore[no-untyped-def]
    from wms.channels.connectors.mirakl import MINUTE, SKEW_MARGIN, SKEW_PAD, MiraklConnector

    BATCH = MiraklConnector.push_batch  # noqa: N806

    of24 = sum(1 for c in calls if c.method == "POST" and c.path == "/api/offers")
    of02 = sum(1 for c in calls if c.path.startswith("/api/offers/imports/"))
    spacing = MINUTE * SKEW_MARGIN + SKEW_PAD
    batches = math.ceil(FULL / BATCH)
    print(f"    at Mirakl's real minute: {of24} OF24 and {of02} OF02 calls here, each API paced {spacing:.1f} s "
          f"apart: >= {max(of24 - 1, of02 - 1) * spacing:.0f} s for {n} SKUs; 10,000 SKUs in sync batches of "
          f"{BATCH} make {batches} imports, >= {(batches - 1) * spacing / 60:.0f} min, where one OF24 of 10,000 "
          "offers would do")


def ratio(ours: float, minimum: float) -> str:
    return f"{ours / minimum:.2f}" if minimum > 0 else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--platform", action="append", choices=PLATFORMS, help="run only this one (repeatable)")
    ap.add_argument("--skus", type=int, help=f"SKUs pushed on every platform (default {DEFAULT_SKUS})")
    ap.add_argument("--orders", type=int, help=f"orders pulled on every platform (default {DEFAULT_ORDERS})")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    chosen = args.platform or list(PLATFORMS)
    plan = {k: (args.skus or DEFAULT_SKUS[k], args.orders or DEFAULT_ORDERS[k]) for k in chosen}
    products = max(max(s for s, _ in plan.values()), 50)
    print(f"channel sync bench, PostgreSQL, {os.cpu_count()} cpus; platforms {', '.join(chosen)}")
    t0 = time.perf_counter()
    build_template(products)
    say(f"template: {products} products with stock, migrated, in {time.perf_counter() - t0:.0f} s")
    results = []
    try:
        for kind in chosen:
            skus, orders = plan[kind]
            print(f"\n== {NAMES[kind]}: {skus} SKUs, {orders} orders", flush=True)
            results.append(run_platform(kind, skus, orders, args.seed))
    finally:
        admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    print("\nsummary (ratio = our time / the platform's minimum time; 1.0 is perfect; pull/direct = orders/s of "
          "the pull over orders/s of create_order alone)")
    print(f"{'platform':12}{'SKUs':>7}{'push s':>9}{'min s':>9}{'ratio':>7}{'10k s':>9}{'10k min':>9}{'ratio':>7}"
          f"{'ok':>4}{'orders':>8}{'pull o/s':>10}{'direct':>9}{'pull/dir':>9}{'min s':>8}{'ratio':>7}{'load':>6}")
    for f in results:
        tenk = f.push_10k if f.push_10k is not None else f.push_s
        tenk_min = f.push_min_10k if f.push_min_10k is not None else f.push_min
        mark = "" if f.push_10k is None else "*"
        if f.first is not None:
            n, s, m, s10, m10 = f.first
            print(f"{'Shopify 1st':12}{n:>7}{s:9.1f}{m:9.1f}{ratio(s, m):>7}{s10:8.0f}*{m10:9.0f}{ratio(s10, m10):>7}")
        print(f"{NAMES[f.kind]:12}{f.skus:>7}{f.push_s:9.1f}{f.push_min:9.1f}{ratio(f.push_s, f.push_min):>7}"
              f"{tenk:8.0f}{mark:1}{tenk_min:9.0f}{ratio(tenk, tenk_min):>7}{'yes' if f.verified else 'NO':>4}"
              f"{f.orders:>8}{f.orders / f.pull_s:10.1f}{f.orders / f.base_s:9.1f}{f.base_s / f.pull_s:9.2f}"
              f"{f.pull_min:8.1f}{ratio(f.pull_s, f.pull_min):>7}{max(f.load.values()):6.2f}")
    print("* extrapolated from the SKUs measured (paced platforms at the connector's pace per call; Mirakl by its "
          "OF21 reads, one full read per push batch; Shopify's first reconciliation by the points charged)")
    print("Shopify 1st: the first reconciliation, listings never pushed (compare-and-set from the quantities "
          "read at import); Shopify: the nightly one, every listing pushed before")
    print(f"load average at the end: {load():.2f}")


if __name__ == "__main__":
    main()
