"""Picker routing through a rack zone: exact where the layout allows, near-optimal elsewhere."""

from __future__ import annotations

from collections.abc import Iterable

from wms.planning.routing.baselines import route_largest_gap, route_s_shape
from wms.planning.routing.exact_single import route_exact_single_block
from wms.planning.routing.exact_two_block import route_exact_two_block
from wms.planning.routing.frontier import route_exact
from wms.planning.routing.heuristic import route_heuristic
from wms.planning.routing.layout import (
    Pick,
    RackZoneLayout,
    Route,
    RoutingInputInvalid,
    Stop,
    empty_route,
    group_stops,
)
from wms.planning.routing.oracle import route_held_karp

# The exact frontier programme's state count grows with the Bell numbers of the cross-aisle count;
# up to three middle cross aisles it stays well under a second for a zone of pickable size.
MAX_EXACT_MIDDLE_CROSS_AISLES = 3

__all__ = [
    "MAX_EXACT_MIDDLE_CROSS_AISLES",
    "Pick",
    "RackZoneLayout",
    "Route",
    "RoutingInputInvalid",
    "Stop",
    "route_exact_single_block",
    "route_exact_two_block",
    "route_heuristic",
    "route_held_karp",
    "route_largest_gap",
    "route_picks",
    "route_s_shape",
]


def route_picks(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """Best route we can plan: exact up to MAX_EXACT_MIDDLE_CROSS_AISLES middle cross aisles, else heuristic."""
    picks = list(picks)
    if len(layout.middle_cross_aisles_m) > MAX_EXACT_MIDDLE_CROSS_AISLES:
        return route_heuristic(layout, picks, restarts=20)
    stops = group_stops(layout, picks)
    if not stops:
        return empty_route(layout, "exact")
    return route_exact(layout, stops, "exact")
