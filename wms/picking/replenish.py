"""Replenishment on the handheld: take from the reserve, scan the lane from its replenish face, report the units.

Steps per task: source (the reserve location) → lane (the replenish-face label, ``R:`` + code; the pick-face label
is refused) → quantity (``complete_replenishment`` moves the units with the ledger and closes the task).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from wms.auth.models import User
from wms.db import db
from wms.enums import Face, Role, TaskKind, TaskStatus
from wms.errors import DomainError, Forbidden, NotFound
from wms.layout.models import Location
from wms.picking.context import ScanContext, record
from wms.picking.faces import parse_location_scan
from wms.picking.models import ScanEvent, ScanOutcome
from wms.picking.text import _
from wms.tasks.models import Task
from wms.tasks.services import assign_task

FLOW = "replenish"
NEXT_STEP = {None: "source", "source": "lane", "lane": "quantity"}
GOOD = (ScanOutcome.ACCEPTED, ScanOutcome.APPLIED)
OPEN = (TaskStatus.OPEN, TaskStatus.ASSIGNED)


@dataclass(frozen=True)
class TaskScanResult:
    outcome: ScanOutcome
    message: str
    event: ScanEvent
    step: str


class _Refusal(Exception):
    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


def _require_receiver(user: User) -> None:
    if Role.RECEIVER not in user.roles:
        raise Forbidden(_("Only receivers replenish: lanes are filled from the replenish face by a receiver."))


def my_tasks(user: User, limit: int = 50) -> list[Task]:
    """Replenishment tasks given to me, then open ones nobody took, in my warehouses; oldest first."""
    _require_receiver(user)
    stmt = (select(Task).where(Task.kind == TaskKind.REPLENISH, Task.status.in_(OPEN),
                               or_(Task.assignee_id == user.id, Task.assignee_id.is_(None)))
            .order_by(Task.assignee_id.is_(None), Task.id).limit(limit))
    if user.warehouse_ids is not None:
        stmt = stmt.where(Task.warehouse_id.in_(user.warehouse_ids))
    return list(db.session.scalars(stmt))


def lock_task(task_id: int, user: User) -> Task:
    """The replenishment task row locked, or 404 when it is not in the person's warehouses."""
    _require_receiver(user)
    task = db.session.scalar(select(Task).where(Task.id == task_id).with_for_update()
                             .execution_options(populate_existing=True))
    if task is None or task.kind != TaskKind.REPLENISH or (
            user.warehouse_ids is not None and task.warehouse_id not in user.warehouse_ids):
        raise NotFound(_("No replenishment task %(id)s.", id=task_id))
    return task


def task_step(task: Task) -> str:
    """The step expected next on a task (done once it is closed)."""
    if task.status not in OPEN:
        return "done"
    last = db.session.scalar(select(ScanEvent.step).where(ScanEvent.task_id == task.id, ScanEvent.flow == FLOW,
                                                          ScanEvent.outcome.in_(GOOD))
                             .order_by(ScanEvent.id.desc()).limit(1))
    return NEXT_STEP.get(last, "quantity")


def scan_task(task: Task, step: str, ctx: ScanContext, *, code: str | None = None,
              quantity: int | None = None) -> TaskScanResult:
    """One scan of the replenishment flow; a wrong one is refused and recorded, nothing moved."""
    try:
        outcome, message = _apply(task, step, ctx, code, quantity)
    except _Refusal as refusal:
        event = record(ctx, task.warehouse_id, FLOW, step, code if code is not None else str(quantity),
                       ScanOutcome.REFUSED, refusal.message, task_id=task.id, data=refusal.data)
        return TaskScanResult(ScanOutcome.REFUSED, refusal.message, event, task_step(task))
    except DomainError as err:
        db.session.expire_all()
        event = record(ctx, task.warehouse_id, FLOW, step, code if code is not None else str(quantity),
                       ScanOutcome.REFUSED, err.detail, task_id=task.id, data={"conflict": err.slug})
        return TaskScanResult(ScanOutcome.REFUSED, err.detail, event, task_step(task))
    event = record(ctx, task.warehouse_id, FLOW, step, code if code is not None else str(quantity), outcome,
                   message, task_id=task.id, data={"quantity": quantity} if quantity is not None else {})
    return TaskScanResult(outcome, message, event, task_step(task))


def _apply(task: Task, step: str, ctx: ScanContext, code: str | None,
           quantity: int | None) -> tuple[ScanOutcome, str]:
    if task.status not in OPEN:
        raise _Refusal(_("Task %(id)s is %(status)s; nothing more can be scanned on it.", id=task.id,
                         status=task.status.value), conflict="task_closed")
    if task.assignee_id is not None and task.assignee_id != ctx.user.id:
        raise _Refusal(_("Task %(id)s is someone else's.", id=task.id), conflict="assigned_elsewhere")
    expected = task_step(task)
    if step != expected:
        raise _Refusal(_("Scan the %(step)s first.", step=_step_name(expected)), expected=expected)
    if step == "source":
        source = db.session.get(Location, task.source_location_id) if task.source_location_id else None
        scanned = parse_location_scan(code or "").code
        if source is None or scanned != source.code:
            raise _Refusal(_("Take the units from %(want)s, not %(code)s.",
                             want=source.code if source else "?", code=scanned))
        if task.assignee_id is None:
            assign_task(task, ctx.user)
        return ScanOutcome.ACCEPTED, _("Reserve %(loc)s.", loc=source.code)
    lane = db.session.get(Location, task.location_id)
    assert lane is not None
    if step == "lane":
        scanned = parse_location_scan(code or "")
        if scanned.face == Face.PICK and scanned.code == lane.code:
            raise _Refusal(_("This is the pick-face label of %(loc)s. Lanes are filled from the replenish "
                             "aisle: scan the orange REPLENISH FACE label.", loc=lane.code), face="pick")
        if scanned.code != lane.code:
            raise _Refusal(_("Wrong lane %(code)s; this task fills %(want)s.", code=scanned.code,
                             want=lane.code))
        return ScanOutcome.ACCEPTED, _("Lane %(loc)s, replenish face.", loc=lane.code)
    from wms.replenishment.services import complete_replenishment

    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise _Refusal(_("Enter the number of units you put in the lane."))
    with db.session.begin_nested():
        complete_replenishment(task, ctx.user, quantity, idempotency_key=ctx.idempotency_key)
    return ScanOutcome.APPLIED, _("%(n)s units put into %(loc)s.", n=quantity, loc=lane.code)


def _step_name(step: str) -> str:
    return {"source": _("reserve location"), "lane": _("lane (replenish face)"),
            "quantity": _("quantity")}.get(step, step)
