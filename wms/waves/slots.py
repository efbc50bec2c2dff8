"""Book, move and free time slots on shared resources; an overlap is refused with the slot that holds the time.

The service looks for a clash first so the refusal can name it; the database is the guarantee (the exclusion
constraint on PostgreSQL, a trigger on SQLite). Every write is flushed inside a SAVEPOINT so that a refusal by
the database leaves the rest of the transaction usable, and is reported as the same SlotClash.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from wms.db import db
from wms.enums import Face, ResourceKind
from wms.errors import Conflict, LaneOnWrongFace, NotFound, SlotClash, ValidationFailed, constraint_name
from wms.layout.models import Aisle, Resource, Warehouse
from wms.waves.models import SLOT_EXCLUSION_NAME, PickOrder, SlotKind, TimeSlot, Wave, WaveStatus

MAX_SLOT = dt.timedelta(days=31)
# Bookings before 2000 or after 2999 are typing mistakes, and far years overflow on conversion.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2999, 12, 31, tzinfo=dt.UTC)


def require_aware(value: dt.datetime, field: str) -> dt.datetime:
    """The datetime in UTC; a naive or absurd one is refused (422)."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{field} needs a time zone (e.g. 2026-11-23T10:00:00Z).",
                               errors=[{"field": field, "message": "naive datetime"}])
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValidationFailed(f"{field} must lie between the years 2000 and 2999.",
                               errors=[{"field": field, "message": "out of range"}])
    return utc


def check_range(starts_at: dt.datetime, ends_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Both ends aware and in range, end after start, at most MAX_SLOT long."""
    start, end = require_aware(starts_at, "starts_at"), require_aware(ends_at, "ends_at")
    if end <= start:
        raise ValidationFailed("A slot must end after it starts.",
                               errors=[{"field": "ends_at", "message": "not after starts_at"}])
    if end - start > MAX_SLOT:
        raise ValidationFailed(f"A slot lasts at most {MAX_SLOT.days} days.",
                               errors=[{"field": "ends_at", "message": "too long"}])
    return start, end


def warehouse_zone(warehouse: Warehouse | None) -> dt.tzinfo:
    """The warehouse's time zone (UTC when unknown)."""
    try:
        return ZoneInfo(warehouse.timezone) if warehouse is not None and warehouse.timezone else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def format_span(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo = dt.UTC) -> str:
    """'10:00–10:30 on 23 Nov' in the given zone (both dates when the span crosses midnight)."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() == b.date():
        return f"{a:%H:%M}–{b:%H:%M} on {a:%d %b %Y}"
    return f"{a:%d %b %Y %H:%M}–{b:%d %b %Y %H:%M}"


def resource_title(resource: Resource) -> str:
    """How a person calls the resource: 'Aisle A/P1', 'Dock door D1'."""
    kind = {"aisle": "Aisle", "dock_door": "Dock door", "pack_station": "Pack station", "sas": "Sas"}
    return f"{kind.get(resource.kind.value, 'Resource')} {resource.code}"


def describe_holder(slot: TimeSlot) -> str:
    """'OP-12-001 (wave W-00012)' or the slot's label and kind."""
    who = slot.label or f"a {slot.kind.value} slot"
    if slot.pick_order_id is not None:
        op = db.session.get(PickOrder, slot.pick_order_id)
        if op is not None:
            who = op.code
    if slot.wave_id is not None:
        wave = db.session.get(Wave, slot.wave_id)
        if wave is not None:
            who = f"{who} (wave {wave.code})"
    return who


def clash_error(holder: TimeSlot, *, by_database: bool = False) -> SlotClash:
    """The 409 naming the slot that holds the time."""
    resource = db.session.get(Resource, holder.resource_id)
    warehouse = db.session.get(Warehouse, holder.warehouse_id)
    tz = warehouse_zone(warehouse)
    where = resource_title(resource) if resource is not None else f"Resource {holder.resource_id}"
    detail = f"{where} is booked {format_span(holder.starts_at, holder.ends_at, tz)} by {describe_holder(holder)}."
    extra = {"clash_slot_id": holder.id, "resource": resource.code if resource is not None else None,
             "clash_starts_at": holder.starts_at.isoformat(), "clash_ends_at": holder.ends_at.isoformat()}
    if by_database:
        extra["constraint"] = SLOT_EXCLUSION_NAME
    return SlotClash(detail, **extra)


def find_clash(resource_id: int, starts_at: dt.datetime, ends_at: dt.datetime,
               exclude_id: int | None = None) -> TimeSlot | None:
    """The first slot on the resource that overlaps [starts_at, ends_at), half-open."""
    stmt = (select(TimeSlot).where(TimeSlot.resource_id == resource_id, TimeSlot.starts_at < ends_at,
                                   TimeSlot.ends_at > starts_at)
            .order_by(TimeSlot.starts_at).limit(1))
    if exclude_id is not None:
        stmt = stmt.where(TimeSlot.id != exclude_id)
    return db.session.scalar(stmt)


def _deadlocked(exc: OperationalError) -> bool:
    """PostgreSQL reports two transactions inserting overlapping slots at once as a deadlock, not always as an
    exclusion violation: each inserted its row, then waits on the other's to check the constraint."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == "40P01"


def _flush_guarded(slot: TimeSlot, resource_id: int, starts_at: dt.datetime, ends_at: dt.datetime,
                   exclude_id: int | None) -> None:
    """Write the slot's new times inside a SAVEPOINT; a refusal by the exclusion constraint becomes a SlotClash
    naming the holder, and the slot keeps its old times. (begin_nested flushes what is pending first, so the
    times are set inside it.) A deadlock with a concurrent booking is tried once more: the retry waits for the
    other transaction, then either succeeds (it rolled back) or is refused naming its slot (it committed)."""
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                slot.starts_at, slot.ends_at = starts_at, ends_at
                db.session.add(slot)
                db.session.flush()
            return
        except OperationalError as exc:
            if attempt == 0 and _deadlocked(exc):
                continue
            raise
        except IntegrityError as exc:
            name = constraint_name(exc) or ""
            if SLOT_EXCLUSION_NAME not in name:
                raise
            holder = find_clash(resource_id, starts_at, ends_at, exclude_id)
            if holder is None:  # the holder was freed again in between: still the database's refusal
                raise SlotClash("The resource was booked for part of that time by another request; try again.",
                                constraint=SLOT_EXCLUSION_NAME) from None
            raise clash_error(holder, by_database=True) from None


def book_slot(resource: Resource, starts_at: dt.datetime, ends_at: dt.datetime, kind: SlotKind | str,
              label: str = "", *, wave_id: int | None = None, pick_order_id: int | None = None,
              task_id: int | None = None, created_by_id: int | None = None, check: bool = True) -> TimeSlot:
    """Book a resource for [starts_at, ends_at); SlotClash (409) naming the slot that already holds the time."""
    start, end = check_range(starts_at, ends_at)
    try:
        kind = SlotKind(kind)
    except ValueError:
        raise ValidationFailed(f"Unknown slot kind {kind!r}.", errors=[{"field": "kind", "message": "unknown"}]) \
            from None
    _check_face(resource, kind)
    if len(label) > 120:
        raise ValidationFailed("A slot label is at most 120 characters.",
                               errors=[{"field": "label", "message": "too long"}])
    if check:
        holder = find_clash(resource.id, start, end)
        if holder is not None:
            raise clash_error(holder)
    slot = TimeSlot(warehouse_id=resource.warehouse_id, resource_id=resource.id, kind=kind, starts_at=start,
                    ends_at=end, label=label, wave_id=wave_id, pick_order_id=pick_order_id, task_id=task_id,
                    created_by_id=created_by_id)
    _flush_guarded(slot, resource.id, start, end, None)
    return slot


def book_many(new: list[TimeSlot], resources: dict[int, Resource]) -> None:
    """Book several slots at once (a wave's pick slots): one clash query and one SAVEPOINT; SlotClash (409)
    naming the first slot in the way, and then none of them is booked."""
    if not new:
        return
    for slot in new:
        slot.starts_at, slot.ends_at = check_range(slot.starts_at, slot.ends_at)
        _check_face(resources[slot.resource_id], SlotKind(slot.kind))
    by_resource: dict[int, list[TimeSlot]] = {}
    for slot in sorted(new, key=lambda x: x.starts_at):
        mine = by_resource.setdefault(slot.resource_id, [])
        if mine and mine[-1].ends_at > slot.starts_at:
            raise SlotClash(f"{resource_title(resources[slot.resource_id])}: {mine[-1].label} and {slot.label} "
                            "would overlap.")
        mine.append(slot)
    window_start, window_end = min(x.starts_at for x in new), max(x.ends_at for x in new)
    existing = db.session.scalars(select(TimeSlot).where(
        TimeSlot.resource_id.in_(list(by_resource)), TimeSlot.starts_at < window_end,
        TimeSlot.ends_at > window_start).order_by(TimeSlot.starts_at))
    for held in existing:
        for slot in by_resource[held.resource_id]:
            if held.starts_at < slot.ends_at and held.ends_at > slot.starts_at:
                raise clash_error(held)
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                db.session.add_all(new)
                db.session.flush()
            break
        except OperationalError as exc:
            if attempt == 0 and _deadlocked(exc):
                continue  # see _flush_guarded: the retry waits for the other booking, then knows
            raise
        except IntegrityError as exc:
            if SLOT_EXCLUSION_NAME not in (constraint_name(exc) or ""):
                raise
            _raise_batch_clash(new)


def _raise_batch_clash(new: list[TimeSlot]) -> None:
    """The database refused a batch of slots: name the slot that holds the time of the first one refused."""
    for slot in new:
        holder = find_clash(slot.resource_id, slot.starts_at, slot.ends_at)
        if holder is not None:
            raise clash_error(holder, by_database=True) from None
    raise SlotClash("The resources were booked for part of that time by another request; try again.",
                    constraint=SLOT_EXCLUSION_NAME) from None


# Who works an aisle follows its face: pickers in pick aisles, receivers (put-away, replenishment) in replenish
# aisles. "other" (cleaning, inventory, maintenance) may book either.
KINDS_BY_FACE = {Face.PICK: {SlotKind.PICK, SlotKind.OTHER},
                 Face.REPLENISH: {SlotKind.REPLENISH, SlotKind.RECEIVE, SlotKind.OTHER}}


def _check_face(resource: Resource, kind: SlotKind) -> None:
    if resource.kind != ResourceKind.AISLE or resource.aisle_id is None:
        return
    aisle = db.session.get(Aisle, resource.aisle_id)
    if aisle is not None and kind not in KINDS_BY_FACE[aisle.face]:
        raise LaneOnWrongFace(f"Aisle {resource.code} is a {aisle.face.value} aisle: it cannot be booked for "
                              f"{kind.value} work.", resource=resource.code)


def _refuse_if_wave_closed(slot: TimeSlot, verb: str) -> None:
    if slot.wave_id is None:
        return
    wave = db.session.get(Wave, slot.wave_id)
    if wave is not None and wave.status in (WaveStatus.DONE, WaveStatus.CANCELLED):
        raise Conflict(f"Slot {slot.id} belongs to wave {wave.code}, which is {wave.status.value}; it cannot be "
                       f"{verb}.")


def move_slot(slot: TimeSlot, starts_at: dt.datetime, ends_at: dt.datetime) -> TimeSlot:
    """Move or resize a slot; SlotClash (409) naming the slot in the way, and the slot stays where it was.

    A pick order holds one pick slot on every pick aisle it walks, all for its whole time: moving one moves the
    others with it (each by the same change of start and end), all or none."""
    start, end = check_range(starts_at, ends_at)
    _refuse_if_wave_closed(slot, "moved")
    siblings = _pick_siblings(slot)
    if not siblings:
        holder = find_clash(slot.resource_id, start, end, exclude_id=slot.id)
        if holder is not None:
            raise clash_error(holder)
        _flush_guarded(slot, slot.resource_id, start, end, slot.id)
        return slot
    moves = [(slot, start, end)]
    for other in siblings:
        moves.append((other, *check_range(other.starts_at + (start - slot.starts_at),
                                          other.ends_at + (end - slot.ends_at))))
    own = {m[0].id for m in moves}
    for moved, a, b in moves:
        holder = next((h for h in _clashes(moved.resource_id, a, b) if h.id not in own), None)
        if holder is not None:
            raise clash_error(holder)
    _flush_moves(moves, own)
    return slot


def _pick_siblings(slot: TimeSlot) -> list[TimeSlot]:
    """The other pick slots of the slot's pick order (its other pick aisles)."""
    if slot.pick_order_id is None or slot.kind != SlotKind.PICK:
        return []
    return list(db.session.scalars(select(TimeSlot).where(
        TimeSlot.pick_order_id == slot.pick_order_id, TimeSlot.kind == SlotKind.PICK, TimeSlot.id != slot.id)
        .order_by(TimeSlot.resource_id)))


def _clashes(resource_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> list[TimeSlot]:
    return list(db.session.scalars(select(TimeSlot).where(
        TimeSlot.resource_id == resource_id, TimeSlot.starts_at < ends_at, TimeSlot.ends_at > starts_at)
        .order_by(TimeSlot.starts_at)))


def _flush_moves(moves: list[tuple[TimeSlot, dt.datetime, dt.datetime]], own: set[int]) -> None:
    """Write several slots' new times in one SAVEPOINT: all or none (see _flush_guarded). On a refusal by the
    database every slot keeps its old times."""
    old = [(m, m.starts_at, m.ends_at) for m, _a, _b in moves]
    for attempt in range(2):
        try:
            with db.session.begin_nested():
                for moved, a, b in moves:
                    moved.starts_at, moved.ends_at = a, b
                db.session.flush()
            return
        except OperationalError as exc:
            for moved, a, b in old:
                moved.starts_at, moved.ends_at = a, b
            if attempt == 0 and _deadlocked(exc):
                continue
            raise
        except IntegrityError as exc:
            for moved, a, b in old:
                moved.starts_at, moved.ends_at = a, b
            if SLOT_EXCLUSION_NAME not in (constraint_name(exc) or ""):
                raise
            for moved, a, b in moves:
                holder = next((h for h in _clashes(moved.resource_id, a, b) if h.id not in own), None)
                if holder is not None:
                    raise clash_error(holder, by_database=True) from None
            raise SlotClash("The resources were booked for part of that time by another request; try again.",
                            constraint=SLOT_EXCLUSION_NAME) from None


def free_slot(slot: TimeSlot) -> None:
    """Free a booking. A pick order's slot goes with its wave (replan or cancel the wave instead)."""
    if slot.pick_order_id is not None:
        wave = db.session.get(Wave, slot.wave_id) if slot.wave_id is not None else None
        if wave is not None and wave.status not in (WaveStatus.DONE, WaveStatus.CANCELLED):
            raise Conflict(f"Slot {slot.id} is the pick slot of {describe_holder(slot)}; replan or cancel the "
                           "wave to free it.")
    db.session.delete(slot)
    db.session.flush()


def get_slot(slot_id: int, warehouse_ids: frozenset[int] | None = None) -> TimeSlot:
    """The slot with this id, or NotFound (also when it is in a warehouse outside the given scope)."""
    slot = db.session.get(TimeSlot, slot_id)
    if slot is None or (warehouse_ids is not None and slot.warehouse_id not in warehouse_ids):
        raise NotFound(f"No time slot {slot_id}.")
    return slot


def get_resource(warehouse: Warehouse, code: str) -> Resource:
    """The resource with this code in the warehouse, or NotFound."""
    res = db.session.scalar(select(Resource).where(Resource.warehouse_id == warehouse.id, Resource.code == code))
    if res is None:
        raise NotFound(f"No resource {code!r} in warehouse {warehouse.code}.",
                       errors=[{"field": "resource", "message": "unknown"}])
    return res


def slots_between(warehouse: Warehouse, start: dt.datetime, end: dt.datetime,
                  resource_ids: list[int] | None = None) -> list[TimeSlot]:
    """Slots of the warehouse that overlap [start, end), by resource then start."""
    start, end = require_aware(start, "from"), require_aware(end, "to")
    if end <= start:
        raise ValidationFailed("The window must end after it starts.",
                               errors=[{"field": "to", "message": "not after from"}])
    stmt = select(TimeSlot).where(TimeSlot.warehouse_id == warehouse.id, TimeSlot.starts_at < end,
                                  TimeSlot.ends_at > start)
    if resource_ids is not None:
        stmt = stmt.where(TimeSlot.resource_id.in_(resource_ids))
    return list(db.session.scalars(stmt.order_by(TimeSlot.resource_id, TimeSlot.starts_at)))
