"""Return merchandise authorisations (RMA) and what became of each returned unit."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import enum_column


class RmaStatus(StrEnum):
    AUTHORIZED = "authorized"  # the channel or a supervisor said the customer may send it back
    IN_TRANSIT = "in_transit"  # the carrier has the customer's return parcel
    RECEIVED = "received"      # (some of) it arrived at the returns zone
    INSPECTED = "inspected"    # every received unit has a disposition
    CLOSED = "closed"
    CANCELLED = "cancelled"


class RefundStatus(StrEnum):
    PENDING = "pending"        # nothing inspected yet
    APPROVED = "approved"      # every unit came back as sold: refund in full
    PARTIAL = "partial"        # some units damaged by the customer or missing
    REFUSED = "refused"        # nothing refundable came back
    NOT_APPLICABLE = "not_applicable"


class Disposition(StrEnum):
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    SCRAP = "scrap"


class Rma(Base):
    __tablename__ = "rmas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="RESTRICT"))
    external_id: Mapped[str | None] = mapped_column(sa.String(100), comment="the channel's own return id")
    status: Mapped[RmaStatus] = mapped_column(enum_column(RmaStatus, "rma_status"), default=RmaStatus.AUTHORIZED,
                                              index=True)
    refund_status: Mapped[RefundStatus] = mapped_column(enum_column(RefundStatus, "refund_status"),
                                                        default=RefundStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    lines: Mapped[list[RmaLine]] = relationship(back_populates="rma", order_by="RmaLine.id",
                                                cascade="all, delete-orphan")

    __table_args__ = (sa.UniqueConstraint("channel_id", "external_id"),)


class RmaLine(Base):
    __tablename__ = "rma_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(comment="units authorised to come back")
    reason: Mapped[str] = mapped_column(sa.String(32), comment="damaged, defective, wrong_item, not_wanted, other")
    received: Mapped[int] = mapped_column(default=0, server_default="0")
    restocked: Mapped[int] = mapped_column(default=0, server_default="0")
    quarantined: Mapped[int] = mapped_column(default=0, server_default="0")
    scrapped: Mapped[int] = mapped_column(default=0, server_default="0")
    inspection_note: Mapped[str | None] = mapped_column(sa.Text)

    rma: Mapped[Rma] = relationship(back_populates="lines")
    order_line = relationship("OrderLine")
    product = relationship("Product")

    __table_args__ = (
        sa.UniqueConstraint("rma_id", "order_line_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("received >= 0 AND received <= quantity", name="received_within_quantity"),
        sa.CheckConstraint("restocked >= 0 AND quarantined >= 0 AND scrapped >= 0"
                           " AND restocked + quarantined + scrapped <= received", name="disposed_within_received"),
    )

    @property
    def uninspected(self) -> int:
        return self.received - self.restocked - self.quarantined - self.scrapped


class ReturnLabelStatus(StrEnum):
    ISSUED = "issued"          # the carrier gave the label; the customer has not dropped the parcel yet
    IN_TRANSIT = "in_transit"  # the carrier has the parcel
    DELIVERED = "delivered"    # the carrier delivered it to us
    CANCELLED = "cancelled"


class ReturnLabel(Base):
    """A prepaid return label the carrier issued for an RMA: the document, its tracking and how it was sent."""

    __tablename__ = "return_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id", ondelete="CASCADE"), index=True)
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    tracking_number: Mapped[str] = mapped_column(sa.String(64))
    carrier_reference: Mapped[str | None] = mapped_column(sa.String(120))
    status: Mapped[ReturnLabelStatus] = mapped_column(enum_column(ReturnLabelStatus, "return_label_status"),
                                                      default=ReturnLabelStatus.ISSUED)
    content_type: Mapped[str] = mapped_column(sa.String(60), comment="application/pdf, application/zpl, ...")
    document: Mapped[bytes] = mapped_column(sa.LargeBinary, comment="the label as the carrier gave it")
    print_job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("print_jobs.id", ondelete="SET NULL"))
    emailed_to: Mapped[str | None] = mapped_column(sa.String(200))
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    tracking_status: Mapped[str | None] = mapped_column(sa.String(32), comment="mapped (TrackingStatus)")
    tracking_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    rma: Mapped[Rma] = relationship()

    __table_args__ = (sa.UniqueConstraint("carrier_code", "tracking_number"),)
