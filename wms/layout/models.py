"""Warehouses, zones, aisles, rack lines, lanes and the faces they are reached from; shared resources."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db import Base, UTCDateTime, utcnow
from wms.enums import Face, ResourceKind, ZoneKind, enum_column


class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    address: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    zones: Mapped[list[Zone]] = relationship(
        back_populates="warehouse", order_by="Zone.seq", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("code <> ''", name="code_not_empty"),)


class Zone(Base):
    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[ZoneKind] = mapped_column(enum_column(ZoneKind, "zone_kind"))
    seq: Mapped[int] = mapped_column(default=0)
    # Rack zones: aisle length (metres) and where cross aisles cut the racks (the front one is at 0).
    aisle_length_m: Mapped[float | None] = mapped_column(sa.Float)
    cross_aisles_m: Mapped[list[float]] = mapped_column(sa.JSON, default=list)

    warehouse: Mapped[Warehouse] = relationship(back_populates="zones")
    aisles: Mapped[list[Aisle]] = relationship(
        back_populates="zone", order_by="Aisle.seq", cascade="all, delete-orphan"
    )
    racks: Mapped[list[Rack]] = relationship(back_populates="zone", order_by="Rack.code", cascade="all, delete-orphan")
    locations: Mapped[list[Location]] = relationship(
        back_populates="zone", order_by="Location.code", cascade="all, delete-orphan", overlaps="locations"
    )
    resources: Mapped[list[Resource]] = relationship(
        back_populates="zone", order_by="Resource.code", cascade="all, delete-orphan", overlaps="resources"
    )

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "code"),
        sa.UniqueConstraint("id", "warehouse_id"),
        sa.CheckConstraint("aisle_length_m IS NULL OR aisle_length_m > 0", name="aisle_length_positive"),
        sa.CheckConstraint(
            "(kind = 'rack') = (aisle_length_m IS NOT NULL)", name="rack_zone_has_aisle_length"
        ),
    )

    @property
    def pick_aisles(self) -> list[Aisle]:
        return [a for a in self.aisles if a.face == Face.PICK]

    @property
    def replenish_aisles(self) -> list[Aisle]:
        return [a for a in self.aisles if a.face == Face.REPLENISH]


class Aisle(Base):
    """A walkway along rack lines. Its face says who may walk it: pickers (front) or receivers (back)."""

    __tablename__ = "aisles"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    face: Mapped[Face] = mapped_column(enum_column(Face, "face"))
    seq: Mapped[int] = mapped_column(comment="lateral order of the aisle inside its zone, 0 first")

    zone: Mapped[Zone] = relationship(back_populates="aisles")

    __table_args__ = (
        sa.UniqueConstraint("zone_id", "code"),
        sa.UniqueConstraint("zone_id", "seq"),
        sa.UniqueConstraint("id", "face", "zone_id"),
        sa.CheckConstraint("seq >= 0", name="seq_not_negative"),
    )


class Rack(Base):
    """A line of flow-rack lanes between one pick aisle (front) and one replenish aisle (back)."""

    __tablename__ = "racks"

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    pick_aisle_id: Mapped[int] = mapped_column(sa.ForeignKey("aisles.id", ondelete="CASCADE"))
    replenish_aisle_id: Mapped[int] = mapped_column(sa.ForeignKey("aisles.id", ondelete="CASCADE"))
    bays: Mapped[int]
    levels: Mapped[int]
    bay_width_m: Mapped[float] = mapped_column(sa.Float)
    start_m: Mapped[float] = mapped_column(sa.Float, default=0.0)

    zone: Mapped[Zone] = relationship(back_populates="racks")
    pick_aisle: Mapped[Aisle] = relationship(foreign_keys=[pick_aisle_id])
    replenish_aisle: Mapped[Aisle] = relationship(foreign_keys=[replenish_aisle_id])

    __table_args__ = (
        sa.UniqueConstraint("zone_id", "code"),
        sa.CheckConstraint("bays > 0 AND levels > 0", name="bays_levels_positive"),
        sa.CheckConstraint("bay_width_m > 0 AND start_m >= 0", name="geometry_positive"),
        sa.CheckConstraint("pick_aisle_id <> replenish_aisle_id", name="two_different_aisles"),
    )


class Location(Base):
    """A lane (rack slot) or a floor location (dock, sas, quarantine bin) that holds stock."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"))
    zone_id: Mapped[int] = mapped_column(index=True)
    rack_id: Mapped[int | None] = mapped_column(sa.ForeignKey("racks.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    bay: Mapped[int | None]
    level: Mapped[int | None]
    aisle_index: Mapped[int | None] = mapped_column(comment="index of the pick aisle that serves the lane")
    position_m: Mapped[float | None] = mapped_column(sa.Float, comment="distance from the zone head along the aisle")
    capacity_units: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)

    zone: Mapped[Zone] = relationship(back_populates="locations", overlaps="locations")
    rack: Mapped[Rack | None] = relationship()
    faces: Mapped[list[LocationFace]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="LocationFace.face"
    )

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "code"),
        sa.UniqueConstraint("id", "zone_id"),
        sa.ForeignKeyConstraint(
            ["zone_id", "warehouse_id"], ["zones.id", "zones.warehouse_id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint("capacity_units IS NULL OR capacity_units > 0", name="capacity_positive"),
        sa.CheckConstraint("position_m IS NULL OR position_m >= 0", name="position_not_negative"),
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
    )

    def face(self, face: Face) -> LocationFace | None:
        return next((f for f in self.faces if f.face == face), None)


class LocationFace(Base):
    """How a lane is reached: from its pick aisle (front) or its replenish aisle (back), nothing else.

    The composite foreign key to (aisle id, face, zone) makes a face served by an aisle of the other
    face, or of another zone, impossible to store.
    """

    __tablename__ = "location_faces"

    location_id: Mapped[int] = mapped_column(primary_key=True)
    face: Mapped[Face] = mapped_column(enum_column(Face, "face"), primary_key=True)
    aisle_id: Mapped[int] = mapped_column(index=True)
    zone_id: Mapped[int]

    location: Mapped[Location] = relationship(back_populates="faces")
    aisle: Mapped[Aisle] = relationship(viewonly=True)

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["location_id", "zone_id"], ["locations.id", "locations.zone_id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["aisle_id", "face", "zone_id"], ["aisles.id", "aisles.face", "aisles.zone_id"], ondelete="CASCADE"
        ),
        sa.UniqueConstraint("location_id", "face", "aisle_id"),
    )


class Resource(Base):
    """Anything people or work share and book by time slot: an aisle, a dock door, a pack station, a sas."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(index=True)
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind, "resource_kind"))
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    aisle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("aisles.id", ondelete="CASCADE"), unique=True)

    zone: Mapped[Zone | None] = relationship(back_populates="resources", overlaps="resources")
    aisle: Mapped[Aisle | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("warehouse_id", "code"),
        sa.ForeignKeyConstraint(
            ["zone_id", "warehouse_id"], ["zones.id", "zones.warehouse_id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint("(kind = 'aisle') = (aisle_id IS NOT NULL)", name="aisle_resource_has_aisle"),
    )
