"""Pick-route lengths per rack zone, cached on the set of places a pick list visits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wms.planning.routing import Pick, RackZoneLayout, route_picks
from wms.planning.routing.fast_single import single_block_length, single_block_order
from wms.planning.routing.layout import EPS

Place = tuple[int, float]


def snap_place(layout: RackZoneLayout, aisle: int, y: float) -> Place:
    """A place as the router sees it: positions within EPS of a cross aisle are on it, as in group_stops."""
    length = float(layout.aisle_length_m)
    if y <= EPS:
        return (aisle, 0.0)
    if y >= length - EPS:
        return (aisle, length)
    for cross in layout.middle_cross_aisles_m:
        if abs(y - cross) <= EPS:
            return (aisle, cross)
    return (aisle, float(y))


class ZoneLengths:
    """Shortest route length of a set of places per zone, memoised.

    Single-block zones use the fast exact programme (`routing.fast_single`, equal to `route_picks`);
    other zones use `route_picks` itself. Either way the lengths are the real router's.
    """

    def __init__(self, layouts: Mapping[str, RackZoneLayout]) -> None:
        self.layouts = dict(layouts)
        self._cache: dict[tuple[str, frozenset[Place]], float] = {}
        self.calls = 0

    def length(self, zone: str, places: frozenset[Place]) -> float:
        """Length of the shortest tour from the zone's depot through the places."""
        if not places:
            return 0.0
        key = (zone, places)
        found = self._cache.get(key)
        if found is None:
            self.calls += 1
            layout = self.layouts[zone]
            if layout.middle_cross_aisles_m:
                found = route_picks(layout, (Pick(a, y) for a, y in places)).length_m
            else:
                found = single_block_length(layout, places)
            self._cache[key] = found
        return found

    def order(self, zone: str, places: Iterable[Place]) -> tuple[float, list[Place]]:
        """Shortest tour length and the places in the order the tour reaches them."""
        layout = self.layouts[zone]
        if not layout.middle_cross_aisles_m:
            return single_block_order(layout, places)
        places = list(dict.fromkeys(places))
        if not places:
            return 0.0, []
        index = {f"{i}": p for i, p in enumerate(places)}
        route = route_picks(layout, (Pick(a, y, key) for key, (a, y) in index.items()))
        order = [
            index[pick_id] for stop in route.pick_stops for pick_id in stop.pick_ids if pick_id is not None
        ]
        return route.length_m, list(dict.fromkeys(order))
