"""Sales channels, their orders and the reservations that hold stock for each order line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.crypto import EncryptedString
from wms.db import Base, UTCDateTime, utcnow
from wms.enums import enum_column


class ChannelKind(StrEnum):
    WEB_SHOP = "web_shop"
    MARKETPLACE = "marketplace"
    POS = "pos"


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"        # received, nothing allocated yet
    BACKORDERED = "backordered"  # some units wait for stock
    ALLOCATED = "allocated"      # every unit reserved in a pick lane
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


OPEN_ORDER_STATUSES = (OrderStatus.ACCEPTED, OrderStatus.BACKORDERED, OrderStatus.ALLOCATED)


class Channel(Base):
    """Where orders come from: a web shop, a marketplace, a point of sale; each with its own tokens and webhooks."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[ChannelKind] = mapped_column(enum_column(ChannelKind, "channel_kind"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500))
    webhook_secret: Mapped[str | None] = mapped_column(
        EncryptedString("webhook", 512), comment="HMAC key shared with the channel, encrypted (wms.crypto)")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    warehouse = relationship("Warehouse")

    __table_args__ = (sa.CheckConstraint("code <> ''", name="code_not_empty"),)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="RESTRICT"))
    external_id: Mapped[str] = mapped_column(sa.String(100), comment="the channel's own order id")
    content_hash: Mapped[str] = mapped_column(sa.String(64), comment="to tell a replay from a different order")
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "order_status"), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    cutoff_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    carrier_code: Mapped[str | None] = mapped_column(sa.String(32))
    ship_to: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    customer_email: Mapped[str | None] = mapped_column(sa.String(200))
    customer_language: Mapped[str | None] = mapped_column(sa.String(16))
    shipping_method: Mapped[str | None] = mapped_column(sa.String(120), comment="the channel's carrier/service")
    relay_point_id: Mapped[str | None] = mapped_column(sa.String(64), comment="the pick-up point chosen at checkout")
    relay_point: Mapped[dict[str, Any] | None] = mapped_column(
        sa.JSON, comment="the relay point as the carrier described it when last checked (name, address, hours)")
    relay_checked_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="when the carrier last said the relay point exists, is open and takes the parcel")
    carrier_used: Mapped[str | None] = mapped_column(
        sa.String(32), comment="the carrier chosen to ship it (carrier_reason says why)")
    carrier_service: Mapped[str | None] = mapped_column(sa.String(40), comment="the carrier's service chosen")
    carrier_reason: Mapped[str | None] = mapped_column(
        sa.String(500), comment="why this carrier and service were chosen (shown on the order)")
    carrier_rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("carrier_rules.id", ondelete="SET NULL"), comment="the rule that chose the carrier")
    currency: Mapped[str | None] = mapped_column(sa.String(3), comment="ISO currency of the line prices")
    hold_kind: Mapped[str | None] = mapped_column(
        sa.String(32), comment="why the order waits for a person: relay_point, carrier, manual, review")
    hold_reason: Mapped[str | None] = mapped_column(sa.String(500), comment="what the supervisor has to do")
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    placed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, comment="when the customer ordered")
    platform_ref: Mapped[str | None] = mapped_column(sa.String(120), comment="the platform's second id of it")
    channel_updated_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, comment="the channel's last change of the order that we took in")
    source_document_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("channel_documents.id", ondelete="SET NULL"), comment="what the channel sent (audit)")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    channel: Mapped[Channel] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("channel_id", "external_id"),
        sa.CheckConstraint("external_id <> ''", name="external_id_not_empty"),
        sa.CheckConstraint("(hold_kind IS NULL) = (held_at IS NULL)", name="hold_has_time"),
    )

    @property
    def held(self) -> bool:
        return self.hold_kind is not None


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int]
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]
    allocated: Mapped[int] = mapped_column(default=0)
    picked: Mapped[int] = mapped_column(default=0)
    channel_line_ref: Mapped[str | None] = mapped_column(sa.String(100), comment="the channel's id of the line")
    unit_price: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(12, 2), comment="the price of one unit as the channel sold it (order currency)")

    order: Mapped[Order] = relationship(back_populates="lines")
    product = relationship("Product")
    reservations: Mapped[list[Reservation]] = relationship(back_populates="line", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("order_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("allocated >= 0 AND allocated <= quantity", name="allocated_within_quantity"),
        sa.CheckConstraint("picked >= 0 AND picked <= quantity", name="picked_within_quantity"),
        sa.CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="unit_price_not_negative"),
    )

    @property
    def backordered(self) -> int:
        return self.quantity - self.allocated


class Reservation(Base):
    """Units of one quant held for one order line. quants.reserved is the sum of these."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    quant_id: Mapped[int] = mapped_column(sa.ForeignKey("quants.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]

    line: Mapped[OrderLine] = relationship(back_populates="reservations")
    quant = relationship("Quant")

    __table_args__ = (
        sa.UniqueConstraint("order_line_id", "quant_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )
