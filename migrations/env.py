"""Alembic environment: the WMS metadata, and the URL the WMS itself would use."""

from __future__ import annotations

import os
import warnings

from alembic import context

import wms.models  # noqa: F401
from wms.db import Base, make_engine

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    from logging.config import fileConfig

    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# SQLite cannot reflect expression indexes (uq_print_routes_place); PostgreSQL compares them, so nothing is lost.
warnings.filterwarnings("ignore", message="autogenerate skipping metadata-specified expression-based index")
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")


def database_url() -> str:
    x = context.get_x_argument(as_dictionary=True)
    if x.get("url"):
        return x["url"]
    if config.attributes.get("url"):
        return config.attributes["url"]
    if os.environ.get("WMS_DATABASE_URL"):
        return os.environ["WMS_DATABASE_URL"]
    from wms import create_app

    return create_app().config["DATABASE_URL"]


def _render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Render our UTCDateTime and EncryptedString as the plain timestamptz and varchar they store, so revisions do
    not import wms (a revision that must convert existing values says so by hand)."""
    from wms.crypto import EncryptedString
    from wms.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedString):
        return f"sa.String(length={obj.impl.length})" if obj.impl.length else "sa.String()"
    return False


# Tables of the schema that have no model: the SQLite bookkeeping of a deferred check (see revision 3f1c2b7a9d40).
TABLES_WITHOUT_MODEL = {"quants_out_of_balance"}


# The job engine's tables when the jobs share the app database (wms/jobs: procrastinate's own schema, not ours).
JOB_TABLE_PREFIXES = ("procrastinate_", "wms_job_failures")


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and reflected and compare_to is None and name.startswith(JOB_TABLE_PREFIXES):
        return False
    return not (type_ == "table" and reflected and compare_to is None and name in TABLES_WITHOUT_MODEL)


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch migrations rebuild tables; with foreign keys on, dropping the old table would cascade deletes.
        _sqlite_foreign_keys(connection, "OFF")
    try:
        _configure_and_run(connection)
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, "ON")


def _sqlite_foreign_keys(connection, state: str) -> None:  # type: ignore[no-untyped-def]
    """SQLite ignores this pragma inside a transaction, and every transaction of ours opens with BEGIN IMMEDIATE
    (wms.db): so outside one, straight on the driver's connection (which runs in autocommit)."""
    if connection.in_transaction():
        connection.commit()  # end SQLAlchemy's autobegun transaction so Alembic's own ones commit
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={state}")


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=True,
        render_item=_render_item,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
