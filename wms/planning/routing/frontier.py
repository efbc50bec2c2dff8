"""Exact tour-subgraph dynamic programme over the aisles (Ratliff-Rosenthal, any number of cross aisles).

The walk is an Euler tour of a multigraph on the aisle graph (pick points and aisle / cross-aisle corners)
that is connected, has even degrees, uses no edge more than twice and touches every pick and the depot.
Sweeping the aisles left to right, a partial subgraph is summarised by its frontier state: for each corner
of the current aisle (one per cross aisle) whether it is touched, the parity of its degree, and which touched
corners are already connected. With two cross aisles these states are exactly Ratliff and Rosenthal's
equivalence classes of L_j^+ / L_j^- subgraphs (degree classes U/E/O at the front and back, 0/1/2
components); with three they are Roodbergen and de Koster's two-block classes. States with equal frontier
have the same completions, so keeping the cheapest per state is exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import cache
from itertools import product

from wms.planning.routing.layout import (
    Point,
    RackZoneLayout,
    Route,
    Stop,
    depot_stop,
    empty_route,
    simplify_path,
)

# Frontier entry per corner: 0 untouched, else label * 2 + degree parity (labels canonical from 1).
State = tuple[int, ...]
CLOSED: State = (-1,)

# Vertical configurations of one sub-aisle (an aisle between two neighbouring cross aisles).
NONE, SINGLE, DOUBLE, LOW, HIGH, SPLIT = range(6)
KIND_NAMES = ("none", "traverse", "traverse twice", "from low end", "from high end", "largest gap")
Vertex = tuple[int, float]


def _canon(entries: list[int]) -> State:
    """Relabel components in order of first appearance so equal frontiers compare equal."""
    mapping: dict[int, int] = {}
    out = []
    for e in entries:
        if e == 0:
            out.append(0)
            continue
        label = mapping.setdefault(e >> 1, len(mapping) + 1)
        out.append(label * 2 + (e & 1))
    return tuple(out)


@cache
def _vertical(state: State, low: int, kind: int) -> State:
    """Frontier after adding one sub-aisle configuration between corners low and low + 1."""
    entries = list(state)
    high = low + 1
    if kind == NONE:
        return state
    fresh = max((e >> 1 for e in entries), default=0) + 1
    touched = {LOW: (low,), HIGH: (high,)}.get(kind, (low, high))
    for k in touched:
        if entries[k] == 0:
            entries[k] = fresh * 2
            fresh += 1
    if kind == SINGLE:
        entries[low] ^= 1
        entries[high] ^= 1
    if kind in (SINGLE, DOUBLE):
        keep, drop = entries[low] >> 1, entries[high] >> 1
        entries = [(keep * 2 + (e & 1)) if e and e >> 1 == drop else e for e in entries]
    return _canon(entries)


@cache
def _horizontal(state: State) -> tuple[tuple[tuple[int, ...], State], ...]:
    """Every way to leave the current aisle along the cross aisles: (multiplicities, next frontier)."""
    choices = [(1,) if e & 1 else (0, 2) for e in state]
    labels = {e >> 1 for e in state if e}
    options = []
    for mults in product(*choices):
        surviving = {state[k] >> 1 for k, r in enumerate(mults) if r and state[k]}
        if surviving != labels:
            if len(labels) == 1 and not any(mults):
                options.append((mults, CLOSED))
            continue
        fresh = max(labels, default=0) + 1
        entries = []
        for k, r in enumerate(mults):
            if r == 0:
                entries.append(0)
            elif state[k]:
                entries.append((state[k] >> 1) * 2 + (r & 1))
            else:
                entries.append(fresh * 2 + (r & 1))
                fresh += 1
        options.append((mults, _canon(entries)))
    return tuple(options)


class _Zone:
    """The stops of one pick list arranged per aisle, sub-aisle and cross-aisle corner."""

    def __init__(self, layout: RackZoneLayout, stops: Sequence[Stop]) -> None:
        self.layout = layout
        self.cross = layout.cross_aisles_m
        m, n = len(self.cross), layout.aisle_count
        self.required = [[False] * m for _ in range(n)]
        self.inner: list[list[list[float]]] = [[[] for _ in range(m - 1)] for _ in range(n)]
        self.required[layout.depot_aisle][0] = True
        for s in stops:
            if s.y in self.cross:
                self.required[s.aisle][self.cross.index(s.y)] = True
            else:
                block = max(b for b in range(m - 1) if self.cross[b] < s.y)
                self.inner[s.aisle][block].append(s.y)
        for aisle in self.inner:
            for ys in aisle:
                ys.sort()
        busy = [j for j in range(n) if any(self.required[j]) or any(self.inner[j])]
        self.last_busy = max(busy)

    def kinds(self, aisle: int, block: int) -> list[tuple[int, float]]:
        """Allowed configurations of one sub-aisle with their walking cost."""
        lo, hi = self.cross[block], self.cross[block + 1]
        ys = self.inner[aisle][block]
        if not ys:
            return [(NONE, 0.0), (SINGLE, hi - lo), (DOUBLE, 2 * (hi - lo))]
        out = [(SINGLE, hi - lo), (DOUBLE, 2 * (hi - lo)), (LOW, 2 * (ys[-1] - lo)), (HIGH, 2 * (hi - ys[0]))]
        if len(ys) >= 2:
            out.append((SPLIT, 2 * (hi - lo - max(b - a for a, b in zip(ys, ys[1:], strict=False)))))
        return out

    def vertical_edges(self, aisle: int, block: int, kind: int) -> list[tuple[Vertex, Vertex, int]]:
        """Edges (with multiplicity) one sub-aisle configuration walks."""
        ys = [self.cross[block], *self.inner[aisle][block], self.cross[block + 1]]
        gaps = list(zip(ys, ys[1:], strict=False))
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
            inner = range(1, len(gaps) - 1)
            skip = max(inner, key=lambda i: gaps[i][1] - gaps[i][0])
            mult = [0 if i == skip else 2 for i in range(len(gaps))]
        return [((aisle, a), (aisle, b), k) for (a, b), k in zip(gaps, mult, strict=True) if k]


def _euler_walk(start: Vertex, edges: list[tuple[Vertex, Vertex, int]]) -> list[Vertex]:
    """Hierholzer's closed walk through every edge copy, from start."""
    adjacency: dict[Vertex, list[tuple[Vertex, int]]] = defaultdict(list)
    used: list[bool] = []
    for a, b, mult in edges:
        for _ in range(mult):
            adjacency[a].append((b, len(used)))
            adjacency[b].append((a, len(used)))
            used.append(False)
    stack, walk = [start], []
    while stack:
        v = stack[-1]
        nbrs = adjacency[v]
        while nbrs and used[nbrs[-1][1]]:
            nbrs.pop()
        if nbrs:
            w, idx = nbrs.pop()
            used[idx] = True
            stack.append(w)
        else:
            walk.append(stack.pop())
    walk.reverse()
    return walk


def route_exact(layout: RackZoneLayout, stops: Sequence[Stop], method: str) -> Route:
    """Shortest route through the stops by the frontier dynamic programme (exact for any block count)."""
    depot = depot_stop(layout)
    if all((s.aisle, s.y) == (depot.aisle, depot.y) for s in stops):
        route = empty_route(layout, method)
        return Route((depot, *stops, depot), 0.0, route.path, method)
    zone = _Zone(layout, stops)
    m, n, width = len(zone.cross), layout.aisle_count, layout.aisle_width_m
    costs: dict[State, float] = {(0,) * m: 0.0}
    steps: list[tuple[tuple, dict[State, tuple[State, tuple[int, ...]]]]] = []
    best_closed: tuple[float, int, State] | None = None
    for j in range(n):
        for b in range(m - 1):
            kinds = zone.kinds(j, b)
            nxt: dict[State, float] = {}
            back: dict[State, tuple[State, tuple[int, ...]]] = {}
            for state, cost in costs.items():
                for kind, extra in kinds:
                    ns = _vertical(state, b, kind)
                    c = cost + extra
                    if c < nxt.get(ns, float("inf")):
                        nxt[ns] = c
                        back[ns] = (state, (kind,))
            costs = nxt
            steps.append((("V", j, b), back))
        required = [k for k, req in enumerate(zone.required[j]) if req]
        nxt, back = {}, {}
        for state, cost in costs.items():
            for mults, ns in _horizontal(state):
                if required and any(not state[k] and not mults[k] for k in required):
                    continue
                if ns == CLOSED:
                    if j >= zone.last_busy and (best_closed is None or cost < best_closed[0]):
                        best_closed = (cost, len(steps), state)
                    continue
                if j == n - 1:
                    continue
                c = cost + width * sum(mults)
                if c < nxt.get(ns, float("inf")):
                    nxt[ns] = c
                    back[ns] = (state, mults)
        costs = nxt
        steps.append((("H", j), back))
    if best_closed is None:
        raise AssertionError("no closed tour found; the aisle graph is always connected")
    total, step_count, state = best_closed
    edges: list[tuple[Vertex, Vertex, int]] = []
    for tag, back in reversed(steps[:step_count]):
        prev, decision = back[state]
        if tag[0] == "V":
            edges.extend(zone.vertical_edges(tag[1], tag[2], decision[0]))
        else:
            j = tag[1]
            edges.extend(((j, c), (j + 1, c), r) for c, r in zip(zone.cross, decision, strict=True) if r)
        state = prev
    walk = _euler_walk((depot.aisle, depot.y), edges)
    by_place = {(s.aisle, s.y): s for s in stops}
    order: list[Stop] = []
    for v in walk:
        stop = by_place.pop(v, None)
        if stop is not None:
            order.append(stop)
    path: list[Point] = [(layout.x(a), y) for a, y in walk]
    return Route((depot, *order, depot), total, simplify_path(path), method)
