"""Fast exact routing in a single-block zone, for planners that route thousands of small pick lists.

The same Ratliff-Rosenthal programme as `frontier.route_exact` with two cross aisles, but with the frontier
states numbered once and their transitions tabulated, and the sweep limited to the aisles between the
leftmost and rightmost place to visit (the depot included): walking beyond them never shortens a tour,
since projecting a walk onto that range keeps it a walk through the same places and does not lengthen it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from itertools import permutations

from wms.planning.routing.frontier import (
    CLOSED,
    DOUBLE,
    HIGH,
    LOW,
    NONE,
    SINGLE,
    SPLIT,
    _euler_walk,
    _horizontal,
    _vertical,
)
from wms.planning.routing.layout import (
    EPS,
    Pick,
    Point,
    RackZoneLayout,
    Route,
    RoutingInputInvalid,
    Stop,
    depot_stop,
    empty_route,
    group_stops,
    simplify_path,
)

Place = tuple[int, float]
INF = float("inf")


@cache
def _tables() -> tuple[list[list[int]], list[list[tuple[int, int, int, tuple[int, ...]]]]]:
    """Frontier states of a single block numbered from 0 (empty), with vertical and horizontal transitions.

    Vertical: next state per sub-aisle kind. Horizontal: (cross-aisle edge count, next state or -1 when the
    tour closes, bit mask of the corners touched before or by the step, multiplicities).
    """
    start = (0, 0)
    index = {start: 0}
    states = [start]
    i = 0
    while i < len(states):
        s = states[i]
        successors = [_vertical(s, 0, k) for k in range(6)]
        successors += [ns for _, ns in _horizontal(s) if ns != CLOSED]
        for ns in successors:
            if ns not in index:
                index[ns] = len(states)
                states.append(ns)
        i += 1
    vertical = [[index[_vertical(s, 0, k)] for k in range(6)] for s in states]
    horizontal = []
    for s in states:
        options = []
        for mults, ns in _horizontal(s):
            touched = sum(1 << k for k in range(2) if s[k] or mults[k])
            options.append((sum(mults), -1 if ns == CLOSED else index[ns], touched, mults))
        horizontal.append(options)
    return vertical, horizontal


def _kinds(ys: Sequence[float], length: float) -> list[tuple[int, float]]:
    """Allowed configurations of one aisle with stops strictly inside it, with their walking cost."""
    if not ys:
        return [(NONE, 0.0), (SINGLE, length), (DOUBLE, 2 * length)]
    out = [(SINGLE, length), (DOUBLE, 2 * length), (LOW, 2 * ys[-1]), (HIGH, 2 * (length - ys[0]))]
    if len(ys) >= 2:
        out.append((SPLIT, 2 * (length - max(b - a for a, b in zip(ys, ys[1:], strict=False)))))
    return out


def _arrange(
    layout: RackZoneLayout, places: Iterable[Place]
) -> tuple[int, int, dict[int, list[float]], dict]:
    """Aisle range to sweep, inner positions per aisle and required corners (bit 0 front, bit 1 back)."""
    length = float(layout.aisle_length_m)
    inner: dict[int, list[float]] = {}
    required: dict[int, int] = {layout.depot_aisle: 1}
    for aisle, y in places:
        if y <= EPS:
            required[aisle] = required.get(aisle, 0) | 1
        elif y >= length - EPS:
            required[aisle] = required.get(aisle, 0) | 2
        else:
            inner.setdefault(aisle, []).append(y)
    for ys in inner.values():
        ys.sort()
    aisles = [*inner, *required]
    return min(aisles), max(aisles), inner, required


def _sweep(layout: RackZoneLayout, lo: int, hi: int, inner: dict, required: dict):
    """The programme with back pointers: (length, steps, final state); a step is (aisle, vback, hback)."""
    vertical, horizontal = _tables()
    closing, _ = _split_horizontal()
    n = len(vertical)
    length, width = float(layout.aisle_length_m), float(layout.aisle_width_m)
    cost = [INF] * n
    cost[0] = 0.0
    steps = []
    for j in range(lo, hi + 1):
        kinds = _kinds(inner.get(j, ()), length)
        after = [INF] * n
        vback: list[tuple[int, int] | None] = [None] * n
        for state in range(n):
            c = cost[state]
            if c == INF:
                continue
            row = vertical[state]
            for kind, extra in kinds:
                ns = row[kind]
                if c + extra < after[ns]:
                    after[ns] = c + extra
                    vback[ns] = (state, kind)
        req = required.get(j, 0)
        if j == hi:
            steps.append((j, vback, None))
            ends = [s for s in range(n) if after[s] < INF and any(t & req == req for t in closing[s])]
            final = min(ends, key=after.__getitem__)
            return after[final], steps, final
        cost = [INF] * n
        hback: list[tuple[int, tuple[int, ...]] | None] = [None] * n
        for state in range(n):
            c = after[state]
            if c == INF:
                continue
            for count, ns, touched, mults in horizontal[state]:
                if ns >= 0 and touched & req == req and c + width * count < cost[ns]:
                    cost[ns] = c + width * count
                    hback[ns] = (state, mults)
        steps.append((j, vback, hback))
    raise AssertionError("the sweep ends at the last aisle")


# Up to this many places, trying every visiting order (up to reversal) beats the programme's set-up.
SMALL = 4
# For the visiting order the programme also rebuilds the walk, so trying every order pays off longer.
SMALL_ORDER = 4
_ORDERS = {k: [p for p in permutations(range(k)) if k < 2 or p[0] < p[-1]] for k in range(1, SMALL_ORDER + 1)}


def _small_tour(layout: RackZoneLayout, places: Sequence[Place]) -> tuple[float, Sequence[Place]]:
    """Shortest tour through at most SMALL places by trying every order: shortest walks between them."""
    length, width = float(layout.aisle_length_m), float(layout.aisle_width_m)
    twice = 2 * length
    spots = [(layout.depot_aisle, 0.0), *places]

    def walk(a: Place, b: Place) -> float:
        if a[0] == b[0]:
            return abs(a[1] - b[1])
        return abs(a[0] - b[0]) * width + min(a[1] + b[1], twice - a[1] - b[1])

    depot = spots[0]
    if len(places) == 1:
        return 2 * walk(depot, places[0]), list(places)
    if len(places) == 2:
        return walk(depot, places[0]) + walk(places[0], places[1]) + walk(places[1], depot), list(places)
    n = len(spots)
    dist = [[walk(spots[i], spots[j]) for j in range(n)] for i in range(n)]
    best, best_order = INF, ()
    for order in _ORDERS[len(places)]:
        total = dist[0][order[0] + 1] + dist[order[-1] + 1][0]
        for a, b in zip(order, order[1:], strict=False):
            total += dist[a + 1][b + 1]
        if total < best:
            best, best_order = total, order
    return best, [places[i] for i in best_order]


def single_block_length(layout: RackZoneLayout, places: Iterable[Place]) -> float:
    """Length of the shortest tour from the depot through the places (aisle, y) of a single-block zone.

    The places must lie in the zone (the caller validated them); positions within EPS of a cross aisle
    count as on it.
    """
    places = list(places)
    if not places:
        return 0.0
    if len(places) <= SMALL:
        return _small_tour(layout, places)[0]
    return _length_sweep(layout, *_arrange(layout, places))


def _length_sweep(layout: RackZoneLayout, lo: int, hi: int, inner: dict, required: dict) -> float:
    """The programme without back pointers, on lists indexed by state."""
    vertical, horizontal = _tables()
    closing, opening = _split_horizontal()
    n = len(vertical)
    length, width = float(layout.aisle_length_m), float(layout.aisle_width_m)
    cost = [INF] * n
    cost[0] = 0.0
    for j in range(lo, hi + 1):
        kinds = _kinds(inner.get(j, ()), length)
        after = [INF] * n
        for state in range(n):
            c = cost[state]
            if c == INF:
                continue
            row = vertical[state]
            for kind, extra in kinds:
                ns = row[kind]
                if c + extra < after[ns]:
                    after[ns] = c + extra
        req = required.get(j, 0)
        if j == hi:
            return min((after[s] for s in range(n) if any(t & req == req for t in closing[s])), default=INF)
        cost = [INF] * n
        for state in range(n):
            c = after[state]
            if c == INF:
                continue
            for count, ns, touched in opening[state]:
                if touched & req == req and c + width * count < cost[ns]:
                    cost[ns] = c + width * count
    raise AssertionError("the sweep ends at the last aisle")


@cache
def _split_horizontal() -> tuple[list[list[int]], list[list[tuple[int, int, int]]]]:
    """Per state: the touched masks of the options that close the tour, and the options that go on."""
    _, horizontal = _tables()
    closing = [[t for _, ns, t, _ in options if ns < 0] for options in horizontal]
    opening = [[(count, ns, t) for count, ns, t, _ in options if ns >= 0] for options in horizontal]
    return closing, opening


def single_block_order(layout: RackZoneLayout, places: Iterable[Place]) -> tuple[float, list[Place]]:
    """Shortest tour length and the places in the order the tour first reaches them."""
    places = list(dict.fromkeys(places))
    length_m = float(layout.aisle_length_m)
    if not places:
        return 0.0, []
    if len(places) <= SMALL_ORDER:
        total, order = _small_tour(layout, places)
        return total, list(order)
    lo, hi, inner, required = _arrange(layout, places)
    total, steps, state = _sweep(layout, lo, hi, inner, required)
    edges = []
    for j, vback, hback in reversed(steps):
        if hback is not None:
            state, mults = hback[state]
            edges.extend(((j, c), (j + 1, c), r) for c, r in zip((0.0, length_m), mults, strict=True) if r)
        state, kind = vback[state]
        edges.extend(_vertical_edges(j, inner.get(j, []), length_m, kind))
    walk = _euler_walk((layout.depot_aisle, 0.0), edges)

    def snap(place: Place) -> Place:
        aisle, y = place
        return (aisle, 0.0 if y <= EPS else length_m if y >= length_m - EPS else y)

    wanted = {snap(p): p for p in places}
    order = []
    for v in walk:
        p = wanted.pop(v, None)
        if p is not None:
            order.append(p)
    if wanted:
        raise AssertionError(f"tour misses places {sorted(wanted.values())}")
    return total, order


def _vertical_edges(aisle: int, ys: list[float], length: float, kind: int):
    """Edges (with multiplicity) one aisle configuration walks."""
    points = [0.0, *ys, length]
    gaps = list(zip(points, points[1:], strict=False))
    if kind == NONE:
        mult = [0] * len(gaps)
    elif kind == SINGLE:
        mult = [1] * len(gaps)
    elif kind == DOUBLE:
        mult = [2] * len(gaps)
    elif kind == LOW:
        mult = [2] * (len(gaps) - 1) + [0]
    elif kind == HIGH:
        mult = [0] + [2] * (len(gaps) - 1)
    else:
        skip = max(range(1, len(gaps) - 1), key=lambda i: gaps[i][1] - gaps[i][0])
        mult = [0 if i == skip else 2 for i in range(len(gaps))]
    return [((aisle, a), (aisle, b), k) for (a, b), k in zip(gaps, mult, strict=True) if k]


def route_single_block_fast(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """Shortest route through a single-block zone, as `route_exact_single_block` but faster."""
    if layout.middle_cross_aisles_m:
        raise RoutingInputInvalid("the single-block router needs a zone without middle cross aisles")
    stops = group_stops(layout, picks)
    if not stops:
        return empty_route(layout, "exact single-block (fast)")
    by_place = {(s.aisle, s.y): s for s in stops}
    total, order = single_block_order(layout, by_place)
    depot = depot_stop(layout)
    ordered: list[Stop] = [by_place[p] for p in order]
    # Drawing: straight walks between consecutive places along the chosen tour's cross aisles.
    path: list[Point] = [layout.depot]
    here: Place = (depot.aisle, 0.0)
    for place in [*order, here]:
        path.extend(_leg(layout, here, place))
        here = place
    return Route((depot, *ordered, depot), total, simplify_path(path), "exact single-block (fast)")


def _leg(layout: RackZoneLayout, a: Place, b: Place) -> list[Point]:
    """Corner points of a shortest walk from a to b, without a."""
    if a[0] == b[0]:
        return [(layout.x(b[0]), b[1])]
    length = float(layout.aisle_length_m)
    cross = 0.0 if a[1] + b[1] <= 2 * length - a[1] - b[1] else length
    return [(layout.x(a[0]), cross), (layout.x(b[0]), cross), (layout.x(b[0]), b[1])]
