"""`wms channels add|list|show|test|sync|map|import|held|log|set`: sales channels and their platforms from the
command line (docs/channels.md), on the services the pages and the jobs share (wms.channels.services).

Credentials come from `--credential name=value`, from one option per credential field of the connectors
(`--consumer-key`, `--api-key` ...), from the environment (`WMS_CHANNEL_<FIELD>`), or from a hidden prompt on
a terminal; they are never printed. Refused settings write nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click
from click.core import ParameterSource
from flask import current_app
from flask.cli import with_appcontext

from wms.channels.connectors import KINDS, connector_class
from wms.channels.models import PLATFORM_KINDS

ADD_KINDS = (*PLATFORM_KINDS, "api", "pos")


def _fields_of(kind: str) -> tuple[str, ...]:
    cls = connector_class(kind)
    return (*cls.credential_fields, *getattr(cls, "optional_credential_fields", ()))


def _credential_options() -> dict[str, tuple[str, ...]]:
    """Each credential field any connector has (but webhook_secret, an option of its own) -> the kinds using it."""
    out: dict[str, list[str]] = {}
    for kind in KINDS:
        for name in _fields_of(kind):
            if name != "webhook_secret" and kind not in out.setdefault(name, []):
                out[name].append(kind)
    return {name: tuple(kinds) for name, kinds in sorted(out.items())}


CREDENTIAL_OPTIONS = _credential_options()


def _env(name: str) -> str:
    return f"WMS_CHANNEL_{name.upper()}"


def credential_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """One option per credential field (--consumer-key ...), each also read from WMS_CHANNEL_<FIELD>."""
    for name, kinds in reversed(CREDENTIAL_OPTIONS.items()):
        func = click.option(f"--{name.replace('_', '-')}", f"cred_{name}", default=None, metavar="SECRET",
                            envvar=_env(name), show_envvar=True,
                            help=f"{name} ({', '.join(kinds)}); better in {_env(name)} or typed at the "
                                 "prompt than on the command line (shell history)")(func)
    func = click.option("--webhook-secret", default=None, metavar="SECRET", envvar=_env("webhook_secret"),
                        show_envvar=True, help="The key the platform signs its webhooks with (woocommerce: "
                                               "required; shopify: when it differs from app_secret).")(func)
    func = click.option("--credential", "credential_pairs", multiple=True, metavar="NAME=VALUE",
                        help="A credential by name (repeatable).")(func)
    return func


def setting_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """What `add` and `set` share: platform URL, options, buffers, warehouses."""
    for decorator in reversed((
        click.option("--url", "base_url", default=None, help="The platform's address (shop URL, API root)."),
        click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE",
                     help="A non-secret connector setting (repeatable); a JSON object or list for structured "
                          "values; NAME= removes it (set)."),
        click.option("--buffer-units", type=int, default=None, help="Units held back from the channel."),
        click.option("--buffer-percent", type=int, default=None, help="Percent of free stock held back."),
        click.option("--cap-percent", type=int, default=None, help="At most this share of on-hand stock."),
        click.option("--sells-from", "sells_from", multiple=True, metavar="WH",
                     help="A warehouse whose stock it sells (repeatable; default its own)."),
    )):
        func = decorator(func)
    return func


# --- helpers ---------------------------------------------------------------------------------------------------

def _refused(err: Any) -> click.ClickException:
    from wms.db import db

    db.session.rollback()
    detail = getattr(err, "detail", None) or str(err)
    fields = [f"{e['field']}: {e['message']}" for e in getattr(err, "errors", []) or []
              if e.get("message") and e["message"] not in detail]
    return click.ClickException("; ".join([detail, *fields]) + " (nothing was written)")


def _channel(code: str) -> Any:
    from sqlalchemy import select

    from wms.db import db
    from wms.orders.models import Channel

    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise click.ClickException(f"no channel {code!r} (see `wms channels list`)")
    return channel


def _pairs(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"{what} {pair.split('=')[0]!r}: write NAME=VALUE")
        out[name.strip()] = value
    return out


def _option_value(name: str, value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError as err:
            raise click.UsageError(f"option {name}: not valid JSON ({err})") from None
    return value


def _options(kind: str, pairs: tuple[str, ...], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    allowed = (*connector_class(kind).option_fields, "poll_interval_s")
    options = dict(current or {})
    for name, value in _pairs(pairs, "option").items():
        if name not in allowed:
            raise click.UsageError(f"{kind} has no option {name!r}; it has {', '.join(allowed)}")
        if value == "":
            options.pop(name, None)
        else:
            options[name] = _option_value(name, value)
    return options


def _credentials(ctx: click.Context, kind: str, given: Mapping[str, str | None], pairs: tuple[str, ...],
                 webhook_secret: str | None, current: Mapping[str, str] | None = None,
                 ) -> tuple[dict[str, str], str | None]:
    """(credentials, webhook secret kept apart) for `kind`; an explicit credential the kind does not take is
    refused, one from the environment that it does not take is ignored (one environment serves many kinds)."""
    fields = _fields_of(kind)
    creds = {k: v for k, v in (current or {}).items() if k in fields}
    for name, value in given.items():
        if value in (None, ""):
            continue
        if name in fields:
            creds[name] = value
        elif ctx.get_parameter_source(f"cred_{name}") is ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{kind} takes no credential {name}; it takes {', '.join(fields)}")
    for name, value in _pairs(pairs, "credential").items():
        if name not in fields:
            raise click.UsageError(f"{kind} takes no credential {name}; it takes {', '.join(fields)}")
        creds[name] = value
    apart = None
    if webhook_secret:
        if "webhook_secret" in fields:
            creds["webhook_secret"] = webhook_secret
        else:
            apart = webhook_secret
    for name in connector_class(kind).credential_fields:
        if not creds.get(name) and sys.stdin.isatty():
            creds[name] = click.prompt(f"{kind} {name}", hide_input=True)
    missing = [n for n in connector_class(kind).credential_fields if not creds.get(n)]
    if missing:
        raise click.ClickException(
            f"{kind} needs {', '.join(missing)}: give " + ", ".join(
                f"--{n.replace('_', '-')} or {_env(n)}" for n in missing) + " (nothing was written)")
    return creds, apart


def _warehouses(codes: tuple[str, ...]) -> list[Any] | None:
    from wms.layout.services import get_warehouse

    return [get_warehouse(c) for c in codes] if codes else None


def webhook_url(code: str, base_url: str | None = None) -> str | None:
    """The address the platform must post its webhooks to; None when this WMS's public address is unknown."""
    base = base_url or current_app.config.get("PUBLIC_URL")
    if not base and current_app.config.get("SERVER_NAME"):
        base = f"{current_app.config.get('PREFERRED_URL_SCHEME') or 'https'}://{current_app.config['SERVER_NAME']}"
    return f"{str(base).rstrip('/')}/api/v1/channels/{code}/platform-webhooks" if base else None


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


def _lag(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _echo_json(doc: Any) -> None:
    click.echo(json.dumps(_jsonable(doc), indent=2, sort_keys=False))


def _kind_of(channel: Any, conn: Any) -> str:
    from wms.orders.models import ChannelKind

    if conn is not None:
        return conn.kind
    return "pos" if channel.kind == ChannelKind.POS else "api"


def _log_doc(row: Any) -> dict[str, Any]:
    return {"id": row.id, "direction": row.direction, "started_at": row.started_at, "finished_at": row.finished_at,
            "ok": row.ok, "counts": dict(row.counts or {}), "detail": row.detail, "error": row.error,
            "retries": row.retries}


def _log_line(row: Any) -> str:
    state = "ok" if row.ok else ("running" if row.ok is None else "FAILED")
    counts = ", ".join(f"{k} {v}" for k, v in sorted((row.counts or {}).items()))
    text = f"{row.id}\t{_when(row.started_at)}\t{row.direction}\t{state}\t{counts or '-'}"
    notes = " | ".join(x for x in ((row.detail or "").replace("\n", "; "), (row.error or "").replace("\n", "; ")) if x)
    return text + (f"\t{notes[:300]}" if notes else "")


def _connect_and_import(channel: Any) -> bool:
    """Test the connection, then import the listings; False (said on stderr) when either failed."""
    from wms.channels import services
    from wms.channels.connectors.base import ConnectorError
    from wms.channels.sync.common import describe
    from wms.errors import DomainError

    try:
        answer = services.test_connection(channel)
        click.echo(f"connection test: OK ({answer})")
        report = services.import_listings(channel)
    except (ConnectorError, DomainError) as err:
        click.echo(f"connection test or listing import FAILED: {describe(err)}", err=True)
        return False
    for line in report.lines():
        click.echo(line)
    return True


# --- commands --------------------------------------------------------------------------------------------------

@click.group("channels")
def channels_cli() -> None:
    """Sales channels and their platforms: add, test, sync now, SKU mapping, held orders, sync log."""


@channels_cli.command("add")
@click.argument("code")
@click.option("--kind", required=True, type=click.Choice(ADD_KINDS),
              help="A platform, `api` (the shop calls /api/v1 itself) or `pos` (a till).")
@click.option("--warehouse", "warehouse_code", required=True, metavar="WH", help="The channel's warehouse.")
@click.option("--name", default=None, help="Display name (default: the code).")
@setting_options
@credential_options
@click.option("--base-url", "public_url", default=None, metavar="URL",
              help="This WMS's public address, for the webhook URL (default: WMS_PUBLIC_URL or SERVER_NAME).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (token included) for scripts.")
@click.pass_context
@with_appcontext
def add(ctx: click.Context, code: str, kind: str, warehouse_code: str, name: str | None, base_url: str | None,
        option_pairs: tuple[str, ...], buffer_units: int | None, buffer_percent: int | None,
        cap_percent: int | None, sells_from: tuple[str, ...], webhook_secret: str | None,
        credential_pairs: tuple[str, ...], public_url: str | None, as_json: bool, **given: str | None) -> None:
    """Add channel CODE with its API token (shown once); for a platform kind also connect it, test the
    connection and import its listings. Exit 1 when the test or the import failed: the channel is kept, fix it
    with `wms channels set CODE ...` and run `wms channels test CODE`."""
    from wms.channels import services
    from wms.db import db
    from wms.errors import DomainError
    from wms.layout.services import get_warehouse

    creds: dict[str, str] = {}
    options: dict[str, Any] = {}
    apart = None
    platform = kind in PLATFORM_KINDS
    if platform:
        creds, apart = _credentials(ctx, kind, {k[5:]: v for k, v in given.items()}, credential_pairs,
                                    webhook_secret)
        options = _options(kind, option_pairs)
        if not base_url:
            raise click.ClickException(f"{kind} needs --url, the platform's address (nothing was written)")
    elif any(v for v in (base_url, option_pairs, credential_pairs, webhook_secret, buffer_units, buffer_percent,
                         cap_percent, sells_from)) or any(
            v and ctx.get_parameter_source(k) is ParameterSource.COMMANDLINE for k, v in given.items()):
        raise click.UsageError(f"a channel of kind {kind} has no platform: no URL, credentials, options or "
                               "buffers (it reads /api/v1 with its token)")
    try:
        added = services.add_channel(
            code, name, kind, get_warehouse(warehouse_code), base_url=base_url, credentials=creds,
            options=options, buffer_units=buffer_units or 0, buffer_percent=buffer_percent or 0,
            cap_percent=cap_percent, warehouses=_warehouses(sells_from), webhook_secret=apart)
    except DomainError as err:
        raise _refused(err) from None
    db.session.commit()
    channel = added.channel
    hook = webhook_url(channel.code, public_url) if platform and connector_class(kind).has_webhooks else None
    if as_json:
        doc: dict[str, Any] = {"code": channel.code, "kind": kind, "warehouse": warehouse_code,
                               "token": added.token, "webhook_url": hook}
        ok = True
        if platform:
            from wms.channels.connectors.base import ConnectorError
            from wms.channels.sync.common import describe

            try:
                doc["connection_test"] = services.test_connection(channel)
                doc["import"] = dataclasses.asdict(services.import_listings(channel))
            except (ConnectorError, DomainError) as err:
                doc["error"], ok = describe(err), False
        _echo_json(doc)
        ctx.exit(0 if ok else 1)
    click.echo(f"channel {channel.code} ({kind}) added, warehouse {warehouse_code}")
    click.echo(f"API token (shown this once, store it now): {added.token}")
    if kind == "pos":
        click.echo(f"the till posts its sales to /api/v1/warehouses/{warehouse_code}/sales with this token")
    elif kind == "api":
        click.echo(f"the shop posts its orders to /api/v1/channels/{channel.code}/orders with this token")
    elif connector_class(kind).has_webhooks:
        path = f"/api/v1/channels/{channel.code}/platform-webhooks"
        click.echo(f"webhook URL for the platform: {hook}" if hook else
                   f"webhook URL for the platform: <this WMS's public address>{path} "
                   "(give --base-url or set WMS_PUBLIC_URL to have it in full)")
    else:
        click.echo(f"{kind} sends no webhooks: orders are polled")
    if platform and not _connect_and_import(channel):
        click.echo(f"channel {channel.code} is kept: fix it with `wms channels set {channel.code} ...`, then run "
                   f"`wms channels test {channel.code}`", err=True)
        ctx.exit(1)


@channels_cli.command("set")
@click.argument("code")
@setting_options
@credential_options
@click.pass_context
@with_appcontext
def set_(ctx: click.Context, code: str, base_url: str | None, option_pairs: tuple[str, ...],
         buffer_units: int | None, buffer_percent: int | None, cap_percent: int | None,
         sells_from: tuple[str, ...], webhook_secret: str | None, credential_pairs: tuple[str, ...],
         **given: str | None) -> None:
    """Change a connected channel's URL, credentials, options, buffers or warehouses; what is not given is kept
    (--cap-percent -1 removes the cap)."""
    from wms.channels import services
    from wms.db import db
    from wms.errors import DomainError

    channel = _channel(code)
    try:
        conn = services.require_connection(channel)
    except DomainError as err:
        raise _refused(err) from None
    creds, apart = _credentials(ctx, conn.kind, {k[5:]: v for k, v in given.items()}, credential_pairs,
                                webhook_secret, current=conn.credentials)
    cap = conn.cap_percent if cap_percent is None else (None if cap_percent == -1 else cap_percent)
    try:
        services.connect_channel(
            channel, conn.kind, base_url or conn.base_url, creds, _options(conn.kind, option_pairs, conn.options),
            buffer_units=conn.buffer_units if buffer_units is None else buffer_units,
            buffer_percent=conn.buffer_percent if buffer_percent is None else buffer_percent,
            cap_percent=cap, warehouses=_warehouses(sells_from), webhook_secret=apart)
    except DomainError as err:
        raise _refused(err) from None
    db.session.commit()
    click.echo(f"channel {code} updated; run `wms channels test {code}` to check the connection")


@channels_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def list_(as_json: bool) -> None:
    """Every channel: code, kind, warehouse, platform, last pull and push, push lag, unmapped listings, held
    orders."""
    from sqlalchemy import select

    from wms.channels import services
    from wms.db import db
    from wms.orders.models import Channel

    rows = []
    for channel in db.session.scalars(select(Channel).order_by(Channel.code)):
        conn = services.connection_of(channel)
        st = services.sync_status(channel)
        rows.append({"code": channel.code, "kind": _kind_of(channel, conn), "warehouse": channel.warehouse.code,
                     "active": channel.active, "platform": conn.base_url if conn else None,
                     "last_pull_at": st.last_pull_at, "last_push_at": st.last_push_at,
                     "lag_seconds": st.lag_seconds, "unmapped_listings": st.unmapped_listings,
                     "held_orders": st.held_orders, "consecutive_failures": st.consecutive_failures})
    if as_json:
        _echo_json(rows)
        return
    click.echo("\t".join(("code", "kind", "warehouse", "platform", "last pull", "last push", "lag", "unmapped",
                          "held")))
    for r in rows:
        connected = r["platform"] is not None
        click.echo("\t".join([
            r["code"], r["kind"], r["warehouse"], r["platform"] or "-",
            _when(r["last_pull_at"]) if connected else "-", _when(r["last_push_at"]) if connected else "-",
            _lag(r["lag_seconds"]) if connected else "-", str(r["unmapped_listings"]) if connected else "-",
            str(r["held_orders"]) if connected else "-"]))
    if not rows:
        click.echo("(no channels: wms channels add CODE --kind ... --warehouse WH)")


@channels_cli.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def show(code: str, as_json: bool) -> None:
    """A channel's settings (credential names only, never their values) and where its sync stands."""
    from sqlalchemy import select

    from wms.channels import services
    from wms.channels.models import ChannelWarehouse
    from wms.db import db

    channel = _channel(code)
    conn = services.connection_of(channel)
    st = services.sync_status(channel)
    doc: dict[str, Any] = {"code": channel.code, "name": channel.name, "kind": _kind_of(channel, conn),
                           "warehouse": channel.warehouse.code, "active": channel.active}
    if conn is not None:
        sells = [w.warehouse.code for w in db.session.scalars(
            select(ChannelWarehouse).where(ChannelWarehouse.channel_id == channel.id))] or [channel.warehouse.code]
        doc.update(platform=conn.base_url, credentials=sorted(conn.credentials),
                   webhook_secret_set=bool(conn.webhook_secret), options=dict(conn.options or {}),
                   buffer_units=conn.buffer_units, buffer_percent=conn.buffer_percent,
                   cap_percent=conn.cap_percent, sells_from=sells, orders_enabled=conn.orders_enabled,
                   stock_enabled=conn.stock_enabled, fulfilments_enabled=conn.fulfilments_enabled,
                   webhook_url=webhook_url(channel.code) if connector_class(conn.kind).has_webhooks else None)
    status = {k: v for k, v in dataclasses.asdict(st).items() if k != "recent_logs"}
    status["recent_logs"] = [_log_doc(r) for r in st.recent_logs]
    doc["sync"] = status
    if as_json:
        _echo_json(doc)
        return
    for key, value in doc.items():
        if key != "sync":
            click.echo(f"{key}: {value if not isinstance(value, list) else ', '.join(map(str, value)) or '-'}")
    if not st.connected:
        click.echo("sync: not connected to a platform (it uses /api/v1 with its token)")
        return
    for key, value in status.items():
        if key not in ("recent_logs", "connected", "kind"):
            shown = _when(value) if key.endswith("_at") or key == "order_checkpoint" else (
                _lag(value) if key == "lag_seconds" else value)
            click.echo(f"{key}: {shown if shown is not None else '-'}")
    click.echo("recent runs:")
    for row in st.recent_logs:
        click.echo("  " + _log_line(row))


@channels_cli.command("test")
@click.argument("code")
@with_appcontext
def test(code: str) -> None:
    """One authenticated call to the channel's platform; exit 1 when it is refused or unreachable."""
    from wms.channels import services
    from wms.channels.connectors.base import ConnectorError
    from wms.channels.sync.common import describe
    from wms.errors import DomainError

    channel = _channel(code)
    try:
        answer = services.test_connection(channel)
    except DomainError as err:
        raise _refused(err) from None
    except ConnectorError as err:
        raise click.ClickException(f"connection test of {code} FAILED: {describe(err)}") from None
    click.echo(f"connection test of {code}: OK ({answer})")


@channels_cli.command("sync")
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
    from wms.channels.connectors.base import ConnectorError
    from wms.channels.sync.common import describe
    from wms.errors import DomainError

    channel = _channel(code)
    every = not (orders or stock or fulfilments)
    try:
        report = services.sync_now(channel, orders=orders or every, stock=stock or every,
                                   fulfilments=fulfilments or every)
    except DomainError as err:
        raise _refused(err) from None
    except ConnectorError as err:
        raise click.ClickException(f"sync of {code} FAILED: {describe(err)}") from None
    if as_json:
        _echo_json({**dataclasses.asdict(report), "ok": report.ok})
    else:
        for line in report.lines():
            click.echo(line)
    ctx.exit(0 if report.ok else 1)


@channels_cli.command("map")
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
    channel = _channel(code)
    try:
        services.set_mapping(channel, item_key, None if unmap else sku)
    except DomainError as err:
        raise _refused(err) from None
    db.session.commit()
    click.echo(f"listing {item_key} of {code}: " + ("unmapped" if unmap else f"mapped to {sku}"))
    held = len(services.held_orders(channel))
    if held and not unmap:
        click.echo(f"{held} held order(s) wait: `wms channels held {code} --retry` takes them in")


@channels_cli.command("import")
@click.argument("code")
@with_appcontext
def import_(code: str) -> None:
    """Read every listing of the platform; new ones are mapped by SKU; lists those left unmapped."""
    from wms.channels import services
    from wms.channels.connectors.base import ConnectorError
    from wms.channels.sync.common import describe
    from wms.errors import DomainError

    channel = _channel(code)
    try:
        report = services.import_listings(channel)
    except DomainError as err:
        raise _refused(err) from None
    except ConnectorError as err:
        raise click.ClickException(f"listing import of {code} FAILED: {describe(err)}") from None
    for line in report.lines():
        click.echo(line)
    for listing in services.unmapped_listings(channel):
        click.echo(f"  unmapped: {listing.item_key}\t{listing.channel_sku or '-'}\t{listing.title or '-'}")


@channels_cli.command("held")
@click.argument("code")
@click.option("--retry", is_flag=True, help="Try them again first (after a mapping was fixed).")
@with_appcontext
def held(code: str, retry: bool) -> None:
    """The channel's held orders (waiting for a mapping or a fix), oldest first."""
    from wms.channels import services
    from wms.channels.connectors.base import ConnectorError
    from wms.channels.sync.common import describe
    from wms.errors import DomainError

    channel = _channel(code)
    if retry:
        try:
            taken = services.retry_held_orders(channel)
        except DomainError as err:
            raise _refused(err) from None
        except ConnectorError as err:
            raise click.ClickException(f"retrying held orders of {code} FAILED: {describe(err)}") from None
        click.echo(f"{taken} held order(s) taken in")
    rows = services.held_orders(channel)
    for row in rows:
        click.echo(f"{row.external_id}\t{row.reason}\t{_when(row.held_at)}\tattempts {row.attempts}\t"
                   f"{(row.detail or '-').replace(chr(10), ' ')[:200]}")
    click.echo(f"{len(rows)} order(s) held")


@channels_cli.command("log")
@click.argument("code")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def log(code: str, limit: int, as_json: bool) -> None:
    """The channel's sync runs, newest first: id, start, direction, outcome, counts, notes and errors."""
    from wms.channels import services

    rows = services.sync_log(_channel(code), limit=limit)
    if as_json:
        _echo_json([_log_doc(r) for r in rows])
        return
    for row in rows:
        click.echo(_log_line(row))
    if not rows:
        click.echo("(no sync runs yet)")
