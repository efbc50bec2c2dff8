"""`wms channels test|sync|import|map|held`: talk to the platform now, fix the SKU mapping, take held orders
in."""

from __future__ import annotations

import dataclasses

import click
from flask.cli import with_appcontext

from wms.channels.cli.common import channel_by_code, echo_json, refused, sync_pass, when


@click.command("test")
@click.argument("code")
@with_appcontext
def test(code: str) -> None:
    """One authenticated call to the channel's platform; exit 1 when it is refused or unreachable."""
    from wms.channels import services

    channel = channel_by_code(code)
    with sync_pass("connection test", code):
        answer = services.test_connection(channel)
    click.echo(f"connection test of {code}: OK ({answer})")


@click.command("sync")
@click.argument("code")
@click.option("--orders", is_flag=True, help="Pull orders (and retry held ones).")
@click.option("--stock", is_flag=True, help="Push the stock of changed listings.")
@click.option("--fulfilments", is_flag=True, help="Write back every unsent fulfilment.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@with_appcontext
def sync(ctx: click.Context, code: str, orders: bool, stock: bool, fulfilments: bool, as_json: bool) -> None:
    """Run one pass now, here, of each part asked (none asked: all) and print what it did; exit 1 when a part
    failed (the others still ran)."""
    from wms.channels import services

    channel = channel_by_code(code)
    every = not (orders or stock or fulfilments)
    asked = {"orders": orders or every, "stock": stock or every, "fulfilments": fulfilments or every}
    with sync_pass("sync", code):
        conn = services.require_connection(channel)
        report = services.sync_now(channel, **asked)
    enabled = {"orders": conn.orders_enabled, "stock": conn.stock_enabled, "fulfilments": conn.fulfilments_enabled}
    ran = [part for part in asked if asked[part] and enabled[part]]
    if as_json:
        echo_json({**dataclasses.asdict(report), "ok": report.ok, "parts": ran,
                    "disabled": [p for p in asked if asked[p] and not enabled[p]]})
    else:
        for line in report.lines():
            part = line.split(":", 1)[0]
            if part in ran or part not in asked:
                click.echo(line)
        for part in asked:
            if asked[part] and not enabled[part]:
                click.echo(f"{part}: not synced, turned off for this channel")
    ctx.exit(0 if report.ok else 1)


@click.command("map")
@click.argument("code")
@click.argument("item_key")
@click.argument("sku", required=False)
@click.option("--unmap", is_flag=True, help="Remove the listing's mapping instead.")
@with_appcontext
def map_(code: str, item_key: str, sku: str | None, unmap: bool) -> None:
    """Map listing ITEM_KEY of the channel to our SKU (its stock is pushed), or --unmap it."""
    from wms.channels import services
    from wms.db import db
    from wms.errors import DomainError

    if bool(sku) == unmap:
        raise click.UsageError("give either a SKU or --unmap")
    channel = channel_by_code(code)
    try:
        services.set_mapping(channel, item_key, None if unmap else sku)
    except DomainError as err:
        raise refused(err) from None
    db.session.commit()
    click.echo(f"listing {item_key} of {code}: " + ("unmapped" if unmap else f"mapped to {sku}"))
    held = len(services.held_orders(channel))
    if held and not unmap:
        click.echo(f"{held} held order(s) wait: `wms channels held {code} --retry` takes them in")


@click.command("import")
@click.argument("code")
@with_appcontext
def import_(code: str) -> None:
    """Read every listing of the platform; new ones are mapped by SKU; lists those left unmapped."""
    from wms.channels import services

    channel = channel_by_code(code)
    with sync_pass("listing import", code):
        report = services.import_listings(channel)
    for line in report.lines():
        click.echo(line)
    for listing in services.unmapped_listings(channel):
        click.echo(f"  unmapped: {listing.item_key}\t{listing.channel_sku or '-'}\t{listing.title or '-'}")


@click.command("held")
@click.argument("code")
@click.option("--retry", is_flag=True, help="Try them again first (after a mapping was fixed).")
@with_appcontext
def held(code: str, retry: bool) -> None:
    """The channel's held orders (waiting for a mapping or a fix), oldest first."""
    from wms.channels import services

    channel = channel_by_code(code)
    if retry:
        with sync_pass("retrying held orders", code):
            taken = services.retry_held_orders(channel)
        click.echo(f"{taken} held order(s) taken in")
    rows = services.held_orders(channel)
    for row in rows:
        click.echo(f"{row.external_id}\t{row.reason}\t{when(row.held_at)}\tattempts {row.attempts}\t"
                   f"{(row.detail or '-').replace(chr(10), ' ')[:200]}")
    click.echo(f"{len(rows)} order(s) held")
