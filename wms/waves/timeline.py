"""Draw bookings as a timeline per resource (SVG), from plain data: no database, no Flask.

Rows are resources (each rack zone's pick and replenish aisles, pack stations, sas, dock doors), time runs left
to right, every slot is a bar coloured by its kind and labelled, and a red line marks now. Bars carry their slot
id and times as data attributes so a small script can drag them; without the script, the page's forms do it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

LABEL_W = 170.0
PLOT_W = 900.0
ROW_H = 30.0
HEAD_H = 34.0
GROUP_H = 20.0
KIND_COLOURS = {
    "pick": "#2f7dd1", "replenish": "#e39b2d", "receive": "#8e5bd0", "pack": "#2e9d57", "dock": "#6b7280",
    "other": "#a0785a",
}


@dataclass(frozen=True)
class Row:
    resource: str  # the resource code, unique in the warehouse
    label: str
    group: str  # heading the row is drawn under (the zone, "Pack stations", "Docks")


@dataclass(frozen=True)
class Bar:
    slot_id: int
    resource: str
    start: dt.datetime
    end: dt.datetime
    kind: str
    label: str
    title: str = ""
    highlight: bool = False


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _ticks(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> list[dt.datetime]:
    """Tick marks on round times of the warehouse's zone: every 15 or 30 minutes on short windows, every 1, 2, 3,
    6, 12 or 24 hours on longer ones (at most about 14 ticks)."""
    minutes = (end - start).total_seconds() / 60
    step = next((m for m in (15, 30, 60, 120, 180, 360, 720, 1440) if minutes / m <= 14), 2880)
    local = start.astimezone(tz).replace(second=0, microsecond=0)
    moment = local.replace(minute=(local.minute // 15) * 15).astimezone(dt.UTC)
    ticks = []
    while moment <= end:
        wall = moment.astimezone(tz)
        if moment >= start and (wall.hour * 60 + wall.minute) % min(step, 1440) == 0:
            ticks.append(wall)
        moment += dt.timedelta(minutes=15)
    return ticks


def timeline_svg(rows: list[Row], bars: list[Bar], start: dt.datetime, end: dt.datetime, *,
                 now: dt.datetime | None = None, tz: dt.tzinfo = dt.UTC, now_label: str = "now") -> str:
    """The whole picture as one <svg> element; every text is escaped."""
    span = (end - start).total_seconds()
    scale = PLOT_W / span if span > 0 else 1.0

    def x(moment: dt.datetime) -> float:
        seconds = (min(max(moment, start), end) - start).total_seconds()
        return LABEL_W + seconds * scale

    y_of: dict[str, float] = {}
    parts: list[str] = []
    y = HEAD_H
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            parts.append(f'<text class="tl-group" x="6" y="{y + 14:.1f}" font-weight="700" font-size="12">'
                         f'{_e(group)}</text>')
            y += GROUP_H
        y_of[row.resource] = y
        parts.append(f'<g class="tl-row" data-resource="{_e(row.resource)}">'
                     f'<rect x="0" y="{y:.1f}" width="{LABEL_W + PLOT_W:.1f}" height="{ROW_H:.1f}" '
                     f'fill="{"#f7f9fc" if len(y_of) % 2 else "#ffffff"}"/>'
                     f'<text x="14" y="{y + ROW_H / 2 + 4:.1f}" font-size="12">{_e(row.label)}</text></g>')
        y += ROW_H
    height = y + 8
    head: list[str] = []
    tick_format = "%d/%m %H:%M" if span > 86400 else "%H:%M"
    for tick in _ticks(start, end, tz):
        tx = x(tick.astimezone(dt.UTC))
        head.append(f'<line x1="{tx:.1f}" y1="{HEAD_H - 6:.1f}" x2="{tx:.1f}" y2="{height:.1f}" stroke="#d5dae2"/>'
                    f'<text x="{tx + 3:.1f}" y="{HEAD_H - 12:.1f}" font-size="11" fill="#5b6372">'
                    f'{tick.strftime(tick_format)}</text>')
    bar_parts: list[str] = []
    for bar in bars:
        if bar.resource not in y_of or bar.end <= start or bar.start >= end:
            continue
        x0, x1 = x(bar.start), x(bar.end)
        by = y_of[bar.resource] + 4
        width = max(x1 - x0, 2.0)
        colour = KIND_COLOURS.get(bar.kind, KIND_COLOURS["other"])
        stroke = ' stroke="#1d2330" stroke-width="2"' if bar.highlight else ""
        # A label that does not fit in its bar is written just after it, in ink.
        inside = width > 7 * len(bar.label) + 8
        text = (f'<text x="{x0 + 4 if inside else x0 + width + 3:.1f}" y="{by + ROW_H / 2:.1f}" font-size="11" '
                f'fill="{"#ffffff" if inside else "#1d2330"}" pointer-events="none">{_e(bar.label)}</text>')
        # The resize handle (right edge) only on bars wide enough to be grabbed elsewhere too.
        handle = (f'<rect class="tl-handle" x="{x0 + width - 5:.1f}" y="{by:.1f}" width="5" '
                  f'height="{ROW_H - 8:.1f}" fill="#000000" fill-opacity="0.15"/>') if width >= 15 else ""
        bar_parts.append(
            f'<g class="tl-slot tl-{_e(bar.kind)}" data-slot-id="{bar.slot_id}" data-label="{_e(bar.label)}" '
            f'data-resource="{_e(bar.resource)}" data-start="{bar.start.isoformat()}" '
            f'data-end="{bar.end.isoformat()}" tabindex="0">'
            f'<title>{_e(bar.title or bar.label)}</title>'
            f'<rect x="{x0:.1f}" y="{by:.1f}" width="{width:.1f}" height="{ROW_H - 8:.1f}" rx="3" fill="{colour}"'
            f'{stroke}/>{text}{handle}</g>')
    if now is not None and start <= now <= end:
        nx = x(now)
        bar_parts.append(f'<g class="tl-now"><line x1="{nx:.1f}" y1="{HEAD_H - 6:.1f}" x2="{nx:.1f}" y2="{height:.1f}" '
                     f'stroke="#c9372c" stroke-width="2"/><text x="{nx + 3:.1f}" y="{HEAD_H - 1:.1f}" '
                     f'font-size="10" fill="#c9372c">{_e(now_label)}</text></g>')
    total_w = LABEL_W + PLOT_W + 40
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="{total_w:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {total_w:.0f} {height:.0f}" data-start="{start.isoformat()}" '
            f'data-end="{end.isoformat()}" data-left="{LABEL_W}" data-width="{PLOT_W}">'
            + "".join(parts) + "".join(head) + "".join(bar_parts) + "</svg>")
