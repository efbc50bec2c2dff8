"""Supervisor pages for sales channels: the list with each channel's sync at a glance, adding a channel (its API
token shown once, the webhook URL to paste into the platform), its detail (sync status and log, test connection,
import listings, resync now), its settings, and the SKU mapping with the held orders (docs/channels.md).

Supervisors see the channels of their warehouses and run the sync actions; only admins add a channel or change
its settings and credentials. Credentials are stored encrypted and never shown back: a page says "set" or "not
set", and a password field left empty keeps what is stored. A refusal shows the page again with the reason and
writes nothing."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wms.auth.setup import page_requires
from wms.catalog.models import Product
from wms.channels import services
from wms.channels.connectors import connector_class
from wms.channels.connectors.base import ConnectorConfig, ConnectorError
from wms.channels.models import PLATFORM_KINDS, ChannelConnection, ChannelListing, ChannelWarehouse
from wms.db import db
from wms.errors import DomainError, NotFound, WarehouseForbidden, from_integrity_error
from wms.layout.models import Warehouse
from wms.orders.models import Channel, ChannelKind
from wms.supervisor.views import bp, supervisor_only, visible_warehouses

log = logging.getLogger("wms.channels")

admin_only = page_requires(("admin",))
FIELD_LIMIT = 500
SECRET_LIMIT = 2000
LOG_ROWS = 50


# --- labels ------------------------------------------------------------------------------------------------------

def kind_label(kind: str | None) -> str:
    return {"prestashop": "PrestaShop", "woocommerce": "WooCommerce", "shopify": "Shopify", "mirakl": "Mirakl",
            "amazon": "Amazon", "api": _("Own shop calling the API"), "pos": _("Point of sale (till)")
            }.get(kind or "", kind or "")


def channel_kind_label(kind: ChannelKind) -> str:
    return {ChannelKind.WEB_SHOP: _("web shop"), ChannelKind.MARKETPLACE: _("marketplace"),
            ChannelKind.POS: _("point of sale")}.get(kind, str(kind))


def field_label(name: str) -> str:
    """A platform setting's name in words (the platform's own name for it is shown next to it)."""
    return {
        "webservice_key": _("Webservice key"), "consumer_key": _("Consumer key"),
        "consumer_secret": _("Consumer secret"), "webhook_secret": _("Webhook secret"),
        "app_secret": _("App client secret"), "access_token": _("Admin API access token"),
        "client_id": _("Client ID"), "api_key": _("API key"), "client_secret": _("Client secret"),
        "refresh_token": _("Refresh token"), "shop_timezone": _("Shop time zone"),
        "shipped_state": _("Order state when shipped"), "id_shop": _("Shop ID"),
        "pending_payment_states": _("Order states awaiting payment"), "open_states": _("Order states to fulfil"),
        "cancelled_states": _("Cancelled order states"), "query_string_auth": _("Keys in the query string"),
        "relay_point_meta_key": _("Relay point meta key"), "tracking_providers": _("Tracking providers"),
        "relay_point_attributes": _("Relay point note attributes"),
        "relay_point_rules": _("Relay point address rules"),
        "location_id": _("Location ID"), "shop_id": _("Shop ID"), "carrier_codes": _("Carrier codes"),
        "import_wait_s": _("Import wait (seconds)"), "pacing_scale": _("Pacing scale"),
        "seller_id": _("Seller ID"), "marketplace_id": _("Marketplace ID"), "lwa_url": _("LWA token URL"),
        "product_type": _("Product type"), "use_rdt": _("Use restricted data tokens"),
        "poll_interval_s": _("Poll interval (seconds)"),
    }.get(name, name)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 90:
        return _("%(n)s s", n=seconds)
    if seconds < 5400:
        return _("%(n)s min", n=seconds // 60)
    return _("%(n)s h", n=seconds // 3600)


@bp.record_once
def _channel_labels(state: Any) -> None:  # globals, so that imported macros see them too
    state.app.jinja_env.globals.update(channel_platform_label=kind_label, channel_kind_label=channel_kind_label,
                                       channel_field_label=field_label, channel_duration=duration)


# --- what a kind asks for ----------------------------------------------------------------------------------------

@dataclass
class KindFields:
    kind: str
    platform: bool
    credentials: tuple[str, ...] = ()           # required
    optional_credentials: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    webhook_secret_apart: bool = False           # a separate webhook secret may be given (not a credential)
    has_webhooks: bool = False
    needs_acceptance: bool = False


def kind_fields(kind: str) -> KindFields:
    if kind not in PLATFORM_KINDS:
        return KindFields(kind=kind, platform=False)
    cls = connector_class(kind)
    creds = tuple(cls.credential_fields)
    optional = tuple(n for n in getattr(cls, "optional_credential_fields", ()) if n not in creds)
    secret_names = set(creds) | set(optional)
    options = tuple(n for n in cls.option_fields if n not in secret_names)
    return KindFields(kind=kind, platform=True, credentials=creds, optional_credentials=optional, options=options,
                      webhook_secret_apart=cls.has_webhooks and "webhook_secret" not in secret_names,
                      has_webhooks=cls.has_webhooks, needs_acceptance=cls.needs_acceptance)


# --- scope -------------------------------------------------------------------------------------------------------

def _scope_ids() -> set[int] | None:
    ids = current_user.warehouse_ids
    return None if ids is None else set(ids)


def channel_in_scope(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise NotFound(_("No channel %(code)s.", code=code))
    ids = _scope_ids()
    if ids is not None and channel.warehouse_id not in ids:
        raise WarehouseForbidden(_("Channel %(code)s sells from a warehouse outside your scope.", code=code))
    return channel


def _is_admin() -> bool:
    return "admin" in current_user.roles


def _jobs_configured() -> bool:
    from wms.jobs import JobsNotConfigured, jobs_database_url

    try:
        return jobs_database_url() is not None
    except JobsNotConfigured:
        return False


def _jobs_problem() -> str | None:
    """Why jobs cannot be queued now, in words (None: they can): not configured, unreachable, no schema."""
    import psycopg

    from wms.jobs import admin, jobs_database_url

    if not _jobs_configured():
        return _("The job engine is not configured (no jobs database), so nothing could be queued. Set "
                 "WMS_JOBS_DATABASE_URL and run a jobs worker, or use the command line to sync now.")
    conninfo = jobs_database_url()
    assert conninfo is not None
    try:
        ready = admin.schema_state(conninfo).jobs_table
    except psycopg.Error as err:
        return _("The jobs database cannot be reached, so nothing could be queued: %(reason)s",
                 reason=str(err).strip()[:300])
    if not ready:
        return _("The jobs database has no job tables yet (wms jobs schema --apply), so nothing could be queued.")
    return None


def _webhook_url(channel: Channel) -> str:
    return url_for("api.receive_platform_webhook", channel_code=channel.code, _external=True)


# --- the list ----------------------------------------------------------------------------------------------------

@dataclass
class ChannelRow:
    channel: Channel
    warehouse: Warehouse
    connection: ChannelConnection | None
    status: services.SyncStatus


@bp.get("/channels")
@supervisor_only
def channels():  # type: ignore[no-untyped-def]
    stmt = select(Channel).order_by(Channel.code)
    ids = _scope_ids()
    if ids is not None:
        stmt = stmt.where(Channel.warehouse_id.in_(ids))
    rows = []
    for channel in db.session.scalars(stmt):
        warehouse = db.session.get(Warehouse, channel.warehouse_id)
        assert warehouse is not None
        rows.append(ChannelRow(channel, warehouse, services.connection_of(channel), services.sync_status(channel)))
    return render_template("supervisor/channels/list.html", rows=rows, can_add=_is_admin())


# --- settings forms (add and edit) -------------------------------------------------------------------------------

@dataclass
class Settings:
    """What a settings form said, read and checked; `errors` in words when it cannot be saved."""

    base_url: str = ""
    credentials: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    webhook_secret: str | None = None
    buffer_units: int = 0
    buffer_percent: int = 0
    cap_percent: int | None = None
    sells_from: list[Warehouse] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _whole(raw: str, label: str, errors: list[str], *, high: int | None = None, blank: int | None = 0) -> int | None:
    raw = raw.strip()
    if not raw:
        return blank
    if not raw.isdigit() or len(raw) > 7:
        errors.append(_("%(field)s: enter a whole number.", field=label))
        return blank
    value = int(raw)
    if high is not None and value > high:
        errors.append(_("%(field)s: between 0 and %(high)s.", field=label, high=high))
        return blank
    return value


def _option_value(raw: str) -> Any:
    """An option as typed: a JSON object or list when it looks like one (carrier codes), else the text."""
    text = raw.strip()
    if text[:1] in ("{", "["):
        return json.loads(text)
    return text


def _read_settings(fields: KindFields, warehouses: list[Warehouse], *,
                   stored: ChannelConnection | None = None) -> Settings:
    form = request.form
    out = Settings()
    out.base_url = form.get("base_url", "").strip()[:FIELD_LIMIT]
    if not out.base_url.startswith(("http://", "https://")) or len(out.base_url) < 10:
        out.errors.append(_("The platform URL must start with https:// (or http:// for a shop on this machine)."))
    kept = dict(stored.credentials) if stored is not None else {}
    for name in (*fields.credentials, *fields.optional_credentials):
        typed = form.get(f"cred_{name}", "")[:SECRET_LIMIT].strip()
        if typed:
            kept[name] = typed
    out.credentials = kept
    missing = [n for n in fields.credentials if not kept.get(n)]
    if missing:
        out.errors.append(_("Fill in the credentials %(names)s.", names=", ".join(field_label(n) for n in missing)))
    options = {k: v for k, v in ((stored.options or {}) if stored is not None else {}).items()
               if k not in fields.options}
    for name in fields.options:
        raw = form.get(f"opt_{name}", "")[:FIELD_LIMIT * 4]
        if not raw.strip():
            continue
        try:
            options[name] = _option_value(raw)
        except ValueError:
            out.errors.append(_("%(field)s: not readable JSON.", field=field_label(name)))
    out.options = options
    if fields.webhook_secret_apart:
        typed = form.get("webhook_secret", "")[:600].strip()
        out.webhook_secret = typed or None
    out.buffer_units = _whole(form.get("buffer_units", ""), _("Buffer (units)"), out.errors) or 0
    out.buffer_percent = _whole(form.get("buffer_percent", ""), _("Buffer (percent)"), out.errors, high=100) or 0
    out.cap_percent = _whole(form.get("cap_percent", ""), _("Cap (percent of on hand)"), out.errors, high=100, blank=None)
    by_code = {w.code: w for w in warehouses}
    for code in form.getlist("sells_from")[:100]:
        if code not in by_code:
            out.errors.append(_("Warehouse %(code)s is not one you may sell from.", code=code[:32]))
        else:
            out.sells_from.append(by_code[code])
    if not out.errors:  # the connector reads its settings the way the sync will: refused here, not later
        try:
            connector_class(fields.kind)(ConnectorConfig(base_url=out.base_url, credentials=dict(kept),
                                                         options=dict(options)))
        except ConnectorError as err:
            out.errors.append(_("The platform settings are not usable: %(reason)s", reason=str(err)))
        except (TypeError, ValueError) as err:
            out.errors.append(_("The platform settings are not usable: %(reason)s", reason=str(err)))
    return out


WEBHOOK_KINDS = ("api", "pos")  # kinds that hear our webhooks at a URL of their own (platforms are written back)


def _read_webhook(errors: list[str]) -> tuple[str | None, str | None]:
    """The channel's own webhook URL and secret as typed (blank: none); a bad URL is said in `errors`."""
    url = request.form.get("webhook_url", "").strip()
    secret = request.form.get("webhook_secret_own", "").strip()
    if url and (len(url) > FIELD_LIMIT or not url.startswith(("http://", "https://")) or len(url) < 10
                or any(c.isspace() for c in url)):
        errors.append(_("The webhook URL must start with https:// (or http:// for a shop on this machine)."))
    if secret and not 16 <= len(secret) <= 200:
        errors.append(_("A webhook secret is 16 to 200 characters (leave it empty and one is made for you)."))
    return url or None, secret or None


def _refusal(err: DomainError) -> str:
    reasons = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors if "field" in e)
    return f"{err.detail} {reasons}".strip()


# --- add ---------------------------------------------------------------------------------------------------------

ADD_KINDS = services.ADD_KINDS


def _add_page(kind: str | None, *, form: dict[str, Any] | None = None, errors: list[str] | None = None,
              status: int = 200):  # type: ignore[no-untyped-def]
    fields = kind_fields(kind) if kind in ADD_KINDS else None
    return render_template("supervisor/channels/new.html", kinds=ADD_KINDS, kind=kind if fields else None,
                           fields=fields, warehouses=visible_warehouses(), form=form or {},
                           sells_from=set((form or {}).get("sells_from", [])), errors=errors or []), status


@bp.get("/channels/new")
@admin_only
def channel_new():  # type: ignore[no-untyped-def]
    kind = request.args.get("kind", "").strip()
    errors = []
    if kind and kind not in ADD_KINDS:
        errors.append(_("Unknown kind %(kind)s.", kind=kind[:32]))
        kind = ""
    return _add_page(kind or None, errors=errors)


@bp.post("/channels/new")
@admin_only
def channel_create():  # type: ignore[no-untyped-def]
    kind = request.form.get("kind", "").strip()
    if kind not in ADD_KINDS:
        return _add_page(None, errors=[_("Choose what kind of channel to add.")], status=422)
    form: dict[str, Any] = {k: request.form.get(k, "").strip()[:FIELD_LIMIT] for k in (
        "code", "name", "warehouse", "base_url", "buffer_units", "buffer_percent", "cap_percent")}
    fields = kind_fields(kind)
    form.update({f"opt_{n}": request.form.get(f"opt_{n}", "")[:FIELD_LIMIT] for n in fields.options})
    form["sells_from"] = request.form.getlist("sells_from")[:100]
    errors: list[str] = []
    hook_url = hook_secret = None
    if kind in WEBHOOK_KINDS:
        form["webhook_url"] = request.form.get("webhook_url", "").strip()[:FIELD_LIMIT]
        hook_url, hook_secret = _read_webhook(errors)
    code = form["code"]
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_." for c in code):
        errors.append(_("The channel code is 1 to 32 letters, digits, dots, dashes or underscores."))
    elif db.session.scalar(select(Channel.id).where(Channel.code == code)) is not None:
        errors.append(_("A channel with code %(code)s already exists.", code=code))
    warehouses = visible_warehouses()
    warehouse = next((w for w in warehouses if w.code == form["warehouse"]), None)
    if warehouse is None:
        errors.append(_("Choose the channel's warehouse."))
    settings = _read_settings(fields, warehouses) if fields.platform else Settings()
    errors += settings.errors
    if errors:
        return _add_page(kind, form=form, errors=errors, status=422)
    assert warehouse is not None
    try:
        added = services.add_channel(
            code, form["name"] or None, kind, warehouse, base_url=settings.base_url or None,
            credentials=settings.credentials, options=settings.options, buffer_units=settings.buffer_units,
            buffer_percent=settings.buffer_percent, cap_percent=settings.cap_percent,
            warehouses=settings.sells_from if fields.platform else None, webhook_secret=settings.webhook_secret,
            created_by=current_user._get_current_object())
        made_secret = None
        if hook_url:  # our webhooks to the shop, signed with this secret (stored encrypted; a made one shown once)
            made_secret = None if hook_secret else secrets.token_urlsafe(32)
            added.channel.webhook_url, added.channel.webhook_secret = hook_url, hook_secret or made_secret
        db.session.commit()  # the token shown below must exist before anyone copies it
    except DomainError as err:
        db.session.rollback()
        return _add_page(kind, form=form, errors=[_refusal(err)], status=err.status)
    except IntegrityError as exc:  # another admin saved the same code a moment ago
        db.session.rollback()
        err = from_integrity_error(exc)
        return _add_page(kind, form=form, errors=[_refusal(err)], status=err.status)
    log.info("channel %s (%s) added by %s", added.channel.code, kind, current_user.username)
    resp = make_response(render_template(
        "supervisor/channels/created.html", channel=added.channel, token=added.token, fields=fields,
        webhook_url=_webhook_url(added.channel) if fields.has_webhooks else None,
        own_webhook_url=hook_url, own_webhook_secret=made_secret))
    resp.headers["Cache-Control"] = "no-store"  # the token is in this page only
    return resp


# --- detail ------------------------------------------------------------------------------------------------------

def _detail_page(channel: Channel, *, status: int = 200):  # type: ignore[no-untyped-def]
    conn = services.connection_of(channel)
    fields = kind_fields(conn.kind) if conn is not None else None
    sells_from = [w.code for w in db.session.scalars(
        select(Warehouse).join(ChannelWarehouse, ChannelWarehouse.warehouse_id == Warehouse.id)
        .where(ChannelWarehouse.channel_id == channel.id).order_by(Warehouse.code))]
    warehouse = db.session.get(Warehouse, channel.warehouse_id)
    return render_template(
        "supervisor/channels/detail.html", channel=channel, warehouse=warehouse, conn=conn, fields=fields,
        status=services.sync_status(channel), logs=services.sync_log(channel, limit=LOG_ROWS),
        sells_from=sells_from or ([warehouse.code] if warehouse else []),
        webhook_url=_webhook_url(channel) if fields and fields.has_webhooks else None,
        can_edit=_is_admin(), jobs_configured=_jobs_configured(),
        tokens=_channel_tokens(channel) if _is_admin() else []), status


def _channel_tokens(channel: Channel) -> list[Any]:
    """The channel's live API tokens (names and prefixes only: a secret is never kept)."""
    from wms.auth.models import ApiToken

    return list(db.session.scalars(select(ApiToken).where(ApiToken.channel_id == channel.id,
                                                          ApiToken.revoked_at.is_(None)).order_by(ApiToken.id)))


@bp.get("/channels/<channel_code>")
@supervisor_only
def channel_detail(channel_code: str):  # type: ignore[no-untyped-def]
    return _detail_page(channel_in_scope(channel_code))


def _connected(channel: Channel) -> ChannelConnection | None:
    conn = services.connection_of(channel)
    if conn is None:
        flash(_("Channel %(code)s is not connected to a platform: it calls the API itself.", code=channel.code),
              "error")
    return conn


def _back(channel: Channel) -> Response:
    return redirect(url_for("supervisor.channel_detail", channel_code=channel.code))


def _platform_error(err: Exception) -> str:
    text = str(err)
    status = getattr(err, "status", None)
    return f"{text} (HTTP {status})" if status else text


@bp.post("/channels/<channel_code>/test")
@supervisor_only
def channel_test(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    if _connected(channel) is None:
        return _back(channel)
    try:
        answer = services.test_connection(channel)
    except ConnectorError as err:
        flash(_("The connection failed: %(reason)s", reason=_platform_error(err)), "error")
    else:
        flash(_("Connected. The platform answered: %(answer)s", answer=answer), "success")
    return _back(channel)


@bp.post("/channels/<channel_code>/import")
@supervisor_only
def channel_import(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    if _connected(channel) is None:
        return _back(channel)
    try:
        report = services.import_listings(channel)
    except ConnectorError as err:
        flash(_("The listings could not be read: %(reason)s", reason=_platform_error(err)), "error")
        return _back(channel)
    flash(_("Listings read: %(seen)s (new %(new)s). Mapped to our SKUs: %(mapped)s; unmapped: %(unmapped)s.",
            seen=report.seen, new=report.created, mapped=report.mapped, unmapped=report.unmapped), "success")
    return redirect(url_for("supervisor.channel_mapping", channel_code=channel.code))


@bp.post("/channels/<channel_code>/resync")
@supervisor_only
def channel_resync(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    if _connected(channel) is None:
        return _back(channel)
    problem = _jobs_problem()
    if problem:
        flash(problem, "error")
        return _back(channel)
    services.request_resync(channel)
    flash(_("Resync queued: a pull of orders, a full stock reconciliation and every fulfilment not yet written "
            "back. The sync log shows them as the jobs run."), "success")
    return _back(channel)


# --- edit --------------------------------------------------------------------------------------------------------

def _edit_page(channel: Channel, *, form: dict[str, Any] | None = None, errors: list[str] | None = None,
               status: int = 200, made_secret: str | None = None):  # type: ignore[no-untyped-def]
    conn = services.connection_of(channel)
    fields = kind_fields(conn.kind) if conn is not None else None
    if form is None:
        form = {"name": channel.name, "webhook_url": channel.webhook_url or ""}
        if conn is not None:
            form.update(base_url=conn.base_url, buffer_units=str(conn.buffer_units),
                        buffer_percent=str(conn.buffer_percent),
                        cap_percent="" if conn.cap_percent is None else str(conn.cap_percent))
            for name in fields.options if fields else ():
                value = (conn.options or {}).get(name)
                form[f"opt_{name}"] = "" if value is None else (
                    json.dumps(value) if isinstance(value, dict | list) else str(value))
            form["sells_from"] = [w.code for w in db.session.scalars(
                select(Warehouse).join(ChannelWarehouse, ChannelWarehouse.warehouse_id == Warehouse.id)
                .where(ChannelWarehouse.channel_id == channel.id))]
    stored = set(conn.credentials) if conn is not None else set()
    if conn is not None and conn.webhook_secret:
        stored.add("webhook_secret")
    resp = make_response(render_template(
        "supervisor/channels/edit.html", channel=channel, conn=conn, fields=fields, form=form, stored=stored,
        can_edit=True, warehouses=visible_warehouses(), sells_from=set(form.get("sells_from", [])),
        errors=errors or [], own_webhook=conn is None, own_secret_set=bool(channel.webhook_secret),
        made_secret=made_secret), status)
    if made_secret:
        resp.headers["Cache-Control"] = "no-store"  # the new webhook secret is in this page only
    return resp


@bp.get("/channels/<channel_code>/edit")
@admin_only
def channel_edit(channel_code: str):  # type: ignore[no-untyped-def]
    return _edit_page(channel_in_scope(channel_code))


@bp.post("/channels/<channel_code>/edit")
@admin_only
def channel_update(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    conn = services.connection_of(channel)
    form: dict[str, Any] = {k: request.form.get(k, "").strip()[:FIELD_LIMIT] for k in (
        "name", "base_url", "buffer_units", "buffer_percent", "cap_percent")}
    fields = kind_fields(conn.kind) if conn is not None else None
    for name in fields.options if fields else ():
        form[f"opt_{name}"] = request.form.get(f"opt_{name}", "")[:FIELD_LIMIT]
    form["sells_from"] = request.form.getlist("sells_from")[:100]
    errors: list[str] = []
    if not form["name"]:
        errors.append(_("Give the channel a name."))
    hook_url = hook_secret = None
    if conn is None:
        form["webhook_url"] = request.form.get("webhook_url", "").strip()[:FIELD_LIMIT]
        hook_url, hook_secret = _read_webhook(errors)
    settings = _read_settings(fields, visible_warehouses(), stored=conn) if conn is not None and fields else None
    if settings is not None:
        errors += settings.errors
    if errors:
        return _edit_page(channel, form=form, errors=errors, status=422)
    channel.name = form["name"][:120]
    made_secret = None
    if conn is None:
        channel.webhook_url = hook_url
        if hook_url is None:
            channel.webhook_secret = None
        elif hook_secret:
            channel.webhook_secret = hook_secret
        elif not channel.webhook_secret or request.form.get("new_webhook_secret") == "1":
            made_secret = channel.webhook_secret = secrets.token_urlsafe(32)
    if conn is not None and settings is not None:
        try:
            services.connect_channel(channel, conn.kind, settings.base_url, settings.credentials, settings.options,
                                     buffer_units=settings.buffer_units, buffer_percent=settings.buffer_percent,
                                     cap_percent=settings.cap_percent, warehouses=settings.sells_from,
                                     webhook_secret=settings.webhook_secret)
        except DomainError as err:
            db.session.rollback()
            return _edit_page(channel, form=form, errors=[_refusal(err)], status=err.status)
    log.info("channel %s settings changed by %s", channel.code, current_user.username)
    if made_secret:  # shown on this page only: never in a flash (the session cookie) nor on a later page
        db.session.commit()
        return _edit_page(channel, made_secret=made_secret)
    flash(_("Settings of %(code)s saved.", code=channel.code), "success")
    return _back(channel)


# --- connect a platform, deactivate, reactivate --------------------------------------------------------------------

def _connect_page(channel: Channel, kind: str | None, *, form: dict[str, Any] | None = None,
                  errors: list[str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    fields = kind_fields(kind) if kind in PLATFORM_KINDS else None
    return render_template("supervisor/channels/connect.html", channel=channel, kinds=PLATFORM_KINDS,
                           kind=kind if fields else None, fields=fields, form=form or {},
                           conn=services.connection_of(channel), warehouses=visible_warehouses(),
                           sells_from=set((form or {}).get("sells_from", [])), errors=errors or [],
                           can_edit=True), status


@bp.get("/channels/<channel_code>/connect")
@admin_only
def channel_connect_form(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    kind = request.args.get("kind", "").strip()
    if kind and kind not in PLATFORM_KINDS:
        return _connect_page(channel, None, errors=[_("Unknown kind %(kind)s.", kind=kind[:32])])
    form = None
    if kind:
        warehouse = db.session.get(Warehouse, channel.warehouse_id)
        form = {"sells_from": [warehouse.code] if warehouse else []}
    return _connect_page(channel, kind or None, form=form)


@bp.post("/channels/<channel_code>/connect")
@admin_only
def channel_connect(channel_code: str):  # type: ignore[no-untyped-def]
    """Connect the channel to a platform (or to another one): its earlier connection, if any, is replaced."""
    channel = channel_in_scope(channel_code)
    kind = request.form.get("kind", "").strip()
    if channel.kind == ChannelKind.POS:
        return _connect_page(channel, None, errors=[_("A point of sale records its sales through the API: it is "
                                                      "not connected to a platform.")], status=422)
    if kind not in PLATFORM_KINDS:
        return _connect_page(channel, None, errors=[_("Choose the platform to connect to.")], status=422)
    fields = kind_fields(kind)
    form: dict[str, Any] = {k: request.form.get(k, "").strip()[:FIELD_LIMIT] for k in (
        "base_url", "buffer_units", "buffer_percent", "cap_percent")}
    form.update({f"opt_{n}": request.form.get(f"opt_{n}", "")[:FIELD_LIMIT] for n in fields.options})
    form["sells_from"] = request.form.getlist("sells_from")[:100]
    conn = services.connection_of(channel)
    same = conn if conn is not None and conn.kind == kind else None  # the same platform keeps stored secrets
    settings = _read_settings(fields, visible_warehouses(), stored=same)
    if settings.errors:
        return _connect_page(channel, kind, form=form, errors=settings.errors, status=422)
    try:
        services.connect_channel(channel, kind, settings.base_url, settings.credentials, settings.options,
                                 buffer_units=settings.buffer_units, buffer_percent=settings.buffer_percent,
                                 cap_percent=settings.cap_percent, warehouses=settings.sells_from or None,
                                 webhook_secret=settings.webhook_secret)
    except DomainError as err:
        db.session.rollback()
        return _connect_page(channel, kind, form=form, errors=[_refusal(err)], status=err.status)
    log.info("channel %s connected to %s by %s", channel.code, kind, current_user.username)
    flash(_("%(code)s is connected to %(platform)s. Test the connection, then import the listings.",
            code=channel.code, platform=kind_label(kind)), "success")
    return _back(channel)


@bp.post("/channels/<channel_code>/deactivate")
@admin_only
def channel_deactivate(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    channel.active = False
    log.info("channel %s deactivated by %s", channel.code, current_user.username)
    flash(_("%(code)s is deactivated: its orders are refused, nothing is synced and no webhook is sent. Its "
            "tokens stay as they are.", code=channel.code), "success")
    return _back(channel)


@bp.post("/channels/<channel_code>/reactivate")
@admin_only
def channel_reactivate(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    channel.active = True
    log.info("channel %s reactivated by %s", channel.code, current_user.username)
    flash(_("%(code)s is active again.", code=channel.code), "success")
    return _back(channel)


# --- mapping and held orders -------------------------------------------------------------------------------------

def _mapping_page(channel: Channel, *, error: str | None = None, form: dict[str, str] | None = None,
                  status: int = 200):  # type: ignore[no-untyped-def]
    only_unmapped = request.args.get("unmapped") == "1"
    rows = services.unmapped_listings(channel) if only_unmapped else services.listings(channel)
    wanted = {r.product_id for r in rows if r.product_id}
    skus = dict(db.session.execute(select(Product.id, Product.sku).where(Product.id.in_(wanted))).all()) \
        if wanted else {}
    held = services.held_orders(channel)
    return render_template("supervisor/channels/mapping.html", channel=channel, listings=rows, skus=skus,
                           held=held, payloads={h.id: json.dumps(h.payload, indent=2, sort_keys=True,
                                                                 ensure_ascii=False, default=str) for h in held},
                           only_unmapped=only_unmapped, error=error, form=form or {}, can_edit=_is_admin(),
                           connected=services.connection_of(channel) is not None), status


@bp.get("/channels/<channel_code>/mapping")
@supervisor_only
def channel_mapping(channel_code: str):  # type: ignore[no-untyped-def]
    return _mapping_page(channel_in_scope(channel_code))


@bp.post("/channels/<channel_code>/mapping")
@supervisor_only
def channel_map(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    item_key = request.form.get("item_key", "")[:200]
    sku = request.form.get("sku", "").strip()[:100]
    clear = request.form.get("action") == "clear"
    form = {"item_key": item_key, "sku": sku}
    listing = db.session.scalar(select(ChannelListing).where(ChannelListing.channel_id == channel.id,
                                                             ChannelListing.item_key == item_key))
    if listing is None:
        return _mapping_page(channel, error=_("Channel %(code)s has no listing %(key)s (import the listings first).",
                                              code=channel.code, key=item_key), form=form, status=404)
    if not clear and not sku:
        return _mapping_page(channel, error=_("Enter our SKU for listing %(key)s, or clear its mapping.",
                                              key=item_key), form=form, status=422)
    if not clear and db.session.scalar(select(Product.id).where(Product.sku == sku)) is None:
        return _mapping_page(channel, error=_("Unknown SKU %(sku)s: nothing was changed.", sku=sku), form=form,
                             status=422)
    try:
        services.set_mapping(channel, item_key, None if clear else sku)
    except DomainError as err:
        db.session.rollback()
        return _mapping_page(channel, error=_refusal(err), form=form, status=err.status)
    if clear:
        flash(_("Listing %(key)s is no longer mapped.", key=item_key), "success")
    else:
        flash(_("Listing %(key)s mapped to %(sku)s; its stock is pushed shortly.", key=item_key, sku=sku), "success")
    args = {"unmapped": "1"} if request.args.get("unmapped") == "1" else {}
    return redirect(url_for("supervisor.channel_mapping", channel_code=channel.code, **args))


@bp.post("/channels/<channel_code>/held-orders/retry")
@supervisor_only
def channel_retry_held(channel_code: str):  # type: ignore[no-untyped-def]
    channel = channel_in_scope(channel_code)
    if _connected(channel) is None:
        return _back(channel)
    try:
        taken = services.retry_held_orders(channel)
    except ConnectorError as err:
        flash(_("The held orders could not be retried: %(reason)s", reason=_platform_error(err)), "error")
    else:
        left = len(services.held_orders(channel))
        flash(_("Held orders taken in: %(taken)s; still held: %(left)s.", taken=taken, left=left),
              "success" if not left else "warning")
    return redirect(url_for("supervisor.channel_mapping", channel_code=channel.code))
