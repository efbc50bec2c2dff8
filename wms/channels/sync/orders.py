"""Orders in: pulled by checkpoint with an overlap window, or pushed by a verified webhook; taken in once per
channel order id, held when a listing is unmapped, cancelled when the channel cancels them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wms.catalog.models import Product
from wms.channels.connectors.base import (
    Address,
    BadPayload,
    ChannelOrder,
    ChannelOrderLine,
    Connector,
    ConnectorError,
    OrderState,
    WebhookCall,
    WebhookTopic,
)
from wms.channels.models import (
    ChannelConnection,
    ChannelDocument,
    ChannelListing,
    ChannelSyncLog,
    HeldChannelOrder,
)
from wms.channels.sync.common import Headers, SyncRun, connector_for, describe, require_connection
from wms.db import db, utcnow
from wms.errors import ValidationFailed
from wms.orders.models import OPEN_ORDER_STATUSES, Channel, Order, OrderStatus
from wms.orders.services import LineRequest, OrderNotCancellable, OrderRequest, cancel_order, create_order

MAX_PAGES_PER_RUN = 200
# Headers never stored with a document (they authenticate the sender; the signature's own header is kept).
SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


# --- the source document, as JSON (kept for audit and to retry a held order) ------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def order_to_json(order: ChannelOrder) -> dict[str, Any]:
    data = {f.name: getattr(order, f.name) for f in dataclasses.fields(order) if f.name != "raw"}
    data["lines"] = [dataclasses.asdict(ln) for ln in order.lines]
    data["ship_to"] = dataclasses.asdict(order.ship_to) if order.ship_to else None
    return _plain(data)


def order_from_json(data: Mapping[str, Any]) -> ChannelOrder:
    def when(v: str | None) -> dt.datetime | None:
        return dt.datetime.fromisoformat(v) if v else None

    return ChannelOrder(
        external_id=data["external_id"], state=OrderState(data["state"]), updated_at=when(data["updated_at"]),
        lines=tuple(ChannelOrderLine(ref=ln["ref"], item_key=ln["item_key"], sku=ln.get("sku"),
                                     quantity=int(ln["quantity"]),
                                     unit_price=Decimal(ln["unit_price"]) if ln.get("unit_price") else None,
                                     title=ln.get("title")) for ln in data["lines"]),
        ship_to=Address(**data["ship_to"]) if data.get("ship_to") else None,
        customer_email=data.get("customer_email"), customer_language=data.get("customer_language"),
        shipping_method=data.get("shipping_method"), relay_point_id=data.get("relay_point_id"),
        placed_at=when(data.get("placed_at")), total=Decimal(data["total"]) if data.get("total") else None,
        currency=data.get("currency"), platform_ref=data.get("platform_ref"))


def _document(channel_id: int, kind: str, order: ChannelOrder | None, *, body: str | None = None,
              headers: Mapping[str, str] | None = None, topic: str | None = None) -> ChannelDocument:
    if body is None and order is not None:
        body = json.dumps(_plain(dict(order.raw)) if order.raw else order_to_json(order), sort_keys=True,
                          default=str)
    doc = ChannelDocument(channel_id=channel_id, kind=kind, topic=topic, body=body or "",
                          external_id=order.external_id[:100] if order else None, headers=dict(headers or {}))
    db.session.add(doc)
    return doc


# --- taking one order in -----------------------------------------------------------------------------------------

@dataclass
class Mapped:
    requests: list[LineRequest]
    unknown: list[str]      # item keys without a product
    inactive: list[str]     # SKUs no longer sold
    bad: list[str]          # lines we cannot read (quantity <= 0)


def _listing_for(channel_id: int, line: ChannelOrderLine, cache: dict[str, ChannelListing]) -> ChannelListing:
    """The channel's listing of the line; a listing first seen in an order is created, mapped by SKU when ours."""
    if line.item_key in cache:
        return cache[line.item_key]
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.channel_id == channel_id,
                                                             ChannelListing.item_key == line.item_key))
    if listing is None:
        product = db.session.scalar(select(Product).where(Product.sku == line.sku)) if line.sku else None
        listing = ChannelListing(channel_id=channel_id, item_key=line.item_key[:200], channel_sku=line.sku,
                                 title=(line.title or "")[:300] or None,
                                 product_id=product.id if product else None, dirty=product is not None,
                                 dirty_since=utcnow() if product else None)
        db.session.add(listing)
        db.session.flush()
    cache[line.item_key] = listing
    return listing


def _map_lines(channel_id: int, order: ChannelOrder) -> Mapped:
    cache: dict[str, ChannelListing] = {}
    result = Mapped([], [], [], [])
    for line in order.lines:
        if line.quantity <= 0 or not line.item_key:
            result.bad.append(f"line {line.ref}: quantity {line.quantity}")
            continue
        listing = _listing_for(channel_id, line, cache)
        product = db.session.get(Product, listing.product_id) if listing.product_id else None
        if product is None:
            result.unknown.append(f"{line.item_key} ({line.sku or 'no SKU'})")
        elif not product.active:
            result.inactive.append(product.sku)
        else:
            result.requests.append(LineRequest(product.sku, line.quantity, channel_line_ref=line.ref[:100],
                                               unit_price=_price(line.unit_price)))
    return result


def _price(value: Decimal | None) -> Decimal | None:
    """A line's unit price as we keep it; one a platform sends negative or absurd is left out, never guessed at
    (the order is still taken in: prices inform customs and insurance, they do not decide the shipment)."""
    if value is None or not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        return None
    return value


def _currency(value: str | None) -> str | None:
    """An ISO 4217 code (three letters), upper-cased; anything else is left out."""
    code = (value or "").strip().upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() else None


def _ship_to(order: ChannelOrder) -> dict[str, Any]:
    if order.ship_to is None:
        return {}
    return {k: v for k, v in dataclasses.asdict(order.ship_to).items() if v not in (None, "")}


def _hold(channel_id: int, order: ChannelOrder, reason: str, detail: str, document: ChannelDocument | None) -> None:
    held = db.session.scalar(select(HeldChannelOrder).where(HeldChannelOrder.channel_id == channel_id,
                                                            HeldChannelOrder.external_id == order.external_id))
    if held is None:
        held = HeldChannelOrder(channel_id=channel_id, external_id=order.external_id[:100], attempts=0)
        db.session.add(held)
    held.reason, held.detail, held.payload = reason, detail[:2000], order_to_json(order)
    held.attempts += 1
    held.resolved_at, held.order_id = None, None
    if document is not None:
        held.document_id = document.id


def _resolve_held(channel_id: int, external_id: str, order: Order | None) -> None:
    held = db.session.scalar(select(HeldChannelOrder).where(HeldChannelOrder.channel_id == channel_id,
                                                            HeldChannelOrder.external_id == external_id,
                                                            HeldChannelOrder.resolved_at.is_(None)))
    if held is not None:
        held.resolved_at, held.order_id = utcnow(), order.id if order else None


def _update_known(order: Order, incoming: ChannelOrder) -> str:
    """A newer version of an order we have: cancel it, or keep its new details while it has not left."""
    if incoming.state == OrderState.CANCELLED:
        if order.status == OrderStatus.CANCELLED:
            return "unchanged"
        try:
            cancel_order(order)
        except OrderNotCancellable as err:
            order.channel_updated_at = incoming.updated_at
            return f"cancel-refused: {err}"
        order.channel_updated_at = incoming.updated_at
        return "cancelled"
    if order.status in OPEN_ORDER_STATUSES or order.status == OrderStatus.PICKING:
        order.ship_to = _ship_to(incoming) or order.ship_to
        order.customer_email = incoming.customer_email or order.customer_email
        order.customer_language = incoming.customer_language or order.customer_language
        order.shipping_method = incoming.shipping_method or order.shipping_method
        order.relay_point_id = incoming.relay_point_id or order.relay_point_id
    order.channel_updated_at = incoming.updated_at
    return "updated"


def take_in(channel: Channel, conn: ChannelConnection, connector: Connector, incoming: ChannelOrder,
            document: ChannelDocument | None = None) -> str:
    """Take one channel order in, once per channel order id; returns what happened (the document's outcome).

    created / updated / unchanged / cancelled / cancel-refused: ... / held / refused / ignored. A known order is
    updated or cancelled, never created again; an order naming an unmapped listing is held, not lost.
    """
    existing = db.session.scalar(select(Order).where(Order.channel_id == channel.id,
                                                     Order.external_id == incoming.external_id))
    if existing is not None:
        if existing.channel_updated_at is not None and incoming.updated_at <= existing.channel_updated_at:
            return "unchanged"
        return _update_known(existing, incoming)
    if incoming.state == OrderState.CANCELLED:
        _resolve_held(channel.id, incoming.external_id, None)
        return "ignored"
    if incoming.state in (OrderState.CLOSED, OrderState.PENDING_PAYMENT):
        return "ignored"
    mapped = _map_lines(channel.id, incoming)
    problems = ([f"unknown listing {u}" for u in mapped.unknown] + [f"SKU {s} is no longer sold" for s in
                mapped.inactive] + mapped.bad)
    if not incoming.lines:
        problems.append("the order has no lines")
    if problems:
        if incoming.state == OrderState.AWAITING_ACCEPTANCE and conn.refuse_unknown_skus and mapped.unknown:
            connector.accept_orders([(incoming, False)])
            return "refused"
        reason = "unknown-sku" if mapped.unknown else "inactive-sku" if mapped.inactive else "bad-data"
        _hold(channel.id, incoming, reason, "; ".join(problems), document)
        return "held"
    if incoming.state == OrderState.AWAITING_ACCEPTANCE:
        connector.accept_orders([(incoming, True)])
    request = OrderRequest(
        external_id=incoming.external_id, lines=mapped.requests, ship_to=_ship_to(incoming),
        customer_email=incoming.customer_email or (incoming.ship_to.email if incoming.ship_to else None),
        customer_language=incoming.customer_language, shipping_method=incoming.shipping_method,
        relay_point_id=incoming.relay_point_id, placed_at=incoming.placed_at,
        channel_updated_at=incoming.updated_at, platform_ref=incoming.platform_ref,
        source_document_id=document.id if document is not None else None, currency=_currency(incoming.currency))
    try:
        result = create_order(channel, request, known="return")
    except ValidationFailed as err:
        _hold(channel.id, incoming, "bad-data", str(err), document)
        return "held"
    _resolve_held(channel.id, incoming.external_id, result.order)
    return "created" if result.created else "unchanged"


def take_in_logged(channel: Channel, conn: ChannelConnection, connector: Connector, incoming: ChannelOrder,
                   run: SyncRun, *, kind: str, document: ChannelDocument | None = None) -> str:
    """take_in in a savepoint, its source document stored when it is new or changed, the outcome counted."""
    if document is None:
        known = db.session.scalar(select(Order.channel_updated_at).where(
            Order.channel_id == channel.id, Order.external_id == incoming.external_id))
        if known is None or incoming.updated_at > known:
            document = _document(channel.id, kind, incoming)
            db.session.flush()
    try:
        with db.session.begin_nested():
            outcome = take_in(channel, conn, connector, incoming, document)
    except ConnectorError:
        raise
    except IntegrityError as err:  # a racing intake of the same order committed first: the next pass sees it
        outcome = f"error: {describe(err)}"
    key = outcome.split(":")[0]
    run.add(f"orders_{key.replace('-', '_')}")
    if key in ("cancel-refused", "error"):
        run.note(f"order {incoming.external_id}: {outcome}")
    if key == "held":
        run.note(f"order {incoming.external_id} held (unmapped or unreadable lines)")
    if document is not None:
        document.outcome, document.processed_at = key, utcnow()
        document.detail = outcome if ":" in outcome else None
    return outcome


# --- pulling by checkpoint ---------------------------------------------------------------------------------------

@dataclass
class PullResult:
    seen: int = 0
    pages: int = 0
    complete: bool = False
    counts: dict[str, int] = dataclasses.field(default_factory=dict)


def _overlap(connector: Connector, conn: ChannelConnection) -> dt.timedelta:
    return dt.timedelta(seconds=int((conn.options or {}).get("overlap_s", connector.overlap_s)))


def pull_orders(channel: Channel, *, max_pages: int = MAX_PAGES_PER_RUN) -> PullResult:
    """One pull pass (or its next pages): orders updated since checkpoint - overlap, page by page.

    Each page is committed with the cursor reached; the checkpoint moves to the newest updated_at seen only
    when the pass is complete, so an order updated while we read is read again by the next pass.
    """
    conn = require_connection(channel)
    connector = connector_for(conn)
    result = PullResult()
    with SyncRun(channel.id, "pull") as run:
        if conn.order_cursor is None:
            conn.pass_since = (conn.order_checkpoint - _overlap(connector, conn)
                               if conn.order_checkpoint is not None else None)
            conn.pass_max_updated_at = None
        while result.pages < max_pages:
            db.session.commit()   # no row lock held across the platform's call
            page = connector.pull_orders(conn.pass_since, conn.order_cursor)
            result.pages += 1
            for incoming in page.orders:
                result.seen += 1
                take_in_logged(channel, conn, connector, incoming, run, kind="order")
                if conn.pass_max_updated_at is None or incoming.updated_at > conn.pass_max_updated_at:
                    conn.pass_max_updated_at = incoming.updated_at
                # One order, one transaction: its stock locks (quants, then the listings' dirty marks) are
                # released before the next order's. A page in one transaction held the quants and listings of
                # every product it sold while locking the next one's, and deadlocked with other channels'
                # intakes and the till taking the same products in another order. Re-reading a page after a
                # failure is harmless: intake is idempotent.
                db.session.commit()
            conn.order_cursor = page.cursor
            db.session.commit()
            if page.cursor is None:
                result.complete = True
                break
        if result.complete:
            newest = conn.pass_max_updated_at
            if newest is not None and (conn.order_checkpoint is None or newest > conn.order_checkpoint):
                conn.order_checkpoint = newest
            conn.pass_since, conn.pass_max_updated_at = None, None
        conn.last_pull_at = utcnow()
        run.add("orders_seen", result.seen)
        run.add("pages", result.pages)
        result.counts = dict(run.counts)
    return result


# --- webhooks: received in the request, processed in a job ---------------------------------------------------------

@dataclass
class Received:
    status: int                 # what to answer the platform
    document_id: int | None
    detail: str
    process: bool = False       # a job must process the document


def _stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v[:1000] for k, v in headers.items() if k.lower() not in SECRET_HEADERS}


def _log_webhook(channel_id: int, ok: bool, detail: str, error: str | None = None) -> None:
    now = utcnow()
    db.session.add(ChannelSyncLog(channel_id=channel_id, direction="webhook", started_at=now, finished_at=now,
                                  ok=ok, detail=detail[:4000], error=error, counts={}, retries=0))


def receive_webhook(channel: Channel, headers: Mapping[str, str], body: bytes) -> Received:
    """Verify the raw body, store the document once per delivery id; the caller commits and answers.

    A bad signature stores the refused document and a sync log line, nothing else. A replayed delivery id
    is recognised and answered as received, without a second document.
    """
    conn = require_connection(channel)
    connector = connector_for(conn)
    headers = Headers(headers)
    text = body.decode("utf-8", errors="replace")
    stored = _stored_headers(headers)
    if not connector.verify_webhook(headers, body):
        db.session.add(ChannelDocument(channel_id=channel.id, kind="webhook", body=text[:200_000], headers=stored,
                                       signature_ok=False, outcome="refused", processed_at=utcnow(),
                                       detail="bad signature"))
        _log_webhook(channel.id, False, "webhook refused", "bad signature: nothing was read or written")
        return Received(401, None, "The signature does not match the body.")
    try:
        call = connector.read_webhook(headers, body)
    except BadPayload as err:
        db.session.add(ChannelDocument(channel_id=channel.id, kind="webhook", body=text[:200_000], headers=stored,
                                       signature_ok=True, outcome="error", processed_at=utcnow(),
                                       detail=str(err)[:2000]))
        _log_webhook(channel.id, False, "webhook unreadable", describe(err))
        return Received(400, None, f"The payload cannot be read: {err}")
    delivery = call.delivery_id[:200] if call.delivery_id else None
    if delivery and db.session.scalar(select(ChannelDocument.id).where(
            ChannelDocument.channel_id == channel.id, ChannelDocument.delivery_id == delivery)) is not None:
        _log_webhook(channel.id, True, f"replayed delivery {delivery} recognised: nothing done")
        return Received(200, None, "Already received.")
    doc = ChannelDocument(channel_id=channel.id, kind="webhook", topic=call.topic.value, body=text,
                          headers=stored, delivery_id=delivery, signature_ok=True,
                          external_id=call.external_id[:100] if call.external_id else None)
    try:
        with db.session.begin_nested():
            db.session.add(doc)
            db.session.flush()
    except IntegrityError:  # the same delivery, received twice at once
        _log_webhook(channel.id, True, f"replayed delivery {delivery} recognised: nothing done")
        return Received(200, None, "Already received.")
    if call.topic in (WebhookTopic.PING, WebhookTopic.OTHER):
        doc.outcome, doc.processed_at = "ignored", utcnow()
        return Received(200, doc.id, f"{call.topic.value}: nothing to do")
    return Received(200, doc.id, "Received.", process=True)


def process_webhook(document_id: int) -> str:
    """Act on a stored, verified webhook: take the order in (read fresh when the call carried only its id)."""
    doc = db.session.get(ChannelDocument, document_id)
    if doc is None or doc.processed_at is not None:
        return "done"
    channel = db.session.get(Channel, doc.channel_id)
    conn = require_connection(channel)
    connector = connector_for(conn)
    with SyncRun(channel.id, "webhook", detail=f"document {doc.id} ({doc.topic})") as run:
        doc = db.session.get(ChannelDocument, document_id)
        try:
            call: WebhookCall = connector.read_webhook(Headers(doc.headers), doc.body.encode("utf-8"))
        except BadPayload as err:
            doc.outcome, doc.processed_at, doc.detail = "error", utcnow(), str(err)[:2000]
            run.error(describe(err))
            return "error"
        known = call.external_id is not None and db.session.scalar(select(Order.id).where(
            Order.channel_id == channel.id, Order.external_id == call.external_id)) is not None
        if call.topic == WebhookTopic.REFUND and not known:
            doc.outcome, doc.processed_at = "ignored", utcnow()
            doc.detail = f"a refund for order {call.external_id!r}, which we do not have: nothing written"
            run.note(doc.detail)
            run.add("refunds_unknown")
            return "ignored"
        order = call.order
        if order is None or call.topic == WebhookTopic.REFUND:
            order = connector.fetch_order(call.external_id) if call.external_id else None
        if order is None:
            doc.outcome, doc.processed_at = "ignored", utcnow()
            doc.detail = f"order {call.external_id!r} not found on the channel"
            run.note(doc.detail)
            return "ignored"
        outcome = take_in_logged(channel, conn, connector, order, run, kind="webhook", document=doc)
        return outcome
