"""Database plumbing: declarative base with a naming convention, engine and one session per request."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from flask import Flask, g, has_app_context
from sqlalchemy import DateTime, MetaData, create_engine, event, exc
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
    # pysqlite's own transaction handling off: it would BEGIN only before the first INSERT/UPDATE/DELETE, so every
    # SELECT before it read outside the transaction (_begin_immediate says what we do instead).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def _begin_immediate(conn: Any) -> None:
    """Every SQLite transaction takes the database's write lock before its first read (docs/stock.md).

    SQLite has no row locks (FOR UPDATE is dropped), and a deferred transaction that read, then writes, either
    wrote from a stale read (lost updates: oversold stock) or fails at once with SQLITE_BUSY_SNAPSHOT when another
    writer committed meanwhile. BEGIN IMMEDIATE makes writers queue (busy_timeout) instead, each reading what the
    previous one committed. Reads queue too; in WAL mode nothing else waits for them."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# How long a SQLite transaction waits for the write lock before failing ("database is locked": a 503 with
# Retry-After). DATABASE_ENGINE_OPTIONS = {"connect_args": {"timeout": seconds}} overrides it.
SQLITE_BUSY_TIMEOUT_S = 10.0


# A pooled connection idle longer than this is pinged before use (the server may have restarted or a firewall
# dropped it meanwhile); one used more recently is not: pinging on every checkout costs a round trip per request.
PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, only for connections idle longer than PING_AFTER_IDLE_S. A dead connection is
    thrown away and the pool retries with a fresh one (DisconnectionError); one that dies within the window fails
    its request once and is invalidated by SQLAlchemy's disconnect handling."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["wms.last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("wms.last_used")
        if last is None or time.monotonic() - last < PING_AFTER_IDLE_S:
            return  # new (just connected) or recently used
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # whatever the driver raises on a dead socket
            raise exc.DisconnectionError(f"pooled connection failed its ping: {err}") from err
        if not alive:
            raise exc.DisconnectionError("pooled connection failed its ping")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings this application relies on for the given backend."""
    if url.startswith("sqlite"):
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


class Database:
    """Owns the engine and hands out one session per application context (i.e. per request)."""

    def __init__(self) -> None:
        self._factories: dict[int, sessionmaker[Session]] = {}

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"], **app.config.get("DATABASE_ENGINE_OPTIONS", {}))
        app.extensions["wms.db"] = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["wms.engine"] = engine
        from wms.crypto import SecretBox, bind_box

        box = app.extensions["wms.secret_box"] = SecretBox.from_config(app.config)
        bind_box(engine, box)  # encrypted columns work outside app contexts too (workers, CLI)
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

    def driver_connection(self) -> Any:
        """The psycopg connection under this request's session, in its transaction: for the few hot paths that
        send their statements themselves (pipelined, without the ORM's per-statement cost). PostgreSQL only."""
        return self.session.connection().connection.driver_connection

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
