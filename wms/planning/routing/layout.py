"""Rack-zone layout, picks, stops and routes as the picker sees them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Point = tuple[float, float]

# Positions closer than this are one place: picks at 1e-12 apart are the same stop.
EPS = 1e-9


class RoutingInputInvalid(ValueError):
    """A layout or pick list that no route can be planned for."""


@dataclass(frozen=True)
class RackZoneLayout:
    """Parallel pick aisles joined by a front, a back and optional middle cross aisles."""

    aisle_count: int
    aisle_length_m: float
    aisle_width_m: float
    depot_aisle: int = 0
    middle_cross_aisles_m: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.aisle_count < 1:
            raise RoutingInputInvalid("a rack zone needs at least one pick aisle")
        if not (math.isfinite(self.aisle_length_m) and self.aisle_length_m > 0):
            raise RoutingInputInvalid("aisle length must be a positive number of metres")
        if not (math.isfinite(self.aisle_width_m) and self.aisle_width_m > 0):
            raise RoutingInputInvalid("aisle width must be a positive number of metres")
        if not 0 <= self.depot_aisle < self.aisle_count:
            raise RoutingInputInvalid(f"depot aisle {self.depot_aisle} is outside 0..{self.aisle_count - 1}")
        middles = tuple(sorted(float(m) for m in self.middle_cross_aisles_m))
        for m in middles:
            if not (EPS < m < self.aisle_length_m - EPS):
                raise RoutingInputInvalid(f"middle cross aisle at {m} m is not strictly inside the aisle")
        if any(b - a <= EPS for a, b in zip(middles, middles[1:], strict=False)):
            raise RoutingInputInvalid("two middle cross aisles at the same position")
        object.__setattr__(self, "middle_cross_aisles_m", middles)

    @property
    def cross_aisles_m(self) -> tuple[float, ...]:
        """Positions of all cross aisles along the aisles, front (0) to back (L)."""
        return (0.0, *self.middle_cross_aisles_m, float(self.aisle_length_m))

    @property
    def block_count(self) -> int:
        """Number of blocks the cross aisles cut the zone into."""
        return len(self.middle_cross_aisles_m) + 1

    @property
    def depot(self) -> Point:
        """Where every route starts and ends: the front of the depot aisle."""
        return (self.x(self.depot_aisle), 0.0)

    def x(self, aisle: int) -> float:
        """Centre line of a pick aisle, measured from aisle 0."""
        return aisle * self.aisle_width_m


@dataclass(frozen=True)
class Pick:
    """One thing to pick: an aisle, a position along it, and an optional id."""

    aisle: int
    y: float
    id: str | None = None


@dataclass(frozen=True)
class Stop:
    """A place the picker stops at; picks at the same aisle and position share one."""

    aisle: int
    y: float
    pick_ids: tuple[str | None, ...] = ()
    is_depot: bool = False


@dataclass(frozen=True)
class Route:
    """An ordered walk from the depot through every stop and back, with its length and drawing."""

    stops: tuple[Stop, ...]
    length_m: float
    path: tuple[Point, ...]
    method: str = field(default="")

    @property
    def pick_stops(self) -> tuple[Stop, ...]:
        """The stops between the departure from and the return to the depot."""
        return self.stops[1:-1]


def group_stops(layout: RackZoneLayout, picks: Iterable[Pick]) -> list[Stop]:
    """Validate picks and merge those at the same aisle and position into one stop, sorted."""
    places: list[tuple[int, float, str | None]] = []
    for pick in picks:
        if not 0 <= pick.aisle < layout.aisle_count:
            raise RoutingInputInvalid(
                f"pick {pick.id!r} is in aisle {pick.aisle}, outside 0..{layout.aisle_count - 1}"
            )
        y = float(pick.y)
        if not (math.isfinite(y) and -EPS <= y <= layout.aisle_length_m + EPS):
            raise RoutingInputInvalid(f"pick {pick.id!r} at {pick.y} m is outside the aisle length")
        y = min(max(y, 0.0), float(layout.aisle_length_m))
        for cross in layout.cross_aisles_m:
            if abs(y - cross) <= EPS:
                y = cross
        places.append((pick.aisle, y, pick.id))
    places.sort(key=lambda p: (p[0], p[1]))
    stops: list[Stop] = []
    for aisle, y, pick_id in places:
        if stops and stops[-1].aisle == aisle and y - stops[-1].y <= EPS:
            stops[-1] = Stop(aisle, stops[-1].y, (*stops[-1].pick_ids, pick_id))
        else:
            stops.append(Stop(aisle, y, (pick_id,)))
    return stops


def depot_stop(layout: RackZoneLayout) -> Stop:
    """The depot as a stop (the head-of-rack printer at the front of the depot aisle)."""
    return Stop(layout.depot_aisle, 0.0, (), is_depot=True)


def walk_distance(layout: RackZoneLayout, a: tuple[int, float], b: tuple[int, float]) -> float:
    """Shortest walking distance between two places (aisle, y) in the aisle graph."""
    if a[0] == b[0]:
        return abs(a[1] - b[1])
    return abs(layout.x(a[0]) - layout.x(b[0])) + min(
        abs(a[1] - c) + abs(c - b[1]) for c in layout.cross_aisles_m
    )


def walk_path(layout: RackZoneLayout, a: tuple[int, float], b: tuple[int, float]) -> list[Point]:
    """Corner points of one shortest walk from a to b, both ends included."""
    xa, xb = layout.x(a[0]), layout.x(b[0])
    if a[0] == b[0]:
        return [(xa, a[1]), (xb, b[1])]
    cross = min(layout.cross_aisles_m, key=lambda c: abs(a[1] - c) + abs(c - b[1]))
    return [(xa, a[1]), (xa, cross), (xb, cross), (xb, b[1])]


def distance_matrix(layout: RackZoneLayout, places: Sequence[tuple[int, float]]) -> list[list[float]]:
    """All pairwise walking distances between places."""
    return [[walk_distance(layout, a, b) for b in places] for a in places]


def polyline_length(path: Sequence[Point]) -> float:
    """Length of an axis-parallel polyline."""
    return sum(abs(x1 - x0) + abs(y1 - y0) for (x0, y0), (x1, y1) in zip(path, path[1:], strict=False))


def simplify_path(path: Iterable[Point]) -> tuple[Point, ...]:
    """Drop repeated points and interior points of straight runs (reversals are kept)."""
    out: list[Point] = []
    for p in path:
        if out and abs(out[-1][0] - p[0]) <= EPS and abs(out[-1][1] - p[1]) <= EPS:
            continue
        if len(out) >= 2:
            (x0, y0), (x1, y1) = out[-2], out[-1]
            same_line = (abs(x0 - x1) <= EPS and abs(x1 - p[0]) <= EPS) or (
                abs(y0 - y1) <= EPS and abs(y1 - p[1]) <= EPS
            )
            forward = (x1 - x0) * (p[0] - x1) + (y1 - y0) * (p[1] - y1) > 0
            if same_line and forward:
                out[-1] = p
                continue
        out.append(p)
    return tuple(out)


def stops_along(layout: RackZoneLayout, path: Sequence[Point], stops: Sequence[Stop]) -> list[Stop]:
    """Stops in the order a walk along the polyline first passes them."""
    remaining = {(s.aisle, s.y): s for s in stops}
    ordered: list[Stop] = []
    segments = list(zip(path, path[1:], strict=False)) or [(path[0], path[0])]
    for (x0, y0), (x1, y1) in segments:
        passed: list[tuple[float, Stop]] = []
        for (aisle, y), stop in remaining.items():
            x = layout.x(aisle)
            on_x = min(x0, x1) - EPS <= x <= max(x0, x1) + EPS
            on_y = min(y0, y1) - EPS <= y <= max(y0, y1) + EPS
            if on_x and on_y:
                passed.append((abs(x - x0) + abs(y - y0), stop))
        for _, stop in sorted(passed, key=lambda t: t[0]):
            ordered.append(stop)
            del remaining[(stop.aisle, stop.y)]
    if remaining:
        raise AssertionError(f"path misses stops {sorted(remaining)}")
    return ordered


def route_from_path(
    layout: RackZoneLayout, path: Iterable[Point], stops: Sequence[Stop], method: str
) -> Route:
    """Build a route from a walk's corner points: stop order, length and simplified drawing."""
    points = simplify_path(path)
    order = stops_along(layout, points, stops)
    depot = depot_stop(layout)
    return Route((depot, *order, depot), polyline_length(points), points, method)


def route_from_order(layout: RackZoneLayout, order: Sequence[Stop], method: str) -> Route:
    """Build a route that visits stops in the given order along shortest walks."""
    depot = depot_stop(layout)
    places = [(depot.aisle, depot.y), *((s.aisle, s.y) for s in order), (depot.aisle, depot.y)]
    path: list[Point] = [layout.depot]
    length = 0.0
    for a, b in zip(places, places[1:], strict=False):
        path.extend(walk_path(layout, a, b)[1:])
        length += walk_distance(layout, a, b)
    return Route((depot, *order, depot), length, simplify_path(path), method)


def empty_route(layout: RackZoneLayout, method: str) -> Route:
    """The route of a pick list with nothing to walk to."""
    depot = depot_stop(layout)
    return Route((depot, depot), 0.0, (layout.depot,), method)
