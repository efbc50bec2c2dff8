"""A channel's platform connection and what syncing it keeps: listings (the SKU mapping), source documents,
held orders, fulfilments to write back, and the sync log.

The `channels` table (wms.orders.models.Channel) stays the channel record; a connected channel has one
ChannelConnection saying which platform it is on and how to reach it (docs/channels.md).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.crypto import EncryptedString
from wms.db import Base, UTCDateTime, utcnow

PLATFORM_KINDS = ("prestashop", "woocommerce", "shopify", "mirakl", "amazon")
SYNC_DIRECTIONS = ("pull", "push", "fulfilment", "webhook", "reconcile", "accept", "connect", "import")
FULFILMENT_STATES = ("pending", "sent", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class ChannelConnection(Base):
    """How to reach a channel's platform, what to sync with it and where its sync stands."""

    __tablename__ = "channel_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16), comment="the platform: prestashop, woocommerce, ...")
    base_url: Mapped[str] = mapped_column(sa.String(500))
    credentials_json: Mapped[str] = mapped_column(
        EncryptedString("channel-credentials", 4000),
        comment="the platform's keys/tokens as JSON, encrypted (wms.crypto)")
    options: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, comment="non-secret settings")
    webhook_secret: Mapped[str | None] = mapped_column(
        EncryptedString("channel-credentials", 600),
        comment="the key the platform signs its webhooks with, encrypted (wms.crypto)")
    buffer_units: Mapped[int] = mapped_column(default=0)
    buffer_percent: Mapped[int] = mapped_column(default=0)
    cap_percent: Mapped[int | None] = mapped_column(comment="the share of on-hand stock the channel may sell")
    orders_enabled: Mapped[bool] = mapped_column(default=True)
    stock_enabled: Mapped[bool] = mapped_column(default=True)
    fulfilments_enabled: Mapped[bool] = mapped_column(default=True)
    refuse_unknown_skus: Mapped[bool] = mapped_column(
        default=True, comment="refuse (not hold) orders awaiting acceptance that name an unmapped listing")
    order_checkpoint: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="the newest updated_at of the last completed pull pass")
    order_cursor: Mapped[str | None] = mapped_column(sa.String(2000), comment="the page a pull pass stopped at")
    pass_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="updated_since of the open pass")
    pass_max_updated_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="the newest updated_at seen so far by the open pass")
    last_pull_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_fulfilment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_reconcile_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    channel = relationship("Channel")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", PLATFORM_KINDS), name="kind_known"),
        sa.CheckConstraint("base_url <> ''", name="base_url_not_empty"),
        sa.CheckConstraint("buffer_units >= 0", name="buffer_units_not_negative"),
        sa.CheckConstraint("buffer_percent >= 0 AND buffer_percent <= 100", name="buffer_percent_range"),
        sa.CheckConstraint("cap_percent IS NULL OR (cap_percent >= 0 AND cap_percent <= 100)",
                           name="cap_percent_range"),
        sa.CheckConstraint("consecutive_failures >= 0", name="failures_not_negative"),
    )

    @property
    def credentials(self) -> dict[str, str]:
        return json.loads(self.credentials_json or "{}")

    @credentials.setter
    def credentials(self, value: dict[str, str]) -> None:
        self.credentials_json = json.dumps(dict(value), sort_keys=True)


class ChannelWarehouse(Base):
    """A warehouse whose stock a channel sells (its own warehouse by default)."""

    __tablename__ = "channel_warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)

    warehouse = relationship("Warehouse")

    __table_args__ = (sa.UniqueConstraint("channel_id", "warehouse_id"),)


class ChannelListing(Base):
    """One listing of the channel (product, variant, offer) and the SKU of ours it sells; unmapped when none.

    `dirty` says its available stock moved since the last push; `dirty_version` grows on every change, so a
    push clears only what it carried (a change during the push keeps the listing dirty).
    """

    __tablename__ = "channel_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(sa.String(200), comment="the channel's id of the listing")
    channel_sku: Mapped[str | None] = mapped_column(sa.String(100), comment="the SKU the listing carries there")
    title: Mapped[str | None] = mapped_column(sa.String(300))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"), index=True)
    channel_quantity: Mapped[int | None] = mapped_column(comment="what the channel said it held, last time")
    last_pushed_qty: Mapped[int | None]
    last_pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(sa.Text)
    dirty: Mapped[bool] = mapped_column(default=False)
    dirty_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dirty_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    product = relationship("Product")

    __table_args__ = (
        sa.UniqueConstraint("channel_id", "item_key"),
        sa.CheckConstraint("item_key <> ''", name="item_key_not_empty"),
        sa.CheckConstraint("last_pushed_qty IS NULL OR last_pushed_qty >= 0", name="last_pushed_qty_not_negative"),
        sa.Index("ix_channel_listings_dirty", "channel_id", postgresql_where=sa.text("dirty"),
                 sqlite_where=sa.text("dirty")),
    )


class ChannelDocument(Base):
    """A source document received from or pulled off a channel, kept as it came (audit, replays)."""

    __tablename__ = "channel_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16), comment="webhook, order (pulled), fetch")
    topic: Mapped[str | None] = mapped_column(sa.String(64))
    external_id: Mapped[str | None] = mapped_column(sa.String(100), comment="the channel's order id it is about")
    delivery_id: Mapped[str | None] = mapped_column(sa.String(200), comment="the platform's id of this delivery")
    headers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    signature_ok: Mapped[bool | None]
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(
        sa.String(24), default="received",
        comment="received, created, updated, unchanged, cancelled, held, ignored, refused, replayed, error")
    detail: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_channel_documents_order", "channel_id", "external_id"),
        sa.Index("uq_channel_documents_delivery", "channel_id", "delivery_id", unique=True,
                 postgresql_where=sa.text("delivery_id IS NOT NULL"),
                 sqlite_where=sa.text("delivery_id IS NOT NULL")),
    )


class HeldChannelOrder(Base):
    """A channel order we could not take in (an unmapped listing, bad data): kept, listed, retried."""

    __tablename__ = "held_channel_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(sa.String(100))
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channel_documents.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(32), comment="unknown-sku, inactive-sku, bad-data")
    detail: Mapped[str | None] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict, comment="the order as read, to retry")
    held_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=1)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))

    __table_args__ = (
        sa.UniqueConstraint("channel_id", "external_id"),
        sa.CheckConstraint("external_id <> ''", name="external_id_not_empty"),
    )


class ChannelFulfilment(Base):
    """A shipment to write back to its order's channel: pending until the platform has it."""

    __tablename__ = "channel_fulfilments"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipments.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("channel_id", "shipment_id"),
        sa.CheckConstraint(_in("state", FULFILMENT_STATES), name="state_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_channel_fulfilments_open", "channel_id", postgresql_where=sa.text("state <> 'sent'"),
                 sqlite_where=sa.text("state <> 'sent'")),
    )


class ChannelSyncLog(Base):
    """One sync run with a channel: a pull, a push, a write-back, a webhook, a reconciliation."""

    __tablename__ = "channel_sync_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(sa.String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None]
    counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    retries: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.Index("ix_channel_sync_logs_channel", "channel_id", "started_at"),
        sa.CheckConstraint(_in("direction", SYNC_DIRECTIONS), name="direction_known"),
    )
