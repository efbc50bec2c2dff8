"""Suppliers, purchase orders (PO), advance shipping notices (ASN), receipts and what each receipt line brought."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import enum_column


class PurchaseOrderStatus(StrEnum):
    OPEN = "open"                              # nothing received yet
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"                      # every line received in full (within tolerance)
    CLOSED = "closed"                          # closed by a supervisor, possibly short (under-receipt accepted)
    CANCELLED = "cancelled"


class AsnStatus(StrEnum):
    EXPECTED = "expected"
    RECEIVING = "receiving"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class ReceiptStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    over_receipt_tolerance_pct: Mapped[int] = mapped_column(
        default=0, server_default="0", comment="units above the ordered quantity accepted, in percent")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
        sa.CheckConstraint("over_receipt_tolerance_pct BETWEEN 0 AND 100", name="tolerance_in_range"),
    )


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("suppliers.id", ondelete="RESTRICT"), index=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    status: Mapped[PurchaseOrderStatus] = mapped_column(
        enum_column(PurchaseOrderStatus, "purchase_order_status"), default=PurchaseOrderStatus.OPEN, index=True)
    expected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    over_receipt_tolerance_pct: Mapped[int | None] = mapped_column(comment="overrides the supplier's when set")
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    supplier: Mapped[Supplier] = relationship()
    warehouse = relationship("Warehouse")
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="purchase_order", order_by="PurchaseOrderLine.line_no", cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("number <> ''", name="number_not_empty"),
        sa.CheckConstraint("over_receipt_tolerance_pct IS NULL OR over_receipt_tolerance_pct BETWEEN 0 AND 100",
                           name="tolerance_in_range"),
    )


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    line_no: Mapped[int]
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]
    received: Mapped[int] = mapped_column(default=0, server_default="0")

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    product = relationship("Product")

    __table_args__ = (
        sa.UniqueConstraint("purchase_order_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("received >= 0", name="received_not_negative"),
        # The hard ceiling whatever the tolerance: never more than twice what was ordered.
        sa.CheckConstraint("received <= 2 * quantity", name="received_within_double"),
    )


class Asn(Base):
    """An advance shipping notice: what a supplier says is on its way for a PO, with lots and dates."""

    __tablename__ = "asns"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(sa.String(40), comment="the supplier's dispatch reference")
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("suppliers.id", ondelete="RESTRICT"))
    status: Mapped[AsnStatus] = mapped_column(enum_column(AsnStatus, "asn_status"), default=AsnStatus.EXPECTED)
    expected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    purchase_order: Mapped[PurchaseOrder] = relationship()
    lines: Mapped[list[AsnLine]] = relationship(
        back_populates="asn", order_by="AsnLine.id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "number"),
        sa.CheckConstraint("number <> ''", name="number_not_empty"),
    )


class AsnLine(Base):
    __tablename__ = "asn_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    asn_id: Mapped[int] = mapped_column(sa.ForeignKey("asns.id", ondelete="CASCADE"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_order_lines.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    lot_code: Mapped[str | None] = mapped_column(sa.String(40))
    best_before: Mapped[dt.date | None] = mapped_column(sa.Date)
    sscc: Mapped[str | None] = mapped_column(sa.String(18), comment="the supplier's pallet or carton SSCC")

    asn: Mapped[Asn] = relationship(back_populates="lines")
    purchase_order_line: Mapped[PurchaseOrderLine] = relationship()

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class Receipt(Base):
    """One arrival at the receiving dock: the goods of one PO (optionally announced by an ASN)."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_orders.id", ondelete="RESTRICT"), index=True)
    asn_id: Mapped[int | None] = mapped_column(sa.ForeignKey("asns.id", ondelete="SET NULL"))
    dock_location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("locations.id", ondelete="RESTRICT"), comment="where received goods wait for put-away")
    status: Mapped[ReceiptStatus] = mapped_column(
        enum_column(ReceiptStatus, "receipt_status"), default=ReceiptStatus.OPEN)
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    purchase_order: Mapped[PurchaseOrder] = relationship()
    asn: Mapped[Asn | None] = relationship()
    dock_location = relationship("Location")
    lines: Mapped[list[ReceiptLine]] = relationship(
        back_populates="receipt", order_by="ReceiptLine.id", cascade="all, delete-orphan")


class ReceiptLine(Base):
    """Units of one PO line that arrived, with their lot and best-before date; held in quarantine or put away."""

    __tablename__ = "receipt_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipts.id", ondelete="CASCADE"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_order_lines.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int]
    lot_code: Mapped[str | None] = mapped_column(sa.String(40))
    best_before: Mapped[dt.date | None] = mapped_column(sa.Date)
    location_id: Mapped[int] = mapped_column(
        sa.ForeignKey("locations.id", ondelete="RESTRICT"), comment="the dock, or a quarantine location when held")
    on_hold: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    hold_reason: Mapped[str | None] = mapped_column(sa.Text)
    put_away: Mapped[int] = mapped_column(default=0, server_default="0", comment="units already put away")
    scrapped: Mapped[int] = mapped_column(default=0, server_default="0")
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    receipt: Mapped[Receipt] = relationship(back_populates="lines")
    purchase_order_line: Mapped[PurchaseOrderLine] = relationship()
    product = relationship("Product")
    location = relationship("Location")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("put_away >= 0 AND scrapped >= 0 AND put_away + scrapped <= quantity",
                           name="disposed_within_quantity"),
        sa.CheckConstraint("on_hold OR hold_reason IS NULL", name="reason_only_when_held"),
    )

    @property
    def remaining(self) -> int:
        return self.quantity - self.put_away - self.scrapped
