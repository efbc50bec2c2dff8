"""`wms webhooks` commands: a manual one-shot delivery, list pending events (the job worker delivers)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from wms.webhooks.dispatcher import run_once
from wms.webhooks.models import WebhookEvent


@click.group("webhooks")
def webhooks_cli() -> None:
    """Webhook deliveries to sales channels."""


@webhooks_cli.command("run")
@click.option("--once", is_flag=True, required=True,
              help="Deliver what is due now, then exit (the job worker delivers continuously: wms jobs worker).")
@with_appcontext
def run(once: bool) -> None:
    """Deliver what is due now, once, by hand. Continuous delivery is the job worker's (`wms jobs worker`)."""
    delivered, failed = run_once(current_app.extensions["wms.db"])
    click.echo(f"webhooks: {delivered} delivered, {failed} failed (will retry)")


@webhooks_cli.command("pending")
@with_appcontext
def pending() -> None:
    """Count undelivered events per channel."""
    factory = current_app.extensions["wms.db"]
    with factory() as session:
        rows = session.execute(select(WebhookEvent.channel_id, func.count()).where(
            WebhookEvent.delivered_at.is_(None)).group_by(WebhookEvent.channel_id)).all()
    for channel_id, count in rows:
        click.echo(f"channel {channel_id}: {count} pending")
    if not rows:
        click.echo("nothing pending")
