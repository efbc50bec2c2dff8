"""Stock arriving every way at once while orders wait for it: no line ever holds more than it asks for (PostgreSQL).

Adjustments, counts, transfers from reserve and cancellations all hand new pick-lane stock to waiting orders
(allocate_backorders), racing each other and new orders. Issue 13 (0b) saw lines for 4 units holding 5, 7 or 8.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import _truncate_all, make_test_app
from tests.integration.race_world import (
    adjustment,
    assert_stock_consistent,
    cancel,
    hammer,
    intake,
    lane_on_hand,
    over_reserved_lines,
    place_orders,
    seed,
    transfer,
)
from wms.db import db
from wms.dbcli import alembic_config
from wms.enums import StockReason
from wms.errors import from_integrity_error
from wms.layout.models import Location
from wms.orders.models import Order, OrderLine, OrderStatus
from wms.stock.models import Quant
from wms.stock.operations import product_by_sku
from wms.stock.services import adjust_stock

ROUNDS = 3


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    # TRANSACTION_ATTEMPTS=1: a deadlock shows as a 503 here instead of being run again
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 24, "max_overflow": 24},
                        TRANSACTION_ATTEMPTS=1)
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _allocated_orders(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.scalars(select(Order.external_id).where(Order.status == OrderStatus.ALLOCATED)
                                       .order_by(Order.id)))


def test_stock_arriving_every_way_at_once_never_over_reserves_waiting_orders(busy_app) -> None:  # type: ignore[no-untyped-def]
    world = seed(busy_app)
    lanes = world.lanes
    with busy_app.app_context():
        adjust_stock(product_by_sku("MUG"), db.session.scalar(select(Location).where(Location.code == lanes[0])), 8,
                     reason=StockReason.RECEIPT)
        db.session.commit()
    place_orders(busy_app, "held", 2, 4)
    for r in range(ROUNDS):
        held = _allocated_orders(busy_app)[:2]
        assert held, "each round cancels orders that hold stock"
        place_orders(busy_app, f"wait{r}", 10, 4)
        counted = lane_on_hand(busy_app)
        calls = [cancel(world, ext) for ext in held]
        calls += [adjustment(world, lanes[i % 4], delta=3) for i in range(6)]
        calls += [adjustment(world, lane, counted=counted.get(lane, 0) + 2) for lane in lanes[6:8] for _ in range(2)]
        calls += [transfer(world, world.reserve, lanes[2 + i], 3) for i in range(4)]
        calls += [intake(world, f"new{r}-{i}", 4) for i in range(4)]
        answers = hammer(busy_app, calls)
        assert over_reserved_lines(busy_app) == [], f"round {r}"
        assert [a.status_code for a in answers if a.status_code >= 300] == [], [
            a.get_json() for a in answers if a.status_code >= 300]
        assert_stock_consistent(busy_app)


@pytest.fixture(params=["postgresql", "sqlite"])
def any_engine_app(request, database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "postgresql":
        app = make_test_app(database_url)
        yield app
        _truncate_all(app)
    else:
        url = f"sqlite:///{tmp_path}/wms.db"
        command.upgrade(alembic_config(url), "head")
        app = make_test_app(url)
        yield app
    db.engine(app).dispose()


def test_the_database_refuses_an_order_line_holding_more_than_it_needs(any_engine_app) -> None:  # type: ignore[no-untyped-def]
    seed(any_engine_app)
    with any_engine_app.app_context():
        lane = db.session.scalar(select(Location).where(Location.code == "A01-01-1"))
        adjust_stock(product_by_sku("MUG"), lane, 10, reason=StockReason.RECEIPT)
        db.session.commit()
    place_orders(any_engine_app, "web", 1, 4)
    with any_engine_app.app_context():
        line = db.session.scalar(select(OrderLine))
        assert (line.allocated, [r.quantity for r in line.reservations]) == (4, [4])
        quant = db.session.get(Quant, line.reservations[0].quant_id)
        quant.reserved += 3
        line.reservations[0].quantity += 3  # what the stale backorder fill did: 7 units held for a line of 4
        with pytest.raises(IntegrityError, match="ck_order_lines_reservations_within_need") as refused:
            db.session.commit()
        db.session.rollback()
        explained = from_integrity_error(refused.value)  # what the API answers: a 409 naming the rule
        assert (explained.status, explained.extra["constraint"]) == (409, "ck_order_lines_reservations_within_need")
        line = db.session.scalar(select(OrderLine))
        line.allocated = 1  # "allocated 1 of 4" while still holding 4 (PostgreSQL checks this one at commit)
        if db.session.get_bind().dialect.name == "postgresql":
            with pytest.raises(IntegrityError, match="ck_order_lines_reservations_within_need"):
                db.session.commit()
        db.session.rollback()
