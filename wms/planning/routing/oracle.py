"""Held-Karp: the exact oracle for small pick lists, over shortest walking distances."""

from __future__ import annotations

from collections.abc import Iterable

from wms.planning.routing.layout import (
    Pick,
    RackZoneLayout,
    Route,
    RoutingInputInvalid,
    depot_stop,
    distance_matrix,
    empty_route,
    group_stops,
    route_from_order,
)

MAX_HELD_KARP_STOPS = 13


def held_karp_order(dist: list[list[float]]) -> tuple[float, list[int]]:
    """Shortest closed tour from node 0 through all nodes: (length, order of nodes 1..n-1)."""
    n = len(dist)
    if n <= 1:
        return 0.0, []
    full = 1 << (n - 1)
    inf = float("inf")
    # best[mask][i]: shortest path from 0 through the nodes in mask, ending at node i + 1 (in mask).
    best = [[inf] * (n - 1) for _ in range(full)]
    parent = [[-1] * (n - 1) for _ in range(full)]
    for i in range(n - 1):
        best[1 << i][i] = dist[0][i + 1]
    for mask in range(1, full):
        row = best[mask]
        for last in range(n - 1):
            here = row[last]
            if here == inf or not (mask >> last) & 1:
                continue
            d_last = dist[last + 1]
            for nxt in range(n - 1):
                if (mask >> nxt) & 1:
                    continue
                nmask = mask | (1 << nxt)
                c = here + d_last[nxt + 1]
                if c < best[nmask][nxt]:
                    best[nmask][nxt] = c
                    parent[nmask][nxt] = last
    last_row = best[full - 1]
    end = min(range(n - 1), key=lambda i: last_row[i] + dist[i + 1][0])
    length = last_row[end] + dist[end + 1][0]
    order, mask, node = [], full - 1, end
    while node != -1:
        order.append(node + 1)
        prev = parent[mask][node]
        mask &= ~(1 << node)
        node = prev
    order.reverse()
    return length, order


def route_held_karp(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """Optimal route by Held-Karp; only for pick lists of up to MAX_HELD_KARP_STOPS stops."""
    stops = group_stops(layout, picks)
    if len(stops) > MAX_HELD_KARP_STOPS:
        raise RoutingInputInvalid(f"Held-Karp is limited to {MAX_HELD_KARP_STOPS} stops, got {len(stops)}")
    if not stops:
        return empty_route(layout, "held-karp")
    depot = depot_stop(layout)
    places = [(depot.aisle, depot.y), *((s.aisle, s.y) for s in stops)]
    _, order = held_karp_order(distance_matrix(layout, places))
    return route_from_order(layout, [stops[i - 1] for i in order], "held-karp")
