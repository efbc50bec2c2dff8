"""The lane allocation rule, without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wms.orders.allocation import LaneStock, choose_lanes


def test_a_single_lane_that_holds_the_line_is_preferred_and_the_smallest_such_lane_wins() -> None:
    lanes = [LaneStock(1, 50, 0, 1.0), LaneStock(2, 6, 0, 9.0), LaneStock(3, 4, 0, 0.5)]
    assert choose_lanes(lanes, 5) == [(2, 5)]


def test_ties_between_equal_lanes_go_to_the_first_on_the_route() -> None:
    lanes = [LaneStock(1, 8, 1, 3.0), LaneStock(2, 8, 0, 7.0), LaneStock(3, 8, 0, 2.0)]
    assert choose_lanes(lanes, 8) == [(3, 8)]


def test_when_no_lane_suffices_the_fewest_lanes_are_used_biggest_first() -> None:
    lanes = [LaneStock(1, 3), LaneStock(2, 7), LaneStock(3, 5)]
    assert choose_lanes(lanes, 11) == [(2, 7), (3, 4)]


def test_short_stock_gives_what_there_is() -> None:
    assert choose_lanes([LaneStock(1, 2), LaneStock(2, 1), LaneStock(3, 0)], 10) == [(1, 2), (2, 1)]


def test_nothing_is_taken_for_nothing() -> None:
    assert choose_lanes([LaneStock(1, 5)], 0) == []
    assert choose_lanes([], 3) == []


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=12), st.integers(min_value=1, max_value=300))
def test_never_takes_more_than_a_lane_has_nor_more_than_asked(available: list[int], quantity: int) -> None:
    lanes = [LaneStock(i + 1, a, i % 3, float(i)) for i, a in enumerate(available)]
    taken = choose_lanes(lanes, quantity)
    by_id = {lane.quant_id: lane.available for lane in lanes}
    assert all(0 < units <= by_id[qid] for qid, units in taken)
    assert len({qid for qid, _ in taken}) == len(taken)
    assert sum(units for _, units in taken) == min(quantity, sum(available))
