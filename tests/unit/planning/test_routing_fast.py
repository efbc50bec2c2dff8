"""The fast single-block router used by wave planning is the exact router, only faster."""

from __future__ import annotations

import random

import pytest

from tests.unit.planning.instances import random_instance
from wms.planning.routing import Pick, RackZoneLayout, RoutingInputInvalid, route_held_karp, route_picks
from wms.planning.routing.fast_single import route_single_block_fast, single_block_length, single_block_order
from wms.planning.routing.layout import group_stops, polyline_length, walk_distance


def test_fast_router_equals_the_exact_router_on_a_thousand_random_zones() -> None:
    rng = random.Random(2026)
    for _ in range(1000):
        layout, picks = random_instance(rng, max_aisles=10, max_picks=16)
        exact = route_picks(layout, picks)
        fast = route_single_block_fast(layout, picks)
        assert fast.length_m == pytest.approx(exact.length_m, abs=1e-9)
        assert polyline_length(fast.path) == pytest.approx(fast.length_m, abs=1e-9)
        assert sorted(p for s in fast.pick_stops for p in s.pick_ids) == sorted(p.id for p in picks)
        places = {(s.aisle, s.y) for s in group_stops(layout, picks)}
        assert single_block_length(layout, places) == pytest.approx(exact.length_m, abs=1e-9)


def test_visiting_places_in_the_fast_order_walks_the_optimum() -> None:
    rng = random.Random(7)
    for _ in range(300):
        layout, picks = random_instance(rng, max_aisles=8, max_picks=9)
        stops = group_stops(layout, picks)
        places = [(s.aisle, s.y) for s in stops]
        length, order = single_block_order(layout, places)
        assert sorted(order) == sorted(places)
        walk = [(layout.depot_aisle, 0.0), *order, (layout.depot_aisle, 0.0)]
        assert sum(
            walk_distance(layout, a, b) for a, b in zip(walk, walk[1:], strict=False)
        ) == pytest.approx(length)
        assert length == pytest.approx(route_held_karp(layout, picks).length_m, abs=1e-9)


def test_fast_router_refuses_a_zone_with_a_middle_cross_aisle() -> None:
    with pytest.raises(RoutingInputInvalid):
        route_single_block_fast(RackZoneLayout(3, 10.0, 2.0, 0, (5.0,)), [Pick(1, 2.0)])


def test_no_places_or_only_the_depot_is_no_walk() -> None:
    layout = RackZoneLayout(4, 10.0, 2.0, 2)
    assert single_block_length(layout, []) == 0.0
    assert single_block_length(layout, [(2, 0.0)]) == 0.0
    assert route_single_block_fast(layout, []).length_m == 0.0
