"""Near-optimal routing for any layout: nearest neighbour, then 2-opt and Or-opt to a local optimum."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable

from wms.planning.routing.layout import (
    Pick,
    RackZoneLayout,
    Route,
    depot_stop,
    distance_matrix,
    empty_route,
    group_stops,
    route_from_order,
)

Matrix = list[list[float]]
# An improvement smaller than this is float noise, not a shorter tour; counting it could loop forever.
GAIN = 1e-9
# Or-opt only tries to put a moved run next to one of this many nearest stops (Johnson-McGeoch lists).
NEIGHBOURS = 10


def tour_length(dist: Matrix, tour: list[int]) -> float:
    """Length of a closed tour given as node indexes (the depot 0 first, not repeated)."""
    return sum(dist[a][b] for a, b in zip(tour, tour[1:] + tour[:1], strict=True))


def nearest_neighbour(dist: Matrix, rng: random.Random | None = None) -> list[int]:
    """Tour from the depot, always walking to the nearest unvisited stop (random ties if rng)."""
    n = len(dist)
    tour, left = [0], set(range(1, n))
    while left:
        row = dist[tour[-1]]
        if rng is None:
            nxt = min(left, key=lambda j: (row[j], j))
        else:
            low = min(row[j] for j in left)
            nxt = rng.choice(sorted(j for j in left if row[j] <= low + GAIN))
        tour.append(nxt)
        left.remove(nxt)
    return tour


def _two_opt_sweep(dist: Matrix, tour: list[int]) -> bool:
    """One sweep applying every improving segment reversal met; True if the tour changed."""
    n = len(tour)
    changed = False
    for i in range(n - 1):
        a, b = tour[i], tour[i + 1]
        d_a, d_b, d_ab = dist[a], dist[b], dist[a][b] - GAIN
        for k in range(i + 2, n if i else n - 1):
            c, d = tour[k], tour[(k + 1) % n]
            if d_a[c] + d_b[d] < d_ab + dist[c][d]:
                tour[i + 1 : k + 1] = tour[k:i:-1]
                changed = True
                b = tour[i + 1]
                d_b, d_ab = dist[b], dist[a][b] - GAIN
    return changed


def neighbours(dist: Matrix, k: int = NEIGHBOURS) -> list[list[int]]:
    """The k nearest other nodes of every node."""
    n = len(dist)
    return [sorted((j for j in range(n) if j != i), key=dist[i].__getitem__)[:k] for i in range(n)]


def _or_opt_sweep(dist: Matrix, tour: list[int], near: list[list[int]]) -> bool:
    """One sweep moving runs of 1 to 3 stops (maybe reversed) next to a near stop; True if changed."""
    changed = False
    for size in (1, 2, 3):
        i, n = 1, len(tour)
        pos = {node: idx for idx, node in enumerate(tour)}
        while i <= n - size:
            prev, first, last = tour[i - 1], tour[i], tour[i + size - 1]
            removed = (
                dist[prev][first] + dist[last][tour[(i + size) % n]] - dist[prev][tour[(i + size) % n]] - GAIN
            )
            move = None
            # Insertion edges (p, p + 1) that put first or last next to one of its near stops.
            candidates = [(pos[u], False) for u in near[first]] + [(pos[u] - 1, False) for u in near[last]]
            if size > 1:
                candidates += [(pos[u] - 1, True) for u in near[first]] + [(pos[u], True) for u in near[last]]
            for p, flip in candidates:
                p %= n
                if i - 1 <= p <= i + size - 1:
                    continue
                a, b = tour[p], tour[(p + 1) % n]
                head, tail = (last, first) if flip else (first, last)
                if dist[a][head] + dist[tail][b] - dist[a][b] < removed:
                    move = (p, flip)
                    break
            if move is None:
                i += 1
                continue
            p, flip = move
            run = tour[i : i + size]
            if flip:
                run.reverse()
            anchor = tour[p]
            del tour[i : i + size]
            at = tour.index(anchor) + 1
            tour[at:at] = run
            pos = {node: idx for idx, node in enumerate(tour)}
            changed = True
    return changed


def improve(
    dist: Matrix,
    tour: list[int],
    deadline: float,
    near: list[list[int]] | None = None,
    max_rounds: int = 1_000,
) -> list[int]:
    """2-opt and Or-opt sweeps until neither improves, the deadline passes or the round budget ends."""
    tour = list(tour)
    near = near if near is not None else neighbours(dist)
    for _ in range(max_rounds):
        if time.perf_counter() > deadline:
            break
        if _two_opt_sweep(dist, tour):
            continue
        if not _or_opt_sweep(dist, tour, near):
            break
    return tour


def _perturb(tour: list[int], rng: random.Random) -> list[int]:
    """Double-bridge kick: cut the tour in four and reconnect, which 2-opt cannot undo directly."""
    n = len(tour)
    if n < 8:
        body = tour[1:]
        rng.shuffle(body)
        return [0, *body]
    a, b, c = sorted(rng.sample(range(2, n), 3))
    return tour[:a] + tour[b:c] + tour[a:b] + tour[c:]


def best_tour(dist: Matrix, restarts: int = 0, seed: int = 0, time_limit_s: float = 1.0) -> list[int]:
    """Locally optimal tour from nearest neighbour, then iterated kicks kept when they shorten it."""
    deadline = time.perf_counter() + time_limit_s
    near = neighbours(dist)
    tour = improve(dist, nearest_neighbour(dist), deadline, near)
    best = tour_length(dist, tour)
    rng = random.Random(seed)
    for _ in range(restarts):
        if time.perf_counter() > deadline:
            break
        candidate = improve(dist, _perturb(tour, rng), deadline, near)
        length = tour_length(dist, candidate)
        if length < best - GAIN:
            tour, best = candidate, length
    return tour


def route_heuristic(
    layout: RackZoneLayout,
    picks: Iterable[Pick],
    restarts: int = 0,
    seed: int = 0,
    time_limit_s: float = 1.0,
) -> Route:
    """Near-optimal route for any number of cross aisles (not guaranteed shortest)."""
    stops = group_stops(layout, picks)
    if not stops:
        return empty_route(layout, "heuristic")
    depot = depot_stop(layout)
    places = [(depot.aisle, depot.y), *((s.aisle, s.y) for s in stops)]
    tour = best_tour(distance_matrix(layout, places), restarts, seed, time_limit_s)
    return route_from_order(layout, [stops[i - 1] for i in tour[1:]], "heuristic")
