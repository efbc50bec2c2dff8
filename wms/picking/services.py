"""Picking on the handheld: take an OP, walk its lines in route order, confirm, report exceptions, drop at the sas.

Plain functions over ``db.session`` (add/flush, never commit). Every call records a ScanEvent. A refused scan
changes nothing but its ScanEvent and answers outcome ``refused`` with the reason (the request still commits, so
the audit trail keeps it). The flow state lives in the database — lines, tasks and the scan events of the OP —
so a reload, or another device, resumes where the picker was.

Per line: location → item → tote → quantity (the quantity applies the stock). When every line is closed: the
sas drop point, which finishes the OP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from wms.auth.models import User
from wms.catalog.barcodes import InvalidBarcode, parse
from wms.catalog.models import Barcode, Product
from wms.db import db, utcnow
from wms.enums import Face, Role, StockReason, TaskStatus, ZoneKind
from wms.errors import DomainError, Forbidden, NotFound
from wms.layout.models import Location, Zone
from wms.orders.models import Order, OrderLine, OrderStatus, Reservation
from wms.picking.context import ScanContext, record
from wms.picking.faces import parse_location_scan
from wms.picking.models import ScanEvent, ScanOutcome
from wms.picking.text import _
from wms.stock import operations as ops
from wms.stock.availability import lock_stock
from wms.stock.models import LedgerEntry, Quant
from wms.tasks.models import Task
from wms.waves.models import PickOrder, PickOrderLine, PickOrderStatus, TimeSlot, Wave, WaveStatus
from wms.webhooks import outbox

FLOW = "pick"
STEPS = ("location", "item", "tote", "quantity")
NEXT_STEP = {None: "location", "location": "item", "item": "tote", "tote": "quantity", "quantity": "quantity",
             "exception": "item"}
GOOD = (ScanOutcome.ACCEPTED, ScanOutcome.APPLIED, ScanOutcome.EXCEPTION)
CLOSED_TASK = (TaskStatus.DONE, TaskStatus.CANCELLED)
EXCEPTION_KINDS = ("short", "empty", "damaged", "wrong_item")


@dataclass(frozen=True)
class PickState:
    line: PickOrderLine | None
    step: str  # location, item, tote, quantity, drop, done
    done_lines: int
    total_lines: int


@dataclass(frozen=True)
class ScanResult:
    outcome: ScanOutcome
    message: str
    event: ScanEvent
    state: PickState | None
    line: PickOrderLine | None = None

    @property
    def refused(self) -> bool:
        return self.outcome == ScanOutcome.REFUSED


class _Refusal(Exception):
    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


# --- taking work -------------------------------------------------------------------------------------------------


def current_pick_order(user: User) -> PickOrder | None:
    """The OP this picker is working on, if any (one at a time)."""
    return db.session.scalar(select(PickOrder).where(PickOrder.picker_id == user.id,
                                                     PickOrder.status == PickOrderStatus.PICKING)
                             .order_by(PickOrder.id).limit(1))


def has_assigned_work(user: User) -> bool:
    """A supervisor gave this picker released OPs: then those are the only ones they may take."""
    return db.session.scalar(select(PickOrder.id).where(PickOrder.picker_id == user.id,
                                                        PickOrder.status == PickOrderStatus.RELEASED)
                             .limit(1)) is not None


def _takeable(user: User, assigned: bool) -> Any:
    """The released OPs this picker may take: those assigned to them if any, else those nobody was given."""
    if assigned:
        return PickOrder.picker_id == user.id
    return PickOrder.picker_id.is_(None)


def zones_with_work(user: User) -> list[tuple[Zone, int]]:
    """Rack zones of the picker's warehouses with released OPs this picker may take, and how many: when a
    supervisor assigned OPs to them, only the zones of those."""
    stmt = (select(Zone, func.count(PickOrder.id)).join(PickOrder, PickOrder.zone_id == Zone.id)
            .where(PickOrder.status == PickOrderStatus.RELEASED, _takeable(user, has_assigned_work(user)))
            .group_by(Zone.id).order_by(Zone.warehouse_id, Zone.seq, Zone.code))
    if user.warehouse_ids is not None:
        stmt = stmt.where(Zone.warehouse_id.in_(user.warehouse_ids))
    return [(zone, count) for zone, count in db.session.execute(stmt).all()]


@dataclass(frozen=True)
class AssignedOp:
    op: PickOrder
    zone: str
    starts_at: Any
    ends_at: Any


def assigned_pick_orders(user: User) -> list[AssignedOp]:
    """Released OPs a supervisor gave this picker, earliest slot first, with their slot times."""
    slot = (select(TimeSlot.pick_order_id, func.min(TimeSlot.starts_at).label("starts_at"),
                   func.max(TimeSlot.ends_at).label("ends_at")).group_by(TimeSlot.pick_order_id).subquery())
    rows = db.session.execute(
        select(PickOrder, Zone.code, slot.c.starts_at, slot.c.ends_at).join(Zone, Zone.id == PickOrder.zone_id)
        .outerjoin(slot, slot.c.pick_order_id == PickOrder.id)
        .where(PickOrder.picker_id == user.id, PickOrder.status == PickOrderStatus.RELEASED)
        .order_by(slot.c.starts_at.asc().nulls_last(), PickOrder.id)).all()
    return [AssignedOp(op, zone, starts, ends) for op, zone, starts, ends in rows]


def slot_times(op: PickOrder) -> list[TimeSlot]:
    """The OP's booked time slots (aisles, sas), in time order."""
    return list(db.session.scalars(select(TimeSlot).where(TimeSlot.pick_order_id == op.id)
                                   .order_by(TimeSlot.starts_at, TimeSlot.id)))


def assign_pick_order(op: PickOrder, picker: User | None) -> None:
    """A supervisor gives a released OP to one picker (only they may take it), or frees it (`picker` None)."""
    from wms.errors import Conflict, ValidationFailed

    if op.status != PickOrderStatus.RELEASED:
        raise Conflict(_("Pick order %(op)s is %(status)s: only a released pick order nobody started can be "
                         "assigned.", op=op.code, status=op.status.value))
    if picker is not None:
        if Role.PICKER not in picker.roles or not picker.active:
            raise ValidationFailed(_("%(name)s is not an active picker.", name=picker.display_name),
                                   errors=[{"field": "picker_id", "message": "not a picker"}])
        if picker.warehouse_ids is not None and op.warehouse_id not in picker.warehouse_ids:
            raise ValidationFailed(_("%(name)s does not work in this warehouse.", name=picker.display_name),
                                   errors=[{"field": "picker_id", "message": "other warehouse"}])
    op.picker_id = picker.id if picker is not None else None
    db.session.flush()


def _require_picker(user: User) -> None:
    if Role.PICKER not in user.roles:
        raise Forbidden(_("Only pickers pick: picking is done from the pick face by a picker."))


def take_next_pick_order(user: User, zone: Zone, ctx: ScanContext) -> tuple[PickOrder | None, ScanEvent]:
    """My open OP, else the next released OP of the zone (earliest slot first), now mine and being picked."""
    _require_picker(user)
    if user.warehouse_ids is not None and zone.warehouse_id not in user.warehouse_ids:
        raise Forbidden(_("Zone %(zone)s is in a warehouse you do not work in.", zone=zone.code))
    op = current_pick_order(user)
    if op is not None:
        event = record(ctx, op.warehouse_id, FLOW, "take", zone.code, ScanOutcome.ACCEPTED,
                       _("You are already picking %(op)s; finish it first.", op=op.code), pick_order_id=op.id)
        return op, event
    assigned = has_assigned_work(user)
    op = _lock_next_released(zone, user, assigned)
    if op is None:
        message = (_("Your supervisor gave you pick orders in other zones: take those first.") if assigned else
                   _("No pick order is waiting in zone %(zone)s.", zone=zone.code))
        event = record(ctx, zone.warehouse_id, FLOW, "take", zone.code, ScanOutcome.REFUSED, message)
        return None, event
    _start(op, user)
    event = record(ctx, op.warehouse_id, FLOW, "take", zone.code, ScanOutcome.ACCEPTED,
                   _("Pick order %(op)s is yours.", op=op.code), pick_order_id=op.id)
    return op, event


def _lock_next_released(zone: Zone, user: User, assigned: bool) -> PickOrder | None:
    """The next released OP of the zone this picker may take (earliest slot first), locked, or None.

    Its wave is locked first: every path locks a wave before its pick orders (cancelling a wave locks the wave,
    then writes its OPs), so a take racing a cancel waits for it instead of deadlocking. A candidate that is no
    longer released once its wave is held (cancelled, taken by another picker) is passed over; the savepoint
    rolled back frees that wave's lock, so a take never holds two waves."""
    slot_start = (select(func.min(TimeSlot.starts_at)).where(TimeSlot.pick_order_id == PickOrder.id)
                  .correlate(PickOrder).scalar_subquery())
    takeable = (PickOrder.zone_id == zone.id, PickOrder.status == PickOrderStatus.RELEASED, _takeable(user, assigned))
    passed: list[int] = []
    while True:
        stmt = select(PickOrder.id, PickOrder.wave_id).where(*takeable)
        if passed:
            stmt = stmt.where(PickOrder.id.not_in(passed))
        candidate = db.session.execute(stmt.order_by(slot_start.asc().nulls_last(), PickOrder.id).limit(1)).first()
        if candidate is None:
            return None
        savepoint = db.session.begin_nested()
        db.session.execute(select(Wave).where(Wave.id == candidate.wave_id).with_for_update()
                           .execution_options(populate_existing=True))
        op = db.session.scalar(select(PickOrder).where(PickOrder.id == candidate.id, *takeable)
                               .with_for_update(skip_locked=True).execution_options(populate_existing=True))
        if op is not None:
            savepoint.commit()
            return op
        savepoint.rollback()
        passed.append(candidate.id)


def _start(op: PickOrder, user: User) -> None:
    op.picker_id = user.id
    op.status = PickOrderStatus.PICKING
    op.started_at = utcnow()
    task_ids = [line.task_id for line in op.lines if line.task_id is not None]
    if task_ids:
        db.session.execute(update(Task).where(Task.id.in_(task_ids), Task.status == TaskStatus.OPEN)
                           .values(assignee_id=user.id, assignee_role=Role.PICKER, status=TaskStatus.ASSIGNED))
    wave = db.session.get(Wave, op.wave_id)
    if wave is not None and wave.status == WaveStatus.RELEASED:
        wave.status = WaveStatus.PICKING
    order_ids = _order_ids(op)
    for order in db.session.scalars(select(Order).where(Order.id.in_(order_ids))):
        if order.status in (OrderStatus.ALLOCATED, OrderStatus.BACKORDERED):
            order.status = OrderStatus.PICKING
            outbox.order_status_changed(order)
    db.session.flush()


def _order_ids(op: PickOrder) -> list[int]:
    return list(db.session.scalars(select(OrderLine.order_id).join(PickOrderLine,
                                                                   PickOrderLine.order_line_id == OrderLine.id)
                                   .where(PickOrderLine.pick_order_id == op.id).distinct()))


def lock_pick_order(op_id: int, user: User) -> PickOrder:
    """The OP row locked (its scans are applied one at a time), or 404 / 403 when it is not this picker's."""
    # The lines come with their product, lane and task in one more query: a scan reads them all.
    op = db.session.scalar(select(PickOrder).where(PickOrder.id == op_id).with_for_update()
                           .options(selectinload(PickOrder.lines).options(joinedload(PickOrderLine.product),
                                                                           joinedload(PickOrderLine.location),
                                                                           joinedload(PickOrderLine.task)))
                           .execution_options(populate_existing=True))
    if op is None or (user.warehouse_ids is not None and op.warehouse_id not in user.warehouse_ids):
        raise NotFound(_("No pick order %(id)s.", id=op_id))
    if op.picker_id != user.id:
        raise Forbidden(_("Pick order %(op)s is not yours.", op=op.code))
    return op


# --- where the picker is -----------------------------------------------------------------------------------------


def closed_tasks(op: PickOrder) -> set[int]:
    """Ids of the OP's tasks that are done or cancelled (read from the lines' loaded tasks)."""
    return {line.task_id for line in op.lines if line.task is not None and line.task.status in CLOSED_TASK}


def line_closed(line: PickOrderLine, closed: set[int]) -> bool:
    """Fully picked, or its task closed by an exception."""
    return line.picked_quantity >= line.quantity or (line.task_id is not None and line.task_id in closed)


def pick_state(op: PickOrder) -> PickState:
    """The current line (first open one in route order) and the step expected on it."""
    closed = closed_tasks(op)
    lines = list(op.lines)
    open_lines = [ln for ln in lines if not line_closed(ln, closed)]
    done = len(lines) - len(open_lines)
    if op.status == PickOrderStatus.DONE:
        return PickState(None, "done", done, len(lines))
    if not open_lines:
        return PickState(None, "drop", done, len(lines))
    line = open_lines[0]
    last = _last_good_step(op, line)
    return PickState(line, NEXT_STEP[last], done, len(lines))


def _last_good_step(op: PickOrder, line: PickOrderLine) -> str | None:
    return db.session.scalar(
        select(ScanEvent.step).where(ScanEvent.pick_order_id == op.id, ScanEvent.task_id == line.task_id,
                                     ScanEvent.flow == FLOW, ScanEvent.outcome.in_(GOOD),
                                     ScanEvent.step.in_((*STEPS, "exception")))
        .order_by(ScanEvent.id.desc()).limit(1)
    ) if line.task_id is not None else None


def _state_after(op: PickOrder, before: PickState, step: str) -> PickState:
    """The state once a good scan of `step` is applied, without asking the database again: lines after the
    current one have no scans yet (only the current line is ever scanned), so a new current line starts at its
    location."""
    closed = closed_tasks(op)
    lines = list(op.lines)
    open_lines = [ln for ln in lines if not line_closed(ln, closed)]
    done = len(lines) - len(open_lines)
    if op.status == PickOrderStatus.DONE:
        return PickState(None, "done", done, len(lines))
    if not open_lines:
        return PickState(None, "drop", done, len(lines))
    line = open_lines[0]
    if before.line is not None and line.id == before.line.id:
        return PickState(line, NEXT_STEP[step], done, len(lines))
    return PickState(line, NEXT_STEP[None], done, len(lines))


def _check_step(op: PickOrder, step: str, line_id: int | None) -> PickState:
    if op.status != PickOrderStatus.PICKING:
        raise _Refusal(_("Pick order %(op)s is %(status)s; nothing more can be scanned on it.", op=op.code,
                         status=op.status.value), conflict="op_not_picking")
    state = pick_state(op)
    if step == "drop":
        if state.step != "drop":
            raise _Refusal(_("Finish the lines first: line %(n)s of %(total)s is open.",
                             n=state.done_lines + 1, total=state.total_lines), expected=state.step)
        return state
    assert state.line is not None or state.step == "drop"
    if state.line is None:
        raise _Refusal(_("Every line is done: scan the sas drop point."), expected="drop", conflict="line_done")
    if line_id is not None and line_id != state.line.id:
        raise _Refusal(_("That line is already done; now go to %(loc)s.", loc=state.line.location.code),
                       expected=state.step, conflict="line_done", current_line_id=state.line.id)
    if step != "exception" and step != state.step:
        raise _Refusal(_("Scan the %(step)s first.", step=_step_name(state.step)), expected=state.step)
    return state


def _step_name(step: str) -> str:
    return {"location": _("location"), "item": _("item"), "tote": _("tote"), "quantity": _("quantity"),
            "drop": _("sas drop point")}.get(step, step)


def _run(op: PickOrder, ctx: ScanContext, step: str, code: str | None, line_id: int | None,
         apply: Any, *, savepoint: bool = False) -> ScanResult:
    """Check the step, then apply: a refusal or a domain error leaves only the ScanEvent. Steps whose refusals
    all come before their first write skip the savepoint; those that may fail half-way (exceptions, the drop)
    take one."""
    line = None
    try:
        state = _check_step(op, step, line_id)
        line = state.line
        if savepoint:
            with db.session.begin_nested():
                outcome, message, data = apply(state)
        else:
            outcome, message, data = apply(state)
    except _Refusal as refusal:
        event = record(ctx, op.warehouse_id, FLOW, step, code, ScanOutcome.REFUSED, refusal.message,
                       pick_order_id=op.id, task_id=line.task_id if line else None,
                       data={**refusal.data, **({"line_id": line.id} if line else {})})
        return ScanResult(ScanOutcome.REFUSED, refusal.message, event, pick_state(op), line)
    except DomainError as err:
        db.session.expire_all()
        event = record(ctx, op.warehouse_id, FLOW, step, code, ScanOutcome.REFUSED, err.detail,
                       pick_order_id=op.id, task_id=line.task_id if line else None,
                       data={"conflict": err.slug, **({"line_id": line.id} if line else {})})
        return ScanResult(ScanOutcome.REFUSED, err.detail, event, pick_state(op), line)
    event = record(ctx, op.warehouse_id, FLOW, step, code, outcome, message, pick_order_id=op.id,
                   task_id=line.task_id if line else None,
                   data={**data, **({"line_id": line.id} if line else {})})
    return ScanResult(outcome, message, event, _state_after(op, state, step), line)


# --- the scans ---------------------------------------------------------------------------------------------------


def scan_location(op: PickOrder, code: str, ctx: ScanContext, *, line_id: int | None = None) -> ScanResult:
    """The picker is at the line's lane: the pick-face label of exactly that lane."""
    def apply(state: PickState) -> tuple[ScanOutcome, str, dict[str, Any]]:
        assert state.line is not None
        want = state.line.location
        scanned = parse_location_scan(code)
        if scanned.face == Face.REPLENISH:
            raise _Refusal(_("This is the replenish-face label of %(loc)s; pickers scan the green pick-face "
                             "label of %(want)s.", loc=scanned.code, want=want.code), face="replenish")
        if scanned.code != want.code:
            raise _Refusal(_wrong_location_message(op, scanned.code, want), scanned=scanned.code)
        return ScanOutcome.ACCEPTED, _("Location %(loc)s.", loc=want.code), {}

    return _run(op, ctx, "location", code, line_id, apply)


def _wrong_location_message(op: PickOrder, code: str, want: Location) -> str:
    other = db.session.scalar(select(Location).where(Location.warehouse_id == op.warehouse_id,
                                                     Location.code == code))
    if other is None:
        return _("%(code)s is not a location label; go to %(want)s.", code=code, want=want.code)
    if other.zone_id != op.zone_id:
        zone = db.session.get(Zone, other.zone_id)
        return _("%(code)s is in zone %(zone)s, not on this route; go to %(want)s.", code=code,
                 zone=zone.code if zone else "?", want=want.code)
    return _("Wrong lane %(code)s; go to %(want)s.", code=code, want=want.code)


def product_for_code(code: str) -> Product | None:
    """The product one of whose barcodes (GTINs normalised) this is, else the product with this SKU."""
    try:
        normalized = parse(code).normalized
    except InvalidBarcode:
        normalized = None
    if normalized is not None:
        product = db.session.scalar(select(Product).join(Barcode, Barcode.product_id == Product.id)
                                    .where(Barcode.normalized == normalized))
        if product is not None:
            return product
    return db.session.scalar(select(Product).where(Product.sku == code.strip()))


def scan_item(op: PickOrder, code: str, ctx: ScanContext, *, line_id: int | None = None) -> ScanResult:
    """The item in hand is the line's product (any of its barcodes)."""
    def apply(state: PickState) -> tuple[ScanOutcome, str, dict[str, Any]]:
        assert state.line is not None
        want = state.line.product
        product = product_for_code(code)
        if product is None:
            raise _Refusal(_("%(code)s is no known item; this line takes %(sku)s %(name)s.", code=code,
                             sku=want.sku, name=want.name))
        if product.id != want.id:
            raise _Refusal(_("Wrong item %(sku)s %(name)s; this line takes %(want)s %(want_name)s.",
                             sku=product.sku, name=product.name, want=want.sku, want_name=want.name),
                           scanned_sku=product.sku)
        return ScanOutcome.ACCEPTED, _("Item %(sku)s.", sku=want.sku), {}

    return _run(op, ctx, "item", code, line_id, apply)


def scan_tote(op: PickOrder, code: str, ctx: ScanContext, *, line_id: int | None = None) -> ScanResult:
    """The tote the line goes into: the line's own tote, one of the OP's."""
    def apply(state: PickState) -> tuple[ScanOutcome, str, dict[str, Any]]:
        assert state.line is not None
        scanned = code.strip()
        totes = list(op.totes or [])
        want = state.line.tote
        if scanned not in totes and scanned != want:
            raise _Refusal(_("%(code)s is not a tote of pick order %(op)s.", code=scanned, op=op.code))
        if want and scanned != want:
            raise _Refusal(_("Tote %(code)s holds another order; put this line into tote %(want)s.",
                             code=scanned, want=want))
        return ScanOutcome.ACCEPTED, _("Tote %(code)s.", code=scanned), {}

    return _run(op, ctx, "tote", code, line_id, apply)


def confirm_quantity(op: PickOrder, quantity: int, ctx: ScanContext, *, line_id: int | None = None) -> ScanResult:
    """Take `quantity` units of the line: reservation consumed, ledger PICK, order line picked, task done."""
    def apply(state: PickState) -> tuple[ScanOutcome, str, dict[str, Any]]:
        line = state.line
        assert line is not None
        remaining = line.quantity - line.picked_quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= remaining:
            raise _Refusal(_("Enter between 1 and %(n)s units.", n=remaining), remaining=remaining)
        _pick_units(op, line, quantity, ctx)
        if line.picked_quantity >= line.quantity:
            _close_line(line, None)
        return (ScanOutcome.APPLIED, _("%(n)s × %(sku)s picked.", n=quantity, sku=line.product.sku),
                {"quantity": quantity})

    return _run(op, ctx, "quantity", str(quantity), line_id, apply)


def _locked_reservation(line: PickOrderLine) -> tuple[Reservation | None, Quant | None]:
    # The quant first, then the reservation: the order the lane exceptions lock them in too.
    if line.reservation_id is None:
        return None, None
    quant = db.session.scalar(select(Quant).join(Reservation, Reservation.quant_id == Quant.id)
                              .where(Reservation.id == line.reservation_id).with_for_update(of=Quant)
                              .execution_options(populate_existing=True))
    if quant is None:
        return None, None
    reservation = db.session.scalar(select(Reservation).where(Reservation.id == line.reservation_id)
                                    .with_for_update().execution_options(populate_existing=True))
    return reservation, quant


def _pick_units(op: PickOrder, line: PickOrderLine, units: int, ctx: ScanContext) -> None:
    reservation, quant = _locked_reservation(line)
    held = reservation.quantity if reservation is not None else 0
    if reservation is None or quant is None or held < units or quant.location_id != line.location_id:
        raise _Refusal(_("Only %(held)s units are still reserved for this line in %(loc)s: the stock was taken "
                         "meanwhile. Report a short pick if the lane is empty.", held=held,
                         loc=line.location.code), conflict="stock_taken", reserved=held)
    quant.on_hand -= units
    quant.reserved -= units
    if reservation.quantity == units:
        db.session.delete(reservation)
        line.reservation_id = None
    else:
        reservation.quantity -= units
    db.session.execute(update(OrderLine).where(OrderLine.id == line.order_line_id)
                       .values(picked=OrderLine.picked + units))
    line.picked_quantity += units
    db.session.add(LedgerEntry(product_id=line.product_id, location_id=line.location_id, delta_on_hand=-units,
                               delta_reserved=-units, reason=StockReason.PICK, actor_user_id=ctx.user.id,
                               idempotency_key=ctx.idempotency_key, reference=f"pick:{op.code}",
                               note=f"order line {line.order_line_id}"))
    db.session.flush()


def _close_line(line: PickOrderLine, note: str | None) -> None:
    if line.task_id is None:
        return
    task = db.session.get(Task, line.task_id)
    if task is not None and task.status not in CLOSED_TASK:
        task.status = TaskStatus.DONE
        task.done_quantity = line.picked_quantity
        task.finished_at = utcnow()
        if note:
            task.note = note
    db.session.flush()


# --- exceptions ---------------------------------------------------------------------------------------------------


def report_exception(op: PickOrder, kind: str, ctx: ScanContext, *, quantity: int = 0, code: str | None = None,
                     note: str | None = None, line_id: int | None = None) -> ScanResult:
    """Short pick (picks `quantity` found, lane counted to 0), empty lane, damaged (`quantity` units out of
    pickable stock), wrong item in the lane (`code` of what is there): stock updated, the supervisor told."""
    def apply(state: PickState) -> tuple[ScanOutcome, str, dict[str, Any]]:
        line = state.line
        assert line is not None
        if kind not in EXCEPTION_KINDS:
            raise _Refusal(_("Unknown exception %(kind)s.", kind=kind))
        remaining = line.quantity - line.picked_quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise _Refusal(_("Enter a whole number of units."))
        if kind == "damaged":
            return _damaged(op, line, quantity, note, ctx)
        found = quantity if kind == "short" else 0
        if found >= remaining:
            raise _Refusal(_("A short pick finds fewer than the %(n)s units asked; confirm the quantity "
                             "instead.", n=remaining))
        if found:
            _pick_units(op, line, found, ctx)
        what = {"short": _("short pick"), "empty": _("empty lane"), "wrong_item": _("wrong item in lane")}[kind]
        detail = f"{kind}: {line.product.sku} in {line.location.code}, found {found} of {remaining}"
        if code:
            detail += f", lane holds {code}"
        if note:
            detail += f" ({note})"
        released = _empty_lane(line, ctx, detail)
        _close_line(line, detail)
        message = _("%(what)s reported at %(loc)s: %(found)s picked, the lane is counted empty; the rest goes "
                    "back to allocation.", what=what, loc=line.location.code, found=found)
        return ScanOutcome.EXCEPTION, message, {"kind": kind, "found": found, "missing": remaining - found,
                                                "released": released, "lane_holds": code, "note": note}

    return _run(op, ctx, "exception", code or kind, line_id, apply, savepoint=True)


def _release(reservation: Reservation, quant: Quant, units: int, note: str) -> int:
    """Give `units` of a reservation back; returns the order id whose allocation shrank."""
    line = db.session.get(OrderLine, reservation.order_line_id)
    assert line is not None
    if units >= reservation.quantity:
        db.session.execute(update(PickOrderLine).where(PickOrderLine.reservation_id == reservation.id)
                           .values(reservation_id=None).execution_options(synchronize_session="fetch"))
        db.session.delete(reservation)
    else:
        reservation.quantity -= units
    quant.reserved -= units
    line.allocated -= units
    db.session.add(LedgerEntry(product_id=quant.product_id, location_id=quant.location_id, delta_reserved=-units,
                               reason=StockReason.RESERVATION, reference=f"order:{line.order_id}", note=note))
    return line.order_id


def _lane_quant(line: PickOrderLine) -> Quant | None:
    # the product's stock lock first (its pick-lane quants in quant order, docs/stock.md "Lock order"): the count
    # or the move to quarantine that follows locks them anyway, and in another order it would deadlock
    lock_stock([line.product_id], [line.location.warehouse_id], location_ids=[line.location_id])
    return db.session.scalar(select(Quant).where(Quant.product_id == line.product_id,
                                                 Quant.location_id == line.location_id)
                             .with_for_update().execution_options(populate_existing=True))


def _reservations_on(quant: Quant, first: int | None) -> list[Reservation]:
    rows = list(db.session.scalars(select(Reservation).where(Reservation.quant_id == quant.id)
                                   .order_by(Reservation.id).with_for_update()
                                   .execution_options(populate_existing=True)))
    return sorted(rows, key=lambda r: (r.id != first, r.id))


def _empty_lane(line: PickOrderLine, ctx: ScanContext, note: str) -> int:
    """Every reservation on the lane back to allocation, the lane counted to zero (COUNT ledger row)."""
    quant = _lane_quant(line)
    if quant is None:
        return 0
    released, orders = 0, set()
    for reservation in _reservations_on(quant, line.reservation_id):
        released += reservation.quantity
        orders.add(_release(reservation, quant, reservation.quantity, note))
    db.session.flush()
    if quant.on_hand:
        ops.change(line.product, line.location, -quant.on_hand, StockReason.COUNT,
                   ops.Actor(user=ctx.user, idempotency_key=ctx.idempotency_key), reference="handheld count",
                   note=note)
    _reallocate(orders)
    return released


def _reallocate(order_ids: set[int]) -> None:
    from wms.orders.services import allocate_order

    for order in db.session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)):
        allocate_order(order)


def _damaged(op: PickOrder, line: PickOrderLine, units: int, note: str | None,
             ctx: ScanContext) -> tuple[ScanOutcome, str, dict[str, Any]]:
    quant = _lane_quant(line)
    on_hand = quant.on_hand if quant else 0
    if units < 1 or quant is None or units > on_hand:
        raise _Refusal(_("Enter between 1 and %(n)s damaged units (what the lane holds).", n=on_hand))
    detail = f"damaged: {units} × {line.product.sku} in {line.location.code}" + (f" ({note})" if note else "")
    must_free = units - (quant.on_hand - quant.reserved)
    orders: set[int] = set()
    for reservation in _reservations_on(quant, line.reservation_id):
        if must_free <= 0:
            break
        take = min(must_free, reservation.quantity)
        orders.add(_release(reservation, quant, take, detail))
        must_free -= take
    db.session.flush()
    actor = ops.Actor(user=ctx.user, idempotency_key=ctx.idempotency_key)
    quarantine = db.session.scalar(select(Location).join(Zone, Zone.id == Location.zone_id)
                                   .where(Zone.warehouse_id == op.warehouse_id, Zone.kind == ZoneKind.QUARANTINE,
                                          Location.active.is_(True)).order_by(Location.code).limit(1))
    if quarantine is not None:
        ops.change(line.product, line.location, -units, StockReason.TRANSFER, actor, reference="damaged",
                   note=detail)
        ops.change(line.product, quarantine, units, StockReason.TRANSFER, actor, reference="damaged", note=detail)
    else:
        ops.change(line.product, line.location, -units, StockReason.ADJUSTMENT, actor, reference="damaged",
                   note=detail)
    _reallocate(orders)
    db.session.refresh(line)
    still = db.session.get(Reservation, line.reservation_id) if line.reservation_id else None
    if still is None and line.picked_quantity < line.quantity:
        _close_line(line, detail + "; nothing left to pick in this lane")
    where = quarantine.code if quarantine else _("out of stock")
    message = _("%(n)s damaged units moved to %(where)s.", n=units, where=where)
    return ScanOutcome.EXCEPTION, message, {"kind": "damaged", "damaged": units, "to": where, "note": note}


# --- the end of the OP ---------------------------------------------------------------------------------------------


def drop_points(warehouse_id: int) -> list[str]:
    """The codes of the warehouse's sas drop points (the locations of its sas zones), in code order: what the
    picker is told to scan at the end of an OP."""
    return list(db.session.scalars(select(Location.code).join(Zone, Zone.id == Location.zone_id)
                                   .where(Location.warehouse_id == warehouse_id, Zone.kind == ZoneKind.SAS)
                                   .order_by(Location.code)))


def drop_at_sas(op: PickOrder, code: str, ctx: ScanContext) -> ScanResult:
    """The totes are at a sas drop point: the OP is done; orders whose OPs are all done become picked."""
    def apply(state: PickState) -> tuple[ScanOutcome, str, dict[str, Any]]:
        scanned = parse_location_scan(code).code
        place = db.session.scalar(select(Location).join(Zone, Zone.id == Location.zone_id)
                                  .where(Location.warehouse_id == op.warehouse_id, Location.code == scanned))
        if place is None or place.zone.kind != ZoneKind.SAS:
            points = drop_points(op.warehouse_id)
            if points:
                raise _Refusal(_("%(code)s is not a sas drop point; scan %(points)s.", code=scanned,
                                 points=", ".join(points[:5])))
            raise _Refusal(_("%(code)s is not a sas drop point; scan a label in the sas.", code=scanned))
        op.status = PickOrderStatus.DONE
        op.finished_at = utcnow()
        db.session.flush()
        _finish_orders(op)
        _finish_wave(op)
        return ScanOutcome.APPLIED, _("Pick order %(op)s dropped at %(sas)s.", op=op.code, sas=place.code), {
            "sas": place.code}

    return _run(op, ctx, "drop", code, None, apply, savepoint=True)


def _finish_orders(op: PickOrder) -> None:
    for order in db.session.scalars(select(Order).where(Order.id.in_(_order_ids(op))).with_for_update()):
        open_ops = db.session.scalar(
            select(func.count(PickOrder.id.distinct())).join(PickOrderLine, PickOrderLine.pick_order_id == PickOrder.id)
            .join(OrderLine, OrderLine.id == PickOrderLine.order_line_id)
            .where(OrderLine.order_id == order.id, PickOrder.wave_id == op.wave_id,
                   PickOrder.status.not_in((PickOrderStatus.DONE, PickOrderStatus.CANCELLED))))
        if open_ops:
            continue
        lines = list(order.lines)
        before = order.status
        if all(ln.picked >= ln.quantity for ln in lines):
            order.status = OrderStatus.PICKED
        elif all(ln.allocated >= ln.quantity for ln in lines):
            order.status = OrderStatus.ALLOCATED  # the rest was re-allocated elsewhere: a next wave takes it
        else:
            order.status = OrderStatus.BACKORDERED
        if order.status != before:
            outbox.order_status_changed(order)  # the channel hears "picked" (or why not) with this transaction
    db.session.flush()


def _finish_wave(op: PickOrder) -> None:
    from wms.waves.services import mark_done

    wave = db.session.get(Wave, op.wave_id)
    if wave is None or wave.status != WaveStatus.PICKING:
        return
    if all(o.status in (PickOrderStatus.DONE, PickOrderStatus.CANCELLED) for o in wave.pick_orders):
        mark_done(wave)


STEP_FUNCTIONS = {"location": scan_location, "item": scan_item, "tote": scan_tote}
