"""Read and check a warehouse layout file (YAML or JSON) with line numbers; no database.

Every problem is a `Problem(line, path, reason)`; all of them are collected before `LayoutFileInvalid` is raised,
so whoever fixes the file sees the whole list at once.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wms.enums import Face, PrinterLanguage, PrinterPlace, ResourceKind, ZoneKind
from wms.errors import ValidationFailed

CONNECTION_RE = re.compile(r"^(socket://[^\s/:]+:\d{1,5}|cups://\S+|virtual://\S+)$")
EPSILON = 1e-9


class Problem(NamedTuple):
    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line} ({self.path or 'file'}): {self.reason}"


class LayoutFileInvalid(ValidationFailed):
    """The layout file breaks the format or a consistency rule; nothing was written."""

    slug = "layout-file-invalid"
    title = "The layout file is not valid"

    def __init__(self, problems: list[Problem], filename: str = "layout") -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.path))
        super().__init__(
            f"{filename}: {len(self.problems)} problem(s); nothing was written.",
            errors=[{"field": p.path, "line": str(p.line), "message": p.reason} for p in self.problems],
        )


# --- loading with line numbers -------------------------------------------------------------------------------

class LineDict(dict):
    """A mapping that remembers where it and each of its keys stand in the file."""

    line: int
    key_lines: dict[str, int]


class LineList(list):
    """A sequence that remembers its own line and the line of each item."""

    line: int
    item_lines: list[int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry 1-based line numbers; duplicate keys are noted."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in result:
                self.duplicates.append((key_node.start_mark.line + 1, key))
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:  # type: ignore[override]
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


LineLoader.add_constructor("tag:yaml.org,2002:map", LineLoader.construct_mapping)
LineLoader.add_constructor("tag:yaml.org,2002:seq", LineLoader.construct_sequence)


def load_with_lines(text: str, filename: str = "layout") -> Any:
    """Parse YAML (or JSON, a subset the same loader reads) keeping line numbers; raise on syntax errors."""
    loader = LineLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise LayoutFileInvalid([Problem(line, "", f"cannot be read: {exc.problem or exc}")], filename) from None
    except yaml.YAMLError as exc:
        raise LayoutFileInvalid([Problem(1, "", f"cannot be read: {exc}")], filename) from None
    finally:
        loader.dispose()
    problems = [Problem(line, key, f"key {key!r} is repeated") for line, key in loader.duplicates]
    if problems:
        raise LayoutFileInvalid(problems, filename)
    return data


def format_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def line_of(tree: Any, loc: tuple[Any, ...]) -> int:
    """The line of the deepest node of `loc` that exists in the parsed tree."""
    line = getattr(tree, "line", 1)
    node = tree
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str):
            if part not in node:
                return line
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            return line
    return line


# --- structure ------------------------------------------------------------------------------------------------

Code20 = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
Code32 = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class WarehouseIn(_Strict):
    code: str = Code20
    name: str = Field(min_length=1, max_length=120)
    timezone: str = "UTC"
    address: str | None = None


class AisleIn(_Strict):
    code: str = Code20
    face: Face


class RackIn(_Strict):
    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    pick_aisle: str
    replenish_aisle: str
    bays: int = Field(gt=0, le=99)
    levels: int = Field(gt=0, le=9)
    bay_width_m: float = Field(gt=0)
    start_m: float = Field(default=0.0, ge=0)

    @property
    def end_m(self) -> float:
        return self.start_m + self.bays * self.bay_width_m


class FloorLocationIn(_Strict):
    code: str = Code32
    capacity_units: int | None = Field(default=None, gt=0)


class ResourceIn(_Strict):
    code: str = Code32
    kind: ResourceKind
    name: str | None = Field(default=None, max_length=120)


class ZoneIn(_Strict):
    code: str = Code20
    name: str | None = Field(default=None, max_length=120)
    kind: ZoneKind
    aisle_length_m: float | None = Field(default=None, gt=0)
    cross_aisles_m: list[float] = []
    aisles: list[AisleIn] = []
    racks: list[RackIn] = []
    locations: list[str | FloorLocationIn] = []
    resources: list[ResourceIn] = []

    def floor_locations(self) -> list[FloorLocationIn]:
        return [FloorLocationIn(code=x) if isinstance(x, str) else x for x in self.locations]


class PrinterIn(_Strict):
    code: str = Code32
    name: str | None = Field(default=None, max_length=120)
    place: PrinterPlace
    zone: str | None = None
    resource: str | None = None
    connection: str = Field(max_length=255)
    language: PrinterLanguage = PrinterLanguage.ZPL
    backup: str | None = None


class LayoutFile(_Strict):
    warehouse: WarehouseIn
    zones: list[ZoneIn] = []
    printers: list[PrinterIn] = []


def lane_code(rack_code: str, bay: int, level: int) -> str:
    return f"{rack_code}-{bay:02d}-{level}"


# --- semantic rules -------------------------------------------------------------------------------------------

class _Checker:
    def __init__(self, tree: Any) -> None:
        self.tree = tree
        self.problems: list[Problem] = []

    def add(self, loc: tuple[Any, ...], reason: str) -> None:
        self.problems.append(Problem(line_of(self.tree, loc), format_path(loc), reason))

    def unique(self, items: list[tuple[tuple[Any, ...], str]], what: str) -> None:
        seen: dict[str, str] = {}
        for loc, code in items:
            if code in seen:
                self.add(loc, f"{what} {code} is already defined at {seen[code]}")
            else:
                seen[code] = format_path(loc)


def _check_zone(c: _Checker, i: int, zone: ZoneIn) -> None:
    here = ("zones", i)
    if zone.kind != ZoneKind.RACK:
        for key in ("aisles", "racks", "cross_aisles_m"):
            if getattr(zone, key):
                c.add((*here, key), f"only rack zones have {key.replace('_m', '').replace('_', ' ')}; "
                                    f"{zone.code} is a {zone.kind.value} zone")
        if zone.aisle_length_m is not None:
            c.add((*here, "aisle_length_m"), f"only rack zones have an aisle length; {zone.code} is a "
                                             f"{zone.kind.value} zone")
        return
    if zone.locations:
        c.add((*here, "locations"), "lanes of a rack zone are generated from its racks; list floor locations "
                                    "in other zones")
    length = zone.aisle_length_m
    if length is None:
        c.add((*here, "kind"), f"rack zone {zone.code} needs aisle_length_m")
    for j, pos in enumerate(zone.cross_aisles_m):
        if length is not None and not 0 < pos < length:
            c.add((*here, "cross_aisles_m", j), f"cross aisle at {pos:g} m is not inside the {length:g} m aisles")
    c.unique([((*here, "aisles", j, "code"), a.code) for j, a in enumerate(zone.aisles)], "aisle")
    c.unique([((*here, "racks", j, "code"), r.code) for j, r in enumerate(zone.racks)], "rack")
    aisles = {a.code: (seq, a) for seq, a in reversed(list(enumerate(zone.aisles)))}
    for j, rack in enumerate(zone.racks):
        at = (*here, "racks", j)
        pick, rep = aisles.get(rack.pick_aisle), aisles.get(rack.replenish_aisle)
        for key, found, face in (("pick_aisle", pick, Face.PICK), ("replenish_aisle", rep, Face.REPLENISH)):
            name = getattr(rack, key)
            if found is None:
                c.add((*at, key), f"zone {zone.code} has no aisle {name}")
            elif found[1].face != face:
                c.add((*at, key), f"{name} is a {found[1].face.value} aisle")
        if pick and rep and pick[1].face == Face.PICK and rep[1].face == Face.REPLENISH and abs(pick[0] - rep[0]) != 1:
            c.add((*at, "replenish_aisle"), f"{rack.pick_aisle} and {rack.replenish_aisle} are not neighbours "
                                            f"(positions {pick[0]} and {rep[0]})")
        if length is not None and rack.end_m > length + EPSILON:
            c.add((*at, "bays"), f"rack {rack.code} ends at {rack.end_m:g} m, beyond the {length:g} m aisles")
    for j, rack in enumerate(zone.racks):
        for k in range(j):
            other = zone.racks[k]
            same_line = (other.pick_aisle, other.replenish_aisle) == (rack.pick_aisle, rack.replenish_aisle)
            if same_line and rack.start_m < other.end_m - EPSILON and other.start_m < rack.end_m - EPSILON:
                c.add((*here, "racks", j, "start_m"),
                      f"rack {rack.code} ({rack.start_m:g}-{rack.end_m:g} m) overlaps rack {other.code} "
                      f"({other.start_m:g}-{other.end_m:g} m) on the same side of {rack.pick_aisle}")
    for j, res in enumerate(zone.resources):
        if res.kind == ResourceKind.AISLE:
            c.add((*here, "resources", j, "kind"), "aisle resources are created with their aisles")


def _check_codes_across_warehouse(c: _Checker, layout: LayoutFile) -> None:
    c.unique([(("zones", i, "code"), z.code) for i, z in enumerate(layout.zones)], "zone")
    racks: list[tuple[tuple[Any, ...], str]] = []
    locations: list[tuple[tuple[Any, ...], str]] = []
    resources: list[tuple[tuple[Any, ...], str]] = []
    for i, zone in enumerate(layout.zones):
        for j, rack in enumerate(zone.racks):
            # Lane codes come from rack codes and must be unique in the warehouse, so rack codes must be too.
            racks.append((("zones", i, "racks", j, "code"), rack.code))
            locations += [(("zones", i, "racks", j, "code"), lane_code(rack.code, b, lv))
                          for b in range(1, rack.bays + 1) for lv in range(1, rack.levels + 1)]
        for j, loc in enumerate(zone.floor_locations()):
            locations.append((("zones", i, "locations", j), loc.code))
        resources += [(("zones", i, "aisles", j, "code"), f"{zone.code}/{a.code}") for j, a in enumerate(zone.aisles)]
        resources += [(("zones", i, "resources", j, "code"), r.code) for j, r in enumerate(zone.resources)]
    c.unique(racks, "rack")
    before = len(c.problems)
    c.unique(locations, "location")
    # One clash of rack codes yields a clash per lane; keep the first to stay readable.
    seen_paths: set[str] = set()
    kept = c.problems[:before]
    for p in c.problems[before:]:
        if p.path not in seen_paths:
            seen_paths.add(p.path)
            kept.append(p)
    c.problems = kept
    c.unique(resources, "resource")


def _check_printers(c: _Checker, layout: LayoutFile) -> None:
    zones = {z.code: z for z in layout.zones}
    codes = {p.code for p in layout.printers}
    c.unique([(("printers", i, "code"), p.code) for i, p in enumerate(layout.printers)], "printer")
    for i, printer in enumerate(layout.printers):
        at = ("printers", i)
        zone = zones.get(printer.zone) if printer.zone else None
        if printer.zone and zone is None:
            c.add((*at, "zone"), f"there is no zone {printer.zone} in the file")
        if printer.place == PrinterPlace.RACK_HEAD:
            if printer.zone is None:
                c.add((*at, "zone"), "a rack-head printer names its rack zone")
            elif zone is not None and zone.kind != ZoneKind.RACK:
                c.add((*at, "zone"), f"{printer.zone} is a {zone.kind.value} zone, not a rack zone")
        if printer.resource:
            owners = [z for z in layout.zones if any(r.code == printer.resource for r in z.resources)]
            if not owners:
                c.add((*at, "resource"), f"there is no resource {printer.resource} in the file")
            elif zone is not None and owners[0].code != zone.code:
                c.add((*at, "resource"), f"resource {printer.resource} is in zone {owners[0].code}, not {zone.code}")
        if not CONNECTION_RE.match(printer.connection):
            c.add((*at, "connection"), "connection must be socket://host:port, cups://QUEUE or virtual://NAME")
        if printer.backup is not None:
            if printer.backup == printer.code:
                c.add((*at, "backup"), "a printer cannot be its own backup")
            elif printer.backup not in codes:
                c.add((*at, "backup"), f"backup {printer.backup} is not a printer of the file")


def check_layout(layout: LayoutFile, tree: Any) -> list[Problem]:
    """Every consistency rule of docs/layout-format.md broken by a structurally valid layout."""
    c = _Checker(tree)
    try:
        zoneinfo.ZoneInfo(layout.warehouse.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        c.add(("warehouse", "timezone"), f"{layout.warehouse.timezone!r} is not an IANA time zone")
    for i, zone in enumerate(layout.zones):
        _check_zone(c, i, zone)
    _check_codes_across_warehouse(c, layout)
    _check_printers(c, layout)
    return c.problems


def _node_at(tree: Any, loc: tuple[Any, ...]) -> Any:
    node = tree
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _pydantic_problems(exc: ValidationError, tree: Any) -> list[Problem]:
    problems = []
    for err in exc.errors():
        # A floor location is a code or a mapping: report only the branch that matches what was written.
        if "str" in err["loc"] and isinstance(_node_at(tree, err["loc"][: err["loc"].index("str")]), dict):
            continue
        if "FloorLocationIn" in err["loc"] and not isinstance(
                _node_at(tree, err["loc"][: err["loc"].index("FloorLocationIn")]), dict):
            continue
        loc = tuple(p for p in err["loc"] if p not in ("str", "FloorLocationIn"))
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            reason = f"{loc[-1]!r} is required"
        elif err["type"] == "enum":
            reason = f"{err['input']!r} is not one of: {err['ctx']['expected']}"
        problems.append(Problem(line_of(tree, loc), format_path(loc), reason))
    unique: dict[tuple[int, str, str], Problem] = {}
    for p in problems:
        unique.setdefault((p.line, p.path, p.reason), p)
    return list(unique.values())


def parse_layout(text: str, filename: str = "layout") -> LayoutFile:
    """The validated layout described by `text`, or LayoutFileInvalid listing every problem with its line."""
    return read_layout(text, filename)[0]


def read_layout(text: str, filename: str = "layout") -> tuple[LayoutFile, Any]:
    """The validated layout and the parsed tree (to point later problems at their lines)."""
    if filename.lower().endswith(".json"):
        # JSON may indent with tabs, which YAML refuses; a JSON string cannot hold a raw tab, so this is safe.
        text = text.replace("\t", " ")
    tree = load_with_lines(text, filename)
    if not isinstance(tree, dict):
        raise LayoutFileInvalid([Problem(getattr(tree, "line", 1), "", "the file must be a mapping with "
                                         "'warehouse', 'zones' and 'printers'")], filename)
    try:
        layout = LayoutFile.model_validate(tree)
    except ValidationError as exc:
        raise LayoutFileInvalid(_pydantic_problems(exc, tree), filename) from None
    problems = check_layout(layout, tree)
    if problems:
        raise LayoutFileInvalid(problems, filename)
    return layout, tree

