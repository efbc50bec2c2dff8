"""Every router returns a real walk: from the depot, through every pick once, along aisles, back again."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest

from tests.unit.planning.instances import random_instance
from wms.planning.routing import (
    Pick,
    RackZoneLayout,
    Route,
    RoutingInputInvalid,
    route_held_karp,
    route_heuristic,
    route_largest_gap,
    route_picks,
    route_s_shape,
)
from wms.planning.routing.layout import EPS, polyline_length, stops_along

Router = Callable[[RackZoneLayout, list[Pick]], Route]
ROUTERS: list[Router] = [route_picks, route_heuristic, route_s_shape, route_largest_gap, route_held_karp]
NAMES = ["exact", "heuristic", "s-shape", "largest gap", "held-karp"]


def _assert_is_a_walk_through_every_pick(layout: RackZoneLayout, picks: list[Pick], route: Route) -> None:
    """The route starts and ends at the depot, holds each pick once and draws a walk on the aisle graph."""
    depot = route.stops[0]
    assert depot.is_depot and route.stops[-1] == depot
    assert (depot.aisle, depot.y) == (layout.depot_aisle, 0.0)
    assert not any(s.is_depot for s in route.pick_stops)
    assert Counter(i for s in route.pick_stops for i in s.pick_ids) == Counter(p.id for p in picks)
    assert len({(s.aisle, s.y) for s in route.pick_stops}) == len(route.pick_stops)
    assert route.path[0] == layout.depot and route.path[-1] == layout.depot
    aisle_xs = [layout.x(a) for a in range(layout.aisle_count)]
    for (x0, y0), (x1, y1) in zip(route.path, route.path[1:], strict=False):
        if abs(x0 - x1) <= EPS:
            assert any(abs(x0 - x) <= EPS for x in aisle_xs)
        else:
            assert abs(y0 - y1) <= EPS
            assert any(abs(y0 - c) <= EPS for c in layout.cross_aisles_m)
    assert polyline_length(route.path) == pytest.approx(route.length_m, abs=1e-6)
    assert {(s.aisle, s.y) for s in stops_along(layout, route.path, route.pick_stops)} == {
        (s.aisle, s.y) for s in route.pick_stops
    }


@pytest.mark.parametrize("router", ROUTERS, ids=NAMES)
def test_every_router_walks_from_the_depot_through_every_pick_exactly_once(router: Router) -> None:
    rng = random.Random(42)
    for _ in range(120):
        layout, picks = random_instance(rng, max_aisles=7, max_picks=10, middles=rng.choice([(), (3.5,)]))
        _assert_is_a_walk_through_every_pick(layout, picks, router(layout, picks))


@pytest.mark.parametrize("router", ROUTERS, ids=NAMES)
def test_no_picks_give_an_empty_route_at_the_depot(router: Router) -> None:
    layout = RackZoneLayout(4, 10.0, 2.0, depot_aisle=2)
    route = router(layout, [])
    assert route.length_m == 0.0
    assert route.pick_stops == ()
    assert route.path == (layout.depot,)


@pytest.mark.parametrize("router", ROUTERS, ids=NAMES)
def test_one_pick_is_reached_by_the_shortest_walk_there_and_back(router: Router) -> None:
    layout = RackZoneLayout(5, 10.0, 2.0, depot_aisle=1)
    route = router(layout, [Pick(4, 7.0, "a")])
    # Along the front from aisle 1 to aisle 4, then 7 m in, all of it twice.
    assert route.length_m == pytest.approx(2 * (3 * 2.0 + 7.0))
    assert [s.pick_ids for s in route.pick_stops] == [("a",)]


def test_picks_in_one_aisle_are_picked_in_and_out_up_to_the_farthest() -> None:
    layout = RackZoneLayout(6, 10.0, 2.0, depot_aisle=3)
    picks = [Pick(3, y, str(y)) for y in (1.0, 4.0, 6.5)]
    route = route_picks(layout, picks)
    assert route.length_m == pytest.approx(2 * 6.5)
    assert [s.y for s in route.pick_stops] == [1.0, 4.0, 6.5]


def test_picks_near_the_back_of_one_aisle_are_cheaper_through_the_back_only_when_it_pays() -> None:
    layout = RackZoneLayout(2, 10.0, 1.0)
    picks = [Pick(0, 9.5, "deep"), Pick(1, 9.5, "next door")]
    # Up aisle 0, across the back, down aisle 1: a full loop beats two 19 m return trips.
    assert route_picks(layout, picks).length_m == pytest.approx(2 * 10.0 + 2 * 1.0)


def test_picks_at_the_front_and_back_ends_of_aisles_are_visited() -> None:
    layout = RackZoneLayout(4, 10.0, 2.0, depot_aisle=3)
    picks = [Pick(0, 0.0, "front"), Pick(2, 10.0, "back"), Pick(3, 0.0, "at the depot")]
    route = route_picks(layout, picks)
    _assert_is_a_walk_through_every_pick(layout, picks, route)
    # Out to aisle 0 along the front, back to aisle 2, up and down it: 2 * 6 + 2 * 10.
    assert route.length_m == pytest.approx(2 * 6.0 + 2 * 10.0)


def test_picks_on_the_middle_cross_aisle_are_visited_along_it() -> None:
    layout = RackZoneLayout(5, 10.0, 2.0, middle_cross_aisles_m=(5.0,))
    picks = [Pick(a, 5.0, str(a)) for a in range(5)]
    route = route_picks(layout, picks)
    _assert_is_a_walk_through_every_pick(layout, picks, route)
    assert route.length_m == pytest.approx(2 * 5.0 + 2 * 4 * 2.0)


def test_picks_at_the_same_place_share_one_stop() -> None:
    layout = RackZoneLayout(3, 10.0, 2.0)
    route = route_picks(layout, [Pick(1, 3.0, "a"), Pick(1, 3.0, "b"), Pick(2, 3.0, "c")])
    assert sorted(s.pick_ids for s in route.pick_stops) == [("a", "b"), ("c",)]


def test_only_picks_at_the_depot_need_no_walk() -> None:
    layout = RackZoneLayout(3, 10.0, 2.0, depot_aisle=1)
    route = route_picks(layout, [Pick(1, 0.0, "label roll")])
    assert route.length_m == 0.0
    assert [s.pick_ids for s in route.pick_stops] == [("label roll",)]


def test_s_shape_traverses_an_even_number_of_aisles_completely() -> None:
    layout = RackZoneLayout(8, 10.0, 2.0)
    picks = [Pick(1, 2.0), Pick(3, 9.0), Pick(4, 5.0), Pick(6, 1.0)]
    assert route_s_shape(layout, picks).length_m == pytest.approx(4 * 10.0 + 2 * 6 * 2.0)


def test_largest_gap_traverses_the_outer_aisles_and_returns_from_both_ends_in_between() -> None:
    layout = RackZoneLayout(3, 10.0, 2.0)
    picks = [Pick(0, 5.0), Pick(1, 1.0), Pick(1, 9.0), Pick(2, 5.0)]
    # Outer aisles traversed (2 * 10), back and front crossed (2 * 4), aisle 1 dipped 1 m from each end.
    assert route_largest_gap(layout, picks).length_m == pytest.approx(2 * 10.0 + 2 * 4.0 + 2 * 1.0 + 2 * 1.0)


@pytest.mark.parametrize(
    ("layout_args", "message"),
    [
        ((0, 10.0, 2.0), "at least one pick aisle"),
        ((3, 0.0, 2.0), "aisle length"),
        ((3, 10.0, float("nan")), "aisle width"),
        ((3, 10.0, 2.0, 3), "depot aisle"),
        ((3, 10.0, 2.0, 0, (10.0,)), "strictly inside"),
        ((3, 10.0, 2.0, 0, (4.0, 4.0)), "same position"),
    ],
)
def test_a_zone_that_cannot_exist_is_refused(layout_args: tuple, message: str) -> None:
    with pytest.raises(RoutingInputInvalid, match=message):
        RackZoneLayout(*layout_args)


@pytest.mark.parametrize(
    "pick", [Pick(3, 1.0, "x"), Pick(-1, 1.0, "x"), Pick(0, 10.5, "x"), Pick(0, -0.1, "x")]
)
def test_a_pick_outside_the_zone_is_refused(pick: Pick) -> None:
    with pytest.raises(RoutingInputInvalid, match="'x'"):
        route_picks(RackZoneLayout(3, 10.0, 2.0), [pick])


def test_zones_with_more_middle_cross_aisles_than_the_exact_limit_get_a_valid_heuristic_route() -> None:
    rng = random.Random(5)
    layout = RackZoneLayout(6, 10.0, 2.0, 2, (2.0, 4.0, 6.0, 8.0))
    picks = [Pick(rng.randrange(6), round(rng.uniform(0, 10), 1), f"p{i}") for i in range(20)]
    route = route_picks(layout, picks)
    assert route.method == "heuristic"
    _assert_is_a_walk_through_every_pick(layout, picks, route)
    assert route.length_m >= route_held_karp(layout, picks[:8]).length_m - 1e-9
