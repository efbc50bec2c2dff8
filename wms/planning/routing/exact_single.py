"""Exact single-block routing: Ratliff and Rosenthal (1983), front and back cross aisle only."""

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


def route_exact_single_block(layout: RackZoneLayout, picks: Iterable[Pick]) -> Route:
    """Shortest route through a single-block rack zone (no middle cross aisle)."""
    if layout.middle_cross_aisles_m:
        raise RoutingInputInvalid("the single-block router needs a zone without middle cross aisles")
    stops = group_stops(layout, picks)
    if not stops:
        return empty_route(layout, "exact single-block")
    return route_exact(layout, stops, "exact single-block")
