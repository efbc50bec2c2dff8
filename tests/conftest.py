"""Shared fixtures: a migrated PostgreSQL database, the app and its clients, factories."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

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
    """A fresh database for this test session, built by the real Alembic migrations."""
    from alembic import command

    from wms.dbcli import alembic_config

    name = f"wms_test_{os.getpid()}"
    url = pg.create_database(pg_admin_url, name)
    command.upgrade(alembic_config(url), "head")
    yield url
    pg.drop_database(pg_admin_url, name)


def _truncate_all(app: Flask) -> None:
    engine = db.engine(app)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


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
