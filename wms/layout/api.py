"""layout API operations: read the warehouses in the caller's scope, their zones, aisles, printers and lanes."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from wms.api.framework import operation
from wms.auth.principal import current_principal
from wms.db import db
from wms.enums import Face, PrinterLanguage, PrinterPlace, ZoneKind
from wms.errors import NotFound
from wms.layout import services as layout
from wms.layout.models import Location, LocationFace, Warehouse, Zone
from wms.printing.models import Printer

# Channels learn which sites exist; site daemons also read lanes. Both only see their own warehouse.
SITE_READERS = ("channel", "print_site")
LANE_READERS = ("print_site",)


class WarehouseSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    timezone: str
    address: str | None


class AisleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    face: Face
    seq: int


class RackOut(BaseModel):
    code: str
    pick_aisle: str
    replenish_aisle: str
    bays: int
    levels: int
    bay_width_m: float
    start_m: float


class ZoneOut(BaseModel):
    code: str
    name: str
    kind: ZoneKind
    seq: int
    aisle_length_m: float | None
    cross_aisles_m: list[float]
    aisles: list[AisleOut]
    racks: list[RackOut]


class PrinterOut(BaseModel):
    code: str
    name: str
    place: PrinterPlace
    zone: str | None
    language: PrinterLanguage
    status: str
    backup: str | None
    last_seen_at: dt.datetime | None


class WarehouseDetail(WarehouseSummary):
    zones: list[ZoneOut]
    printers: list[PrinterOut]


class FaceOut(BaseModel):
    face: Face
    aisle: str


class LocationOut(BaseModel):
    code: str
    zone: str
    zone_kind: ZoneKind
    rack: str | None
    bay: int | None
    level: int | None
    aisle_index: int | None
    position_m: float | None
    capacity_units: int | None
    active: bool
    faces: list[FaceOut]


class LocationPage(BaseModel):
    items: list[LocationOut]
    total: int
    limit: int
    offset: int


class LocationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone: str | None = Field(None, max_length=20, description="zone code")
    q: str | None = Field(None, max_length=32, description="part of the location code")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000_000)


def _warehouse_in_scope(code: str) -> Warehouse:
    warehouse = layout.get_warehouse(code)
    principal = current_principal()
    assert principal is not None  # the operation is not public
    principal.require_warehouse(warehouse.id, warehouse.code)
    return warehouse


def _zone_out(zone: Zone) -> ZoneOut:
    return ZoneOut(
        code=zone.code, name=zone.name, kind=zone.kind, seq=zone.seq, aisle_length_m=zone.aisle_length_m,
        cross_aisles_m=list(zone.cross_aisles_m or []),
        aisles=[AisleOut.model_validate(a) for a in zone.aisles],
        racks=[RackOut(code=r.code, pick_aisle=r.pick_aisle.code, replenish_aisle=r.replenish_aisle.code,
                       bays=r.bays, levels=r.levels, bay_width_m=r.bay_width_m, start_m=r.start_m)
               for r in zone.racks],
    )


def _location_out(loc: Location) -> LocationOut:
    return LocationOut(
        code=loc.code, zone=loc.zone.code, zone_kind=loc.zone.kind, rack=loc.rack.code if loc.rack else None,
        bay=loc.bay, level=loc.level, aisle_index=loc.aisle_index, position_m=loc.position_m,
        capacity_units=loc.capacity_units, active=loc.active,
        faces=[FaceOut(face=f.face, aisle=f.aisle.code) for f in loc.faces],
    )


@operation("/warehouses", "GET", summary="Warehouses in your scope", tags=["layout"],
           response=list[WarehouseSummary], purposes=SITE_READERS)
def list_warehouses():  # type: ignore[no-untyped-def]
    """Only the warehouses your account or token may see, ordered by code."""
    principal = current_principal()
    assert principal is not None
    stmt = select(Warehouse).order_by(Warehouse.code)
    if principal.warehouse_ids is not None:
        stmt = stmt.where(Warehouse.id.in_(principal.warehouse_ids))
    return list(db.session.scalars(stmt))


@operation("/warehouses/<code>", "GET", summary="A warehouse's zones, aisles and printers", tags=["layout"],
           response=WarehouseDetail, purposes=SITE_READERS)
def get_warehouse(code: str) -> WarehouseDetail:
    """Zones with their kind, rack zones with their aisles (pick or replenish face) and racks, and printers."""
    warehouse = _warehouse_in_scope(code)
    printers = db.session.scalars(
        select(Printer).where(Printer.warehouse_id == warehouse.id).order_by(Printer.code)
    ).all()
    summary = WarehouseSummary.model_validate(warehouse)
    return WarehouseDetail(
        **summary.model_dump(),
        zones=[_zone_out(z) for z in warehouse.zones],
        printers=[PrinterOut(code=p.code, name=p.name, place=p.place, zone=p.zone.code if p.zone else None,
                             language=p.language, status=p.status, backup=p.backup.code if p.backup else None,
                             last_seen_at=p.last_seen_at) for p in printers],
    )


@operation("/warehouses/<code>/locations", "GET", summary="Locations of a warehouse", tags=["layout"],
           query=LocationQuery, response=LocationPage, purposes=LANE_READERS, errors=(422,))
def list_locations(code: str, query: LocationQuery) -> LocationPage:
    """Locations ordered by code, optionally of one zone and whose code contains `q`."""
    warehouse = _warehouse_in_scope(code)
    stmt = select(Location).join(Zone, Location.zone_id == Zone.id).where(Location.warehouse_id == warehouse.id)
    if query.zone:
        zone_id = db.session.scalar(select(Zone.id).where(Zone.warehouse_id == warehouse.id, Zone.code == query.zone))
        if zone_id is None:
            raise NotFound(f"No zone {query.zone!r} in warehouse {warehouse.code}.")
        stmt = stmt.where(Location.zone_id == zone_id)
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Location.code.ilike(pattern, escape="\\"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    locations = db.session.scalars(
        stmt.options(selectinload(Location.faces).selectinload(LocationFace.aisle),
                     selectinload(Location.zone), selectinload(Location.rack))
        .order_by(Location.code).limit(query.limit).offset(query.offset)
    ).all()
    return LocationPage(items=[_location_out(loc) for loc in locations], total=total, limit=query.limit,
                        offset=query.offset)


@operation("/warehouses/<code>/locations/<loc_code>", "GET", summary="One location and its faces",
           tags=["layout"], response=LocationOut, purposes=LANE_READERS)
def get_location(code: str, loc_code: str) -> LocationOut:
    """Coordinates (aisle index, position along the aisle, level) and each face with the aisle it is reached from."""
    warehouse = _warehouse_in_scope(code)
    return _location_out(layout.find_location(warehouse, loc_code))
