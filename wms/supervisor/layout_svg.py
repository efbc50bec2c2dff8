"""Draw a warehouse as SVG from plain data (no database, no Flask), for the supervisor's layout page.

Rack zones stand side by side, the zone head (where the printer is) at the bottom: aisles are vertical bands
coloured by face, rack lines between them are columns of lanes (one cell per bay and level), cross aisles cut
across. Floor zones (docks, sas, packing, quarantine) are boxes listing their locations, resources and printers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

SCALE = 22.0  # pixels per metre along the aisles
AISLE_W = 34.0
LEVEL_W = 13.0
ZONE_GAP = 36.0
TOP = 70.0
HEAD_H = 78.0
FLOOR_W = 220.0
FACE_COLOURS = {"pick": "#2f7dd1", "replenish": "#e39b2d"}
STATUS_COLOURS = {"ok": "#2e9d57", "ready": "#2e9d57", "unknown": "#8a8f98"}
ERROR_COLOUR = "#c9372c"
WARNING_COLOUR = "#e08a1e"
# A person can fix these at the printer (load paper, close the head, ...): orange, not red.
WARNING_STATUSES = frozenset({"warning", "paper_out", "head_open", "ribbon_out", "paused", "buffer_full"})
HEALTH_COLOURS = {"ok": "#2e9d57", "warning": WARNING_COLOUR, "down": ERROR_COLOUR, "unknown": "#8a8f98"}


@dataclass(frozen=True)
class AisleData:
    code: str
    face: str
    seq: int


@dataclass(frozen=True)
class LaneData:
    code: str
    bay: int
    level: int
    position_m: float


@dataclass(frozen=True)
class RackData:
    code: str
    slot: int  # the rack stands between aisle `slot` and aisle `slot + 1`
    start_m: float
    bay_width_m: float
    bays: int
    levels: int
    lanes: list[LaneData] = field(default_factory=list)


@dataclass(frozen=True)
class PrinterData:
    code: str
    status: str = "unknown"
    name: str = ""
    health: str | None = None  # ok / warning / down / unknown: colours the glyph when given (else the status)
    note: str = ""  # a second line under the glyph, e.g. jobs waiting and when it was last seen


@dataclass(frozen=True)
class ZoneData:
    code: str
    name: str
    kind: str
    aisle_length_m: float | None = None
    cross_aisles_m: list[float] = field(default_factory=list)
    aisles: list[AisleData] = field(default_factory=list)
    racks: list[RackData] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    resources: list[tuple[str, str]] = field(default_factory=list)
    printers: list[PrinterData] = field(default_factory=list)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def status_colour(status: str) -> str:
    status = status.lower()
    if status in WARNING_STATUSES:
        return WARNING_COLOUR
    return STATUS_COLOURS.get(status, ERROR_COLOUR)


def printer_colour(printer: PrinterData) -> str:
    if printer.health is not None:
        return HEALTH_COLOURS.get(printer.health, ERROR_COLOUR)
    return status_colour(printer.status)


def _rect(x: float, y: float, w: float, h: float, cls: str, title: str | None = None, extra: str = "") -> str:
    body = f"<title>{_e(title)}</title>" if title else ""
    tag = f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"{extra}'
    return f"{tag}>{body}</rect>" if body else f"{tag}/>"


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    return f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_e(text)}</text>'


def _printer_icon(x: float, y: float, printer: PrinterData) -> list[str]:
    colour = printer_colour(printer)
    label = f"{printer.code} · {printer.status}"
    health = f' data-health="{_e(printer.health)}"' if printer.health else ""
    out = [
        f'<g class="printer" data-printer="{_e(printer.code)}" data-status="{_e(printer.status)}"{health}>'
        f"<title>{_e(printer.name or printer.code)} ({_e(printer.status)})</title>",
        _rect(x - 9, y, 18, 6, "printer-paper"),
        _rect(x - 13, y + 5, 26, 12, "printer-body", extra=f' rx="2" fill="{colour}"'),
        _rect(x - 8, y + 15, 16, 6, "printer-paper"),
        _text(x, y + 33, label, "printer-label"),
    ]
    if printer.note:
        out.append(_text(x, y + 47, printer.note, "printer-note"))
    out.append("</g>")
    return out


def _rack_zone_width(zone: ZoneData) -> float:
    slots = max(len(zone.aisles) - 1, 0)
    widest = {s: max((r.levels for r in zone.racks if r.slot == s), default=1) for s in range(slots)}
    return len(zone.aisles) * AISLE_W + sum(max(w, 3) * LEVEL_W for w in widest.values())


def _rack_zone(zone: ZoneData, x0: float, height: float) -> tuple[list[str], float]:
    width = max(_rack_zone_width(zone), 120.0)
    length = zone.aisle_length_m or 1.0
    # One scale for every zone and heads aligned at the bottom, so aisle lengths compare at a glance.
    scale = SCALE
    top = height - HEAD_H - length * scale

    def y_of(pos_m: float) -> float:
        return top + (length - pos_m) * scale

    out = [f'<g class="zone rack-zone" data-zone="{_e(zone.code)}">',
           _rect(x0, top - 30, width, height - top + 30, "zone-frame", zone.name),
           _text(x0 + width / 2, top - 12, f"{zone.code} · {zone.name}", "zone-title")]
    x = x0
    slot_x: dict[int, tuple[float, float]] = {}
    ordered = sorted(zone.aisles, key=lambda a: a.seq)
    for i, aisle in enumerate(ordered):
        colour = FACE_COLOURS.get(aisle.face, "#999")
        out.append(_rect(x, top, AISLE_W, length * scale, f"aisle aisle-{_e(aisle.face)}",
                         f"{aisle.code} ({aisle.face})", extra=f' fill="{colour}"'))
        out.append(f'<text class="aisle-label" transform="translate({x + AISLE_W / 2 + 4:.1f},{top + 8:.1f}) '
                   f'rotate(90)">{_e(aisle.code)}</text>')
        x += AISLE_W
        if i < len(ordered) - 1:
            levels = max((r.levels for r in zone.racks if r.slot == aisle.seq), default=3)
            w = max(levels, 3) * LEVEL_W
            slot_x[aisle.seq] = (x, w)
            x += w
    for rack in zone.racks:
        if rack.slot not in slot_x:
            continue
        rx, rw = slot_x[rack.slot]
        end = rack.start_m + rack.bays * rack.bay_width_m
        out.append(_rect(rx, y_of(end), rw, (end - rack.start_m) * scale, "rack", f"rack {rack.code}"))
        cell_w = rw / max(rack.levels, 1)
        for lane in rack.lanes:
            cell_top = y_of(lane.position_m + rack.bay_width_m / 2)
            out.append(f'<g class="lane" data-lane="{_e(lane.code)}">'
                       + _rect(rx + (lane.level - 1) * cell_w + 1, cell_top + 1, cell_w - 2, rack.bay_width_m * scale - 2,
                               "lane-cell", lane.code) + "</g>")
        out.append(f'<text class="rack-label" transform="translate({rx + rw / 2 - 4:.1f},{y_of(end) + 6:.1f}) '
                   f'rotate(90)">{_e(rack.code)}</text>')
    for pos in zone.cross_aisles_m:
        out.append(_rect(x0, y_of(pos) - 0.5 * scale, width, scale, "cross-aisle", f"cross aisle at {pos:g} m"))
    head_y = y_of(0)
    out.append(_rect(x0, head_y, width, 6, "zone-head", f"head of zone {zone.code}"))
    for i, printer in enumerate(zone.printers):
        out += _printer_icon(x0 + width * (i + 1) / (len(zone.printers) + 1), head_y + 16, printer)
    out.append("</g>")
    return out, width


def _floor_rows(zone: ZoneData) -> list[str]:
    return [f"▪ {code}" for code in zone.locations] + [f"◆ {code} ({kind})" for code, kind in zone.resources]


def _floor_height(zone: ZoneData) -> float:
    notes = any(p.note for p in zone.printers)
    return 56 + 20 * len(_floor_rows(zone)) + (52 + (14 if notes else 0) if zone.printers else 0)


def _floor_zone(zone: ZoneData, x0: float, y0: float) -> tuple[list[str], float]:
    rows = _floor_rows(zone)
    h = _floor_height(zone)
    out = [f'<g class="zone floor-zone floor-{_e(zone.kind)}" data-zone="{_e(zone.code)}">',
           _rect(x0, y0, FLOOR_W, h, "floor-box", f"{zone.name} ({zone.kind})", extra=' rx="6"'),
           _text(x0 + 10, y0 + 22, zone.code, "zone-title", anchor="start"),
           _text(x0 + 10, y0 + 40, zone.name, "zone-kind", anchor="start")]
    for i, row in enumerate(rows):
        out.append(_text(x0 + 16, y0 + 62 + 20 * i, row, "floor-item", anchor="start"))
    notes = any(p.note for p in zone.printers)
    for i, printer in enumerate(zone.printers):
        out += _printer_icon(x0 + 40 + 80 * i, y0 + h - 48 - (14 if notes else 0), printer)
    out.append("</g>")
    return out, h


LEGEND = {"pick": "pick aisle", "replenish": "replenish aisle", "lane": "lane", "printer_ok": "printer ok",
          "printer_error": "printer in error"}


def _legend(x: float, labels: dict[str, str]) -> list[str]:
    swatches = [("pick", "aisle", FACE_COLOURS["pick"]), ("replenish", "aisle", FACE_COLOURS["replenish"]),
                ("lane", "lane-cell", None), ("printer_ok", "printer-body", STATUS_COLOURS["ok"]),
                ("printer_error", "printer-body", ERROR_COLOUR)]
    out = ['<g class="legend">']
    for i, (key, cls, colour) in enumerate(swatches):
        fill = f' fill="{colour}"' if colour else ""
        out.append(_rect(x + 140 * i, 8, 18, 14, cls, extra=fill))
        out.append(_text(x + 140 * i + 24, 20, labels.get(key, LEGEND[key]), "legend-text", anchor="start"))
    out.append("</g>")
    return out


def warehouse_svg(zones: list[ZoneData], labels: dict[str, str] | None = None) -> str:
    """The SVG picture of a warehouse: rack zones and floor zones left to right in their order."""
    tallest = max((z.aisle_length_m or 0 for z in zones if z.kind == "rack"), default=0)
    floor = max((_floor_height(z) for z in zones if z.kind != "rack"), default=0)
    height = max(TOP + HEAD_H + tallest * SCALE, TOP + floor, 360.0)
    parts: list[str] = []
    x = 10.0
    for zone in zones:
        if zone.kind == "rack":
            drawn, width = _rack_zone(zone, x, height)
        else:
            drawn, _h = _floor_zone(zone, x, TOP - 30)
            width = FLOOR_W
        parts += drawn
        x += width + ZONE_GAP
    total_w = max(x, 720.0)
    # no <style> inside (the Content-Security-Policy refuses inline styles): .layout-svg rules are in wms.css
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="layout-svg" viewBox="0 0 {total_w:.0f} {height + 10:.0f}" '
            f'width="{total_w:.0f}" height="{height + 10:.0f}" role="img" aria-label="warehouse layout">')
    return "\n".join([head, *_legend(10, labels or {}), *parts, "</svg>"])
