"""`wms secrets rotate|check`: re-encrypt every stored secret with the current SECRET_KEY (docs/security.md)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from wms.crypto import app_box, count_not_current, encrypted_columns, rotate_all
from wms.db import Base, db


@click.group("secrets")
def secrets_cli() -> None:
    """Secrets stored encrypted (webhook secrets, TOTP seeds, channel and carrier credentials)."""


@secrets_cli.command("rotate")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="values re-encrypted per transaction")
@with_appcontext
def rotate(batch_size: int) -> None:
    """Re-encrypt every encrypted column with SECRET_KEY; values under OLD_SECRET_KEYS become current."""
    results = rotate_all(db.engine(current_app), Base.metadata, app_box(), batch_size,
                         progress=lambda column, n: click.echo(f"{column}: {n} re-encrypted so far", err=True))
    unreadable = 0
    for r in results:
        click.echo(f"{r.column}: {r.rotated} re-encrypted")
        if r.unreadable:
            unreadable += len(r.unreadable)
            click.echo(f"{r.column}: {len(r.unreadable)} unreadable with every configured key, left as they were "
                       f"(ids {', '.join(map(str, r.unreadable[:20]))}{' ...' if len(r.unreadable) > 20 else ''})",
                       err=True)
    if unreadable:
        raise click.ClickException(f"{unreadable} stored secrets decrypt with none of the configured keys")


@secrets_cli.command("check")
@with_appcontext
def check() -> None:
    """Fail while any stored secret still needs an old key (run before removing one from OLD_SECRET_KEYS)."""
    stale_total = 0
    for column in encrypted_columns(Base.metadata):
        total, stale = count_not_current(db.engine(current_app), column, app_box())
        stale_total += stale
        click.echo(f"{column.name}: {total} stored, {stale} not under the current key")
    if stale_total:
        raise click.ClickException(f"{stale_total} stored secrets still need an old key: run `wms secrets rotate`")
    click.echo("every stored secret is under the current key")
