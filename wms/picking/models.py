"""The audit trail of handheld work: every scan and decision, with the person, the device and the outcome."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import enum_column


class ScanOutcome(StrEnum):
    APPLIED = "applied"      # the scan changed something (stock, a task, a line)
    ACCEPTED = "accepted"    # a step of a flow (location confirmed, tote scanned) with no stock change yet
    REFUSED = "refused"      # wrong location, wrong item, over-scan...: nothing applied, the device told why
    EXCEPTION = "exception"  # short pick, empty lane, damaged, wrong item found: reported to the supervisor


class ScanEvent(Base):
    __tablename__ = "scan_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    scanned_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="when the device says the scan was made (it may have been offline)"
    )
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    device_id: Mapped[str | None] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    flow: Mapped[str] = mapped_column(sa.String(32), comment="pick, putaway, replenish, pack, receive, ...")
    step: Mapped[str] = mapped_column(sa.String(32), comment="location, item, quantity, tote, drop, exception, ...")
    code: Mapped[str | None] = mapped_column(sa.String(200), comment="what was scanned or typed")
    outcome: Mapped[ScanOutcome] = mapped_column(enum_column(ScanOutcome, "scan_outcome"))
    message: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    task_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tasks.id", ondelete="SET NULL"))
    pick_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pick_orders.id", ondelete="SET NULL"), index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="exceptions: when a supervisor dealt with it"
    )
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.Index("ix_scan_events_open_exceptions", "warehouse_id", "outcome", "resolved_at"),
        # The handheld reads a line's last good step: newest event of a task, without sorting all of them.
        sa.Index("ix_scan_events_task_id_id", "task_id", "id"),
    )
