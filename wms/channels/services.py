"""Connecting a channel to its platform, its SKU mapping, held orders, and syncing it now or soon: the functions
the CLI, the pages and the jobs share (docs/channels.md).

`connect_channel`, `set_mapping`, `request_resync` only add and flush (the caller commits); `test_connection`,
`import_listings`, `retry_held_orders` and `sync_now` run sync passes that commit as they go (wms.channels.sync).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from wms.catalog.models import Product
from wms.channels.availability import channel_available
from wms.channels.connectors import connector_class
from wms.channels.connectors.base import ConnectorError
from wms.channels.models import (
    PLATFORM_KINDS,
    ChannelConnection,
    ChannelFulfilment,
    ChannelListing,
    ChannelSyncLog,
    ChannelWarehouse,
    HeldChannelOrder,
)
from wms.channels.sync import common, fulfilments, orders, stock
from wms.channels.sync.common import (
    ChannelNotConnected,
    SyncRun,
    connection_of,
    connector_for,
    require_connection,
)
from wms.db import db, utcnow
from wms.errors import NotFound, ValidationFailed
from wms.orders.models import Channel

__all__ = ["ADD_KINDS", "AddedChannel", "ChannelNotConnected", "add_channel", "ImportReport", "SyncReport", "SyncStatus", "channel_available", "connect_channel",
           "connection_of", "connector_for", "held_orders", "import_listings", "listings", "request_resync", "require_connection",
           "retry_held_orders", "set_mapping", "sync_log", "sync_now", "sync_status", "test_connection",
           "unmapped_listings"]


def _invalid(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"field": field_name, "message": message}])


def connect_channel(channel: Channel, kind: str, base_url: str, credentials: Mapping[str, str],
                    options: Mapping[str, Any] | None = None, *, buffer_units: int = 0, buffer_percent: int = 0,
                    cap_percent: int | None = None, warehouses: Sequence[Any] | None = None,
                    webhook_secret: str | None = None) -> ChannelConnection:
    """Connect (or re-connect) the channel to its platform; credentials are stored encrypted.

    `warehouses` (Warehouse rows) are those it sells from, default its own. Settings are checked here, not
    by the platform: an unknown kind, a missing credential, a buffer out of range are refused (422).
    """
    if kind not in PLATFORM_KINDS:
        raise _invalid("kind", f"unknown platform {kind!r}; one of {', '.join(PLATFORM_KINDS)}")
    cls = connector_class(kind)
    missing = [name for name in cls.credential_fields if not (credentials or {}).get(name)]
    if missing:
        raise _invalid("credentials", f"{kind} needs {', '.join(missing)}")
    if not base_url or not base_url.startswith(("http://", "https://")):
        raise _invalid("base_url", "the platform URL must start with http:// or https://")
    if buffer_units < 0:
        raise _invalid("buffer_units", "a buffer cannot be negative")
    if not 0 <= buffer_percent <= 100:
        raise _invalid("buffer_percent", "between 0 and 100")
    if cap_percent is not None and not 0 <= cap_percent <= 100:
        raise _invalid("cap_percent", "between 0 and 100")
    conn = connection_of(channel)
    if conn is None:
        conn = ChannelConnection(channel_id=channel.id, consecutive_failures=0)
        db.session.add(conn)
    if conn.kind and conn.kind != kind:  # another platform: what we knew of the old one no longer applies
        conn.order_checkpoint = conn.order_cursor = conn.pass_since = conn.pass_max_updated_at = None
    conn.kind, conn.base_url = kind, base_url.rstrip("/")
    conn.credentials = {k: str(v) for k, v in (credentials or {}).items() if v not in (None, "")}
    conn.options = dict(options or {})
    conn.buffer_units, conn.buffer_percent, conn.cap_percent = buffer_units, buffer_percent, cap_percent
    if webhook_secret is not None:
        conn.webhook_secret = webhook_secret or None
    if warehouses is not None:
        wanted = {w.id for w in warehouses}
        rows = list(db.session.scalars(select(ChannelWarehouse).where(ChannelWarehouse.channel_id == channel.id)))
        for row in rows:
            if row.warehouse_id not in wanted:
                db.session.delete(row)
        for wid in sorted(wanted - {r.warehouse_id for r in rows}):
            db.session.add(ChannelWarehouse(channel_id=channel.id, warehouse_id=wid))
    db.session.flush()
    return conn


ADD_KINDS = (*PLATFORM_KINDS, "api", "pos")
_MARKETPLACES = ("mirakl", "amazon")


@dataclass
class AddedChannel:
    channel: Channel
    token: str                      # the channel's API token, in clear text only here
    connection: ChannelConnection | None


def add_channel(code: str, name: str | None, kind: str, warehouse: Any, *, base_url: str | None = None,
                credentials: Mapping[str, str] | None = None, options: Mapping[str, Any] | None = None,
                buffer_units: int = 0, buffer_percent: int = 0, cap_percent: int | None = None,
                warehouses: Sequence[Any] | None = None, webhook_secret: str | None = None,
                created_by: Any = None) -> AddedChannel:
    """A new channel with its API token; for a platform kind also its connection (`connect_channel`).

    `kind` is one of ADD_KINDS: a platform, `api` (a shop that calls /api/v1 itself) or `pos` (a till using
    POST /warehouses/{code}/sales and the stock change feed). Flushes only: the caller commits. A code already
    taken is a Conflict (409); bad settings are refused (422) before anything is written.
    """
    from wms.auth.tokens import issue_token
    from wms.enums import TokenPurpose
    from wms.errors import Conflict
    from wms.orders.models import ChannelKind

    code = (code or "").strip()
    if not code or len(code) > 32:
        raise _invalid("code", "a channel code of 1 to 32 characters")
    if kind not in ADD_KINDS:
        raise _invalid("kind", f"unknown kind {kind!r}; one of {', '.join(ADD_KINDS)}")
    if db.session.scalar(select(Channel.id).where(Channel.code == code)) is not None:
        raise Conflict(f"A channel with code {code!r} already exists.")
    if kind in PLATFORM_KINDS:  # check everything before the first row is written
        cls = connector_class(kind)
        missing = [n for n in cls.credential_fields if not (credentials or {}).get(n)]
        if missing:
            raise _invalid("credentials", f"{kind} needs {', '.join(missing)}")
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise _invalid("base_url", "the platform URL must start with http:// or https://")
    channel_kind = (ChannelKind.POS if kind == "pos" else
                    ChannelKind.MARKETPLACE if kind in _MARKETPLACES else ChannelKind.WEB_SHOP)
    channel = Channel(code=code, name=(name or code).strip()[:120] or code, kind=channel_kind,
                      warehouse_id=warehouse.id)
    db.session.add(channel)
    db.session.flush()
    token, raw = issue_token(name=f"channel {code}", purpose=TokenPurpose.CHANNEL, warehouse_id=warehouse.id,
                             created_by=created_by)
    token.channel_id = channel.id
    connection = None
    if kind in PLATFORM_KINDS:
        connection = connect_channel(channel, kind, base_url or "", credentials or {}, options,
                                     buffer_units=buffer_units, buffer_percent=buffer_percent,
                                     cap_percent=cap_percent, warehouses=warehouses, webhook_secret=webhook_secret)
    db.session.flush()
    return AddedChannel(channel=channel, token=raw, connection=connection)


def test_connection(channel: Channel) -> str:
    """One cheap authenticated call to the platform; what it says it is (logged; ConnectorError when refused)."""
    conn = require_connection(channel)
    with SyncRun(channel.id, "connect") as run:
        answer = connector_for(conn).test_connection()
        run.note(f"connected: {answer}")
    return answer


@dataclass
class ImportReport:
    seen: int = 0
    created: int = 0
    updated: int = 0
    mapped: int = 0
    unmapped: int = 0

    def lines(self) -> list[str]:
        return [f"listings seen: {self.seen} (new {self.created}, updated {self.updated})",
                f"mapped to our SKUs: {self.mapped}, unmapped: {self.unmapped}"]


def import_listings(channel: Channel) -> ImportReport:
    """Read every listing of the channel; new ones are mapped by SKU, a mapping already set is kept."""
    conn = require_connection(channel)
    report = ImportReport()
    with SyncRun(channel.id, "import") as run:
        existing = {ln.item_key: ln for ln in db.session.scalars(
            select(ChannelListing).where(ChannelListing.channel_id == channel.id))}
        products = dict(db.session.execute(select(Product.sku, Product.id)).all())
        for item in connector_for(conn).list_items():
            report.seen += 1
            listing = existing.get(item.item_key)
            if listing is None:
                listing = ChannelListing(channel_id=channel.id, item_key=item.item_key[:200], dirty_version=0)
                db.session.add(listing)
                existing[item.item_key] = listing
                report.created += 1
            else:
                report.updated += 1
            listing.channel_sku = item.sku[:100] if item.sku else None
            listing.title = (item.title or "")[:300] or None
            listing.channel_quantity = item.quantity
            if listing.product_id is None and item.sku and item.sku in products:
                listing.product_id = products[item.sku]
                listing.dirty, listing.dirty_since = True, utcnow()
            if report.seen % 1000 == 0:
                db.session.flush()
        db.session.flush()
        report.mapped = sum(1 for ln in existing.values() if ln.product_id is not None)
        report.unmapped = len(existing) - report.mapped
        run.add("listings_seen", report.seen)
        run.add("listings_mapped", report.mapped)
        run.add("listings_unmapped", report.unmapped)
    if report.mapped:
        stock.schedule_push(channel.id, delay_s=None)
        db.session.commit()
    return report


def set_mapping(channel: Channel, item_key: str, sku: str | None) -> ChannelListing:
    """Map a listing of the channel to our SKU (None: unmapped); its stock is pushed after commit."""
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.channel_id == channel.id,
                                                             ChannelListing.item_key == item_key))
    if listing is None:
        raise NotFound(f"Channel {channel.code} has no listing {item_key!r} (import the listings first).")
    if sku is None:
        listing.product_id, listing.dirty, listing.dirty_since = None, False, None
    else:
        product = db.session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            raise _invalid("sku", f"unknown SKU {sku!r}")
        listing.product_id = product.id
        listing.dirty, listing.dirty_since = True, utcnow()
        listing.dirty_version += 1
        stock.schedule_push(channel.id)
    db.session.flush()
    return listing


def retry_held_orders(channel: Channel) -> int:
    """Try the channel's held orders again (after a mapping was fixed); returns how many were taken in."""
    conn = require_connection(channel)
    connector = connector_for(conn)
    taken = 0
    held = list(db.session.scalars(select(HeldChannelOrder).where(HeldChannelOrder.channel_id == channel.id,
                                                                  HeldChannelOrder.resolved_at.is_(None))
                                   .order_by(HeldChannelOrder.id)))
    if not held:
        return 0
    with SyncRun(channel.id, "pull", detail="held orders retried") as run:
        for row in held:
            incoming = orders.order_from_json(row.payload)
            document = db.session.get(orders.ChannelDocument, row.document_id) if row.document_id else None
            outcome = orders.take_in_logged(channel, conn, connector, incoming, run, kind="order",
                                            document=document)
            if outcome == "created":
                taken += 1
            db.session.commit()
        run.add("held_taken_in", taken)
    return taken


@dataclass
class SyncReport:
    orders_seen: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    orders_cancelled: int = 0
    orders_held: int = 0
    held_taken_in: int = 0
    stock_pushed: int = 0
    stock_failed: int = 0
    fulfilments_sent: int = 0
    fulfilments_failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        out = [f"orders: {self.orders_seen} read, {self.orders_created} new, {self.orders_updated} updated, "
               f"{self.orders_cancelled} cancelled, {self.orders_held} held, {self.held_taken_in} held taken in",
               f"stock: {self.stock_pushed} listings pushed, {self.stock_failed} failed",
               f"fulfilments: {self.fulfilments_sent} written back, {self.fulfilments_failed} failed"]
        return out + [f"error: {e}" for e in self.errors]


def sync_now(channel: Channel, *, orders: bool = True, stock: bool = True,  # noqa: PLR0912
             fulfilments: bool = True) -> SyncReport:
    """Run one pass of each asked part now, here; what it did (a failing part is reported, the others run)."""
    conn = require_connection(channel)
    report = SyncReport()
    if orders and conn.orders_enabled:
        try:
            pulled = _orders_pass(channel)
            report.orders_seen = pulled.seen
            report.orders_created = pulled.counts.get("orders_created", 0)
            report.orders_updated = pulled.counts.get("orders_updated", 0)
            report.orders_cancelled = pulled.counts.get("orders_cancelled", 0)
            report.orders_held = pulled.counts.get("orders_held", 0)
            report.held_taken_in = retry_held_orders(channel)
        except ConnectorError as err:
            report.errors.append(f"orders: {common.describe(err)}")
    if stock and require_connection(channel).stock_enabled:
        try:
            pushed = _stock_pass(channel)
            report.stock_pushed, report.stock_failed = pushed.pushed, pushed.failed
            report.errors += [f"stock: {e}" for e in pushed.errors[:20]]
        except ConnectorError as err:
            report.errors.append(f"stock: {common.describe(err)}")
    if fulfilments and require_connection(channel).fulfilments_enabled:
        report.fulfilments_sent, report.fulfilments_failed = _fulfilment_pass(channel)
        if report.fulfilments_failed:
            report.errors.append(f"fulfilments: {report.fulfilments_failed} could not be written back "
                                 "(see the sync log)")
    return report


def _orders_pass(channel: Channel) -> orders.PullResult:
    result = orders.pull_orders(channel)
    while not result.complete and result.pages:
        more = orders.pull_orders(channel)
        result.seen += more.seen
        result.pages += more.pages
        result.complete = more.complete
        for k, v in more.counts.items():
            result.counts[k] = result.counts.get(k, 0) + v
        if not more.pages:
            break
    return result


def _stock_pass(channel: Channel) -> stock.PushResult:
    return stock.push_stock(channel)


def _fulfilment_pass(channel: Channel) -> tuple[int, int]:
    return fulfilments.push_due_fulfilments(channel, everything=True)


def request_resync(channel: Channel, *, orders: bool = True, stock: bool = True,
                   fulfilments: bool = True) -> None:
    """Defer a pull, a full stock reconciliation and every unsent fulfilment of the channel (after commit)."""
    from wms.jobs import defer_after_commit

    require_connection(channel)
    if orders:
        defer_after_commit("channels.pull", queueing_lock=f"channels.pull:{channel.id}", channel_id=channel.id)
    if stock:
        defer_after_commit("channels.reconcile", queueing_lock=f"channels.reconcile:{channel.id}",
                           channel_id=channel.id)
    if fulfilments:
        _reschedule_fulfilments(channel)


def _reschedule_fulfilments(channel: Channel) -> None:
    for row in db.session.scalars(select(ChannelFulfilment).where(ChannelFulfilment.channel_id == channel.id,
                                                                  ChannelFulfilment.state != "sent")):
        row.next_attempt_at = utcnow()
        fulfilments.schedule(row.id)


@dataclass
class SyncStatus:
    connected: bool
    kind: str | None = None
    last_pull_at: dt.datetime | None = None
    last_push_at: dt.datetime | None = None
    last_fulfilment_at: dt.datetime | None = None
    last_reconcile_at: dt.datetime | None = None
    order_checkpoint: dt.datetime | None = None
    lag_seconds: float | None = None          # how old the oldest unpushed stock change is (0: none waiting)
    consecutive_failures: int = 0
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    retries: int = 0                          # failed runs in the last 24 hours
    pending_fulfilments: int = 0
    failed_fulfilments: int = 0
    unmapped_listings: int = 0
    dirty_listings: int = 0
    held_orders: int = 0
    recent_logs: list[ChannelSyncLog] = field(default_factory=list)


def sync_status(channel: Channel) -> SyncStatus:
    """Where the channel's sync stands: last runs, the push lag, errors and retries, what waits."""
    conn = connection_of(channel)
    if conn is None:
        return SyncStatus(connected=False)

    def count(q: Any) -> int:
        return int(db.session.scalar(q) or 0)

    fulfil = select(func.count()).select_from(ChannelFulfilment).where(ChannelFulfilment.channel_id == channel.id)
    listing = select(func.count()).select_from(ChannelListing).where(ChannelListing.channel_id == channel.id)
    oldest = db.session.scalar(select(func.min(ChannelListing.dirty_since)).where(
        ChannelListing.channel_id == channel.id, ChannelListing.dirty.is_(True),
        ChannelListing.product_id.is_not(None)))
    since = utcnow() - dt.timedelta(hours=24)
    return SyncStatus(
        connected=True, kind=conn.kind, last_pull_at=conn.last_pull_at, last_push_at=conn.last_push_at,
        last_fulfilment_at=conn.last_fulfilment_at, last_reconcile_at=conn.last_reconcile_at,
        order_checkpoint=conn.order_checkpoint,
        lag_seconds=(utcnow() - oldest).total_seconds() if oldest else 0.0,
        consecutive_failures=conn.consecutive_failures, last_error=conn.last_error, last_error_at=conn.last_error_at,
        retries=count(select(func.count()).select_from(ChannelSyncLog).where(
            ChannelSyncLog.channel_id == channel.id, ChannelSyncLog.ok.is_(False), ChannelSyncLog.started_at >= since)),
        pending_fulfilments=count(fulfil.where(ChannelFulfilment.state == "pending")),
        failed_fulfilments=count(fulfil.where(ChannelFulfilment.state == "failed")),
        unmapped_listings=count(listing.where(ChannelListing.product_id.is_(None))),
        dirty_listings=count(listing.where(ChannelListing.dirty.is_(True), ChannelListing.product_id.is_not(None))),
        held_orders=count(select(func.count()).select_from(HeldChannelOrder).where(
            HeldChannelOrder.channel_id == channel.id, HeldChannelOrder.resolved_at.is_(None))),
        recent_logs=sync_log(channel, limit=20))


def listings(channel: Channel) -> list[ChannelListing]:
    """Every listing of the channel, unmapped first."""
    return list(db.session.scalars(select(ChannelListing).where(ChannelListing.channel_id == channel.id)
                                   .order_by(ChannelListing.product_id.is_not(None), ChannelListing.item_key)))


def unmapped_listings(channel: Channel) -> list[ChannelListing]:
    """The channel's listings that no SKU of ours is mapped to."""
    return list(db.session.scalars(select(ChannelListing).where(ChannelListing.channel_id == channel.id,
                                                                ChannelListing.product_id.is_(None))
                                   .order_by(ChannelListing.item_key)))


def held_orders(channel: Channel) -> list[HeldChannelOrder]:
    """The channel's orders waiting for a mapping (or a fix), oldest first."""
    return list(db.session.scalars(select(HeldChannelOrder).where(HeldChannelOrder.channel_id == channel.id,
                                                                  HeldChannelOrder.resolved_at.is_(None))
                                   .order_by(HeldChannelOrder.held_at)))


def sync_log(channel: Channel, limit: int = 50) -> list[ChannelSyncLog]:
    """The channel's sync runs, newest first."""
    return list(db.session.scalars(select(ChannelSyncLog).where(ChannelSyncLog.channel_id == channel.id)
                                   .order_by(ChannelSyncLog.id.desc()).limit(limit)))
