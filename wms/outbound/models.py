"""Boxes, shipments, parcels (each with its SSCC and tracking number), pick-ups at dock doors and manifests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import enum_column


class ShipmentStatus(StrEnum):
    PACKING = "packing"        # a packer is filling parcels
    LABELLED = "labelled"      # the carrier gave tracking numbers; labels sent to the pack-station printer
    STAGED = "staged"          # every parcel scanned into the shipping sas of a dock door
    MANIFESTED = "manifested"  # on the carrier's end-of-day manifest
    SHIPPED = "shipped"        # the carrier took it at the door
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


OPEN_SHIPMENT_STATUSES = (ShipmentStatus.PACKING, ShipmentStatus.LABELLED, ShipmentStatus.STAGED,
                          ShipmentStatus.MANIFESTED)


class PickupStatus(StrEnum):
    BOOKED = "booked"
    DEPARTED = "departed"
    CANCELLED = "cancelled"


class NumberSequence(Base):
    """A gap-tolerant counter taken under a row lock: SSCC serial references, own-fleet tracking numbers."""

    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    next_value: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.CheckConstraint("next_value >= 0", name="next_value_not_negative"),)


class Box(Base):
    """A shipping box: inner dimensions, what it can carry and what it weighs empty."""

    __tablename__ = "boxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    inner_length_mm: Mapped[int]
    inner_width_mm: Mapped[int]
    inner_height_mm: Mapped[int]
    max_weight_g: Mapped[int]
    tare_weight_g: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    __table_args__ = (
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
        sa.CheckConstraint("inner_length_mm > 0 AND inner_width_mm > 0 AND inner_height_mm > 0",
                           name="dimensions_positive"),
        sa.CheckConstraint("max_weight_g > 0 AND tare_weight_g >= 0", name="weights_valid"),
    )


class Manifest(Base):
    """A carrier's end-of-day list of the parcels handed over at one warehouse."""

    __tablename__ = "manifests"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    day: Mapped[dt.date] = mapped_column(sa.Date)
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    parcel_count: Mapped[int]
    total_weight_g: Mapped[int]
    print_job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("print_jobs.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("parcel_count > 0 AND total_weight_g >= 0", name="figures_valid"),
    )


class CarrierPickup(Base):
    """A carrier's truck at a dock door, in a time slot that cannot overlap another on that door."""

    __tablename__ = "carrier_pickups"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    dock_resource_id: Mapped[int] = mapped_column(sa.ForeignKey("resources.id", ondelete="RESTRICT"))
    time_slot_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("time_slots.id", ondelete="SET NULL"), unique=True)
    manifest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("manifests.id", ondelete="SET NULL"))
    status: Mapped[PickupStatus] = mapped_column(enum_column(PickupStatus, "pickup_status"),
                                                 default=PickupStatus.BOOKED)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    departed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    dock = relationship("Resource")
    time_slot = relationship("TimeSlot")
    manifest: Mapped[Manifest | None] = relationship()


class Shipment(Base):
    """What leaves for one order with one carrier: one or more parcels."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    service: Mapped[str | None] = mapped_column(sa.String(40), comment="the carrier's service it was labelled with")
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_column(ShipmentStatus, "shipment_status"), default=ShipmentStatus.PACKING, index=True)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64), comment="the master tracking number")
    carrier_reference: Mapped[str | None] = mapped_column(sa.String(120), comment="the carrier's own id, to cancel")
    tote: Mapped[str | None] = mapped_column(sa.String(32), comment="the tote it was packed from")
    pack_station_id: Mapped[int | None] = mapped_column(sa.ForeignKey("resources.id", ondelete="SET NULL"))
    packed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    pickup_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carrier_pickups.id", ondelete="SET NULL"))
    manifest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("manifests.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    labelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    tracking_status: Mapped[str | None] = mapped_column(
        sa.String(32), comment="the carrier's latest status, mapped (carrier_features.TrackingStatus)")
    tracking_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    parcels: Mapped[list[Parcel]] = relationship(
        back_populates="shipment", order_by="Parcel.seq", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("carrier_code", "tracking_number"),
        # One live shipment per order: two packers cannot both pack the same tote.
        sa.Index("uq_shipments_live_order", "order_id", unique=True,
                 postgresql_where=sa.text("status <> 'cancelled'"), sqlite_where=sa.text("status <> 'cancelled'")),
        sa.CheckConstraint("status IN ('packing', 'cancelled') OR tracking_number IS NOT NULL",
                           name="labelled_has_tracking"),
    )


class Parcel(Base):
    """One box of a shipment: its contents, weights, SSCC, tracking number and the print job of its label."""

    __tablename__ = "parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(comment="1, 2, ... within the shipment")
    box_id: Mapped[int | None] = mapped_column(sa.ForeignKey("boxes.id", ondelete="RESTRICT"))
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    expected_weight_g: Mapped[int | None]
    weight_g: Mapped[int | None] = mapped_column(comment="weighed at the pack station")
    sscc: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64))
    label_print_job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("print_jobs.id", ondelete="SET NULL"))
    staged_location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("locations.id", ondelete="SET NULL"), comment="the shipping sas it was scanned into")
    staged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="parcels")
    box: Mapped[Box | None] = relationship()
    lines: Mapped[list[ParcelLine]] = relationship(
        back_populates="parcel", order_by="ParcelLine.id", cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "seq"),
        # Parcels of one shipment may share the carrier's number (Mondial Relay numbers the shipment; each label's
        # barcode adds the parcel's sequence); the shipment's own number is unique per carrier (shipments table).
        sa.UniqueConstraint("carrier_code", "tracking_number", "seq"),
        sa.CheckConstraint("seq > 0", name="seq_positive"),
        sa.CheckConstraint("(weight_g IS NULL OR weight_g > 0) AND (expected_weight_g IS NULL"
                           " OR expected_weight_g >= 0)", name="weights_valid"),
        sa.CheckConstraint("sscc IS NULL OR length(sscc) = 18", name="sscc_is_18_digits"),
    )


class ParcelLine(Base):
    """Units of one order line verified by scan into one parcel."""

    __tablename__ = "parcel_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(sa.ForeignKey("parcels.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="RESTRICT"))
    quantity: Mapped[int]

    parcel: Mapped[Parcel] = relationship(back_populates="lines")
    order_line = relationship("OrderLine")
    product = relationship("Product")

    __table_args__ = (
        sa.UniqueConstraint("parcel_id", "order_line_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class TrackingEventRecord(Base):
    """One tracking event the carrier reported for a parcel (or a shipment without parcels), stored once."""

    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    parcel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parcels.id", ondelete="CASCADE"), index=True)
    return_label_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("return_labels.id", ondelete="CASCADE"), index=True, comment="an RMA's return parcel")
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    tracking_number: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(32), comment="mapped (carrier_features.TrackingStatus)")
    code: Mapped[str] = mapped_column(sa.String(64), comment="the carrier's own event code")
    text: Mapped[str] = mapped_column(sa.String(500), comment="the carrier's own wording")
    location: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("carrier_code", "tracking_number", "at", "text", name="uq_tracking_events_event"),
        sa.CheckConstraint("(shipment_id IS NULL) <> (return_label_id IS NULL)", name="shipment_or_return"),
    )


class CarrierRule(Base):
    """One way to choose an order's carrier and service, tried in priority order (lowest number first).

    A rule naming a channel shipping method maps that method (what the customer chose at checkout) and is tried
    before every rule that names none. Every condition left empty matches anything: the destination countries
    (ISO codes, comma-separated, `!` in front excludes), the weight, the longest side of one unit, the order's
    value, the time of day it is chosen (before `before_time`, in the warehouse's time zone: a carrier's cutoff).
    `relay` says the carrier delivers to a relay point, so the order needs a valid one before it is labelled.
    """

    __tablename__ = "carrier_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True,
                                                     comment="null: every warehouse")
    name: Mapped[str] = mapped_column(sa.String(120))
    priority: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)
    channel_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"),
                                                   comment="null: every channel")
    shipping_method: Mapped[str | None] = mapped_column(
        sa.String(120), comment="the channel's shipping method it maps (compared without case)")
    countries: Mapped[str | None] = mapped_column(sa.String(400), comment="e.g. FR,BE,LU or !FR")
    min_weight_g: Mapped[int | None]
    max_weight_g: Mapped[int | None]
    max_side_mm: Mapped[int | None] = mapped_column(comment="the longest side of the biggest unit")
    min_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    max_value: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    before_time: Mapped[str | None] = mapped_column(sa.String(5), comment="HH:MM, warehouse time: the cutoff")
    carrier_code: Mapped[str] = mapped_column(sa.String(32))
    service: Mapped[str | None] = mapped_column(sa.String(40), comment="the carrier's service (null: its default)")
    relay: Mapped[bool] = mapped_column(default=False, comment="delivery to a relay point")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("name <> '' AND carrier_code <> ''", name="names_not_empty"),
        sa.CheckConstraint("min_weight_g IS NULL OR max_weight_g IS NULL OR min_weight_g <= max_weight_g",
                           name="weight_range"),
        sa.CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="value_range"),
    )
