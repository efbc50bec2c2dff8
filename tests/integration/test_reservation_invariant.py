"""The database holds that a quant's reserved is the sum of its reservations, checked at commit (statement order
inside a transaction is free), on PostgreSQL and on the embedded SQLite; and SQLite savepoints stay savepoints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from tests.conftest import _truncate_all, make_test_app
from tests.integration.test_orders_concurrency import _seed
from wms.db import db
from wms.dbcli import alembic_config
from wms.orders.models import Channel, Order, OrderLine, Reservation
from wms.orders.services import LineRequest, OrderRequest, cancel_order, create_order
from wms.stock.models import Quant


@pytest.fixture(params=["postgresql", "sqlite"])
def any_app(request, tmp_path: Path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'invariant.db'}"
        command.upgrade(alembic_config(url), "head")
        app = make_test_app(url)
        yield app
        db.engine(app).dispose()
        return
    app = make_test_app(request.getfixturevalue("database_url"))
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


@pytest.fixture
def held(any_app: Flask) -> Iterator[Reservation]:
    """An order holding 3 of the 10 units in stock (one reservation), committed; inside an app context."""
    _seed(any_app, units=10, lanes=1)
    with any_app.app_context():
        channel = db.session.scalar(select(Channel))
        create_order(channel, OrderRequest("web-1", [LineRequest("LAST-10", 3)]))
        db.session.commit()
        yield db.session.scalar(select(Reservation))


def _reserved() -> tuple[int, int]:
    db.session.rollback()
    return (db.session.scalar(select(func.sum(Quant.reserved))),
            db.session.scalar(select(func.sum(Reservation.quantity))))


def test_a_reserved_count_raised_without_a_reservation_is_refused_at_commit(held: Reservation) -> None:
    db.session.execute(update(Quant).values(reserved=Quant.reserved + 2))
    with pytest.raises(IntegrityError):
        db.session.commit()
    assert _reserved() == (3, 3)


def test_a_reservation_deleted_behind_its_quant_is_refused_at_commit(held: Reservation) -> None:
    db.session.execute(delete(Reservation))
    with pytest.raises(IntegrityError):
        db.session.commit()
    assert _reserved() == (3, 3)


def test_a_reservation_grown_behind_its_quant_is_refused_at_commit(held: Reservation) -> None:
    db.session.execute(update(OrderLine).values(quantity=5, allocated=4))  # the line does want one more
    db.session.execute(update(Reservation).values(quantity=Reservation.quantity + 1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    assert _reserved() == (3, 3)


def test_a_reservation_moved_to_another_quant_is_refused_at_commit(held: Reservation) -> None:
    db.session.execute(text("INSERT INTO quants (product_id, location_id, on_hand, reserved) "
                            "SELECT product_id, location_id + 1, 5, 0 FROM quants"))
    other = db.session.scalar(select(func.max(Quant.id)))
    db.session.commit()
    db.session.execute(update(Reservation).values(quant_id=other))
    with pytest.raises(IntegrityError):
        db.session.commit()
    assert _reserved() == (3, 3)


@pytest.mark.parametrize("counter_first", [True, False])
def test_the_counter_and_the_rows_commit_in_either_statement_order(held: Reservation, counter_first: bool) -> None:
    db.session.execute(update(OrderLine).values(quantity=5, allocated=5))
    writes = [update(Quant).values(reserved=Quant.reserved + 2),
              update(Reservation).values(quantity=Reservation.quantity + 2)]
    for statement in writes if counter_first else reversed(writes):
        db.session.execute(statement)
    db.session.commit()
    assert _reserved() == (5, 5)


def test_an_imbalance_inside_a_savepoint_rolled_back_commits_balanced(held: Reservation) -> None:
    savepoint = db.session.begin_nested()
    db.session.execute(update(Quant).values(reserved=Quant.reserved + 2))
    savepoint.rollback()
    db.session.commit()
    assert _reserved() == (3, 3)


def test_cancelling_the_order_keeps_the_balance(held: Reservation) -> None:
    cancel_order(db.session.scalar(select(Order)))
    db.session.commit()
    assert _reserved() == (0, None)


def test_a_savepoint_that_opens_the_transaction_commits_nothing_by_itself(any_app: Flask) -> None:
    # pysqlite's own BEGIN came only before a write, so a SAVEPOINT opened SQLite's transaction and its RELEASE
    # committed it: an idempotency key written in one stayed when the request then failed.
    _seed(any_app, units=10, lanes=1)
    with any_app.app_context():
        with db.session.begin_nested():
            db.session.execute(update(Quant).values(on_hand=11))
        db.session.rollback()
        assert db.session.scalar(select(Quant.on_hand)) == 10
