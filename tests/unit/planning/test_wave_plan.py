"""plan_wave end to end (contract A): bad input refused, every line planned once, real distances."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.planning.waves import at, request
from wms.planning.routing import Pick, RackZoneLayout, route_picks
from wms.planning.wave import (
    EXACT_MAX_ORDERS,
    Busy,
    CartCapacity,
    PlanInputInvalid,
    PlanLine,
    PlanOrder,
    PlanRequest,
    ZoneInfo,
    plan_wave,
)

ZONE = ZoneInfo("A", RackZoneLayout(4, 10.0, 2.0, 0), "A-pick", "A-repl")


def _line(n: int = 1, **changes) -> PlanLine:
    line = PlanLine(f"R{n}", "SO-1", f"L{n}", "A", f"A-{n}", 1, 3.0, "SKU", 1)
    return replace(line, **changes)


def _request(*lines: PlanLine, **changes) -> PlanRequest:
    req = PlanRequest((PlanOrder("SO-1", lines or (_line(),)),), {"A": ZONE}, at(8))
    return replace(req, **changes)


@pytest.mark.parametrize(
    ("req", "words"),
    [
        (_request(_line(quantity=-2)), "quantity -2"),
        (_request(_line(quantity=0)), "quantity 0"),
        (_request(_line(zone="Q")), "zone 'Q'"),
        (_request(_line(aisle=9)), "aisle 9"),
        (_request(_line(y=11.0)), "11.0 m"),
        (_request(_line(volume_cm3=-1.0)), "volume"),
        (_request(_line(order_id="SO-2")), "belongs to order SO-2"),
        (_request(_line(1), _line(1)), "R1 appears twice"),
        (_request(start=datetime(2026, 11, 23, 8, 0)), "start"),
        (
            replace(_request(), orders=(PlanOrder("SO-1", (_line(),), cutoff=datetime(2026, 11, 23, 14)),)),
            "cutoff",
        ),
        (_request(busy=(Busy("A-pick", datetime(2026, 11, 23, 8), at(9)),)), "time zone"),
        (_request(busy=(Busy("A-pick", at(9), at(8), "R-1"),)), "ends before it starts"),
        (_request(zones={"A": replace(ZONE, layout=None)}), "no rack layout"),
        (_request(zones={"B": ZONE}), "own code"),
        (_request(capacity=CartCapacity(items=0)), "at least one item"),
        (_request(method="magic"), "method"),
        (replace(_request(), orders=(PlanOrder("SO-1", (_line(),)), PlanOrder("SO-1", ()))), "twice"),
    ],
)
def test_bad_input_is_refused_with_a_reason(req: PlanRequest, words: str) -> None:
    with pytest.raises(PlanInputInvalid, match=words):
        plan_wave(req)


def test_a_line_in_a_zone_without_layout_is_refused() -> None:
    with pytest.raises(PlanInputInvalid, match="zone 'B'"):
        plan_wave(_request(_line(zone="B")))


def test_an_order_too_big_for_a_cart_is_left_out_with_an_issue() -> None:
    big = PlanOrder("SO-9", (PlanLine("R9", "SO-9", "L9", "A", "A-9", 2, 4.0, "SKU", 50),))
    req = replace(_request(), orders=(PlanOrder("SO-1", (_line(),)), big))
    plan = plan_wave(req)
    assert plan.batches == (("SO-1",),)
    (issue,) = plan.issues
    assert issue.kind == "capacity" and issue.order_id == "SO-9" and "50 items" in issue.message


def test_an_order_with_nothing_to_pick_is_reported_not_planned() -> None:
    plan = plan_wave(replace(_request(), orders=(PlanOrder("SO-1", (_line(),)), PlanOrder("SO-2", ()))))
    assert plan.batches == (("SO-1",),)
    assert [(i.kind, i.order_id) for i in plan.issues] == [("empty", "SO-2")]


def test_no_orders_give_an_empty_plan() -> None:
    plan = plan_wave(replace(_request(), orders=()))
    assert (plan.pick_orders, plan.batches, plan.issues, plan.distance_m) == ((), (), (), 0.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), two_block=st.booleans(), heavy=st.booleans())
def test_distances_are_the_real_routers_and_savings_never_exceed_the_fcfs_baseline(
    seed, two_block, heavy
) -> None:
    req = request(seed, 30, urgent=True, two_block=two_block, heavy=heavy)
    plan = plan_wave(req)
    lines = {line.id: line for o in req.orders for line in o.lines}
    real = 0.0
    for op in plan.pick_orders:
        picks = [Pick(lines[pl.line_id].aisle, lines[pl.line_id].y) for pl in op.lines]
        real += route_picks(req.zones[op.zone].layout, picks).length_m
    assert plan.distance_m == pytest.approx(real, abs=1e-6)
    assert plan.distance_m <= plan.baseline_distance_m + 1e-6
    fcfs = plan_wave(replace(req, method="fcfs"))
    assert fcfs.distance_m == pytest.approx(fcfs.baseline_distance_m, abs=1e-6)
    assert fcfs.baseline_distance_m == pytest.approx(plan.baseline_distance_m, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), heavy=st.booleans())
def test_every_batch_fits_the_cart(seed, heavy) -> None:
    req = request(seed, 30, heavy=heavy)
    plan = plan_wave(req)
    orders = {o.id: o for o in req.orders}
    cap = req.capacity
    for batch in plan.batches:
        assert len(batch) <= cap.orders
        lines = [line for o in batch for line in orders[o].lines]
        assert sum(line.quantity for line in lines) <= cap.items
        if cap.volume_cm3 is not None:
            assert sum(line.volume_cm3 * line.quantity for line in lines) <= cap.volume_cm3 + 1e-6
        if cap.weight_g is not None:
            assert sum(line.weight_g * line.quantity for line in lines) <= cap.weight_g + 1e-6


def test_batches_go_by_priority_then_cutoff() -> None:
    for seed in range(10):
        req = request(seed, 30, urgent=True)
        plan = plan_wave(req)
        rank = {o.id: (-o.priority, o.cutoff or at(23, 59)) for o in req.orders}
        batch_of = {o: n for n, batch in enumerate(plan.batches) for o in batch}
        for a in batch_of:
            for b in batch_of:
                if rank[a] < rank[b]:
                    assert batch_of[a] < batch_of[b]


def test_the_plan_is_reproducible() -> None:
    req = request(5, 40, urgent=True, two_block=True)
    assert plan_wave(req) == plan_wave(req)


def test_a_wave_beyond_the_exact_savings_size_is_planned_completely_and_within_the_cart() -> None:
    req = request(11, EXACT_MAX_ORDERS + 50, urgent=True, capacity=CartCapacity(items=20, orders=6))
    plan = plan_wave(req)
    orders = {o.id: o for o in req.orders}
    planned = sorted(pl.line_id for op in plan.pick_orders for pl in op.lines)
    assert planned == sorted(line.id for o in req.orders for line in o.lines)
    assert plan.distance_m <= plan.baseline_distance_m
    for batch in plan.batches:
        assert len(batch) <= 6 and sum(line.quantity for o in batch for line in orders[o].lines) <= 20
