"""Zone split: a batch's lines per rack zone become one pick order each, routed, with one tote per order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from wms.planning.distance import Place, ZoneLengths


class ZoneLine(NamedTuple):
    """A line to pick as the zone split sees it (a named tuple: waves hold tens of thousands)."""

    line_id: str
    order_id: str
    order_line_id: str
    zone: str
    location: str
    place: Place
    sku: str
    quantity: int


class SplitLine(NamedTuple):
    """A line in its pick order: walking sequence and tote."""

    line: ZoneLine
    seq: int
    tote: str


@dataclass(frozen=True)
class SplitPickOrder:
    """One batch's lines in one zone, in route order, with the route length and the totes used."""

    batch_no: int
    zone: str
    route_length_m: float
    lines: tuple[SplitLine, ...]
    totes: tuple[str, ...]
    order_ids: tuple[str, ...]
    aisles: tuple[int, ...] = ()  # the pick aisles the walk enters (see walked_aisles), by index

    @property
    def units(self) -> int:
        return sum(s.line.quantity for s in self.lines)


def walked_aisles(places: Iterable[Place]) -> tuple[int, ...]:
    """The pick aisles (by index) a picker walks to reach these places, lowest first.

    The picker goes from stop to stop by a shortest walk: up or down the aisle of one stop to a cross aisle,
    along it, and into the aisle of the next (routing.layout.walk_path); the depot is on the front cross
    aisle. A shortest walk never needs a third pick aisle, because cross aisles join every aisle at the same
    positions, so the aisles walked are exactly those of the stops, whatever their order."""
    return tuple(sorted({aisle for aisle, _y in places}))


def tote_code(batch_no: int, position: int, zone: str, prefix: str = "") -> str:
    """The label of an order's tote in one zone: the prefix naming the wave, batch, cart position (from 1), zone."""
    return f"{prefix}{batch_no:03d}-{position:02d}-{zone}"


def split_batch(
    batch_no: int,
    order_ids: Sequence[str],
    lines_of: Callable[[str], Sequence[ZoneLine]],
    lengths: ZoneLengths,
    tote_prefix: str = "",
) -> list[SplitPickOrder]:
    """One pick order per zone the batch picks in, zones in name order; lines follow the shortest route."""
    position = {order_id: p for p, order_id in enumerate(order_ids, start=1)}
    per_zone: dict[str, list[ZoneLine]] = {}
    for order_id in order_ids:
        for line in lines_of(order_id):
            per_zone.setdefault(line.zone, []).append(line)
    out = []
    for zone in sorted(per_zone):
        zone_lines = per_zone[zone]
        length, route = lengths.order(zone, (line.place for line in zone_lines))
        visit = {place: n for n, place in enumerate(route)}
        # At one place, lines go by cart position so the picker fills totes left to right.
        zone_lines.sort(key=lambda ln: (visit[ln.place], position[ln.order_id], ln.line_id))
        present = {ln.order_id for ln in zone_lines}
        zone_orders = tuple(o for o in order_ids if o in present)
        totes = {o: tote_code(batch_no, position[o], zone, tote_prefix) for o in zone_orders}
        split = tuple(SplitLine(ln, seq, totes[ln.order_id]) for seq, ln in enumerate(zone_lines, start=1))
        out.append(
            SplitPickOrder(
                batch_no=batch_no,
                zone=zone,
                route_length_m=length,
                lines=split,
                totes=tuple(totes.values()),
                order_ids=zone_orders,
                aisles=walked_aisles(route),
            )
        )
    return out
