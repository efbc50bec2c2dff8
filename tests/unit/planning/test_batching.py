"""Batching: carts never overfilled, every order batched once, urgency kept, savings never worse than FCFS."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.planning.waves import request
from wms.planning.batching import (
    CUTOFF_BAND_S,
    BatchOrder,
    Capacity,
    batch_distance,
    batch_fcfs,
    batch_savings,
    windows,
)
from wms.planning.distance import ZoneLengths
from wms.planning.routing import RackZoneLayout
from wms.planning.wave import prepare_order


def _prepared(seed: int, urgent: bool = False, heavy: bool = False, count: int = 30):
    req = request(seed, count, urgent=urgent, heavy=heavy)
    cap = req.capacity
    capacity = Capacity(cap.items, cap.orders, cap.volume_cm3, cap.weight_g)
    bos = [prepare_order(o, req.zones)[0] for o in req.orders]
    fitting = [
        b
        for b in bos
        if b.items <= cap.items
        and (cap.volume_cm3 is None or b.volume_cm3 <= cap.volume_cm3)
        and (cap.weight_g is None or b.weight_g <= cap.weight_g)
    ]
    lengths = ZoneLengths({code: z.layout for code, z in req.zones.items()})
    return fitting, capacity, lengths


def _assert_valid(bos: list[BatchOrder], batches: list[list[int]], cap: Capacity) -> None:
    assert sorted(i for b in batches for i in b) == list(range(len(bos)))
    for b in batches:
        assert b, "no empty batch"
        assert len(b) <= cap.orders
        assert sum(bos[i].items for i in b) <= cap.items
        if cap.volume_cm3 is not None:
            assert sum(bos[i].volume_cm3 for i in b) <= cap.volume_cm3 + 1e-6
        if cap.weight_g is not None:
            assert sum(bos[i].weight_g for i in b) <= cap.weight_g + 1e-6


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), urgent=st.booleans(), heavy=st.booleans())
def test_no_cart_is_overfilled_and_every_order_is_in_exactly_one_batch(seed, urgent, heavy) -> None:
    bos, cap, lengths = _prepared(seed, urgent, heavy)
    _assert_valid(bos, batch_fcfs(bos, cap), cap)
    _assert_valid(bos, batch_savings(bos, cap, lengths), cap)
    _assert_valid(bos, batch_savings(bos, cap, lengths, max_passes=0, exact_savings=False), cap)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), urgent=st.booleans())
def test_savings_batches_are_never_longer_than_fcfs_on_the_same_orders(seed, urgent) -> None:
    bos, cap, lengths = _prepared(seed, urgent)
    fcfs = sum(batch_distance(bos, b, lengths) for b in batch_fcfs(bos, cap))
    savings = sum(batch_distance(bos, b, lengths) for b in batch_savings(bos, cap, lengths))
    assert savings <= fcfs + 1e-9
    estimated = batch_savings(bos, cap, lengths, max_passes=0, exact_savings=False)
    assert sum(batch_distance(bos, b, lengths) for b in estimated) <= fcfs + 1e-9


def test_savings_beat_fcfs_clearly_on_average() -> None:
    # Not a guarantee per instance, but forty seeded waves of sixty orders must gain overall.
    fcfs_total = savings_total = 0.0
    for seed in range(40):
        bos, cap, lengths = _prepared(seed, count=60)
        fcfs_total += sum(batch_distance(bos, b, lengths) for b in batch_fcfs(bos, cap))
        savings_total += sum(batch_distance(bos, b, lengths) for b in batch_savings(bos, cap, lengths))
    assert savings_total < 0.95 * fcfs_total


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_more_urgent_order_is_never_in_a_later_batch_than_a_less_urgent_one(seed) -> None:
    bos, cap, lengths = _prepared(seed, urgent=True)
    estimated = batch_savings(bos, cap, lengths, max_passes=0, exact_savings=False)
    for batches in (batch_fcfs(bos, cap), batch_savings(bos, cap, lengths), estimated):
        batch_of = {i: n for n, b in enumerate(batches) for i in b}
        for i, a in enumerate(bos):
            for j, b in enumerate(bos):
                higher_priority = a.urgency[0] < b.urgency[0]
                due_well_before = a.urgency[0] == b.urgency[0] and a.urgency[1] + CUTOFF_BAND_S < b.urgency[1]
                if higher_priority or due_well_before:
                    assert batch_of[i] < batch_of[j], (a.urgency, b.urgency)


def test_windows_cut_at_a_priority_change_past_the_cutoff_band_and_at_the_window_size() -> None:
    places = {"A": frozenset({(0, 1.0)})}
    inf = float("inf")
    urgencies = [(0, 0.0), (-1, inf), (0, 600.0), (0, 1800.0), (0, 1801.0), (0, inf), (0, inf), (0, inf)]
    bos = [BatchOrder(f"o{i}", places, 1, urgency=u) for i, u in enumerate(urgencies)]
    assert windows(bos, size=2) == [[1], [0, 2], [3, 4], [5, 6], [7]]


def test_orders_due_minutes_apart_share_a_cart_but_not_orders_due_hours_apart() -> None:
    lengths = ZoneLengths({"A": RackZoneLayout(3, 10.0, 2.0, 0)})
    same_lane = {"A": frozenset({(2, 8.0)})}
    cap = Capacity(items=10, orders=4)
    close = [BatchOrder(f"o{i}", same_lane, 1, urgency=(0, 36000.0 + 300 * i)) for i in range(3)]
    assert batch_savings(close, cap, lengths) == [[0, 1, 2]]
    apart = [BatchOrder(f"o{i}", same_lane, 1, urgency=(0, 36000.0 + 7200 * i)) for i in range(3)]
    assert batch_savings(apart, cap, lengths) == [[0], [1], [2]]


def test_orders_in_the_same_aisle_are_batched_together_rather_than_in_arrival_order() -> None:
    lengths = ZoneLengths({"A": RackZoneLayout(6, 20.0, 3.0, 0)})
    # Arrival alternates between the first and the last aisle; a cart takes two orders.
    bos = [BatchOrder(f"o{i}", {"A": frozenset({(0 if i % 2 == 0 else 5, 15.0)})}, 1) for i in range(4)]
    cap = Capacity(items=10, orders=2)
    assert batch_fcfs(bos, cap) == [[0, 1], [2, 3]]
    assert batch_savings(bos, cap, lengths) == [[0, 2], [1, 3]]
    fcfs = sum(batch_distance(bos, b, lengths) for b in batch_fcfs(bos, cap))
    savings = sum(batch_distance(bos, b, lengths) for b in batch_savings(bos, cap, lengths))
    # Aisle 0 alone: in and out to 15 m. Aisle 5 alone: along the head 15 m each way plus the dip.
    assert savings == pytest.approx((2 * 15) + (2 * 15 + 2 * 15))
    # Both aisles in one tour: up aisle 0, across the back, down aisle 5, back along the head.
    assert fcfs == pytest.approx(2 * (20 + 15 + 20 + 15))


def test_the_local_search_only_ever_shortens_the_construction() -> None:
    for seed in range(15):
        bos, cap, lengths = _prepared(seed, count=50)
        constructed = sum(
            batch_distance(bos, b, lengths) for b in batch_savings(bos, cap, lengths, max_passes=0)
        )
        improved = sum(
            batch_distance(bos, b, lengths) for b in batch_savings(bos, cap, lengths, max_passes=10)
        )
        assert improved <= constructed + 1e-9
