"""Stock per product per location, and the append-only ledger every change writes to."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import StockReason, enum_column


class Quant(Base):
    """On-hand and reserved units of one product in one location; available = on_hand - reserved."""

    __tablename__ = "quants"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id", ondelete="RESTRICT"), index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)

    product = relationship("Product")
    location = relationship("Location")

    __table_args__ = (
        sa.UniqueConstraint("product_id", "location_id"),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class LedgerEntry(Base):
    """One stock change. Rows are never updated or deleted (a database trigger refuses it)."""

    __tablename__ = "stock_ledger"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id", ondelete="RESTRICT"), index=True)
    delta_on_hand: Mapped[int] = mapped_column(default=0)
    delta_reserved: Mapped[int] = mapped_column(default=0)
    reason: Mapped[StockReason] = mapped_column(enum_column(StockReason, "stock_reason"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    actor_token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id", ondelete="RESTRICT"))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    reference: Mapped[str | None] = mapped_column(sa.String(120))
    note: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint("delta_on_hand <> 0 OR delta_reserved <> 0", name="changes_something"),
    )
