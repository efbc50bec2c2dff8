"""The exact frontier DP is the optimum: it equals Held-Karp and beats every other method."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.planning.instances import random_instance
from wms.planning.routing import (
    Pick,
    RackZoneLayout,
    RoutingInputInvalid,
    route_exact_single_block,
    route_exact_two_block,
    route_held_karp,
    route_heuristic,
    route_largest_gap,
    route_picks,
    route_s_shape,
)
from wms.planning.routing.layout import group_stops, walk_distance

TOLERANCE = 1e-9


def _small(rng: random.Random, middles: tuple[float, ...]) -> tuple[RackZoneLayout, list[Pick]]:
    """An instance small enough for Held-Karp (at most 9 stops)."""
    while True:
        layout, picks = random_instance(rng, max_aisles=6, max_picks=9, middles=middles)
        if len(group_stops(layout, picks)) <= 9:
            return layout, picks


def test_exact_single_block_equals_held_karp_on_four_hundred_random_zones() -> None:
    rng = random.Random(1983)
    for _ in range(400):
        layout, picks = _small(rng, ())
        assert route_exact_single_block(layout, picks).length_m == pytest.approx(
            route_held_karp(layout, picks).length_m, abs=TOLERANCE
        )


def test_exact_two_block_equals_held_karp_on_four_hundred_random_zones() -> None:
    rng = random.Random(2001)
    for _ in range(400):
        layout, picks = _small(rng, (rng.choice([2.5, 5.0, 7.5]),))
        assert route_exact_two_block(layout, picks).length_m == pytest.approx(
            route_held_karp(layout, picks).length_m, abs=TOLERANCE
        )


def test_exact_router_equals_held_karp_with_two_middle_cross_aisles() -> None:
    rng = random.Random(3)
    for _ in range(150):
        layout, picks = _small(rng, (3.0, 6.5))
        assert route_picks(layout, picks).length_m == pytest.approx(
            route_held_karp(layout, picks).length_m, abs=TOLERANCE
        )


@settings(max_examples=150, deadline=None)
@given(
    aisles=st.integers(1, 5),
    depot=st.integers(0, 4),
    two_blocks=st.booleans(),
    places=st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from([0.0, 1.0, 4.0, 5.0, 7.5, 10.0])), max_size=8
    ),
)
def test_exact_router_equals_held_karp_on_generated_zones(
    aisles: int, depot: int, two_blocks: bool, places: list[tuple[int, float]]
) -> None:
    layout = RackZoneLayout(aisles, 10.0, 2.0, depot % aisles, (5.0,) if two_blocks else ())
    picks = [Pick(a % aisles, y) for a, y in places]
    assert route_picks(layout, picks).length_m == pytest.approx(
        route_held_karp(layout, picks).length_m, abs=TOLERANCE
    )


@pytest.mark.parametrize("middles", [(), (12.0,)], ids=["single block", "two blocks"])
def test_exact_router_is_never_longer_than_any_other_method(middles: tuple[float, ...]) -> None:
    rng = random.Random(7)
    for _ in range(60):
        aisles = rng.randint(1, 12)
        layout = RackZoneLayout(aisles, 25.0, 3.0, rng.randrange(aisles), middles)
        picks = [Pick(rng.randrange(aisles), round(rng.uniform(0, 25), 1)) for _ in range(rng.randint(1, 40))]
        exact = route_picks(layout, picks).length_m
        for other in (route_s_shape, route_largest_gap, route_heuristic):
            assert exact <= other(layout, picks).length_m + TOLERANCE


def test_exact_route_visits_its_stops_in_an_order_whose_shortest_walk_is_the_route_length() -> None:
    rng = random.Random(11)
    for _ in range(100):
        layout, picks = random_instance(rng, max_aisles=8, max_picks=25, middles=rng.choice([(), (4.0,)]))
        route = route_picks(layout, picks)
        walked = sum(
            walk_distance(layout, (a.aisle, a.y), (b.aisle, b.y))
            for a, b in zip(route.stops, route.stops[1:], strict=False)
        )
        assert walked == pytest.approx(route.length_m, abs=TOLERANCE)


def test_single_block_router_refuses_a_zone_with_a_middle_cross_aisle() -> None:
    layout = RackZoneLayout(3, 10.0, 2.0, middle_cross_aisles_m=(5.0,))
    with pytest.raises(RoutingInputInvalid):
        route_exact_single_block(layout, [Pick(1, 2.0)])


def test_two_block_router_refuses_a_single_block_zone() -> None:
    with pytest.raises(RoutingInputInvalid):
        route_exact_two_block(RackZoneLayout(3, 10.0, 2.0), [Pick(1, 2.0)])


def test_held_karp_refuses_more_stops_than_it_can_enumerate() -> None:
    layout = RackZoneLayout(20, 10.0, 2.0)
    with pytest.raises(RoutingInputInvalid):
        route_held_karp(layout, [Pick(a, 5.0) for a in range(14)])


@pytest.mark.parametrize("middles", [(), (5.0,)], ids=["single block", "two blocks"])
def test_exact_router_equals_held_karp_with_twelve_stops(middles: tuple[float, ...]) -> None:
    rng = random.Random(12)
    for _ in range(10):
        layout = RackZoneLayout(8, 10.0, 2.0, rng.randrange(8), middles)
        places = rng.sample([(a, float(y)) for a in range(8) for y in range(1, 10)], 12)
        picks = [Pick(a, y) for a, y in places]
        assert route_picks(layout, picks).length_m == pytest.approx(
            route_held_karp(layout, picks).length_m, abs=TOLERANCE
        )
