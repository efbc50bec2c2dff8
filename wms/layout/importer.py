"""Import a layout file onto the database: create what is new, update what changed, prune on request.

Everything is checked before the first write (file rules, then the rules that depend on what the database
already holds); the writes are one flush sequence in the caller's transaction, which the caller commits once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from wms.db import db
from wms.enums import ResourceKind, ZoneKind
from wms.layout import services as layout
from wms.layout.layoutfile import (
    LayoutFile,
    LayoutFileInvalid,
    Problem,
    format_path,
    lane_code,
    line_of,
    read_layout,
)
from wms.layout.models import Aisle, Location, Rack, Resource, Warehouse, Zone
from wms.printing.models import Printer
from wms.stock.models import Quant

KINDS = ("warehouse", "zones", "aisles", "racks", "locations", "resources", "printers")
# Aisles renumbered in place step over this offset first, as (zone, seq) is unique at every flush.
SEQ_PARKING = 10_000

Progress = Callable[[str], None]


@dataclass
class ImportReport:
    warehouse: str
    pruned: bool
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    absent: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts[kind][outcome] += n

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] or c["removed"] for c in self.counts.values())

    def summary_lines(self) -> list[str]:
        lines = [f"warehouse {self.warehouse}:"]
        for kind in KINDS:
            c = self.counts[kind]
            lines.append(f"  {kind:<10} created {c['created']:>4}  updated {c['updated']:>4}  "
                         f"unchanged {c['unchanged']:>4}  removed {c['removed']:>4}")
        if self.absent:
            verb = "removed" if self.pruned else "kept (use --prune to remove)"
            lines.append(f"  in the database but not in the file, {verb}:")
            lines += [f"    {kind} {code}" for kind, code in self.absent]
        return lines


def import_layout_file(path: Path, *, prune: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import the layout file at `path` (YAML, or JSON by its .json suffix)."""
    return import_layout(path.read_text(encoding="utf-8"), path.name, prune=prune, progress=progress)


def import_layout(text: str, filename: str, *, prune: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import a layout text onto the warehouse it names; nothing is written when a rule is broken."""
    data, tree = read_layout(text, filename)
    return _Import(data, tree, filename, prune, progress).run()


class _Import:
    def __init__(self, data: LayoutFile, tree: Any, filename: str, prune: bool, progress: Progress | None) -> None:
        self.data, self.tree, self.filename, self.prune = data, tree, filename, prune
        self.progress = progress or (lambda _zone: None)
        self.report = ImportReport(data.warehouse.code, prune)
        self.wh: Warehouse | None = db.session.scalar(select(Warehouse).where(Warehouse.code == data.warehouse.code))
        self.zones: dict[str, Zone] = {}
        self.aisles: dict[tuple[str, str], Aisle] = {}
        self.racks: dict[tuple[str, str], Rack] = {}
        self.locations: dict[str, Location] = {}
        self.resources: dict[str, Resource] = {}
        self.printers: dict[str, Printer] = {}
        if self.wh is not None:
            self._load_existing(self.wh)

    # --- reading what exists and planning ---------------------------------------------------------------------

    def _load_existing(self, wh: Warehouse) -> None:
        wid = wh.id
        zones = {z.id: z for z in db.session.scalars(select(Zone).where(Zone.warehouse_id == wid))}
        self.zones = {z.code: z for z in zones.values()}
        for a in db.session.scalars(select(Aisle).where(Aisle.zone_id.in_(zones))):
            self.aisles[(zones[a.zone_id].code, a.code)] = a
        for r in db.session.scalars(select(Rack).where(Rack.zone_id.in_(zones))):
            self.racks[(zones[r.zone_id].code, r.code)] = r
        self.locations = {loc.code: loc for loc in db.session.scalars(
            select(Location).where(Location.warehouse_id == wid))}
        self.resources = {r.code: r for r in db.session.scalars(
            select(Resource).where(Resource.warehouse_id == wid, Resource.kind != ResourceKind.AISLE))}
        self.printers = {p.code: p for p in db.session.scalars(select(Printer).where(Printer.warehouse_id == wid))}

    def _wanted(self) -> dict[str, set[Any]]:
        wanted: dict[str, set[Any]] = {k: set() for k in ("zones", "aisles", "racks", "locations", "resources",
                                                           "printers")}
        for z in self.data.zones:
            wanted["zones"].add(z.code)
            wanted["aisles"] |= {(z.code, a.code) for a in z.aisles}
            wanted["racks"] |= {(z.code, r.code) for r in z.racks}
            wanted["locations"] |= {lane_code(r.code, b, lv) for r in z.racks
                                    for b in range(1, r.bays + 1) for lv in range(1, r.levels + 1)}
            wanted["locations"] |= {loc.code for loc in z.floor_locations()}
            wanted["resources"] |= {r.code for r in z.resources}
        wanted["printers"] = {p.code for p in self.data.printers}
        return wanted

    def _plan(self) -> dict[str, list[Any]]:
        """What the database has and the file lacks; problems that only the database can reveal."""
        wanted = self._wanted()
        absent: dict[str, list[Any]] = {
            "zones": [z for c, z in self.zones.items() if c not in wanted["zones"]],
            "aisles": [a for k, a in self.aisles.items() if k not in wanted["aisles"] and k[0] in wanted["zones"]],
            "racks": [r for k, r in self.racks.items() if k not in wanted["racks"] and k[0] in wanted["zones"]],
            "locations": [], "resources": [], "printers": [],
        }
        gone_zone_ids = {z.id for z in absent["zones"]}
        gone_rack_ids = {r.id for r in absent["racks"]}
        absent["locations"] = [loc for c, loc in self.locations.items() if c not in wanted["locations"]
                               and loc.zone_id not in gone_zone_ids and loc.rack_id not in gone_rack_ids]
        absent["resources"] = [r for c, r in self.resources.items()
                               if c not in wanted["resources"] and r.zone_id not in gone_zone_ids]
        absent["printers"] = [p for c, p in self.printers.items() if c not in wanted["printers"]]
        problems = self._conflicts(absent)
        if problems:
            raise LayoutFileInvalid(problems, self.filename)
        names = {"zones": "zone", "aisles": "aisle", "racks": "rack", "locations": "location",
                 "resources": "resource", "printers": "printer"}
        zone_code = {z.id: z.code for z in self.zones.values()}
        for kind, rows in absent.items():
            for row in rows:
                code = f"{zone_code[row.zone_id]}/{row.code}" if kind in ("aisles", "racks") else row.code
                self.report.absent.append((names[kind], code))
        return absent

    def _problem(self, loc: tuple[Any, ...], reason: str) -> Problem:
        return Problem(line_of(self.tree, loc), format_path(loc), reason)

    def _conflicts(self, absent: dict[str, list[Any]]) -> list[Problem]:
        problems = []
        absent_aisle_ids = {a.id for a in absent["aisles"]}
        for i, z in enumerate(self.data.zones):
            zone = self.zones.get(z.code)
            if zone is None:
                continue
            if zone.kind != z.kind:
                problems.append(self._problem(("zones", i, "kind"), f"zone {z.code} is a {zone.kind.value} zone in "
                                              "the database; remove it (or rename the zone) to change its kind"))
            taken = {a.seq: a for a in self.aisles.values() if a.zone_id == zone.id
                     and not (self.prune and a.id in absent_aisle_ids)}
            for seq, a in enumerate(z.aisles):
                old = self.aisles.get((z.code, a.code))
                if old is not None and old.face != a.face:
                    problems.append(self._problem(("zones", i, "aisles", seq, "face"),
                                                  f"aisle {a.code} is a {old.face.value} aisle in the database; "
                                                  "give the new aisle another code"))
                holder = taken.get(seq)
                if holder is not None and holder.id in absent_aisle_ids:
                    problems.append(self._problem(("zones", i, "aisles", seq),
                                                  f"position {seq} is held by aisle {holder.code}, which the file "
                                                  "no longer has; import with --prune"))
        if self.prune:
            doomed = [loc.id for loc in absent["locations"]]
            doomed += [loc.id for loc in self.locations.values() if loc.rack_id in {r.id for r in absent["racks"]}
                       or loc.zone_id in {z.id for z in absent["zones"]}]
            stocked = db.session.execute(
                select(Location.code, func.sum(Quant.on_hand)).join(Quant, Quant.location_id == Location.id)
                .where(Location.id.in_(doomed)).group_by(Location.code).order_by(Location.code)
            ).all() if doomed else []
            problems += [Problem(1, "", f"location {code} holds stock ({qty} units); move it before removing "
                                        "the location") for code, qty in stocked]
        return problems

    # --- writing ----------------------------------------------------------------------------------------------

    def run(self) -> ImportReport:
        absent = self._plan()
        self._warehouse()
        for i, z in enumerate(self.data.zones):
            self._zone(i, z)
            self.progress(z.code)
        self._printers()
        if self.prune:
            self._remove(absent)
        db.session.flush()
        return self.report

    def _warehouse(self) -> None:
        w = self.data.warehouse
        if self.wh is None:
            self.wh = layout.create_warehouse(w.code, w.name, w.timezone, w.address)
            self.report.count("warehouse", "created")
            return
        changed = layout.assign(self.wh, name=w.name, timezone=w.timezone, address=w.address)
        self.report.count("warehouse", "updated" if changed else "unchanged")

    def _zone(self, seq: int, z: Any) -> None:
        assert self.wh is not None
        zone = self.zones.get(z.code)
        length = z.aisle_length_m if z.kind == ZoneKind.RACK else None
        if zone is None:
            zone = layout.add_zone(self.wh, z.code, z.kind, z.name, aisle_length_m=length,
                                   cross_aisles_m=list(z.cross_aisles_m), seq=seq)
            self.zones[z.code] = zone
            self.report.count("zones", "created")
        else:
            changed = layout.assign(zone, name=z.name or z.code, seq=seq, aisle_length_m=length,
                                    cross_aisles_m=sorted(z.cross_aisles_m))
            self.report.count("zones", "updated" if changed else "unchanged")
        self._aisles(zone, z)
        for r in z.racks:
            self._rack(zone, r)
        for loc in z.floor_locations():
            self._floor_location(zone, loc)
        for r in z.resources:
            self._resource(zone, r)
        db.session.flush()

    def _aisles(self, zone: Zone, z: Any) -> None:
        moving = [(seq, self.aisles[(z.code, a.code)]) for seq, a in enumerate(z.aisles)
                  if (z.code, a.code) in self.aisles and self.aisles[(z.code, a.code)].seq != seq]
        if self.prune:
            wanted = {a.code for a in z.aisles}
            moving += [(None, a) for (zc, code), a in self.aisles.items() if zc == z.code and code not in wanted]
        for n, (_seq, aisle) in enumerate(moving):
            aisle.seq = SEQ_PARKING + n
        db.session.flush()
        for seq, aisle in moving:
            if seq is not None:
                aisle.seq = seq
        db.session.flush()
        renumbered = {id(a) for s, a in moving if s is not None}
        for seq, a in enumerate(z.aisles):
            aisle = self.aisles.get((z.code, a.code))
            if aisle is None:
                self.aisles[(z.code, a.code)] = layout.add_aisle(zone, a.code, a.face, seq)
                self.report.count("aisles", "created")
            else:
                self.report.count("aisles", "updated" if id(aisle) in renumbered else "unchanged")

    def _rack(self, zone: Zone, r: Any) -> None:
        pick, rep = self.aisles[(zone.code, r.pick_aisle)], self.aisles[(zone.code, r.replenish_aisle)]
        rack = self.racks.get((zone.code, r.code))
        if rack is None:
            rack = Rack(zone=zone, code=r.code, pick_aisle=pick, replenish_aisle=rep, bays=r.bays, levels=r.levels,
                        bay_width_m=r.bay_width_m, start_m=r.start_m)
            db.session.add(rack)
            db.session.flush()
            self.racks[(zone.code, r.code)] = rack
            self.report.count("racks", "created")
        else:
            changed = layout.assign(rack, pick_aisle_id=pick.id, replenish_aisle_id=rep.id, bays=r.bays,
                                    levels=r.levels, bay_width_m=r.bay_width_m, start_m=r.start_m)
            if changed:
                db.session.flush()
                db.session.refresh(rack)
            self.report.count("racks", "updated" if changed else "unchanged")
        counts = layout.sync_rack_lanes(rack, self.locations)
        for outcome, n in counts.items():
            self.report.count("locations", outcome, n)

    def _floor_location(self, zone: Zone, f: Any) -> None:
        loc = self.locations.get(f.code)
        if loc is None:
            self.locations[f.code] = layout.add_floor_location(zone, f.code, f.capacity_units)
            self.report.count("locations", "created")
            return
        values = dict(zone_id=zone.id, rack_id=None, bay=None, level=None, aisle_index=None, position_m=None)
        changed = layout.set_location_place(loc, values, {})
        changed = layout.assign(loc, capacity_units=f.capacity_units) or changed
        self.report.count("locations", "updated" if changed else "unchanged")

    def _resource(self, zone: Zone, r: Any) -> None:
        res = self.resources.get(r.code)
        if res is None:
            self.resources[r.code] = layout.add_resource(zone, r.code, r.kind, r.name)
            self.report.count("resources", "created")
            return
        changed = layout.assign(res, zone_id=zone.id, kind=r.kind, name=r.name or r.code)
        self.report.count("resources", "updated" if changed else "unchanged")

    def _printers(self) -> None:
        assert self.wh is not None
        created: set[str] = set()
        changed: set[str] = set()
        for p in self.data.printers:
            zone = self.zones[p.zone] if p.zone else None
            resource = self.resources[p.resource] if p.resource else None
            printer = self.printers.get(p.code)
            if printer is None:
                self.printers[p.code] = layout.add_printer(
                    self.wh, p.code, place=p.place, connection=p.connection, language=p.language, zone=zone,
                    resource=resource, name=p.name)
                created.add(p.code)
            elif layout.assign(printer, name=p.name or p.code, place=p.place, connection=p.connection,
                               language=p.language, zone_id=zone.id if zone else None,
                               resource_id=resource.id if resource else None):
                changed.add(p.code)
        db.session.flush()
        # Backups point at printers of the same file, so they are set once every printer exists.
        for p in self.data.printers:
            backup_id = self.printers[p.backup].id if p.backup else None
            if layout.assign(self.printers[p.code], backup_printer_id=backup_id) and p.code not in created:
                changed.add(p.code)
        db.session.flush()
        self.report.count("printers", "created", len(created))
        self.report.count("printers", "updated", len(changed))
        self.report.count("printers", "unchanged", len(self.data.printers) - len(created) - len(changed))

    def _remove(self, absent: dict[str, list[Any]]) -> None:
        for kind in ("printers", "resources", "locations", "racks", "aisles", "zones"):
            for row in absent[kind]:
                layout.remove(row)
                self.report.count(kind, "removed")
        # Removing rows behind relationships the ORM already loaded: reload what is left.
        db.session.expire_all()

