"""Textbook routing baselines, block by block (Roodbergen and de Koster 2001): S-shape and largest gap.

Both start like Roodbergen's multi-block heuristics: walk along the front to the leftmost aisle with picks,
up it to the near side of the farthest block with picks, then work the blocks from the back to the front,
leaving every block by its front-side cross aisle. In a single-block zone this is the classic S-shape
(traverse every aisle with picks, the last one as a return trip when their number is odd) and the classic
largest gap (traverse the two outer aisles, pick the rest from the back and from the front around the
largest gap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from wms.planning.routing.layout import (
    Pick,
    Point,
    RackZoneLayout,
    Route,
    Stop,
    empty_route,
    group_stops,
    route_from_path,
)

Subaisles = dict[tuple[int, int], list[float]]


class _Walk:
    """A picker's walk as corner points, moving along aisles and cross aisles only."""

    def __init__(self, layout: RackZoneLayout) -> None:
        self.layout = layout
        self.points: list[Point] = [layout.depot]

    @property
    def here(self) -> Point:
        """Where the picker stands."""
        return self.points[-1]

    def along_cross_aisle(self, aisle: int) -> None:
        """Walk along the current cross aisle to an aisle."""
        self.points.append((self.layout.x(aisle), self.here[1]))

    def along_aisle(self, y: float) -> None:
        """Walk along the current aisle to position y."""
        self.points.append((self.here[0], y))

    def dip(self, y: float) -> None:
        """Walk into the current aisle to y and back out to the cross aisle."""
        back = self.here[1]
        self.along_aisle(y)
        self.along_aisle(back)


def _subaisles(layout: RackZoneLayout, stops: Sequence[Stop]) -> Subaisles:
    """Stop positions per (aisle, block); a stop on a cross aisle belongs to the block behind it."""
    cross = layout.cross_aisles_m
    out: Subaisles = {}
    for s in stops:
        block = min(max(b for b in range(len(cross) - 1) if cross[b] <= s.y), len(cross) - 2)
        out.setdefault((s.aisle, block), []).append(s.y)
    for ys in out.values():
        ys.sort()
    return out


def _ordered_aisles(layout: RackZoneLayout, aisles: Iterable[int], x: float) -> list[int]:
    """Aisles sorted from the end nearer to x towards the other end."""
    ordered = sorted(aisles)
    if ordered and abs(layout.x(ordered[-1]) - x) < abs(layout.x(ordered[0]) - x):
        ordered.reverse()
    return ordered


def _largest_gap_split(ys: list[float], lo: float, hi: float) -> tuple[float | None, float | None]:
    """Highest stop reached from the low side and lowest reached from the high side (None: no visit)."""
    points = [lo, *ys, hi]
    gap = max(range(len(points) - 1), key=lambda i: points[i + 1] - points[i])
    low_part = points[1 : gap + 1]
    high_part = points[gap + 1 : -1]
    return (low_part[-1] if low_part else None, high_part[0] if high_part else None)


def _s_shape_block(
    walk: _Walk, layout: RackZoneLayout, ys_by_aisle: dict[int, list[float]], lo: float, hi: float
) -> None:
    """Traverse every sub-aisle with picks in serpentine, ending on the block's front side."""
    aisles = _ordered_aisles(layout, ys_by_aisle, walk.here[0])
    at_high = walk.here[1] == hi
    full = len(aisles) if len(aisles) % 2 == int(at_high) else len(aisles) - 1
    for aisle in aisles[:full]:
        walk.along_cross_aisle(aisle)
        walk.along_aisle(lo if walk.here[1] == hi else hi)
    if full < len(aisles):
        walk.along_cross_aisle(aisles[-1])
        walk.dip(ys_by_aisle[aisles[-1]][-1])
    walk.along_aisle(lo)


def _largest_gap_block(
    walk: _Walk, layout: RackZoneLayout, ys_by_aisle: dict[int, list[float]], lo: float, hi: float
) -> None:
    """Outer sub-aisles traversed, the others picked from both sides around their largest gap."""
    aisles = _ordered_aisles(layout, ys_by_aisle, walk.here[0])
    at_high = walk.here[1] == hi
    if len(aisles) == 1 and not at_high:
        walk.along_cross_aisle(aisles[0])
        walk.dip(ys_by_aisle[aisles[0]][-1])
        return
    # From the front side: in along the first aisle, so it is traversed rather than split.
    first_split = 0 if at_high else 1
    if not at_high:
        walk.along_cross_aisle(aisles[0])
        walk.along_aisle(hi)
    middle = aisles[first_split:-1]
    splits = {a: _largest_gap_split(ys_by_aisle[a], lo, hi) for a in middle}
    for aisle in middle:
        if splits[aisle][1] is not None:
            walk.along_cross_aisle(aisle)
            walk.dip(splits[aisle][1])
    walk.along_cross_aisle(aisles[-1])
    walk.along_aisle(lo)
    for aisle in reversed(middle):
        if splits[aisle][0] is not None:
            walk.along_cross_aisle(aisle)
            walk.dip(splits[aisle][0])


BlockMethod = Callable[[_Walk, RackZoneLayout, dict[int, list[float]], float, float], None]


def _blockwise(layout: RackZoneLayout, picks: Iterable[Pick], block_method: BlockMethod, name: str) -> Route:
    """Walk to the farthest block up the leftmost aisle with picks, then work blocks back to front."""
    stops = group_stops(layout, picks)
    if not stops:
        return empty_route(layout, name)
    cross = layout.cross_aisles_m
    sub = _subaisles(layout, stops)
    left = min(a for a, _ in sub)
    far = max(b for _, b in sub)
    walk = _Walk(layout)
    walk.along_cross_aisle(left)
    walk.along_aisle(cross[far])
    for block in range(far, -1, -1):
        ys_by_aisle = {a: ys for (a, b), ys in sub.items() if b == block and not (a == left and b < far)}
        if ys_by_aisle:
            block_method(walk, layout, ys_by_aisle, cross[block], cross[block + 1])
        else:
            walk.along_aisle(cross[block])
    walk.along_cross_aisle(layout.depot_aisle)
    return route_from_path(layout, walk.points, stops, name)


def route_s_shape(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """S-shape (traversal) routing, block-wise in multi-block zones."""
    return _blockwise(layout, picks, _s_shape_block, "s-shape")


def route_largest_gap(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """Largest-gap routing, block-wise in multi-block zones."""
    return _blockwise(layout, picks, _largest_gap_block, "largest gap")
