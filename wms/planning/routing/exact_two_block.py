"""Exact two-block routing: Roodbergen and de Koster (2001), one middle cross aisle."""

from __future__ import annotations

from collections.abc import Iterable

from wms.planning.routing.frontier import route_exact
from wms.planning.routing.layout import (
    Pick,
    RackZoneLayout,
    Route,
    RoutingInputInvalid,
    empty_route,
    group_stops,
)


def route_exact_two_block(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """Shortest route through a rack zone with exactly one middle cross aisle."""
    if len(layout.middle_cross_aisles_m) != 1:
        raise RoutingInputInvalid("the two-block router needs exactly one middle cross aisle")
    stops = group_stops(layout, picks)
    if not stops:
        return empty_route(layout, "exact two-block")
    return route_exact(layout, stops, "exact two-block")
