"""The connection pool on PostgreSQL: a connection killed while idle in the pool is replaced before a request uses
it; a connection used moments ago is not pinged (a round trip saved on every request)."""

from __future__ import annotations

import importlib
from typing import Any

import psycopg
import pytest
from sqlalchemy import text

from tests.conftest import make_test_app
from wms.db import db

dbmod = importlib.import_module("wms.db")  # the module (the package's `db` attribute is the Database object)


def _backend_pid(app: Any) -> int:
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.rollback()
    return int(pid)


def _count_pings(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    dialect = db.engine(app).dialect
    real = dialect.do_ping

    def counted(conn: Any) -> bool:
        pings.append(1)
        return real(conn)

    monkeypatch.setattr(dialect, "do_ping", counted)
    return pings


def test_a_pooled_connection_killed_while_idle_is_replaced_before_use(database_url: str, pg_admin_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    try:
        pings = _count_pings(app, monkeypatch)
        first = _backend_pid(app)
        assert _backend_pid(app) == first and pings == []  # used moments ago: no ping, same connection
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:  # the server drops it (restart, firewall)
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
        monkeypatch.setattr(dbmod, "PING_AFTER_IDLE_S", 0.0)  # as if it had been idle for long
        second = _backend_pid(app)  # no error reaches the request: the ping failed, the pool reconnected
        assert second != first and len(pings) == 1
    finally:
        db.engine(app).dispose()


def test_an_explicit_pre_ping_is_honoured(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 1})
    try:
        pings = _count_pings(app, monkeypatch)
        for _ in range(3):
            _backend_pid(app)
        assert len(pings) == 2  # SQLAlchemy's own pre-ping, on every checkout but a new connection's first
    finally:
        db.engine(app).dispose()
