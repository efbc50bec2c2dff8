"""The embedded SQLite database: every transaction holds the write lock from its first statement, and a request
that cannot get it in time answers 503 with Retry-After and writes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import make_test_app
from tests.integration.test_orders_concurrency import _seed
from wms.db import db
from wms.dbcli import alembic_config
from wms.idempotency_models import IdempotencyRecord
from wms.orders.models import Order
from wms.stock.models import Quant


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path / 'locking.db'}"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url, DATABASE_ENGINE_OPTIONS={"connect_args": {"timeout": 0.2}})
    yield app
    db.engine(app).dispose()


def _other_connection(app: Flask) -> sqlite3.Connection:
    return sqlite3.connect(db.engine(app).url.database, isolation_level=None, timeout=0)


def test_a_transaction_that_only_read_already_holds_the_write_lock(sqlite_app: Flask) -> None:
    _seed(sqlite_app, units=10)
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.sum(Quant.on_hand))) == 10
        other = _other_connection(sqlite_app)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        db.session.rollback()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_an_order_kept_waiting_past_the_busy_timeout_answers_503_with_retry_after_and_writes_nothing(
        sqlite_app: Flask) -> None:
    token, channel = _seed(sqlite_app, units=10)
    client = sqlite_app.test_client()

    def send():  # type: ignore[no-untyped-def]
        return client.post(f"/api/v1/channels/{channel}/orders", json={
            "external_id": "web-1", "lines": [{"sku": "LAST-10", "quantity": 2}]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "key-1"})

    holder = _other_connection(sqlite_app)
    holder.execute("BEGIN IMMEDIATE")  # a long writer: a backup, a CSV import, another worker
    try:
        busy = send()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503 and busy.headers.get("Retry-After"), (busy.status_code, busy.headers)
    with sqlite_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    again = send()
    assert again.status_code == 201 and again.json["status"] == "allocated"
