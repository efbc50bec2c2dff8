"""Revision 3f1c2b7a9d40 on a database that already holds orders: counters that lost updates are repaired from
the reservations, oversold quants refuse the upgrade, on both engines."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from tests import pg
from tests.conftest import make_test_app
from tests.integration.test_orders_concurrency import _seed
from wms.db import db, make_engine
from wms.dbcli import alembic_config
from wms.orders.models import Channel
from wms.orders.services import LineRequest, OrderRequest, create_order

REVISION = "3f1c2b7a9d40"


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request, pg_admin_url: str, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'balance.db'}"
        return
    name = f"wms_balance_{os.getpid()}"
    url = pg.create_database(pg_admin_url, name)
    yield url
    pg.drop_database(pg_admin_url, name)


def _before_the_revision(url: str) -> None:
    """At head with an order holding 3 units (one reservation), then down to just before the revision."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    app = make_test_app(url)
    _seed(app, units=10, lanes=1)
    with app.app_context():
        create_order(db.session.scalars(select(Channel)).one(), OrderRequest("web-1", [LineRequest("LAST-10", 3)]))
        db.session.commit()
    db.engine(app).dispose()
    command.downgrade(cfg, ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision)


def _sql(url: str, statement: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_counter_that_lost_updates_is_set_to_its_reservations(database: str) -> None:
    _before_the_revision(database)
    _sql(database, "UPDATE quants SET reserved = 1")
    command.upgrade(alembic_config(database), "head")
    assert _sql(database, "SELECT on_hand, reserved FROM quants") == [(10, 3)]


def test_an_oversold_quant_refuses_the_upgrade_and_is_named(database: str) -> None:
    _before_the_revision(database)
    _sql(database, "UPDATE quants SET on_hand = 2, reserved = 0")
    with pytest.raises(RuntimeError, match=r"quant 1 \(3 reserved of 2 on hand\)"):
        command.upgrade(alembic_config(database), "head")
    assert _sql(database, "SELECT on_hand, reserved FROM quants") == [(2, 0)]
