"""Zone split: one pick order per batch and zone, every line once, lines along the shortest route, totes."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.planning.waves import request
from wms.planning.routing import Pick, route_picks
from wms.planning.routing.layout import walk_distance
from wms.planning.wave import plan_wave
from wms.planning.zone_split import tote_code


def _lines_by_id(req):
    return {line.id: line for order in req.orders for line in order.lines}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), two_block=st.booleans(), method=st.sampled_from(["savings", "fcfs"]))
def test_every_line_is_in_exactly_one_pick_order_of_its_zone_and_batch(seed, two_block, method) -> None:
    req = request(seed, 25, urgent=True, two_block=two_block, method=method)
    plan = plan_wave(req)
    lines = _lines_by_id(req)
    left_out = {i.order_id for i in plan.issues if i.kind in ("capacity", "empty")}
    planned = [pl.line_id for op in plan.pick_orders for pl in op.lines]
    assert sorted(planned) == sorted(lid for lid, line in lines.items() if line.order_id not in left_out)
    keys = [(op.batch_no, op.zone) for op in plan.pick_orders]
    assert len(keys) == len(set(keys)), "one pick order per (batch, zone)"
    for op in plan.pick_orders:
        assert set(op.order_ids) <= set(plan.batches[op.batch_no])
        assert op.resource == req.zones[op.zone].pick_resource
        assert [pl.seq for pl in op.lines] == list(range(1, len(op.lines) + 1))
        for pl in op.lines:
            line = lines[pl.line_id]
            assert (line.zone, line.order_id, line.order_line_id, line.location, line.sku, line.quantity) == (
                op.zone,
                pl.order_id,
                pl.order_line_id,
                pl.location,
                pl.sku,
                pl.quantity,
            )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), two_block=st.booleans())
def test_lines_follow_a_shortest_route_of_the_real_router(seed, two_block) -> None:
    req = request(seed, 25, two_block=two_block)
    plan = plan_wave(req)
    lines = _lines_by_id(req)
    for op in plan.pick_orders:
        layout = req.zones[op.zone].layout
        places = [(lines[pl.line_id].aisle, lines[pl.line_id].y) for pl in op.lines]
        optimum = route_picks(layout, [Pick(a, y) for a, y in places]).length_m
        assert op.route_length_m == pytest.approx(optimum, abs=1e-6)
        walk = [(layout.depot_aisle, 0.0), *places, (layout.depot_aisle, 0.0)]
        along = sum(walk_distance(layout, a, b) for a, b in zip(walk, walk[1:], strict=False))
        assert along == pytest.approx(optimum, abs=1e-6), (
            "walking the lines in sequence is the shortest route"
        )


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_each_order_has_one_tote_per_zone_and_tote_codes_are_unique_in_the_plan(seed) -> None:
    req = dataclasses.replace(request(seed, 25, urgent=True), tote_prefix="W42-")
    plan = plan_wave(req)
    totes_seen = set()
    for op in plan.pick_orders:
        tote_of = defaultdict(set)
        for pl in op.lines:
            tote_of[pl.order_id].add(pl.tote)
        assert all(len(t) == 1 for t in tote_of.values())
        assert len({next(iter(t)) for t in tote_of.values()}) == len(tote_of), "orders never share a tote"
        assert set(op.totes) == {next(iter(t)) for t in tote_of.values()}
        assert op.order_ids == tuple(o for o in plan.batches[op.batch_no] if o in tote_of)
        for order_id in op.order_ids:
            position = plan.batches[op.batch_no].index(order_id) + 1
            assert next(iter(tote_of[order_id])) == tote_code(op.batch_no, position, op.zone, "W42-")
        assert not totes_seen & set(op.totes)
        totes_seen |= set(op.totes)


def test_tote_codes_name_the_wave_the_batch_the_cart_position_and_the_zone() -> None:
    assert tote_code(7, 3, "A2", "W12-") == "W12-007-03-A2"
    assert re.fullmatch(r"W\d+-\d{3}-\d{2}-.+", tote_code(0, 1, "Z", "W1-"))
    assert tote_code(7, 3, "A2") == "007-03-A2"  # the planner alone knows no wave
