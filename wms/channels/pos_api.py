"""The till's stock subscription: a long-poll on the stock ledger (docs/pos.md).

`GET /warehouses/{code}/stock/changes?after=<cursor>&wait=<s>` answers the SKUs whose pick-lane stock moved after
the cursor, with their levels now. The cursor is the stock ledger's id (cheap: a primary-key range scan, and
monotonic), plus the ids below it that were not visible yet when it was taken ("gaps"): ledger ids are handed out
when a row is written and a transaction may commit after a later one, so a plain "highest id seen" would skip the
slower writer's change. A gap is re-read on every call until its row shows up or it is older than GAP_GRACE_S
(a rolled-back write never fills it). Answers carry absolute levels, so a SKU answered twice is harmless.

Waiting holds a gunicorn thread but no database transaction or connection: between checks the session is ended
(its connection goes back to the pool) and the thread sleeps POLL_S.
"""

from __future__ import annotations

import time

from sqlalchemy import func, or_, select

from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.catalog.models import Product
from wms.channels import pos_schemas as s
from wms.db import db
from wms.enums import ZoneKind
from wms.errors import NotFound
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.api import _stock_out as stock_out
from wms.stock.models import LedgerEntry

POLL_S = 0.25          # how often a waiting request re-reads the ledger
GAP_GRACE_S = 30       # a ledger id not visible after this long belonged to a rolled-back write
MAX_GAPS = 50          # more holes than this in one read: a large rolled-back batch, not in-flight writes
BATCH = 5000           # ledger rows read per answer; the next call goes on from the cursor
START_WINDOW = 100     # the first cursor treats holes among the newest ids as gaps (writes still in flight)


class Cursor:
    """Highest ledger id read, and the lower ids not visible then (id -> when first missed, epoch seconds)."""

    def __init__(self, high: int, gaps: dict[int, int] | None = None) -> None:
        self.high = high
        self.gaps = gaps or {}

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """Read a cursor as answered (the query schema has already checked its shape)."""
        high, *rest = text.split(".")
        gaps = {int(g): int(t) for g, t in (part.split("@") for part in rest)}
        return cls(int(high), gaps)

    def __str__(self) -> str:
        return ".".join([str(self.high), *(f"{g}@{t}" for g, t in sorted(self.gaps.items()))])

    def advance(self, seen: list[int], now: int) -> Cursor:
        """The cursor after reading the ledger ids `seen` (ascending) above `high` and among the gaps."""
        gaps = {g: t for g, t in self.gaps.items() if g not in set(seen) and now - t <= GAP_GRACE_S}
        above = [i for i in seen if i > self.high]
        if not above:
            return Cursor(self.high, gaps)
        present = set(above)
        holes = [i for i in range(self.high + 1, above[-1]) if i not in present]
        if len(holes) <= MAX_GAPS:
            gaps.update((i, now) for i in holes)
        return Cursor(above[-1], dict(sorted(gaps.items())[-MAX_GAPS:]))


def _in_warehouse(warehouse: Warehouse):  # type: ignore[no-untyped-def]
    return (select(Location.id).join(Zone, Zone.id == Location.zone_id)
            .where(Location.warehouse_id == warehouse.id, Zone.kind == ZoneKind.RACK))


def _start(warehouse: Warehouse) -> Cursor:
    """A cursor at the ledger's end; recent holes are kept as gaps (their writes may still commit)."""
    high = db.session.scalar(select(func.max(LedgerEntry.id))) or 0
    recent = list(db.session.scalars(select(LedgerEntry.id).where(LedgerEntry.id > high - START_WINDOW)
                                     .order_by(LedgerEntry.id)))
    return Cursor(max(high - START_WINDOW, 0)).advance(recent, int(time.time()))


def read_changes(warehouse: Warehouse, cursor: Cursor, product_ids: list[int] | None) -> tuple[Cursor, list[int]]:
    """The next cursor and the products (of `product_ids`, or all) whose pick-lane stock moved after `cursor`."""
    now = int(time.time())
    live = {g: t for g, t in cursor.gaps.items() if now - t <= GAP_GRACE_S}
    wanted = or_(LedgerEntry.id.in_(sorted(live)), LedgerEntry.id > cursor.high) if live else \
        LedgerEntry.id > cursor.high
    rows = db.session.execute(select(LedgerEntry.id, LedgerEntry.product_id, LedgerEntry.location_id)
                              .where(wanted).order_by(LedgerEntry.id).limit(BATCH)).all()
    nxt = Cursor(cursor.high, live).advance([r.id for r in rows], now)
    if not rows:
        return nxt, []
    here = set(db.session.scalars(_in_warehouse(warehouse).where(
        Location.id.in_(sorted({r.location_id for r in rows})))))
    moved = {r.product_id for r in rows if r.location_id in here}
    if product_ids is not None:
        moved &= set(product_ids)
    return nxt, sorted(moved)


def _products(skus: list[str]) -> list[Product] | None:
    if not skus:
        return None
    wanted = list(dict.fromkeys(skus))
    found = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(wanted)))}
    missing = [sku for sku in wanted if sku not in found]
    if missing:
        raise NotFound("Unknown SKU: " + ", ".join(missing[:20]),
                       errors=[{"field": "sku", "message": m} for m in missing[:20]])
    return [found[sku] for sku in wanted]


def _stocked(warehouse: Warehouse) -> list[Product]:
    from wms.stock.models import Quant

    return list(db.session.scalars(select(Product).where(Product.id.in_(
        select(Quant.product_id).where(Quant.location_id.in_(_in_warehouse(warehouse))))).order_by(Product.sku)))


@operation("/warehouses/<code>/stock/changes", "GET", summary="Stock changes since a cursor (till long-poll)",
           tags=["stock"], query=s.StockChangesQuery, response=s.StockChangesOut, purposes=("channel",),
           roles=("supervisor",))
def stock_changes(code: str, query: s.StockChangesQuery) -> s.StockChangesOut:
    """Without `after`: every stocked SKU (or the `sku`s asked) with its levels now, and the cursor to follow from.
    With `after`: the SKUs whose stock moved since that cursor, at their levels now; when none did, waits up to
    `wait` seconds (at most 25) for one and answers an empty list when the time is up. Pass the answered
    `cursor` as the next `after`. Answers are absolute levels: a SKU may come twice, never a change missed."""
    warehouse = _warehouse(code)
    products = _products(query.sku)
    if query.after is None:
        cursor = _start(warehouse)
        return s.StockChangesOut(cursor=str(cursor), changes=stock_out(warehouse, products or _stocked(warehouse)),
                                 waited_seconds=0)
    cursor = Cursor.parse(query.after)
    ids = [p.id for p in products] if products is not None else None
    started = time.monotonic()
    deadline = started + query.wait
    db.session.commit()  # whatever the request wrote so far (the token's last use); no transaction stays open
    while True:
        cursor, moved = read_changes(warehouse, cursor, ids)
        if moved or time.monotonic() >= deadline:
            break
        db.session.rollback()  # a read only: end its transaction, give the connection back, then sleep
        time.sleep(max(0.0, min(POLL_S, deadline - time.monotonic())))
    changed = list(db.session.scalars(select(Product).where(Product.id.in_(moved)).order_by(Product.sku))) \
        if moved else []
    return s.StockChangesOut(cursor=str(cursor), changes=stock_out(warehouse, changed),
                             waited_seconds=round(time.monotonic() - started, 3))
