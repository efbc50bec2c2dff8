"""Scheduling: slots never overlap per resource (bookings included), half-open, cutoffs explained."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.planning.waves import START, at, request
from wms.planning.routing import RackZoneLayout
from wms.planning.scheduling import Booking, Job, duration_seconds, schedule
from wms.planning.wave import (
    Busy,
    PlanLine,
    PlanOrder,
    PlanRequest,
    Timing,
    ZoneInfo,
    plan_wave,
)


def _overlap(a_start, a_end, b_start, b_end) -> bool:
    # Half-open ranges, as in PostgreSQL: an empty range overlaps nothing.
    return a_start < a_end and b_start < b_end and a_start < b_end and b_start < a_end


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_slots_never_overlap_each_other_or_the_bookings_of_their_resources(seed) -> None:
    rng = random.Random(seed)
    resources = ["A", "B", "C"]
    bookings = []
    for _ in range(rng.randint(0, 8)):
        start = START + timedelta(minutes=rng.randint(-30, 120))
        bookings.append(Booking(rng.choice(resources), start, start + timedelta(minutes=rng.randint(0, 40))))
    jobs = []
    for _ in range(rng.randint(1, 25)):
        r = rng.choice(resources[:2])
        avoid = (r, "C") if rng.random() < 0.5 else (r,)
        jobs.append(Job(r, avoid, rng.uniform(1, 900)))
    slots = schedule(jobs, bookings, START)
    for n, (job, slot) in enumerate(zip(jobs, slots, strict=True)):
        assert slot.start >= START
        assert (slot.end - slot.start).total_seconds() >= job.seconds
        for b in bookings:
            if b.resource in job.avoid:
                assert not _overlap(slot.start, slot.end, b.start, b.end), (job, slot, b)
        for other, other_slot in zip(jobs[:n], slots[:n], strict=True):
            if other.resource == job.resource:
                assert not _overlap(slot.start, slot.end, other_slot.start, other_slot.end)
                assert other_slot.end <= slot.start, "jobs keep their order on a resource"


def test_back_to_back_slots_are_allowed_because_ranges_are_half_open() -> None:
    bookings = [Booking("A", START, START + timedelta(minutes=30), "receiving R-1")]
    slots = schedule([Job("A", ("A",), 600), Job("A", ("A",), 60)], bookings, START)
    assert slots[0].start == START + timedelta(minutes=30)
    assert slots[0].pushed_by == bookings[0]
    assert slots[1].start == slots[0].end


def test_a_job_uses_a_gap_between_bookings_only_when_it_fits_in_it() -> None:
    bookings = [
        Booking("A", START, START + timedelta(minutes=10)),
        Booking("A", START + timedelta(minutes=20), START + timedelta(minutes=60)),
    ]
    fits, too_long = (
        schedule([Job("A", ("A",), 600)], bookings, START),
        schedule([Job("A", ("A",), 601)], bookings, START),
    )
    assert fits[0].start == START + timedelta(minutes=10)
    assert too_long[0].start == START + timedelta(minutes=60)


def test_a_zero_length_booking_blocks_nothing() -> None:
    bookings = [Booking("A", START + timedelta(minutes=1), START + timedelta(minutes=1))]
    assert schedule([Job("A", ("A",), 300)], bookings, START)[0].start == START


def test_the_duration_is_setup_plus_walk_plus_time_per_line_and_per_unit() -> None:
    seconds = duration_seconds(120, 5, 9, speed_m_s=0.8, per_line=8, per_unit=2, setup=60)
    assert seconds == pytest.approx(60 + 150 + 40 + 18)


def _one_zone_request(busy=(), separate=True, cutoff=None, quantity=1, priority=0) -> PlanRequest:
    zone = ZoneInfo("A", RackZoneLayout(3, 10.0, 2.0, 0), "A-pick", "A-repl")
    line = PlanLine("R1", "SO-1", "L1", "A", "A-01-05", 1, 5.0, "SKU", quantity)
    return PlanRequest(
        orders=(PlanOrder("SO-1", (line,), priority, cutoff),),
        zones={"A": zone},
        start=at(8),
        busy=tuple(busy),
        separate_replenishment=separate,
        timing=Timing(walk_speed_m_s=1.0, seconds_per_line=8, seconds_per_unit=2, setup_seconds=60),
    )


def test_the_pick_order_slot_has_the_estimated_duration() -> None:
    op = plan_wave(_one_zone_request(quantity=3)).pick_orders[0]
    # Route: along the head 2 m to aisle 1, 5 m in and out, 2 m back = 14 m.
    assert op.route_length_m == pytest.approx(14.0)
    assert op.estimated_seconds == pytest.approx(60 + 14 + 8 + 6)
    assert (op.start, op.end) == (at(8), at(8) + timedelta(seconds=88))


def test_a_cutoff_that_cannot_be_met_yields_an_issue_naming_the_order_and_the_booking() -> None:
    busy = [Busy("A-pick", at(8), at(14, 20), "receiving R-12")]
    plan = plan_wave(_one_zone_request(busy, cutoff=at(14)))
    (issue,) = plan.issues
    assert issue.kind == "cutoff" and issue.order_id == "SO-1"
    assert "SO-1" in issue.message and "14:00" in issue.message
    assert "zone A" in issue.message and "14:20" in issue.message and "receiving R-12" in issue.message
    assert plan.pick_orders[0].start == at(14, 20), "the slot is still planned, after the booking"


def test_a_cutoff_missed_because_of_the_replenish_aisle_says_so() -> None:
    busy = [Busy("A-repl", at(8), at(10), "replenishment RP-3")]
    (issue,) = plan_wave(_one_zone_request(busy, cutoff=at(9))).issues
    assert "replenish aisle" in issue.message and "10:00" in issue.message and "RP-3" in issue.message


def test_a_cutoff_before_the_wave_start_is_explained() -> None:
    (issue,) = plan_wave(_one_zone_request(cutoff=at(7, 30))).issues
    assert issue.kind == "cutoff" and "07:30" in issue.message and "starts at 08:00" in issue.message


def test_a_cutoff_missed_behind_more_urgent_pick_orders_says_so() -> None:
    zone = ZoneInfo("A", RackZoneLayout(3, 10.0, 2.0, 0), "A-pick")
    orders = tuple(
        PlanOrder(
            f"SO-{n}",
            (PlanLine(f"R{n}", f"SO-{n}", f"L{n}", "A", "A-1", 1, 5.0, "S", 20),),
            priority=1 if n < 3 else 0,
            cutoff=at(8, 3) if n == 3 else None,
        )
        for n in range(4)
    )
    plan = plan_wave(PlanRequest(orders, {"A": zone}, at(8)))
    (issue,) = plan.issues
    assert issue.order_id == "SO-3" and "pick orders of this wave that go first" in issue.message


def test_replenishment_is_kept_apart_from_picking_when_the_site_asks_for_it() -> None:
    busy = [Busy("A-repl", at(8), at(9), "replenishment")]
    assert plan_wave(_one_zone_request(busy, separate=True)).pick_orders[0].start == at(9)
    assert plan_wave(_one_zone_request(busy, separate=False)).pick_orders[0].start == at(8)


def test_cutoffs_are_met_without_issue_when_there_is_time() -> None:
    for seed in range(10):
        req = request(seed, 15, urgent=True)
        req = PlanRequest(req.orders, req.zones, at(6), req.capacity)
        plan = plan_wave(req)
        cutoff = {o.id: o.cutoff for o in req.orders}
        assert not [i for i in plan.issues if i.kind == "cutoff"]
        for op in plan.pick_orders:
            assert all(cutoff[o] is None or op.end <= cutoff[o] for o in op.order_ids)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), separate=st.booleans())
def test_planned_slots_never_overlap_bookings_or_each_other(seed, separate) -> None:
    rng = random.Random(seed)
    base = request(seed, 20, urgent=True)
    busy = []
    for code, zone in base.zones.items():
        for resource in (zone.pick_resource, zone.replenish_resource):
            for _ in range(rng.randint(0, 2)):
                start = at(8) + timedelta(minutes=rng.randint(0, 60))
                busy.append(Busy(resource, start, start + timedelta(minutes=rng.randint(1, 30)), f"R-{code}"))
    req = PlanRequest(
        base.orders, base.zones, at(8), base.capacity, busy=tuple(busy), separate_replenishment=separate
    )
    plan = plan_wave(req)
    by_resource: dict[str, list] = {}
    for op in plan.pick_orders:
        zone = req.zones[op.zone]
        blocked = {zone.pick_resource} | ({zone.replenish_resource} if separate else set())
        for b in busy:
            if b.resource in blocked:
                assert not _overlap(op.start, op.end, b.start, b.end)
        for other in by_resource.get(op.resource, []):
            assert not _overlap(op.start, op.end, other.start, other.end)
        by_resource.setdefault(op.resource, []).append(op)
        assert op.start >= req.start


def test_a_higher_priority_pick_order_starts_no_later_on_its_aisle() -> None:
    for seed in range(10):
        req = request(seed, 20, urgent=True)
        plan = plan_wave(req)
        priority = {o.id: o.priority for o in req.orders}
        by_resource: dict[str, list] = {}
        for op in plan.pick_orders:
            by_resource.setdefault(op.resource, []).append(op)
        for ops in by_resource.values():
            ops.sort(key=lambda op: op.start)
            for a, b in zip(ops, ops[1:], strict=False):
                assert min(priority[o] for o in a.order_ids) >= max(priority[o] for o in b.order_ids)
