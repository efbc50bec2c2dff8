"""A pick order books every pick aisle it walks, for its whole time: no two pickers share an aisle (issue 16)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.planning.waves import at, request
from wms.planning.routing import RackZoneLayout
from wms.planning.routing.layout import EPS, Stop, route_from_order
from wms.planning.scheduling import Booking, Job, schedule
from wms.planning.validation import PlanInputInvalid
from wms.planning.wave import Busy, PickAisle, PlanLine, PlanOrder, PlanRequest, ZoneInfo, plan_wave
from wms.planning.zone_split import walked_aisles

# Zone A as the wave tests build it: R0 | rack | P1 | rack | R2 | rack | P3 | rack | R4, two pick aisles 10 m long.
LAYOUT = RackZoneLayout(2, 10.0, 5.0, 0)
ZONE = ZoneInfo("A", LAYOUT, "A/P1", "A/R0",
                aisles=(PickAisle("A/P1", ("A/R0", "A/R2")), PickAisle("A/P3", ("A/R2", "A/R4"))))


def _order(order_id: str, *places: tuple[int, float], priority: int = 0, cutoff=None) -> PlanOrder:
    lines = tuple(PlanLine(f"{order_id}-{n}", order_id, f"{order_id}-L{n}", "A", f"A-{a}-{y}", a, y, "SKU", 1)
                  for n, (a, y) in enumerate(places))
    return PlanOrder(order_id, lines, priority, cutoff)


def _plan(*orders: PlanOrder, busy=(), separate=True, cart_orders=12):
    from wms.planning.wave import CartCapacity

    return plan_wave(PlanRequest(tuple(orders), {"A": ZONE}, at(8), CartCapacity(orders=cart_orders),
                                 busy=tuple(busy), separate_replenishment=separate))


def _overlap(a, b) -> bool:
    return a.start < b.end and b.start < a.end


def test_a_pick_order_with_lanes_on_two_pick_aisles_books_both_for_its_whole_time() -> None:
    (op,) = _plan(_order("SO-1", (0, 2.0), (1, 6.0))).pick_orders
    assert op.resources == ("A/P1", "A/P3") and op.resource == "A/P1"
    (single,) = _plan(_order("SO-2", (1, 6.0))).pick_orders
    assert single.resources == ("A/P3",), "an OP that never enters P1 does not hold it"


def test_a_booking_on_the_other_aisle_holds_only_the_pick_orders_that_walk_it() -> None:
    cleaning = Busy("A/P3", at(8), at(9), "cleaning")
    plan = _plan(_order("P1-only", (0, 2.0)), _order("both", (0, 3.0), (1, 4.0)), busy=[cleaning], cart_orders=1)
    by_order = {op.order_ids[0]: op for op in plan.pick_orders}
    assert by_order["P1-only"].start == at(8), "P1 is free: its picker starts at once"
    assert by_order["both"].start >= at(9), "the walk enters P3: it waits for the cleaning to end"


def test_pick_orders_on_different_aisles_of_one_zone_may_run_side_by_side_but_never_share_one() -> None:
    plan = _plan(_order("west", (0, 2.0)), _order("east", (1, 2.0)), _order("both", (0, 8.0), (1, 8.0)),
                 cart_orders=1)
    by_order = {op.order_ids[0]: op for op in plan.pick_orders}
    assert by_order["west"].start == by_order["east"].start == at(8)
    both = by_order["both"]
    assert not _overlap(both, by_order["west"]) and not _overlap(both, by_order["east"])


def test_replenishment_behind_the_other_aisle_does_not_hold_a_picker_in_this_one() -> None:
    refill = Busy("A/R4", at(8), at(9), "refill behind P3")
    plan = _plan(_order("P1-only", (0, 2.0)), _order("P3-only", (1, 2.0)), busy=[refill], cart_orders=1)
    by_order = {op.order_ids[0]: op for op in plan.pick_orders}
    assert by_order["P1-only"].start == at(8) and by_order["P3-only"].start == at(9)
    shared = Busy("A/R2", at(8), at(9), "refill between P1 and P3")
    assert all(op.start == at(9) for op in _plan(_order("P1-only", (0, 2.0)), busy=[shared]).pick_orders)
    assert all(op.start == at(8) for op in _plan(_order("P1-only", (0, 2.0)), busy=[shared],
                                                 separate=False).pick_orders)


def test_a_cutoff_missed_because_of_the_other_aisle_names_that_aisle() -> None:
    cleaning = Busy("A/P3", at(8), at(10), "cleaning")
    plan = _plan(_order("SO-1", (0, 2.0), (1, 4.0), cutoff=at(9)), busy=[cleaning])
    (issue,) = plan.issues
    assert "pick aisle A/P3 is booked until 10:00 (cleaning)" in issue.message


def test_a_pick_order_waiting_behind_another_of_the_wave_names_the_aisle_they_share() -> None:
    plan = _plan(_order("first", (1, 8.0), priority=5), _order("late", (0, 2.0), (1, 2.0), cutoff=at(8, 1)),
                 cart_orders=1)
    (issue,) = plan.issues
    assert issue.order_id == "late" and "pick aisle A/P3 is taken until" in issue.message


def test_the_zone_must_name_one_distinct_resource_per_pick_aisle() -> None:
    with pytest.raises(PlanInputInvalid, match="2 pick aisles"):
        plan_wave(PlanRequest((_order("SO-1", (0, 1.0)),), {"A": replace(ZONE, aisles=ZONE.aisles[:1])}, at(8)))
    twice = replace(ZONE, aisles=(PickAisle("A/P1"), PickAisle("A/P1")))
    with pytest.raises(PlanInputInvalid, match="distinct"):
        plan_wave(PlanRequest((_order("SO-1", (0, 1.0)),), {"A": twice}, at(8)))


def test_a_job_on_several_resources_waits_for_the_last_of_them_and_keeps_its_place_on_each() -> None:
    long_p1 = Job("P1", ("P1",), 600)
    both = Job("P1", (), 60, books=("P1", "P3"))
    after_on_p3 = Job("P3", ("P3",), 60)
    first, second, third = schedule([long_p1, both, after_on_p3], [Booking("P3", at(8), at(8, 20), "x")], at(8))
    assert second.start == max(first.end, at(8, 20)) and second.waited_on == "P1"
    assert third.start == second.end, "the later job on P3 keeps its place behind the one that took P3"


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), middles=st.sampled_from([(), (7.5,), (4.0, 11.0)]))
def test_a_shortest_walk_through_the_stops_enters_no_pick_aisle_but_theirs(seed, middles) -> None:
    """What justifies booking the stops' aisles only: the walk from stop to stop (the router's own drawing)
    runs vertically in no other pick aisle; horizontal runs are on the cross aisles."""
    rng = random.Random(seed)
    layout = RackZoneLayout(rng.randint(1, 7), 15.0, 3.0, 0, middles)
    stops = [Stop(rng.randrange(layout.aisle_count), round(rng.uniform(0, 15.0), 1), ("x",))
             for _ in range(rng.randint(1, 8))]
    route = route_from_order(layout, stops, "test")
    legs = zip(route.path, route.path[1:], strict=False)
    vertical = {round(x0 / layout.aisle_width_m) for (x0, y0), (x1, y1) in legs
                if abs(x0 - x1) <= EPS and abs(y0 - y1) > EPS}
    assert vertical <= set(walked_aisles((s.aisle, s.y) for s in stops))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), separate=st.booleans())
def test_no_two_pick_orders_ever_share_an_aisle_and_each_books_every_aisle_of_its_lines(seed, separate) -> None:
    rng = random.Random(seed)
    base = request(seed, 25, urgent=True)
    zones = {}
    for code, zone in base.zones.items():
        count = zone.layout.aisle_count
        aisles = tuple(PickAisle(f"{code}/P{i}", (f"{code}/R{i}", f"{code}/R{i + 1}")) for i in range(count))
        zones[code] = replace(zone, pick_resource=f"{code}/P0", replenish_resource=f"{code}/R0", aisles=aisles)
    busy = []
    for zone in zones.values():
        for resource in [a.resource for a in zone.aisles] + [r for a in zone.aisles for r in a.replenish]:
            if rng.random() < 0.3:
                start = at(8) + timedelta(minutes=rng.randint(0, 60))
                busy.append(Busy(resource, start, start + timedelta(minutes=rng.randint(1, 30)), f"B-{resource}"))
    req = PlanRequest(base.orders, zones, at(8), base.capacity, busy=tuple(busy), separate_replenishment=separate)
    plan = plan_wave(req)
    aisle_of_line = {line.id: line.aisle for order in req.orders for line in order.lines}
    booked: dict[str, list] = {}
    for op in plan.pick_orders:
        zone = zones[op.zone]
        walked = {aisle_of_line[line.line_id] for line in op.lines}
        assert set(op.resources) == {zone.aisles[i].resource for i in walked}
        behind = {r for i in walked for r in zone.aisles[i].replenish} if separate else set()
        for b in busy:
            if b.resource in set(op.resources) | behind:
                assert not (op.start < b.end and b.start < op.end), (op.resources, b)
        for resource in op.resources:
            for other in booked.get(resource, []):
                assert not _overlap(op, other), f"two pickers in {resource}"
            booked.setdefault(resource, []).append(op)
