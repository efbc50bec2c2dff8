"""Fulfilment out: a shipped shipment of a connected channel's order becomes a ChannelFulfilment row in the
same transaction; a job writes it back (carrier, tracking numbers and URL, the lines it holds), retried with
backoff when the platform fails, and left `failed` with its error for people to see when it refuses.

Delivered out: the same row carries the second write-back, with no new column. A row whose shipped write-back
went through has `sent_at`; when the carrier delivers the shipment (`dock.mark_delivered`) and the platform can be
told (`Connector.pushes_delivered`: WooCommerce, Shopify, PrestaShop), the row goes back to `pending` with its
attempts reset, and the same job, backoff, dispatcher sweep and "failed" count carry the delivered write-back.
So: `sent_at` set and state not `sent` = delivered still to tell; a row delivered before its shipped write-back
went through tells both in one run. A platform without the call (Mirakl, Amazon) gets no job at all.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from wms.channels.connectors import connector_class
from wms.channels.connectors.base import ConnectorError, Delivery, Fulfilment, FulfilmentLine
from wms.channels.models import ChannelFulfilment
from wms.channels.sync.common import SyncRun, connection_of, connector_for, describe
from wms.db import db, utcnow
from wms.orders.models import Channel, Order, OrderLine
from wms.outbound import carriers_registry as carriers
from wms.outbound.models import Parcel, ParcelLine, Shipment, ShipmentStatus

TASK = "channels.push_fulfilment"
SHIPPED = (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)
MAX_ATTEMPTS = 12          # transient failures retried up to here (then it waits for "resync now")


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt: 30 s, 1, 2, 4 ... minutes, at most 6 hours."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def schedule(fulfilment_id: int, *, delay_s: float | None = None) -> None:
    from wms.jobs import defer_after_commit

    defer_after_commit(TASK, queueing_lock=f"{TASK}:{fulfilment_id}", schedule_in_s=delay_s,
                       fulfilment_id=fulfilment_id)


def record_shipped(order: Order) -> list[ChannelFulfilment]:
    """The order's shipped shipments not yet queued for write-back to its channel (called when it ships)."""
    conn = connection_of(order.channel_id)
    if conn is None or not conn.fulfilments_enabled:
        return []
    known = set(db.session.scalars(select(ChannelFulfilment.shipment_id)
                                   .where(ChannelFulfilment.order_id == order.id)))
    shipments = db.session.scalars(select(Shipment).where(Shipment.order_id == order.id,
                                                          Shipment.status.in_(SHIPPED)).order_by(Shipment.id))
    made = []
    for shipment in shipments:
        if shipment.id in known:
            continue
        row = ChannelFulfilment(channel_id=order.channel_id, shipment_id=shipment.id, order_id=order.id,
                                state="pending", attempts=0, next_attempt_at=utcnow())
        db.session.add(row)
        made.append(row)
    if made:
        db.session.flush()
        for row in made:
            schedule(row.id)
    return made


def _carrier_name(code: str) -> str:
    try:
        return carriers.carrier_for(code).name
    except Exception:  # a carrier no longer configured still has its code to show  # noqa: BLE001
        return code


def build_fulfilment(row: ChannelFulfilment) -> Fulfilment:
    """What the channel is told about one shipment: carrier, tracking, the lines it holds, complete or not."""
    shipment = db.session.get(Shipment, row.shipment_id)
    order = db.session.get(Order, row.order_id)
    lines = {ln.id: ln for ln in db.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))}
    in_this: dict[int, int] = defaultdict(int)
    for line_id, qty in db.session.execute(
            select(ParcelLine.order_line_id, ParcelLine.quantity).join(Parcel, Parcel.id == ParcelLine.parcel_id)
            .where(Parcel.shipment_id == shipment.id)):
        in_this[line_id] += qty
    shipped_all: dict[int, int] = defaultdict(int)
    for line_id, qty in db.session.execute(
            select(ParcelLine.order_line_id, ParcelLine.quantity).join(Parcel, Parcel.id == ParcelLine.parcel_id)
            .join(Shipment, Shipment.id == Parcel.shipment_id)
            .where(Shipment.order_id == order.id, Shipment.status.in_(SHIPPED))):
        shipped_all[line_id] += qty
    if not in_this:  # a shipment packed without parcel lines holds what was picked
        in_this = {ln.id: ln.picked or ln.quantity for ln in lines.values()}
        shipped_all = dict(in_this)
    numbers = tuple(p.tracking_number for p in shipment.parcels if p.tracking_number) or (
        (shipment.tracking_number,) if shipment.tracking_number else ())
    complete = all(shipped_all.get(ln.id, 0) >= ln.quantity for ln in lines.values())
    return Fulfilment(
        external_id=order.external_id, carrier_code=shipment.carrier_code,
        carrier_name=_carrier_name(shipment.carrier_code), tracking_numbers=numbers,
        tracking_url=carriers.tracking_url(shipment.carrier_code, shipment.tracking_number),
        lines=tuple(FulfilmentLine(ref=lines[lid].channel_line_ref or str(lines[lid].line_no), quantity=q)
                    for lid, q in sorted(in_this.items()) if lid in lines and q > 0),
        shipped_at=shipment.shipped_at or utcnow(), complete=complete, platform_ref=order.platform_ref)


def _tells_delivered(kind: str) -> bool:
    try:
        return bool(connector_class(kind).pushes_delivered)
    except (KeyError, ImportError):
        return False


def record_delivered(shipment: Shipment) -> ChannelFulfilment | None:
    """The carrier delivered `shipment`: queue its delivered write-back when its channel's platform takes one
    (called by dock.mark_delivered, in its transaction). A shipment never written back as shipped has no row."""
    row = db.session.scalar(select(ChannelFulfilment).where(ChannelFulfilment.shipment_id == shipment.id))
    conn = connection_of(row.channel_id) if row is not None else None
    if row is None or conn is None or not conn.fulfilments_enabled or not _tells_delivered(conn.kind):
        return None
    if row.state == "sent":   # shipped told: now the delivery (otherwise the shipped run tells both)
        row.state, row.attempts, row.last_error, row.next_attempt_at = "pending", 0, None, utcnow()
        db.session.flush()
        schedule(row.id)
    return row


def delivered_note(order: Order, shipment: Shipment) -> str:
    """What the customer reads: the delivery, in French when the order's customer speaks it, else English."""
    language = "fr" if (order.customer_language or "").lower().startswith("fr") else "en"
    when = (shipment.delivered_at or utcnow()).astimezone(dt.UTC)
    with force_locale(language):
        return _("Delivered on %(date)s by %(carrier)s (%(numbers)s).", date=when.strftime("%Y-%m-%d"),
                 carrier=_carrier_name(shipment.carrier_code),
                 numbers=", ".join(p.tracking_number for p in shipment.parcels if p.tracking_number)
                 or shipment.tracking_number or "-")


def build_delivery(row: ChannelFulfilment) -> Delivery:
    shipment = db.session.get(Shipment, row.shipment_id)
    order = db.session.get(Order, row.order_id)
    open_left = db.session.scalar(select(Shipment.id).where(
        Shipment.order_id == order.id, Shipment.id != shipment.id,
        Shipment.status.not_in((ShipmentStatus.DELIVERED, ShipmentStatus.CANCELLED))).limit(1))
    numbers = tuple(p.tracking_number for p in shipment.parcels if p.tracking_number) or (
        (shipment.tracking_number,) if shipment.tracking_number else ())
    return Delivery(external_id=order.external_id, tracking_numbers=numbers,
                    delivered_at=shipment.delivered_at or utcnow(), order_delivered=open_left is None,
                    note=delivered_note(order, shipment), platform_ref=order.platform_ref)


def _delivered_due(row: ChannelFulfilment, kind: str) -> bool:
    shipment = db.session.get(Shipment, row.shipment_id)
    return shipment is not None and shipment.status == ShipmentStatus.DELIVERED and _tells_delivered(kind)


def push_delivered(fulfilment_id: int) -> ChannelFulfilment | None:
    """Tell the platform the shipment was delivered (the row's shipped write-back went through); a transient
    failure is recorded then raised, like a fulfilment's."""
    row = db.session.get(ChannelFulfilment, fulfilment_id)
    conn = connection_of(row.channel_id) if row is not None else None
    if row is None or conn is None or row.state == "sent":
        return row
    if not _delivered_due(row, conn.kind):   # nothing the platform can hear: done
        row.state, row.last_error, row.next_attempt_at = "sent", None, None
        return row
    connector = connector_for(conn)
    failure: ConnectorError | None = None
    with SyncRun(row.channel_id, "fulfilment", detail=f"shipment {row.shipment_id} delivered") as run:
        row = db.session.get(ChannelFulfilment, fulfilment_id)
        delivery = build_delivery(row)
        run.note(f"order {delivery.external_id}: delivered {', '.join(delivery.tracking_numbers)}")
        row.attempts += 1
        try:
            connector.push_delivered(delivery)
        except ConnectorError as err:
            failure = err
            row.state, row.last_error = "failed", "delivered: " + describe(err)
            row.next_attempt_at = utcnow() + backoff(row.attempts) if err.transient else None
            run.error(f"order {delivery.external_id} delivered: {describe(err)}")
            run.add("fulfilments_failed")
        else:
            row.state, row.last_error, row.next_attempt_at = "sent", None, None
            run.add("deliveries_sent")
    if failure is not None and failure.transient and row.attempts < MAX_ATTEMPTS:
        raise failure
    return row


def push_fulfilment(fulfilment_id: int) -> ChannelFulfilment | None:
    """Write one shipment back (or, once that went through, its delivery); a transient failure is recorded then
    raised (the job retries it)."""
    row = db.session.get(ChannelFulfilment, fulfilment_id)
    if row is None or row.state == "sent":
        return row
    if row.sent_at is not None:
        return push_delivered(fulfilment_id)
    conn = connection_of(row.channel_id)
    if conn is None:
        return row
    connector = connector_for(conn)
    failure: ConnectorError | None = None
    with SyncRun(row.channel_id, "fulfilment", detail=f"shipment {row.shipment_id}") as run:
        row = db.session.get(ChannelFulfilment, fulfilment_id)
        fulfilment = build_fulfilment(row)
        run.note(f"order {fulfilment.external_id}: {fulfilment.carrier_code} "
                 f"{', '.join(fulfilment.tracking_numbers)}{'' if fulfilment.complete else ' (partial)'}")
        row.attempts += 1
        try:
            connector.push_fulfilment(fulfilment)
        except ConnectorError as err:
            failure = err
            row.state, row.last_error = "failed", describe(err)
            row.next_attempt_at = utcnow() + backoff(row.attempts) if err.transient else None
            run.error(f"order {fulfilment.external_id}: {describe(err)}")
            run.add("fulfilments_failed")
        else:
            row.state, row.sent_at, row.last_error, row.next_attempt_at = "sent", utcnow(), None, None
            conn = connection_of(row.channel_id)
            conn.last_fulfilment_at = utcnow()
            run.add("fulfilments_sent")
            if _delivered_due(row, conn.kind):   # delivered before the shipped write-back went through
                row.state, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    if failure is not None and failure.transient and row.attempts < MAX_ATTEMPTS:
        raise failure
    if row.state == "pending" and row.sent_at is not None:
        return push_delivered(fulfilment_id)
    return row


def push_due_fulfilments(channel: Channel, *, everything: bool = False) -> tuple[int, int]:
    """Write back the channel's pending and due failed fulfilments now (all unsent ones with `everything`);
    returns (sent, failed)."""
    q = select(ChannelFulfilment.id).where(ChannelFulfilment.channel_id == channel.id,
                                           ChannelFulfilment.state != "sent")
    if not everything:
        q = q.where(ChannelFulfilment.next_attempt_at.is_not(None), ChannelFulfilment.next_attempt_at <= utcnow())
    sent = failed = 0
    for fid in list(db.session.scalars(q.order_by(ChannelFulfilment.id))):
        try:
            row = push_fulfilment(fid)
        except ConnectorError:
            failed += 1
            continue
        if row is not None and row.state == "sent":
            sent += 1
        else:
            failed += 1
    return sent, failed
