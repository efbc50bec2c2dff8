"""Write a warehouse back as a layout file: racks (not lanes), floor locations as lists, stable order."""

from __future__ import annotations

import json
from typing import Any

import yaml
from sqlalchemy import select

from wms.db import db
from wms.enums import PrinterLanguage, ResourceKind, ZoneKind
from wms.layout.models import Aisle, Location, Rack, Resource, Warehouse, Zone
from wms.printing.models import Printer


class FlowMap(dict):
    """A mapping written on one line, as racks and printers are in hand-written files."""


class FlowList(list):
    """A list of scalars written on one line."""


class LayoutDumper(yaml.SafeDumper):
    """Block style for the outline, flow style for the leaves."""


LayoutDumper.add_representer(FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(),
                                                                       flow_style=True))
LayoutDumper.add_representer(FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v,
                                                                         flow_style=True))


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _zone(zone: Zone, aisles: list[Aisle], racks: list[Rack], floor: list[Location],
          resources: list[Resource]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": zone.code, "name": zone.name, "kind": zone.kind.value}
    if zone.kind == ZoneKind.RACK:
        out["aisle_length_m"] = _num(zone.aisle_length_m or 0)
        if zone.cross_aisles_m:
            out["cross_aisles_m"] = FlowList(_num(p) for p in sorted(zone.cross_aisles_m))
        by_id = {a.id: a.code for a in aisles}
        out["aisles"] = [FlowMap(code=a.code, face=a.face.value) for a in aisles]
        out["racks"] = [FlowMap(code=r.code, pick_aisle=by_id[r.pick_aisle_id],
                                replenish_aisle=by_id[r.replenish_aisle_id], bays=r.bays, levels=r.levels,
                                bay_width_m=_num(r.bay_width_m), start_m=_num(r.start_m)) for r in racks]
    if floor:
        out["locations"] = FlowList(loc.code if loc.capacity_units is None
                                    else FlowMap(code=loc.code, capacity_units=loc.capacity_units) for loc in floor)
    if resources:
        out["resources"] = [FlowMap(code=r.code, kind=r.kind.value, name=r.name) for r in resources]
    return out


def _printer(p: Printer, zones: dict[int, str], resources: dict[int, str], printers: dict[int, str]) -> FlowMap:
    out = FlowMap(code=p.code, name=p.name, place=p.place.value)
    if p.zone_id is not None:
        out["zone"] = zones[p.zone_id]
    if p.resource_id is not None:
        out["resource"] = resources[p.resource_id]
    out["connection"] = p.connection
    out["language"] = PrinterLanguage(p.language).value
    if p.backup_printer_id is not None:
        out["backup"] = printers[p.backup_printer_id]
    return out


def export_layout(warehouse: Warehouse) -> dict[str, Any]:
    """The layout-file form of a warehouse (the inverse of the importer)."""
    wid = warehouse.id
    zones = list(db.session.scalars(select(Zone).where(Zone.warehouse_id == wid).order_by(Zone.seq, Zone.code)))
    zone_ids = [z.id for z in zones]
    aisles = list(db.session.scalars(select(Aisle).where(Aisle.zone_id.in_(zone_ids)).order_by(Aisle.seq)))
    racks = list(db.session.scalars(select(Rack).where(Rack.zone_id.in_(zone_ids)).order_by(Rack.code)))
    floor = list(db.session.scalars(select(Location).where(Location.warehouse_id == wid, Location.rack_id.is_(None))
                                    .order_by(Location.code)))
    resources = list(db.session.scalars(select(Resource).where(
        Resource.warehouse_id == wid, Resource.kind != ResourceKind.AISLE).order_by(Resource.code)))
    printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == wid).order_by(Printer.code)))

    head: dict[str, Any] = {"code": warehouse.code, "name": warehouse.name, "timezone": warehouse.timezone}
    if warehouse.address:
        head["address"] = warehouse.address
    return {
        "warehouse": head,
        "zones": [_zone(z, [a for a in aisles if a.zone_id == z.id], [r for r in racks if r.zone_id == z.id],
                        [loc for loc in floor if loc.zone_id == z.id], [r for r in resources if r.zone_id == z.id])
                  for z in zones],
        "printers": [_printer(p, {z.id: z.code for z in zones}, {r.id: r.code for r in resources},
                              {x.id: x.code for x in printers}) for p in printers],
    }


def dump_yaml(layout: dict[str, Any]) -> str:
    """The layout as compact YAML, in the order export_layout gives."""
    return yaml.dump(layout, Dumper=LayoutDumper, sort_keys=False, allow_unicode=True, width=200,
                     default_flow_style=False)


def dump_json(layout: dict[str, Any]) -> str:
    """The layout as indented JSON (readable back by the same importer)."""
    return json.dumps(layout, indent=2, ensure_ascii=False) + "\n"
