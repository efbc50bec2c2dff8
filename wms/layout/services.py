"""Build and query the warehouse layout. Plain functions over the session: add/flush, never commit."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from wms.db import db
from wms.enums import Face, PrinterLanguage, PrinterPlace, ResourceKind, ZoneKind
from wms.errors import Conflict, NotFound, ValidationFailed
from wms.layout.models import Aisle, Location, LocationFace, Rack, Resource, Warehouse, Zone
from wms.printing.models import Printer


def get_warehouse(code: str) -> Warehouse:
    """The warehouse with this code, or NotFound."""
    wh = db.session.scalar(select(Warehouse).where(Warehouse.code == code))
    if wh is None:
        raise NotFound(f"No warehouse with code {code!r}.")
    return wh


def create_warehouse(code: str, name: str, timezone: str = "UTC", address: str | None = None) -> Warehouse:
    """A new, empty warehouse."""
    if db.session.scalar(select(Warehouse.id).where(Warehouse.code == code)) is not None:
        raise Conflict(f"A warehouse with code {code!r} already exists.")
    wh = Warehouse(code=code, name=name, timezone=timezone, address=address)
    db.session.add(wh)
    db.session.flush()
    return wh


def add_zone(
    warehouse: Warehouse, code: str, kind: ZoneKind, name: str | None = None, *,
    aisle_length_m: float | None = None, cross_aisles_m: list[float] | None = None, seq: int | None = None,
) -> Zone:
    """Add a zone; rack zones need their aisle length."""
    if kind == ZoneKind.RACK and not aisle_length_m:
        raise ValidationFailed("A rack zone needs its aisle length.", errors=[{"field": "aisle_length_m",
                                                                               "message": "required for rack zones"}])
    for pos in cross_aisles_m or []:
        if aisle_length_m is None or not 0 < pos < aisle_length_m:
            raise ValidationFailed(f"Cross aisle at {pos} m is not inside the racks (0..{aisle_length_m} m).")
    zone = Zone(
        warehouse=warehouse, code=code, name=name or code, kind=kind,
        aisle_length_m=aisle_length_m if kind == ZoneKind.RACK else None,
        cross_aisles_m=sorted(cross_aisles_m or []),
        seq=seq if seq is not None else len(warehouse.zones),
    )
    db.session.add(zone)
    db.session.flush()
    return zone


def add_aisle(zone: Zone, code: str, face: Face, seq: int) -> Aisle:
    """Add an aisle to a rack zone, with the resource that books it."""
    if zone.kind != ZoneKind.RACK:
        raise ValidationFailed(f"Zone {zone.code} is a {zone.kind.value} zone; only rack zones have aisles.")
    aisle = Aisle(zone=zone, code=code, face=face, seq=seq)
    db.session.add(aisle)
    db.session.flush()
    db.session.add(Resource(
        warehouse_id=zone.warehouse_id, zone=zone, kind=ResourceKind.AISLE, code=f"{zone.code}/{code}",
        name=f"{zone.code} {face.value} aisle {code}", aisle=aisle,
    ))
    db.session.flush()
    return aisle


def location_code(rack_code: str, bay: int, level: int) -> str:
    return f"{rack_code}-{bay:02d}-{level}"


def add_rack(
    zone: Zone, code: str, pick_aisle: Aisle, replenish_aisle: Aisle, *, bays: int, levels: int,
    bay_width_m: float, start_m: float = 0.0,
) -> Rack:
    """Add a line of flow-rack lanes between a pick aisle and a replenish aisle, generating its lanes."""
    if pick_aisle.face != Face.PICK or replenish_aisle.face != Face.REPLENISH:
        raise ValidationFailed(f"Rack {code}: the pick aisle must be a pick aisle and the replenish aisle a replenish aisle.")
    if pick_aisle.zone_id != zone.id or replenish_aisle.zone_id != zone.id:
        raise ValidationFailed(f"Rack {code}: both aisles must belong to zone {zone.code}.")
    if abs(pick_aisle.seq - replenish_aisle.seq) != 1:
        raise ValidationFailed(f"Rack {code}: a rack stands between two neighbouring aisles "
                               f"({pick_aisle.code} is #{pick_aisle.seq}, {replenish_aisle.code} is #{replenish_aisle.seq}).")
    if zone.aisle_length_m is not None and start_m + bays * bay_width_m > zone.aisle_length_m + 1e-9:
        raise ValidationFailed(f"Rack {code} ends at {start_m + bays * bay_width_m:g} m, beyond the "
                               f"{zone.aisle_length_m:g} m aisles of zone {zone.code}.")
    rack = Rack(zone=zone, code=code, pick_aisle=pick_aisle, replenish_aisle=replenish_aisle, bays=bays,
                levels=levels, bay_width_m=bay_width_m, start_m=start_m)
    db.session.add(rack)
    db.session.flush()
    sync_rack_lanes(rack, {})
    return rack


def sync_rack_lanes(rack: Rack, existing: dict[str, Location]) -> Counter[str]:
    """Create or realign the lanes of a rack; `existing` maps lane codes already in the warehouse to their rows."""
    counts: Counter[str] = Counter()
    zone, pick, rep = rack.zone, rack.pick_aisle, rack.replenish_aisle
    for bay in range(1, rack.bays + 1):
        for level in range(1, rack.levels + 1):
            code = location_code(rack.code, bay, level)
            loc = existing.get(code)
            values = dict(zone_id=zone.id, rack_id=rack.id, bay=bay, level=level, aisle_index=pick.seq,
                          position_m=round(rack.start_m + (bay - 0.5) * rack.bay_width_m, 3))
            faces = {Face.PICK: pick.id, Face.REPLENISH: rep.id}
            if loc is None:
                loc = Location(warehouse_id=zone.warehouse_id, code=code, **values)
                loc.faces = [LocationFace(face=f, aisle_id=a, zone_id=zone.id) for f, a in faces.items()]
                db.session.add(loc)
                counts["created"] += 1
                continue
            changed = set_location_place(loc, values, faces)
            counts["updated" if changed else "unchanged"] += 1
    db.session.flush()
    return counts


def set_location_place(loc: Location, values: dict[str, Any], faces: dict[Face, int]) -> bool:
    """Move a location (zone, rack, coordinates) and set the aisles it is reached from; True if anything changed."""
    current = {f.face: f.aisle_id for f in loc.faces}
    if loc.zone_id != values["zone_id"] and loc.faces:
        # The faces carry the zone in a composite key: drop them before the location changes zone.
        loc.faces = []
        db.session.flush()
    changed = assign(loc, **values)
    if current != faces:
        by_face = {f.face: f for f in loc.faces}
        for face in set(by_face) - set(faces):
            loc.faces.remove(by_face[face])
        for face, aisle_id in faces.items():
            if face in by_face:
                by_face[face].aisle_id = aisle_id
            else:
                loc.faces.append(LocationFace(face=face, aisle_id=aisle_id, zone_id=values["zone_id"]))
        changed = True
    return changed


def assign(obj: Any, **values: Any) -> bool:
    """Set attributes that differ; True when one did."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def remove(obj: Warehouse | Zone | Aisle | Rack | Location | Resource | Printer) -> None:
    """Delete a layout entity with what hangs on it (an aisle's resource, a rack's lanes)."""
    if isinstance(obj, Aisle):
        res = db.session.scalar(select(Resource).where(Resource.aisle_id == obj.id))
        if res is not None:
            db.session.delete(res)
    if isinstance(obj, Rack):
        for lane in db.session.scalars(select(Location).where(Location.rack_id == obj.id)):
            db.session.delete(lane)
    db.session.delete(obj)
    db.session.flush()


def add_floor_location(zone: Zone, code: str, capacity_units: int | None = None) -> Location:
    """A location outside the racks (dock lane, sas slot, quarantine bin); it has no faces."""
    if zone.kind == ZoneKind.RACK:
        raise ValidationFailed("Lanes of a rack zone are generated from its racks.")
    loc = Location(zone=zone, code=code, capacity_units=capacity_units)
    db.session.add(loc)
    db.session.flush()
    return loc


def add_resource(zone: Zone, code: str, kind: ResourceKind, name: str | None = None) -> Resource:
    """A dock door, pack station or sas that work books by time slot."""
    if kind == ResourceKind.AISLE:
        raise ValidationFailed("Aisle resources are created with their aisle.")
    res = Resource(warehouse_id=zone.warehouse_id, zone=zone, kind=kind, code=code, name=name or code)
    db.session.add(res)
    db.session.flush()
    return res


def add_printer(
    warehouse: Warehouse, code: str, *, place: PrinterPlace, connection: str,
    language: PrinterLanguage = PrinterLanguage.ZPL, zone: Zone | None = None, resource: Resource | None = None,
    name: str | None = None, backup: Printer | None = None,
) -> Printer:
    """A printer at a place of the site (head of a rack zone, pack station, receiving dock)."""
    if place == PrinterPlace.RACK_HEAD and (zone is None or zone.kind != ZoneKind.RACK):
        raise ValidationFailed(f"Printer {code}: a rack-head printer stands at the head of a rack zone.")
    if not connection.startswith(("socket://", "cups://", "virtual://")):
        raise ValidationFailed(f"Printer {code}: connection must be socket://host:port, cups://QUEUE or virtual://NAME.")
    printer = Printer(
        warehouse_id=warehouse.id, code=code, name=name or code, place=place, connection=connection,
        language=language, zone_id=zone.id if zone else None, resource_id=resource.id if resource else None,
        backup_printer_id=backup.id if backup else None,
    )
    db.session.add(printer)
    db.session.flush()
    return printer


def find_location(warehouse: Warehouse, code: str) -> Location:
    """The location with this code in this warehouse, or NotFound."""
    loc = db.session.scalar(select(Location).where(Location.warehouse_id == warehouse.id, Location.code == code))
    if loc is None:
        raise NotFound(f"No location {code!r} in warehouse {warehouse.code}.")
    return loc
