"""`wms channels list|show|log`: the channels and where their sync stands, as text or JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

import click
from flask.cli import with_appcontext

from wms.channels.cli.common import channel_by_code, echo_json, kind_of, lag, log_doc, log_line, when
from wms.channels.cli.connect import webhook_url
from wms.channels.connectors import connector_class


@click.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_(as_json: bool) -> None:
    """Every channel: code, kind, warehouse, platform, last pull and push (UTC), push lag, unmapped listings,
    held orders."""
    from sqlalchemy import select

    from wms.channels import services
    from wms.db import db
    from wms.orders.models import Channel

    rows = []
    for channel in db.session.scalars(select(Channel).order_by(Channel.code)):
        conn = services.connection_of(channel)
        st = services.sync_status(channel)
        rows.append({"code": channel.code, "kind": kind_of(channel, conn), "warehouse": channel.warehouse.code,
                     "active": channel.active, "platform": conn.base_url if conn else None,
                     "last_pull_at": st.last_pull_at, "last_push_at": st.last_push_at,
                     "lag_seconds": st.lag_seconds, "unmapped_listings": st.unmapped_listings,
                     "held_orders": st.held_orders, "consecutive_failures": st.consecutive_failures})
    if as_json:
        echo_json(rows)
        return
    click.echo("\t".join(("code", "kind", "warehouse", "platform", "last pull", "last push", "lag", "unmapped",
                          "held")))
    for r in rows:
        connected = r["platform"] is not None
        click.echo("\t".join([
            r["code"], r["kind"], r["warehouse"], r["platform"] or "-",
            when(r["last_pull_at"]) if connected else "-", when(r["last_push_at"]) if connected else "-",
            lag(r["lag_seconds"]) if connected else "-", str(r["unmapped_listings"]) if connected else "-",
            str(r["held_orders"]) if connected else "-"]))
    if not rows:
        click.echo("(no channels: wms channels add CODE --kind ... --warehouse WH)")


@click.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(code: str, as_json: bool) -> None:
    """A channel's settings (credential names only, never their values) and where its sync stands (times in
    UTC)."""
    from sqlalchemy import select

    from wms.channels import services
    from wms.channels.models import ChannelWarehouse
    from wms.db import db

    channel = channel_by_code(code)
    conn = services.connection_of(channel)
    st = services.sync_status(channel)
    doc: dict[str, Any] = {"code": channel.code, "name": channel.name, "kind": kind_of(channel, conn),
                           "warehouse": channel.warehouse.code, "active": channel.active}
    if conn is not None:
        sells = [w.warehouse.code for w in db.session.scalars(
            select(ChannelWarehouse).where(ChannelWarehouse.channel_id == channel.id))] or [channel.warehouse.code]
        doc.update(platform=conn.base_url, credentials=sorted(conn.credentials),
                   webhook_secret_set=bool(conn.webhook_secret or conn.credentials.get("webhook_secret")),
                   options=dict(conn.options or {}),
                   buffer_units=conn.buffer_units, buffer_percent=conn.buffer_percent,
                   cap_percent=conn.cap_percent, sells_from=sells, orders_enabled=conn.orders_enabled,
                   stock_enabled=conn.stock_enabled, fulfilments_enabled=conn.fulfilments_enabled,
                   webhook_url=webhook_url(channel.code) if connector_class(conn.kind).has_webhooks else None,
                   webhook_path=f"/api/v1/channels/{channel.code}/platform-webhooks"
                   if connector_class(conn.kind).has_webhooks else None)
    status = {k: v for k, v in dataclasses.asdict(st).items() if k != "recent_logs"}
    status["recent_logs"] = [log_doc(r) for r in st.recent_logs]
    doc["sync"] = status
    if as_json:
        echo_json(doc)
        return
    for key, value in doc.items():
        if key == "credentials":
            click.echo(f"credentials: {', '.join(value) or '-'} (values never shown)")
        elif key != "sync":
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            click.echo(f"{key}: {'-' if shown in (None, '', {}) else shown}")
    if not st.connected:
        click.echo("sync: not connected to a platform (it uses /api/v1 with its token)")
        return
    for key, value in status.items():
        if key not in ("recent_logs", "connected", "kind"):
            shown = when(value) if key.endswith("_at") or key == "order_checkpoint" else (
                lag(value) if key == "lag_seconds" else value)
            click.echo(f"{key}: {shown if shown is not None else '-'}")
    click.echo("recent runs:")
    for row in st.recent_logs:
        click.echo("  " + log_line(row))


@click.command("log")
@click.argument("code")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def log(code: str, limit: int, as_json: bool) -> None:
    """The channel's sync runs, newest first: id, start (UTC), direction, outcome, counts, notes and errors."""
    from wms.channels import services

    rows = services.sync_log(channel_by_code(code), limit=limit)
    if as_json:
        echo_json([log_doc(r) for r in rows])
        return
    for row in rows:
        click.echo(log_line(row))
    if not rows:
        click.echo("(no sync runs yet)")
