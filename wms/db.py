"""Database plumbing: declarative base with a naming convention, engine and one session per request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, g, has_app_context
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings this application relies on for the given backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


class Database:
    """Owns the engine and hands out one session per application context (i.e. per request)."""

    def __init__(self) -> None:
        self._factories: dict[int, sessionmaker[Session]] = {}

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], **app.config.get("DATABASE_ENGINE_OPTIONS", {}))
        app.extensions["wms.db"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["wms.engine"] = engine
        app.teardown_appcontext(self._teardown)

    @staticmethod
    def engine(app: Flask) -> Engine:
        return app.extensions["wms.engine"]

    @property
    def session(self) -> Session:
        from flask import current_app

        if "db_session" not in g:
            g.db_session = current_app.extensions["wms.db"]()
        return g.db_session

    @staticmethod
    def has_session() -> bool:
        return has_app_context() and "db_session" in g

    @staticmethod
    def _teardown(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is None:
            return
        try:
            session.rollback()  # anything not committed at the boundary is discarded
        finally:
            session.close()


db = Database()
