"""Create and assign lane work, refusing any that would put a role on the wrong face of a rack."""

from __future__ import annotations

from wms.auth.models import User
from wms.db import db
from wms.enums import FACE_OF_ROLE, FACE_OF_TASK, Role, TaskKind, TaskStatus
from wms.errors import LaneOnWrongFace, ValidationFailed
from wms.layout.models import Location
from wms.tasks.models import Task


def role_for_task(kind: TaskKind) -> Role:
    """Pick work goes to pickers (front face); put-away and replenishment to receivers (back face)."""
    return Role.PICKER if FACE_OF_TASK[kind].value == "pick" else Role.RECEIVER


def create_task(location: Location, kind: TaskKind, *, product_id: int | None = None,
                quantity: int | None = None) -> Task:
    """Open a task on a lane, reached from the face its kind requires."""
    face = FACE_OF_TASK[kind]
    lane_face = location.face(face)
    if lane_face is None:
        raise LaneOnWrongFace(f"Location {location.code} has no {face.value} face; {kind.value} work is done "
                              "only on rack lanes.")
    if quantity is not None and quantity <= 0:
        raise ValidationFailed("A task quantity is a positive whole number.",
                               errors=[{"field": "quantity", "message": "must be > 0"}])
    task = Task(warehouse_id=location.warehouse_id, kind=kind, location_id=location.id, face=face,
                aisle_id=lane_face.aisle_id, product_id=product_id, quantity=quantity)
    db.session.add(task)
    db.session.flush()
    return task


def assign_task(task: Task, user: User) -> Task:
    """Give a task to a person whose role works that face; a picker never gets back-face work, nor a receiver front."""
    role = role_for_task(task.kind)
    if role not in user.roles:
        held = ", ".join(sorted(r.value for r in user.roles)) or "no role"
        raise LaneOnWrongFace(
            f"{user.display_name} ({held}) cannot do {task.kind.value} work: it is done from the "
            f"{task.face.value} face by a {role.value}.",
        )
    if FACE_OF_ROLE[role] != task.face:
        raise LaneOnWrongFace(f"A {role.value} works the {FACE_OF_ROLE[role].value} face, not {task.face.value}.")
    task.assignee_id = user.id
    task.assignee_role = role
    task.status = TaskStatus.ASSIGNED
    db.session.flush()
    return task
