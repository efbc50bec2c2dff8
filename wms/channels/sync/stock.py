"""Stock out: listings marked dirty in the transaction that moved their stock, pushed by one debounced job per
channel with fresh available-to-promise; a change made during a push keeps its listing dirty."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, exists, func, or_, select, update

from wms.catalog.models import Product
from wms.channels.availability import channel_available
from wms.channels.connectors.base import StockResult, StockUpdate
from wms.channels.models import ChannelConnection, ChannelListing, ChannelWarehouse
from wms.channels.sync.common import SyncRun, connector_for, require_connection
from wms.db import db, utcnow
from wms.orders.models import Channel

PUSH_TASK = "channels.push_stock"
PUSH_DEBOUNCE_S = 1.0      # changes within this window go in one push (per channel)
BATCH = 500                # listings read, computed and committed together (unless the connector says otherwise)


def channels_selling_from(warehouse_id: int) -> list[int]:
    """Connected channels with stock push on whose stock comes (also) from this warehouse."""
    listed = exists().where(ChannelWarehouse.channel_id == Channel.id)
    sells_here = exists().where(ChannelWarehouse.channel_id == Channel.id,
                                ChannelWarehouse.warehouse_id == warehouse_id)
    return list(db.session.scalars(
        select(Channel.id).join(ChannelConnection, ChannelConnection.channel_id == Channel.id)
        .where(Channel.active.is_(True), ChannelConnection.stock_enabled.is_(True),
               or_(sells_here, (Channel.warehouse_id == warehouse_id) & ~listed))
        .order_by(Channel.id)))


def push_lock(channel_id: int) -> str:
    return f"{PUSH_TASK}:{channel_id}"


def schedule_push(channel_id: int, *, delay_s: float | None = PUSH_DEBOUNCE_S) -> None:
    """Defer the channel's push after commit; while one waits, more changes join it (queueing lock)."""
    from wms.jobs import defer_after_commit

    defer_after_commit(PUSH_TASK, queueing_lock=push_lock(channel_id), schedule_in_s=delay_s, channel_id=channel_id)


def mark_dirty(product_ids: Iterable[int], warehouse_id: int) -> list[int]:
    """Mark the listings of these products dirty on every channel selling from the warehouse; the channels."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    channel_ids = channels_selling_from(warehouse_id)
    if not channel_ids:
        return []
    marked = db.session.execute(
        update(ChannelListing)
        .where(ChannelListing.channel_id.in_(channel_ids), ChannelListing.product_id.in_(ids))
        .values(dirty=True, dirty_version=ChannelListing.dirty_version + 1,
                dirty_since=func.coalesce(ChannelListing.dirty_since, utcnow()))
        .returning(ChannelListing.channel_id)
        .execution_options(synchronize_session=False)).scalars().all()
    touched = sorted(set(marked))
    for channel_id in touched:
        schedule_push(channel_id)
    return touched


def mark_all_dirty(channel_id: int) -> int:
    """Mark every mapped listing of the channel dirty, in one statement (the caller commits); how many."""
    table = ChannelListing.__table__
    done = db.session.execute(table.update().where(table.c.channel_id == channel_id, table.c.product_id.is_not(None))
                              .values(dirty=True, dirty_version=table.c.dirty_version + 1,
                                      dirty_since=func.coalesce(table.c.dirty_since, utcnow())))
    return int(done.rowcount or 0)


@dataclass
class PushResult:
    pushed: int = 0
    failed: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


def _batch(channel_id: int, after_id: int, full: bool, size: int = BATCH) -> list[ChannelListing]:
    q = (select(ChannelListing).where(ChannelListing.channel_id == channel_id, ChannelListing.id > after_id,
                                      ChannelListing.product_id.is_not(None)))
    if not full:
        q = q.where(or_(ChannelListing.dirty.is_(True), ChannelListing.last_pushed_qty.is_(None)))
    return list(db.session.scalars(q.order_by(ChannelListing.id).limit(size)
                                   .execution_options(populate_existing=True)))


def _settle(settled: list[tuple[int, int, int]]) -> None:
    """Record what was pushed, (listing id, dirty version read, quantity) each, in two statements per batch;
    the dirty mark is cleared only where no change came since we read it (dirty_version moved: push again)."""
    if not settled:
        return
    db.session.flush()
    now = utcnow()
    conn = db.session.connection()
    table = ChannelListing.__table__
    conn.execute(table.update().where(table.c.id == bindparam("lid")).values(
        last_pushed_qty=bindparam("qty"), channel_quantity=bindparam("qty"), last_pushed_at=now, push_error=None),
        [{"lid": lid, "qty": qty} for lid, _v, qty in settled])
    conn.execute(table.update().where(table.c.id == bindparam("lid"), table.c.dirty_version == bindparam("v"))
                 .values(dirty=False, dirty_since=None), [{"lid": lid, "v": v} for lid, v, _q in settled])


def push_stock(channel: Channel, *, full: bool = False) -> PushResult:
    """Push fresh available-to-promise for the channel's dirty (or, `full`, all mapped) listings.

    A compare-and-set conflict (the channel's quantity moved since our last push) is re-read: the push is
    made again once from what the channel now holds, with our fresh figure, never a stale one.
    """
    conn = require_connection(channel)
    connector = connector_for(conn)
    result = PushResult()
    with SyncRun(channel.id, "reconcile" if full else "push") as run:
        after = 0
        while True:
            listings = _batch(channel.id, after, full, getattr(connector, "push_batch", BATCH) or BATCH)
            if not listings:
                break
            after = listings[-1].id
            versions = {ln.id: ln.dirty_version for ln in listings}
            _push_batch(channel, connector, listings, versions, result, run)
            db.session.commit()
        conn = require_connection(channel)
        conn.last_push_at = utcnow()
        if full:
            conn.last_reconcile_at = utcnow()
        run.add("stock_pushed", result.pushed)
        run.add("stock_failed", result.failed)
        run.add("stock_conflicts", result.conflicts)
    return result


def _push_batch(channel: Channel, connector, listings: list[ChannelListing],  # type: ignore[no-untyped-def]
                versions: dict[int, int], result: PushResult, run: SyncRun) -> None:
    skus = dict(db.session.execute(select(Product.id, Product.sku).where(
        Product.id.in_({ln.product_id for ln in listings}))).all())
    atp = channel_available(channel, [ln.product_id for ln in listings])
    by_key = {ln.item_key: ln for ln in listings}
    # The compare-and-set base: what we pushed last, else what the channel said it held when its listings were
    # imported (a platform that moved since answers a conflict and is re-read, never overwritten blindly).
    updates = [StockUpdate(item_key=ln.item_key, sku=skus[ln.product_id], quantity=atp[ln.product_id],
                           previous=ln.last_pushed_qty if ln.last_pushed_qty is not None else ln.channel_quantity)
               for ln in listings]
    results = connector.push_stock(updates)
    retry: list[StockUpdate] = []
    settled: list[tuple[int, int, int]] = []
    for res in results:
        listing = by_key.get(res.item_key)
        if listing is None:
            continue
        sent = atp[listing.product_id]
        if res.ok:
            settled.append((listing.id, versions[listing.id], sent))
            result.pushed += 1
        elif res.channel_quantity is not None:
            result.conflicts += 1
            listing.channel_quantity = res.channel_quantity
            retry.append(StockUpdate(item_key=listing.item_key, sku=skus[listing.product_id], quantity=sent,
                                     previous=res.channel_quantity))
        else:
            _failed(listing, res, result, run)
    if retry:  # compare-and-set conflicts: once more, from what the channel holds, with stock read again
        fresh = channel_available(channel, [by_key[u.item_key].product_id for u in retry])
        retry = [StockUpdate(u.item_key, u.sku, fresh[by_key[u.item_key].product_id], u.previous) for u in retry]
        for res in connector.push_stock(retry):
            listing = by_key[res.item_key]
            if res.ok:
                settled.append((listing.id, versions[listing.id], fresh[listing.product_id]))
                result.pushed += 1
            else:
                _failed(listing, res, result, run)
    _settle(settled)


def _failed(listing: ChannelListing, res: StockResult, result: PushResult, run: SyncRun) -> None:
    listing.push_error = (res.error or "refused")[:2000]
    if res.channel_quantity is not None:
        listing.channel_quantity = res.channel_quantity
    result.failed += 1
    text = f"{listing.item_key}: {listing.push_error}"
    result.errors.append(text)
    run.error(text)
