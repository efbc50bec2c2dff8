"""Waves, their pick orders (OP) per rack zone with lines in route order, and time slots on shared resources.

Slots on one resource never overlap. The services check first to give a clear message; the database is the
guarantee: PostgreSQL has an ``EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)``
constraint (btree_gist) and SQLite has BEFORE INSERT/UPDATE triggers; both are created by the migration, not by the
model (see migrations/versions/*_waves_print_jobs.py). Ranges are half-open, so back-to-back slots are allowed.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import enum_column

SLOT_EXCLUSION_NAME = "ex_time_slots_no_overlap"


class WaveStatus(StrEnum):
    DRAFT = "draft"
    PLANNED = "planned"
    RELEASED = "released"
    PICKING = "picking"
    DONE = "done"
    CANCELLED = "cancelled"


class PickOrderStatus(StrEnum):
    PLANNED = "planned"
    RELEASED = "released"
    PICKING = "picking"
    DONE = "done"
    CANCELLED = "cancelled"


class SlotKind(StrEnum):
    PICK = "pick"
    REPLENISH = "replenish"
    RECEIVE = "receive"
    PACK = "pack"
    DOCK = "dock"
    OTHER = "other"


class Wave(Base):
    __tablename__ = "waves"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[WaveStatus] = mapped_column(enum_column(WaveStatus, "wave_status"), default=WaveStatus.DRAFT)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="earliest start of the plan")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, comment="capacities, speeds, options")
    summary: Mapped[dict[str, Any]] = mapped_column(
        sa.JSON, default=dict, comment="planner figures and warnings (cutoffs that cannot be met, ...)"
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    planned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    orders: Mapped[list[WaveOrder]] = relationship(back_populates="wave", cascade="all, delete-orphan")
    pick_orders: Mapped[list[PickOrder]] = relationship(
        back_populates="wave", order_by="PickOrder.seq", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "code"),
        sa.UniqueConstraint("id", "warehouse_id"),
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
    )


class WaveOrder(Base):
    """An order taken into a wave. An order is in at most one wave that is not cancelled or done."""

    __tablename__ = "wave_orders"

    wave_id: Mapped[int] = mapped_column(sa.ForeignKey("waves.id", ondelete="CASCADE"), primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(default=True, comment="false once the wave is cancelled")
    batch_no: Mapped[int | None] = mapped_column(comment="the pick batch (cart) the order went to")

    wave: Mapped[Wave] = relationship(back_populates="orders")
    order = relationship("Order")

    __table_args__ = (
        sa.Index("uq_wave_orders_active_order", "order_id", unique=True,
                 postgresql_where=sa.text("active"), sqlite_where=sa.text("active")),
    )


class PickOrder(Base):
    """One OP: the lines of one batch in one rack zone, in route order, printed at the head of that zone."""

    __tablename__ = "pick_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(index=True)
    wave_id: Mapped[int] = mapped_column(index=True)
    zone_id: Mapped[int] = mapped_column(index=True)
    code: Mapped[str] = mapped_column(sa.String(32), comment="printed as a barcode on the OP")
    seq: Mapped[int] = mapped_column(default=0)
    batch_no: Mapped[int] = mapped_column(default=0)
    status: Mapped[PickOrderStatus] = mapped_column(
        enum_column(PickOrderStatus, "pick_order_status"), default=PickOrderStatus.PLANNED
    )
    route_length_m: Mapped[float] = mapped_column(sa.Float, default=0.0)
    estimated_seconds: Mapped[float] = mapped_column(sa.Float, default=0.0)
    totes: Mapped[list[str]] = mapped_column(sa.JSON, default=list, comment="tote codes, consolidated at the sas")
    picker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    wave: Mapped[Wave] = relationship(back_populates="pick_orders")
    zone = relationship("Zone", primaryjoin="PickOrder.zone_id == Zone.id", foreign_keys=[zone_id], viewonly=True)
    lines: Mapped[list[PickOrderLine]] = relationship(
        back_populates="pick_order", order_by="PickOrderLine.seq", cascade="all, delete-orphan"
    )
    slots: Mapped[list[TimeSlot]] = relationship(back_populates="pick_order")
    tote_rows: Mapped[list[Tote]] = relationship(back_populates="pick_order", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "code"),
        sa.ForeignKeyConstraint(["wave_id", "warehouse_id"], ["waves.id", "waves.warehouse_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["zone_id", "warehouse_id"], ["zones.id", "zones.warehouse_id"], ondelete="RESTRICT"),
        sa.CheckConstraint("route_length_m >= 0 AND estimated_seconds >= 0", name="figures_not_negative"),
    )


class PickOrderLine(Base):
    """One stop of an OP: a quantity of a product taken from one lane for one order line, in route order."""

    __tablename__ = "pick_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    pick_order_id: Mapped[int] = mapped_column(sa.ForeignKey("pick_orders.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(comment="position along the route, 0 first")
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="RESTRICT"), index=True)
    reservation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("reservations.id", ondelete="SET NULL"))
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id", ondelete="RESTRICT"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int]
    picked_quantity: Mapped[int] = mapped_column(default=0)
    tote: Mapped[str | None] = mapped_column(sa.String(32))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tasks.id", ondelete="SET NULL"), unique=True)

    pick_order: Mapped[PickOrder] = relationship(back_populates="lines")
    order_line = relationship("OrderLine")
    location = relationship("Location")
    product = relationship("Product")
    task = relationship("Task")

    __table_args__ = (
        sa.UniqueConstraint("pick_order_id", "seq"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_within_quantity"),
    )


class Tote(Base):
    """One order's tote on the cart of one OP. Its code names it among every live tote: two live totes never share
    a code (a partial unique index), so a tote scanned at a pack station is one order. A tote is live from
    planning until its order is packed or its wave cancelled; replanning deletes it with its OP."""

    __tablename__ = "totes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), comment="as on the OP: W<wave id>-<batch>-<cart position>-<zone>")
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    pick_order_id: Mapped[int] = mapped_column(sa.ForeignKey("pick_orders.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    live: Mapped[bool] = mapped_column(default=True, comment="false once its order is packed or its wave cancelled")

    pick_order: Mapped[PickOrder] = relationship(back_populates="tote_rows")

    __table_args__ = (
        sa.Index("uq_totes_live_code", "code", unique=True,
                 postgresql_where=sa.text("live"), sqlite_where=sa.text("live")),
        sa.UniqueConstraint("pick_order_id", "order_id"),
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
    )


class TimeSlot(Base):
    """A resource (aisle, dock door, pack station, sas) booked for ``[starts_at, ends_at)``."""

    __tablename__ = "time_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SlotKind] = mapped_column(enum_column(SlotKind, "slot_kind"))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    wave_id: Mapped[int | None] = mapped_column(sa.ForeignKey("waves.id", ondelete="CASCADE"), index=True)
    pick_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pick_orders.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    resource = relationship("Resource")
    pick_order: Mapped[PickOrder | None] = relationship(back_populates="slots")

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_time_slots_resource_starts", "resource_id", "starts_at"),
    )
