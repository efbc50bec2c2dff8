"""Shared fixtures: a migrated PostgreSQL database, the app and its clients, factories."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import exists, literal, select, text

from tests import pg
from wms import create_app
from wms.db import Base, db

pytest_plugins = ["tests.factories"]


class HttpsClient(FlaskClient):
    """Talk to the app over https://localhost, as production does (Secure cookies are sent back)."""

    def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("base_url", "https://localhost")
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    if pg.reachable(pg.ADMIN_URL):
        yield pg.ADMIN_URL
        return
    cluster = pg.ThrowawayCluster()
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database for this test session, built by the real Alembic migrations, with the job engine's schema
    (the test apps defer their jobs into their own database: a commit that defers after it must find the tables)."""
    from alembic import command

    from wms.dbcli import alembic_config
    from wms.jobs import admin

    name = f"wms_test_{os.getpid()}"
    url = pg.create_database(pg_admin_url, name)
    command.upgrade(alembic_config(url), "head")
    admin.apply_schema(url.replace("postgresql+psycopg://", "postgresql://", 1))
    yield url
    pg.drop_database(pg_admin_url, name)


# The job engine's tables (procrastinate's and wms_job_failures): not models, but in the same test database.
JOB_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers",
              "wms_job_failures")


def _truncate_all(app: Flask) -> None:
    """Empty every table a test wrote to and restart every id sequence, so the next test starts from nothing.

    One probe query tells which tables hold rows; only those are emptied. The id sequences of all tables are
    restarted in one statement (a rolled-back insert also moves a sequence). The jobs a test deferred go too."""
    engine = db.engine(app)
    if engine.dialect.name == "postgresql":
        _truncate_jobs(engine)
    tables = Base.metadata.sorted_tables
    probe = select(*[exists(select(literal(1)).select_from(t)).label(t.name) for t in tables])
    with engine.begin() as conn:
        filled = [name for name, has_rows in conn.execute(probe).one()._mapping.items() if has_rows]
        if filled and conn.scalar(text("SELECT current_setting('is_superuser')")) == "on":
            # DELETE with triggers off (foreign keys and the ledger's append-only guard are triggers): a few
            # milliseconds for test-sized tables, where TRUNCATE ... CASCADE rewrites every referencing table.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for name in filled:
                conn.execute(text(f'DELETE FROM "{name}"'))
        elif filled:  # a role that may not turn triggers off: the slow way
            conn.execute(text("TRUNCATE " + ", ".join(f'"{name}"' for name in filled) + " CASCADE"))
        serial = [t.name for t in tables if "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement]
        values = ", ".join(f"('{name}')" for name in serial)
        conn.execute(text(
            f"SELECT setval(seq, 1, false) FROM (SELECT pg_get_serial_sequence(t, 'id') AS seq FROM (VALUES {values})"
            " AS v(t)) AS s WHERE seq IS NOT NULL"))


def _truncate_jobs(engine) -> None:  # type: ignore[no-untyped-def]
    """Empty the job tables when any holds a row (most tests defer nothing)."""
    probe = " OR ".join(f"EXISTS (SELECT 1 FROM {name})" for name in JOB_TABLES)
    with engine.begin() as conn:
        if conn.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")) and conn.scalar(
                text(f"SELECT {probe}")):
            conn.execute(text("TRUNCATE " + ", ".join(JOB_TABLES) + " RESTART IDENTITY CASCADE"))


def make_test_app(database_url: str, **overrides: object) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = HttpsClient
    return app


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url)
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator:
    """The request-style session inside an app context, for calling services directly."""
    with app.app_context():
        yield db.session
