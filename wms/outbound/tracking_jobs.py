"""Carrier tracking as jobs: every 15 minutes a dispatcher defers one `shipping.track` job per carrier that offers
tracking (Feature.TRACKING) and has shipments that left the dock and are not delivered or returned; the job asks
the carrier for its events in batches, stores the new ones (each event once: `tracking_events` is unique on
carrier, number, time and text) and maps the latest status onto the shipment (`tracking_status`).

- every parcel delivered: the shipment and its order are DELIVERED through `dock.mark_delivered`, the path a
  driver's or a channel's delivery takes, so the channel hears it as it does today (the `order.status_changed`
  webhook outbox), once: a delivered shipment is not tracked again;
- a parcel returned to sender: the shipment and its order are RETURNED, and the channel is told the same way;
- in transit, out for delivery, at the relay point, failed: only `tracking_status` changes (a failed attempt
  is followed by another, or by the return).

Return labels of RMAs (wms.returns.labels) are tracked by the same job of their carrier, their events stored
with `return_label_id`: the first carrier scan puts the label and its return in transit (the channel hears
`return.updated`), delivered to us makes the label delivered; the return stays in transit until the returns
zone receives it. An issued label the customer never used is asked about for 60 days.

A carrier that fails (CarrierUnavailable, a malformed answer) changes nothing for that batch: it is logged, the
job ends failed (kept in wms_job_failures) and the next tick asks again. The job is NOT retried by the engine:
it is deferred with a queueing lock, and a retried job with a queueing lock can stick in `doing`
(procrastinate issue #1543, see wms.channels.jobs NO_RETRY); the dispatcher is its retry. docs/tracking.md.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from wms.db import db, utcnow
from wms.errors import DomainError
from wms.jobs import defer, periodic, task
from wms.orders.models import OrderStatus
from wms.outbound import dock
from wms.outbound.models import Parcel, Shipment, ShipmentStatus, TrackingEventRecord
from wms.returns import labels as return_labels
from wms.returns.models import ReturnLabel
from wms.shipping.carrier_features import FINAL_STATUSES, Feature, TrackingEvent, TrackingStatus
from wms.shipping.carriers import Carrier

log = logging.getLogger("wms.tracking")
QUEUE = "shipping"
TASK = "shipping.track"
BATCH = 50
NO_RETRY = False   # see the module docstring: the dispatcher is the retry

def carrier_of(code: str) -> Carrier | None:
    """The carrier for `code` if it is configured here (carriers_registry) and offers tracking; None otherwise."""
    try:
        carrier = dock.carrier_for(code)
    except DomainError:
        return None
    return carrier if Feature.TRACKING in carrier.features else None


def _tracked_query():  # type: ignore[no-untyped-def]
    return select(Shipment).where(Shipment.status == ShipmentStatus.SHIPPED)


def carriers_to_track() -> list[str]:
    """The carriers with tracking that have shipments departed and not final, or return labels on their way."""
    codes = set(db.session.scalars(select(Shipment.carrier_code).where(Shipment.status == ShipmentStatus.SHIPPED)
                                   .distinct()))
    codes.update(return_labels.tracked_carriers())
    return [code for code in sorted(codes) if carrier_of(code) is not None]


def defer_due() -> list[str]:
    """Defer one tracking job per carrier that has something to track (one waiting at most: queueing lock)."""
    codes = carriers_to_track()
    for code in codes:
        defer(TASK, queueing_lock=f"{TASK}:{code}", carrier_code=code)
    return codes


@periodic("*/15 * * * *", "shipping.track_dispatch", queue=QUEUE)
def dispatch() -> None:
    """Every 15 minutes: the tracking jobs due (defer_due)."""
    defer_due()


class TrackingFailed(Exception):
    """The carrier could not be asked for some batches (logged; the next tick asks again)."""


@dataclass
class TrackResult:
    stored: int = 0
    delivered: list[int] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)
    returns_in_transit: list[int] = field(default_factory=list)   # RMA ids moved to in_transit
    failures: list[str] = field(default_factory=list)


def _numbers(shipment: Shipment) -> dict[str, Parcel | None]:
    """Tracking number -> parcel (None: the shipment's own number, when no parcel carries one)."""
    numbers: dict[str, Parcel | None] = {p.tracking_number: p for p in shipment.parcels if p.tracking_number}
    if not numbers and shipment.tracking_number:
        numbers[shipment.tracking_number] = None
    return numbers


def _batches(items: list[Shipment], size: int) -> Iterable[list[Shipment]]:
    batch: list[Shipment] = []
    count = 0
    for shipment in items:
        n = len(_numbers(shipment))
        if batch and count + n > size:
            yield batch
            batch, count = [], 0
        batch.append(shipment)
        count += n
    if batch:
        yield batch


def _store(shipment: Shipment, parcel: Parcel | None, number: str, events: list[TrackingEvent]) -> int:
    """Store the events not stored yet. An event is its time and wording: some carriers give every event of a
    parcel the parcel's current code (Mondial Relay's STAT), so the code is kept but is not what makes it new."""
    return _store_events(shipment.carrier_code, number, events, shipment_id=shipment.id,
                         parcel_id=parcel.id if parcel else None)


def _store_events(carrier_code: str, number: str, events: list[TrackingEvent], **owner: int | None) -> int:
    """The new events of one tracking number, on their owner (shipment_id and parcel_id, or return_label_id)."""
    known = {(at.astimezone(dt.UTC), text) for at, text in db.session.execute(
        select(TrackingEventRecord.at, TrackingEventRecord.text)
        .where(TrackingEventRecord.carrier_code == carrier_code,
               TrackingEventRecord.tracking_number == number)).all()}
    stored = 0
    for event in events:
        key = (event.at.astimezone(dt.UTC), event.text[:500])
        if key in known:
            continue
        known.add(key)
        db.session.add(TrackingEventRecord(
            **owner, carrier_code=carrier_code, tracking_number=number, at=key[0], status=event.status.value,
            code=event.code[:64], text=key[1], location=event.location[:200]))
        stored += 1
    return stored


def _latest(events: list[TrackingEvent]) -> TrackingEvent | None:
    """The newest event (the carrier's order breaks ties: they are given oldest first)."""
    latest = None
    for event in events:
        if latest is None or event.at >= latest.at:
            latest = event
    return latest


def _apply(shipment: Shipment, latest: dict[str, TrackingEvent | None], result: TrackResult) -> None:
    """Map the parcels' latest statuses onto the shipment; delivered / returned close it."""
    found = [e for e in latest.values() if e is not None]
    if not found:
        return
    statuses = {e.status for e in found}
    every_parcel = len(found) == len(latest)
    if TrackingStatus.RETURNED in statuses:
        status = TrackingStatus.RETURNED
    elif every_parcel and statuses == {TrackingStatus.DELIVERED}:
        status = TrackingStatus.DELIVERED
    else:
        # the least advanced parcel tells where the shipment is (one delivered, one on the van: out for delivery)
        open_ = [e for e in found if e.status not in FINAL_STATUSES] or found
        status = max(open_, key=lambda e: e.at).status
    shipment.tracking_status = status.value
    if status == TrackingStatus.DELIVERED:
        when = max(e.at for e in found).astimezone(dt.UTC)
        if shipment.shipped_at is not None and when < shipment.shipped_at:
            when = shipment.shipped_at   # the carrier's clock before ours: never delivered before shipped
        _, changed = dock.mark_delivered(shipment, at=when)
        if changed:
            result.delivered.append(shipment.id)
    elif status == TrackingStatus.RETURNED:
        shipment.status = ShipmentStatus.RETURNED
        db.session.flush()
        dock._advance_order(shipment.order, OrderStatus.RETURNED)  # noqa: SLF001  (the dock's own order path)
        result.returned.append(shipment.id)


def track(carrier_code: str, *, carrier: Carrier | None = None,
          commit: Callable[[], None] | None = None) -> TrackResult:
    """Ask the carrier for the events of its shipments in transit, batch by batch, each batch committed."""
    carrier = carrier or carrier_of(carrier_code)
    result = TrackResult()
    if carrier is None:
        return result
    commit = commit or db.session.commit
    shipments = list(db.session.scalars(_tracked_query().where(Shipment.carrier_code == carrier_code)
                                        .order_by(Shipment.id)))
    ids = [s.id for s in shipments]
    for batch in _batches(shipments, BATCH):
        batch_ids = [s.id for s in batch]
        numbers = {s.id: _numbers(s) for s in batch}
        wanted = [n for s in batch for n in numbers[s.id]]
        if not wanted:
            continue
        try:
            answer = carrier.tracking_events(wanted)
        except DomainError as err:   # CarrierUnavailable, CarrierResponseInvalid, a number refused...
            db.session.rollback()
            message = f"{carrier_code}: tracking of shipments {batch_ids} failed: {err}"
            log.warning(message)
            result.failures.append(message)
            continue
        now = utcnow()
        for shipment in batch:
            shipment = dock._lock_shipment(shipment.id)  # noqa: SLF001  (the dock's row lock)
            if shipment.status != ShipmentStatus.SHIPPED:
                continue  # delivered by hand meanwhile
            latest: dict[str, TrackingEvent | None] = {}
            for number, parcel in numbers[shipment.id].items():
                events = answer.get(number, [])
                result.stored += _store(shipment, parcel, number, events)
                latest[number] = _latest(events)
            shipment.tracking_checked_at = now
            db.session.flush()
            _apply(shipment, latest, result)
        commit()
    _track_return_labels(carrier_code, carrier, commit, result)
    log.info("%s: %d shipments tracked, %d new events, delivered %s, returned %s, returns in transit %s",
             carrier_code, len(ids), result.stored, result.delivered, result.returned, result.returns_in_transit)
    return result


def _track_return_labels(carrier_code: str, carrier: Carrier, commit: Callable[[], None],
                         result: TrackResult) -> None:
    """The carrier's events for the RMAs' return labels, batch by batch, each batch committed."""
    labels = return_labels.tracked_labels(carrier_code)
    for start in range(0, len(labels), BATCH):
        batch = {label.id: label.tracking_number for label in labels[start:start + BATCH]}
        try:
            answer = carrier.tracking_events(list(batch.values()))
        except DomainError as err:
            db.session.rollback()
            message = f"{carrier_code}: tracking of return labels {list(batch)} failed: {err}"
            log.warning(message)
            result.failures.append(message)
            continue
        for label_id, number in batch.items():
            label = db.session.get(ReturnLabel, label_id)
            events = answer.get(number, [])
            result.stored += _store_events(carrier_code, number, events, return_label_id=label_id)
            latest = _latest(events)
            if return_labels.parcel_moved(label, [e.status for e in events], latest.status if latest else None):
                result.returns_in_transit.append(label.rma_id)
        commit()


@task(TASK, queue=QUEUE, lock_key="tracking:{carrier_code}", retry=NO_RETRY)
def track_job(carrier_code: str) -> None:
    """One pass of a carrier's tracking; fails (kept in wms_job_failures) when some batch could not be asked."""
    result = track(carrier_code)
    if result.failures:
        raise TrackingFailed("; ".join(result.failures))
