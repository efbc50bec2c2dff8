"""`wms channels add` and `wms channels set`: a channel, its token and its platform connection.

Credentials come from `--credential name=value`, from one option per credential field of the connectors
(`--consumer-key`, `--api-key` ...), from the environment (`WMS_CHANNEL_<FIELD>`), or from a hidden prompt on
a terminal; they are never printed. Refused settings write nothing.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

import click
from click.core import ParameterSource
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from wms.channels.cli.common import channel_by_code, echo_json, refused
from wms.channels.connectors import KINDS, connector_class
from wms.channels.models import PLATFORM_KINDS
from wms.channels.services import ADD_KINDS


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
    func = click.option("--credentials-stdin", is_flag=True,
                        help="Read each required credential not given otherwise from stdin, one line each, in the "
                             "order the connector names them (on a terminal they are asked for anyway, hidden)."
                        )(func)
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


def _pairs(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for n, pair in enumerate(pairs, start=1):
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():  # the value is not repeated: it may be a secret
            raise click.UsageError(f"--{what} number {n}: write NAME=VALUE")
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
        if not creds.get(name) and (ctx.params.get("credentials_stdin") or sys.stdin.isatty()):
            creds[name] = click.prompt(f"{kind} {name}", hide_input=True, err=True)
    missing = [n for n in connector_class(kind).credential_fields if not creds.get(n)]
    if missing:
        raise click.ClickException(
            f"{kind} needs {', '.join(missing)}: give " + ", ".join(
                f"--{n.replace('_', '-')} or {_env(n)}" for n in missing) + " (nothing was written)")
    return creds, apart


def _named(given: Mapping[str, Any]) -> dict[str, Any]:
    """The per-field credential options by credential name (`cred_consumer_key` -> `consumer_key`)."""
    return {k.removeprefix("cred_"): v for k, v in given.items() if k.startswith("cred_")}


def _warehouses(codes: tuple[str, ...]) -> list[Any] | None:
    from wms.layout.services import get_warehouse

    return [get_warehouse(c) for c in codes] if codes else None


def webhook_url(code: str, base_url: str | None = None) -> str | None:
    """The address the platform must post its webhooks to; None when this WMS's public address is unknown."""
    base = base_url or current_app.config.get("PUBLIC_URL")
    if not base and current_app.config.get("SERVER_NAME"):
        base = f"{current_app.config.get('PREFERRED_URL_SCHEME') or 'https'}://{current_app.config['SERVER_NAME']}"
    return f"{str(base).rstrip('/')}/api/v1/channels/{code}/platform-webhooks" if base else None


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


@click.command("add")
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
        creds, apart = _credentials(ctx, kind, _named(given), credential_pairs,
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
        raise refused(err) from None
    try:
        db.session.commit()
    except IntegrityError:  # the same code added at the same moment by someone else
        db.session.rollback()
        raise click.ClickException(f"A channel with code {code!r} already exists. (nothing was written)") from None
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
        echo_json(doc)
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


@click.command("set")
@click.argument("code")
@click.option("--kind", type=click.Choice(PLATFORM_KINDS), default=None,
              help="Connect the channel to this platform (a channel of kind api, or moving platform).")
@setting_options
@credential_options
@click.pass_context
@with_appcontext
def set_(ctx: click.Context, code: str, kind: str | None, base_url: str | None, option_pairs: tuple[str, ...],
         buffer_units: int | None, buffer_percent: int | None, cap_percent: int | None,
         sells_from: tuple[str, ...], webhook_secret: str | None, credential_pairs: tuple[str, ...],
         **given: str | None) -> None:
    """Change a channel's platform URL, credentials, options, buffers or warehouses (connect_channel); what is
    not given is kept (--cap-percent -1 removes the cap). Says what changed, naming credentials, never their
    values; the WMS_CHANNEL_* environment counts as given."""
    from wms.channels import services
    from wms.db import db
    from wms.errors import DomainError

    channel = channel_by_code(code)
    conn = services.connection_of(channel)
    if conn is None and kind is None:
        raise click.ClickException(f"channel {code} is not connected to a platform: give --kind and --url "
                                   "to connect it")
    kind = kind or conn.kind
    same = conn is not None and conn.kind == kind
    before = _settings(conn) if conn is not None else {}
    creds, apart = _credentials(ctx, kind, _named(given), credential_pairs,
                                webhook_secret, current=conn.credentials if same else None)
    url = base_url or (conn.base_url if conn is not None else None)
    if not url:
        raise click.ClickException(f"{kind} needs --url, the platform's address (nothing was written)")
    cap = (conn.cap_percent if conn is not None else None) if cap_percent is None else (
        None if cap_percent == -1 else cap_percent)
    try:
        conn = services.connect_channel(
            channel, kind, url, creds, _options(kind, option_pairs, conn.options if same else None),
            buffer_units=(conn.buffer_units if conn is not None else 0) if buffer_units is None else buffer_units,
            buffer_percent=(conn.buffer_percent if conn is not None else 0) if buffer_percent is None
            else buffer_percent, cap_percent=cap, warehouses=_warehouses(sells_from), webhook_secret=apart)
    except DomainError as err:
        raise refused(err) from None
    after = _settings(conn)
    db.session.commit()
    changed = []
    for key, value in after.items():
        old = before.get(key)
        if old == value:
            continue
        if key == "credentials":
            old = old or {}
            changed.append("credentials " + ", ".join(sorted(n for n in {*value, *old} if value.get(n) != old.get(n))))
        elif key == "webhook_secret":
            changed.append("webhook secret")
        else:
            changed.append(f"{key} {'-' if old is None else old} -> {value}")
    click.echo(f"channel {code}: " + ("; ".join(changed) if changed else "nothing changed"))
    if changed:
        click.echo(f"run `wms channels test {code}` to check the connection")


def _settings(conn: Any) -> dict[str, Any]:
    """What `set` may change, to say what it changed (credentials as name -> digest: values never shown)."""
    import hashlib

    from sqlalchemy import select

    from wms.channels.models import ChannelWarehouse
    from wms.db import db

    db.session.flush()
    digest = {k: hashlib.sha256(str(v).encode()).hexdigest() for k, v in conn.credentials.items()}
    sells = sorted(w.warehouse.code for w in db.session.scalars(
        select(ChannelWarehouse).where(ChannelWarehouse.channel_id == conn.channel_id)))
    return {"kind": conn.kind, "url": conn.base_url, "credentials": digest,
            "webhook_secret": bool(conn.webhook_secret) and hashlib.sha256(conn.webhook_secret.encode()).hexdigest(),
            "options": dict(conn.options or {}), "buffer_units": conn.buffer_units,
            "buffer_percent": conn.buffer_percent, "cap_percent": conn.cap_percent,
            "sells_from": ", ".join(sells) or "its own"}
