"""`wms webhooks` commands: run the delivery worker, list pending events."""

from __future__ import annotations

import signal
import time

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
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls when idle.")
@with_appcontext
def run(once: bool, interval: float) -> None:
    """Deliver due events until stopped (SIGTERM/SIGINT finish the current event first)."""
    factory = current_app.extensions["wms.db"]
    stopping = False

    def _stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stopping:
        delivered, failed = run_once(factory)
        if delivered or failed:
            click.echo(f"webhooks: {delivered} delivered, {failed} failed (will retry)")
        if once:
            break
        if not delivered:
            time.sleep(interval)


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
