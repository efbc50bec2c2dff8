"""Fulfilment out: a shipped shipment of a connected channel's order becomes a ChannelFulfilment row in the
same transaction; a job writes it back (carrier, tracking numbers and URL, the lines it holds), retried with
backoff when the platform fails, and left `failed` with its error for people to see when it refuses."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select

from wms.channels.connectors.base import ConnectorError, Fulfilment, FulfilmentLine
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


def push_fulfilment(fulfilment_id: int) -> ChannelFulfilment | None:
    """Write one shipment back; a transient failure is recorded then raised (the job retries it)."""
    row = db.session.get(ChannelFulfilment, fulfilment_id)
    if row is None or row.state == "sent":
        return row
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
    if failure is not None and failure.transient and row.attempts < MAX_ATTEMPTS:
        raise failure
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
