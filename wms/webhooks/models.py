"""Transactional outbox: events written with the change that caused them, delivered later, logged per attempt."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow


class WebhookEvent(Base):
    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(sa.String(64), comment="stock.changed, order.status_changed, ...")
    object_key: Mapped[str] = mapped_column(sa.String(120), comment="events of one object are delivered in order")
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="event", order_by="WebhookDelivery.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_webhook_events_pending", "channel_id", "object_key", "id", postgresql_where=sa.text(
            "delivered_at IS NULL"), sqlite_where=sa.text("delivered_at IS NULL")),
        sa.Index("ix_webhook_events_due", "next_attempt_at", postgresql_where=sa.text("delivered_at IS NULL"),
                 sqlite_where=sa.text("delivered_at IS NULL")),
    )


class WebhookDelivery(Base):
    """One attempt to deliver one event: what the receiver answered, or why it could not."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int]

    event: Mapped[WebhookEvent] = relationship(back_populates="deliveries")
