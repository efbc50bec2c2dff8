"""A request whose transaction PostgreSQL broke off is run again inside the server, unless it acted outside it.

The failure is a real serialization failure: the request reads a row in REPEATABLE READ, another connection
changes and commits it, the request then updates it (SQLSTATE 40001), on its first attempt only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, jsonify
from sqlalchemy import text

from tests.conftest import _truncate_all, make_test_app
from wms.db import db, make_engine
from wms.layout import services as layout
from wms.orders.models import Channel, ChannelKind
from wms.retry import note_outside_effect


@pytest.fixture
def retry_app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url)
    engine = make_engine(database_url)
    attempts: list[int] = []

    def serialization_failure_once(outside: int) -> None:
        session = db.session
        if outside == 2:  # part of the work committed by the view itself, as a long poll does before it waits
            session.execute(text("SELECT 1"))
            session.commit()
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        session.execute(text("SELECT code FROM channels WHERE code = 'SHOP'")).all()
        attempts.append(1)
        if outside == 1:
            note_outside_effect()
        if len(attempts) == 1:
            with engine.begin() as other:
                other.execute(text("UPDATE channels SET name = 'changed meanwhile' WHERE code = 'SHOP'"))
        session.execute(text("UPDATE channels SET name = name || '!' WHERE code = 'SHOP'"))

    @app.post("/test/retry/<int:outside>")
    def retried(outside: int):  # type: ignore[no-untyped-def]
        serialization_failure_once(outside)
        return jsonify(attempts=len(attempts))

    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        db.session.add(Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id))
        db.session.commit()
    app.config["attempts"] = attempts
    yield app
    engine.dispose()
    _truncate_all(app)
    db.engine(app).dispose()


def _name(app: Flask) -> str:
    with app.app_context():
        return db.session.scalar(text("SELECT name FROM channels WHERE code = 'SHOP'"))


def test_a_serialization_failure_runs_the_request_again_and_commits_once(retry_app: Flask) -> None:
    answer = retry_app.test_client().post("/test/retry/0")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"attempts": 2}
    assert _name(retry_app) == "changed meanwhile!"


def test_a_request_that_acted_outside_the_database_is_not_run_again(retry_app: Flask) -> None:
    answer = retry_app.test_client().post("/test/retry/1")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert retry_app.config["attempts"] == [1]
    assert _name(retry_app) == "changed meanwhile"


def test_a_request_that_committed_part_of_its_work_is_not_run_again(retry_app: Flask) -> None:
    answer = retry_app.test_client().post("/test/retry/2")
    assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "1")
    assert retry_app.config["attempts"] == [1]


def test_retries_stop_after_the_configured_attempts(retry_app: Flask) -> None:
    retry_app.config["TRANSACTION_ATTEMPTS"] = 1
    answer = retry_app.test_client().post("/test/retry/0")
    assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "1")
    assert retry_app.config["attempts"] == [1]
