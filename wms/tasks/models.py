"""Work on a lane, done from one face by one role. The schema cannot express a receiver on a pick face."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import Face, Role, TaskKind, TaskStatus, enum_column


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TaskKind] = mapped_column(enum_column(TaskKind, "task_kind"))
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus, "task_status"), default=TaskStatus.OPEN)
    location_id: Mapped[int] = mapped_column(index=True)
    face: Mapped[Face] = mapped_column(enum_column(Face, "face"))
    aisle_id: Mapped[int]
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int | None]
    assignee_id: Mapped[int | None] = mapped_column(index=True)
    assignee_role: Mapped[Role | None] = mapped_column(enum_column(Role, "role"))
    source_location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("locations.id", ondelete="RESTRICT"), comment="replenishment: the reserve location to take from"
    )
    receipt_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("receipt_lines.id", ondelete="RESTRICT"), index=True,
        comment="put-away: the received units this task stores")
    done_quantity: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    location = relationship("Location", foreign_keys=[location_id], primaryjoin="Task.location_id == Location.id",
                            viewonly=True)
    source_location = relationship("Location", foreign_keys=[source_location_id])

    __table_args__ = (
        # The lane must really be reached from this face through this aisle.
        sa.ForeignKeyConstraint(
            ["location_id", "face", "aisle_id"],
            ["location_faces.location_id", "location_faces.face", "location_faces.aisle_id"],
            ondelete="CASCADE",
        ),
        # The assignee must really hold the role the task is given under.
        sa.ForeignKeyConstraint(
            ["assignee_id", "assignee_role"], ["user_roles.user_id", "user_roles.role"], ondelete="RESTRICT"
        ),
        sa.CheckConstraint(
            "(kind = 'pick' AND face = 'pick') OR (kind IN ('putaway', 'replenish') AND face = 'replenish')",
            name="face_matches_kind",
        ),
        sa.CheckConstraint(
            "assignee_id IS NULL OR (face = 'pick' AND assignee_role = 'picker')"
            " OR (face = 'replenish' AND assignee_role = 'receiver')",
            name="role_matches_face",
        ),
        sa.CheckConstraint("(assignee_id IS NULL) = (assignee_role IS NULL)", name="assignee_has_role"),
        sa.CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("receipt_line_id IS NULL OR kind = 'putaway'", name="receipt_line_only_for_putaway"),
        sa.CheckConstraint("done_quantity IS NULL OR done_quantity >= 0", name="done_quantity_not_negative"),
        # One open replenishment per lane and product: two planners at once cannot both refill the same lane.
        sa.Index("uq_tasks_open_replenish", "location_id", "product_id", unique=True,
                 postgresql_where=sa.text("kind = 'replenish' AND status IN ('open', 'assigned')"),
                 sqlite_where=sa.text("kind = 'replenish' AND status IN ('open', 'assigned')")),
        sa.CheckConstraint(
            "source_location_id IS NULL OR (kind IN ('replenish', 'putaway') AND source_location_id <> location_id)",
            name="source_only_for_moves",
        ),
    )
