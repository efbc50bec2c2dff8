"""Put-away and receiving on the handheld: each scan checked, recorded in the audit trail, refused or applied.

Put-away steps per task: lane (its replenish-face label ``R:`` + code; the pick-face label is refused) → item
(any barcode or the SKU) → quantity (``complete_putaway`` moves the units dock → lane with the ledger).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from wms.auth.models import User
from wms.db import db
from wms.enums import Role, TaskStatus
from wms.errors import DomainError, Forbidden, NotFound
from wms.inbound import putaway
from wms.inbound import receiving as rcv
from wms.inbound.models import Receipt, ReceiptLine
from wms.layout.models import Location
from wms.picking.context import ScanContext, record
from wms.picking.models import ScanEvent, ScanOutcome
from wms.picking.text import _
from wms.tasks.models import Task

FLOW = "putaway"
RECEIVE_FLOW = "receive"
NEXT_STEP = {None: "lane", "lane": "item", "item": "quantity"}
GOOD = (ScanOutcome.ACCEPTED, ScanOutcome.APPLIED)
OPEN = (TaskStatus.OPEN, TaskStatus.ASSIGNED)


@dataclass(frozen=True)
class FlowResult:
    outcome: ScanOutcome
    message: str
    event: ScanEvent
    step: str


def require_receiver(user: User) -> None:
    """Receiving and put-away are a receiver's work."""
    if Role.RECEIVER not in user.roles:
        raise Forbidden(_("Only receivers put away: lanes are filled from the replenish face by a receiver."))


def my_tasks(user: User, limit: int = 50) -> list[Task]:
    """Put-away tasks given to me, then open ones nobody took, in my warehouses; oldest first."""
    require_receiver(user)
    from wms.enums import TaskKind

    stmt = (select(Task).where(Task.kind == TaskKind.PUTAWAY, Task.status.in_(OPEN),
                               (Task.assignee_id == user.id) | Task.assignee_id.is_(None))
            .order_by(Task.assignee_id.is_(None), Task.id).limit(limit))
    if user.warehouse_ids is not None:
        stmt = stmt.where(Task.warehouse_id.in_(user.warehouse_ids))
    return list(db.session.scalars(stmt))


def lock_task(task_id: int, user: User) -> Task:
    """The put-away task locked, or 404 when it is not in the person's warehouses."""
    require_receiver(user)
    task = putaway.lock_task(task_id)
    if user.warehouse_ids is not None and task.warehouse_id not in user.warehouse_ids:
        raise NotFound(_("No put-away task %(id)s.", id=task_id))
    return task


def task_step(task: Task) -> str:
    """The step expected next on a put-away task (done once it is closed)."""
    if task.status not in OPEN:
        return "done"
    last = db.session.scalar(select(ScanEvent.step).where(ScanEvent.task_id == task.id, ScanEvent.flow == FLOW,
                                                          ScanEvent.outcome.in_(GOOD))
                             .order_by(ScanEvent.id.desc()).limit(1))
    return NEXT_STEP.get(last, "quantity")


def _step_name(step: str) -> str:
    return {"lane": _("lane (replenish face)"), "item": _("item"), "quantity": _("quantity")}.get(step, step)


def scan_task(task: Task, step: str, ctx: ScanContext, *, code: str | None = None,
              quantity: int | None = None) -> FlowResult:
    """One scan of the put-away flow; a wrong one is refused and recorded, nothing moved."""
    shown = code if code is not None else str(quantity)
    try:
        with db.session.begin_nested():
            outcome, message = _apply(task, step, ctx, code, quantity)
    except DomainError as err:
        event = record(ctx, task.warehouse_id, FLOW, step, shown, ScanOutcome.REFUSED, err.detail,
                       task_id=task.id, data={"conflict": err.slug})
        return FlowResult(ScanOutcome.REFUSED, err.detail, event, task_step(task))
    event = record(ctx, task.warehouse_id, FLOW, step, shown, outcome, message, task_id=task.id,
                   data={"quantity": quantity} if quantity is not None else {})
    return FlowResult(outcome, message, event, task_step(task))


class _OutOfStep(DomainError):
    status = 409
    slug = "out-of-step"
    title = "Scan out of step"


def _apply(task: Task, step: str, ctx: ScanContext, code: str | None,
           quantity: int | None) -> tuple[ScanOutcome, str]:
    if task.status not in OPEN:
        raise _OutOfStep(_("Task %(id)s is %(status)s; nothing more can be scanned on it.", id=task.id,
                           status=task.status.value))
    if task.assignee_id is not None and task.assignee_id != ctx.user.id:
        raise _OutOfStep(_("Task %(id)s is someone else's.", id=task.id))
    expected = task_step(task)
    if step != expected:
        raise _OutOfStep(_("Scan the %(step)s first.", step=_step_name(expected)))
    lane = db.session.get(Location, task.location_id)
    assert lane is not None
    if step == "lane":
        putaway.check_lane_scan(task, code or "")
        return ScanOutcome.ACCEPTED, _("Lane %(loc)s, replenish face.", loc=lane.code)
    if step == "item":
        product = putaway.check_item_scan(task, code or "")
        return ScanOutcome.ACCEPTED, f"{product.sku} · {product.name}"
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise _OutOfStep(_("Enter the number of units you put in the lane."))
    from wms.catalog.models import Product

    product = db.session.get(Product, task.product_id)
    assert product is not None
    putaway.complete_putaway(task, ctx.user, lane_scan="R:" + lane.code, item_scan=product.sku, quantity=quantity,
                             idempotency_key=ctx.idempotency_key)
    return ScanOutcome.APPLIED, _("%(n)s units put into %(loc)s.", n=quantity, loc=lane.code)


# --- receiving ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiveResult:
    outcome: ScanOutcome
    message: str
    event: ScanEvent
    line: ReceiptLine | None


def receive_scan(receipt: Receipt, what: rcv.Receiving, ctx: ScanContext) -> ReceiveResult:
    """Receive what one scan declares; a refusal (unknown item, over-receipt, lot missing) is recorded, not applied."""
    try:
        with db.session.begin_nested():
            line = rcv.receive(receipt, what, ctx.user, idempotency_key=ctx.idempotency_key)
    except DomainError as err:
        db.session.expire_all()
        data = {k: v for k, v in err.extra.items() if isinstance(v, (int, str))}
        event = record(ctx, receipt.warehouse_id, RECEIVE_FLOW, "item", what.code, ScanOutcome.REFUSED, err.detail,
                       data={"conflict": err.slug, **data, "errors": err.errors})
        return ReceiveResult(ScanOutcome.REFUSED, err.detail, event, None)
    message = _("%(n)s × %(sku)s received.", n=what.quantity, sku=line.product.sku)
    event = record(ctx, receipt.warehouse_id, RECEIVE_FLOW, "item", what.code, ScanOutcome.APPLIED, message,
                   data={"quantity": what.quantity, "receipt_line_id": line.id, "lot_code": line.lot_code})
    return ReceiveResult(ScanOutcome.APPLIED, message, event, line)
