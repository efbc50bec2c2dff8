"""Stock paths racing each other take their locks in one order: no deadlock, so no 503 (PostgreSQL).

Issue 13: concurrent cancellations answered 503 (DeadlockDetected, items 1), transfers racing sales and intake
24 of 32 (1b), four first units into an empty lane 409 (1c). The app runs with TRANSACTION_ATTEMPTS=1 here, so a
deadlock is not hidden by the server running the transaction again; that retry has its own tests below.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from tests.conftest import _truncate_all, make_test_app
from tests.integration.race_world import (
    adjustment,
    assert_stock_consistent,
    cancel,
    hammer,
    intake,
    lane_on_hand,
    place_orders,
    sale,
    seed,
    transfer,
)
from wms.db import db, make_engine
from wms.enums import StockReason, ZoneKind
from wms.layout.models import Location, Zone
from wms.orders.models import Order, OrderLine, OrderStatus
from wms.stock.models import Quant
from wms.stock.operations import product_by_sku
from wms.stock.services import adjust_stock

ROUNDS = 3


def _app(database_url: str, **config: object):  # type: ignore[no-untyped-def]
    return make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 24}, **config)


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = _app(database_url, TRANSACTION_ATTEMPTS=1)
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _put(app, units_per_lane: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        mug = product_by_sku("MUG")
        for code, units in units_per_lane.items():
            lane = db.session.scalar(select(Location).where(Location.code == code))
            adjust_stock(mug, lane, units, reason=StockReason.RECEIPT)
        db.session.commit()


def _waiting_units(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return int(db.session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity - OrderLine.allocated), 0)).join(Order)
            .where(Order.status == OrderStatus.BACKORDERED)))


def _failures(answers) -> list:  # type: ignore[no-untyped-def,type-arg]
    return [(a.status_code, a.get_json()) for a in answers if a.status_code >= 300]


def test_eight_cancellations_racing_eight_intakes_never_answer_503(busy_app) -> None:  # type: ignore[no-untyped-def]
    world = seed(busy_app)
    for r in range(ROUNDS):
        # enough for what already waits and for 8 orders of 2 units spread over four lanes; then 12 units wait
        need = _waiting_units(busy_app) + 16
        _put(busy_app, {lane: need // 4 + (1 if i < need % 4 else 0) for i, lane in enumerate(world.lanes[:4])})
        place_orders(busy_app, f"held{r}", 8, 2)
        place_orders(busy_app, f"wait{r}", 4, 3)
        calls = [cancel(world, f"held{r}-{i}") for i in range(8)]
        calls += [intake(world, f"new{r}-{i}", 2) for i in range(8)]
        answers = hammer(busy_app, calls)
        assert _failures(answers) == [], f"round {r}"
        assert_stock_consistent(busy_app)
        with busy_app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Order).where(
                Order.external_id.like(f"held{r}-%"), Order.status == OrderStatus.CANCELLED)) == 8


def test_transfers_between_lanes_racing_sales_and_intake_never_answer_503(busy_app) -> None:  # type: ignore[no-untyped-def]
    world = seed(busy_app)
    lanes = world.lanes[:4]
    # quants created last lane first: quant order is then the reverse of location order, as after any history
    _put(busy_app, {lane: 60 for lane in reversed(lanes)})
    for r in range(ROUNDS):
        calls = [transfer(world, lanes[i % 4], lanes[(i + 1 + i // 4) % 4], 1) for i in range(12)]
        calls += [sale(world, f"till-{r}-{i}", 1) for i in range(10)]
        calls += [intake(world, f"web-{r}-{i}", 1) for i in range(10)]
        answers = hammer(busy_app, calls)
        # Intake reserves in the lane with the fewest units that can serve it, and transfers drain lanes, so a
        # transfer may find every unit of its source reserved: that refusal (409) is right; a 503 never is.
        transfers, others = answers[:12], answers[12:]
        refused = [body for status, body in _failures(transfers)
                   if status == 409 and body.get("type") == "/problems/insufficient-stock"]
        assert _failures(transfers) == [(409, body) for body in refused], f"round {r}"
        assert _failures(others) == [], f"round {r}"
        assert_stock_consistent(busy_app)
    assert sum(lane_on_hand(busy_app).values()) == 4 * 60 - ROUNDS * 10  # sales left; transfers moved


def test_four_first_units_into_an_empty_lane_all_land(busy_app) -> None:  # type: ignore[no-untyped-def]
    world = seed(busy_app)
    for lane in world.lanes[:ROUNDS]:
        answers = hammer(busy_app, [adjustment(world, lane, delta=1) for _ in range(4)])
        assert _failures(answers) == [], lane
        assert lane_on_hand(busy_app)[lane] == 4
    lane = world.lanes[ROUNDS]  # the same race through counts (a count creates the quant too)
    answers = hammer(busy_app, [adjustment(world, lane, counted=3) for _ in range(4)])
    assert _failures(answers) == []
    assert lane_on_hand(busy_app)[lane] == 3
    assert_stock_consistent(busy_app)


# --- what the lock order cannot design away: a deadlock with a transaction outside it ---------------------------


def _deadlock_an_adjustment(app, attempts: int):  # type: ignore[no-untyped-def]
    """A +1 adjustment while another transaction holds the waiting order, then takes the lane's quant: a
    deadlock PostgreSQL breaks by failing the adjustment (it waited first, so its check runs first)."""
    world = seed(app)
    _put(app, {world.lanes[0]: 1, world.lanes[1]: 1})
    with app.app_context():  # lane 1 keeps an empty quant
        lane = db.session.scalar(select(Location).where(Location.code == world.lanes[1]))
        adjust_stock(product_by_sku("MUG"), lane, -1, reason=StockReason.COUNT)
        quant_id = db.session.scalar(select(Quant.id).where(Quant.location_id == lane.id))
        db.session.commit()
    place_orders(app, "wait", 1, 2)
    with app.app_context():
        order_id = db.session.scalar(select(Order.id).where(Order.external_id == "wait-0"))
    engine = make_engine(app.config["DATABASE_URL"])
    answer: list = []  # type: ignore[type-arg]
    try:
        with engine.connect() as other, engine.connect() as watch:
            other.execute(text("SET deadlock_timeout = '10s'"))  # so the adjustment is the one that fails
            other.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": order_id})
            client = app.test_client()
            worker = threading.Thread(target=lambda: answer.append(adjustment(world, world.lanes[1], delta=1)(client)))
            worker.start()
            for _ in range(500):  # until the adjustment waits for the order row
                waiting = watch.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                            "AND datname = current_database()"))
                if waiting:
                    break
                time.sleep(0.01)
            assert waiting, "the adjustment never waited for the order"
            other.execute(text("SELECT id FROM quants WHERE id = :id FOR UPDATE"), {"id": quant_id})
            other.commit()
            worker.join(timeout=60)
    finally:
        engine.dispose()
    assert app.config["TRANSACTION_ATTEMPTS"] == attempts
    return answer[0]


def test_a_deadlock_the_lock_order_cannot_prevent_is_run_again_inside_the_server(database_url: str) -> None:
    app = _app(database_url, TRANSACTION_ATTEMPTS=3)
    try:
        answer = _deadlock_an_adjustment(app, 3)
        assert answer.status_code == 201, answer.get_json()
        assert lane_on_hand(app)[seed_lane(app, 1)] == 1
        with app.app_context():
            assert db.session.scalar(select(Order.status).where(Order.id == 1)) == OrderStatus.ALLOCATED
        assert_stock_consistent(app)
    finally:
        _truncate_all(app)
        db.engine(app).dispose()


def test_a_deadlock_that_is_not_run_again_answers_503_with_retry_after(database_url: str) -> None:
    app = _app(database_url, TRANSACTION_ATTEMPTS=1)
    try:
        answer = _deadlock_an_adjustment(app, 1)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert answer.get_json()["type"] == "/problems/service-unavailable"
        assert lane_on_hand(app)[seed_lane(app, 1)] == 0  # nothing was changed
    finally:
        _truncate_all(app)
        db.engine(app).dispose()


def seed_lane(app, index: int) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(Location.code).join(Zone, Zone.id == Location.zone_id)
                                 .where(Zone.kind == ZoneKind.RACK).order_by(Location.id).offset(index).limit(1))
