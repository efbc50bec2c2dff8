"""`wms db upgrade|downgrade|check`: Alembic driven with this app's database URL; `wms db purge-keys`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import with_appcontext

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    """An Alembic Config for this repository's migrations pointed at `url`."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    cfg.attributes["skip_logging"] = True
    return cfg


@click.group("db")
def db_cli() -> None:
    """Database schema (Alembic migrations)."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    """Upgrade the schema (default: to head)."""
    command.upgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
@with_appcontext
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (e.g. base)."""
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)
    click.echo(f"database at {revision}")


@db_cli.command("check")
@with_appcontext
def check() -> None:
    """Fail if the models and the migrated schema differ."""
    command.check(alembic_config(current_app.config["DATABASE_URL"]))
    click.echo("models and migrations agree")


@db_cli.command("purge-keys")
@click.option("--older-than-days", type=click.IntRange(min=2), default=30, show_default=True,
              help="keep the keys of the last N days (longer than any handheld may stay offline)")
@with_appcontext
def purge_keys(older_than_days: int) -> None:
    """Delete idempotency keys (stored answers of mutating calls) older than N days, in batches."""
    from wms.idempotency import purge

    deleted = purge(dt.timedelta(days=older_than_days),
                    progress=lambda n: click.echo(f"purge-keys: {n} deleted so far", err=True))
    click.echo(f"{deleted} idempotency keys older than {older_than_days} days deleted")
