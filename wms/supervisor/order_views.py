"""Supervisor pages for orders: the list (search, filters, paging), one order (lines, lanes, history, wave and
pick orders, shipments and tracking, webhook and channel sync log), phone orders typed in, hold/release/cancel,
and the backorders (what is missing per SKU)."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.wrappers import Response

from wms.db import db, utcnow
from wms.errors import DomainError, NotFound
from wms.layout.models import Warehouse
from wms.orders import browse, holds
from wms.orders import schemas as s
from wms.orders.models import OPEN_ORDER_STATUSES, Order, OrderStatus
from wms.orders.services import LineRequest, OrderRequest, cancel_order, create_order
from wms.supervisor.views import bp, supervisor_only, warehouse_in_scope
from wms.supervisor.wave_views import _local_input
from wms.waves import slots

SEARCH_FIELDS = ("q", "status", "carrier", "channel", "cutoff_from", "cutoff_to", "held")
ENTRY_FIELDS = ("external_id", "name", "line1", "line2", "postcode", "city", "country", "phone", "email",
                "lines", "priority", "cutoff_at", "carrier", "shipping_method")
LINE_PATTERN = re.compile(r"^\s*(\S+)\s+(\d{1,7})\s*$")


def _order_in_scope(order_id: int) -> Order:
    order = db.session.get(Order, order_id)
    ids = current_user.warehouse_ids
    if order is None or (ids is not None and order.warehouse_id not in ids):
        raise NotFound(_("No order %(id)s in your warehouses.", id=order_id))
    return order


def _active_wave(order: Order) -> str | None:
    """The code of the wave that holds the order now (its lines are in pick orders), if any."""
    from wms.waves.models import Wave, WaveOrder

    return db.session.scalar(select(Wave.code).join(WaveOrder, WaveOrder.wave_id == Wave.id)
                             .where(WaveOrder.order_id == order.id, WaveOrder.active.is_(True)))


def _search_from_args(wh: Warehouse) -> tuple[browse.OrderSearch, dict[str, str]]:
    tz = slots.warehouse_zone(wh)
    args = {k: request.args.get(k, "").strip()[:100] for k in SEARCH_FIELDS}
    if args["status"] and args["status"] not in {st.value for st in OrderStatus}:
        flash(_("Status %(status)s is unknown and is ignored.", status=args["status"]), "warning")
        args["status"] = ""
    cutoffs: dict[str, Any] = {}
    for name, label in (("cutoff_from", _("cutoff from")), ("cutoff_to", _("cutoff before"))):
        try:
            cutoffs[name] = _local_input(args[name], tz, label)
        except DomainError:
            flash(_("%(field)s is not a date and time; it is ignored.", field=label), "warning")
            args[name], cutoffs[name] = "", None
    search = browse.OrderSearch(q=args["q"], status=args["status"], carrier=args["carrier"],
                                channel=args["channel"], held=bool(args["held"]), **cutoffs)
    return search, args


@bp.get("/warehouses/<code>/orders")
@supervisor_only
def orders(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    search, args = _search_from_args(wh)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    size = request.args.get("per_page", browse.PAGE_SIZE, type=int) or browse.PAGE_SIZE
    size = min(max(size, 1), browse.MAX_PAGE_SIZE)
    if size != browse.PAGE_SIZE:
        args["per_page"] = str(size)
    found = browse.search_orders(wh, search, page, size)
    return render_template("supervisor/orders/list.html", warehouse=wh, found=found, args=args,
                           link_args={k: v for k, v in args.items() if v}, statuses=list(OrderStatus),
                           carriers=browse.carriers_of(wh), channels=browse.channels_of(wh),
                           tz=slots.warehouse_zone(wh))


@bp.get("/orders/<int:order_id>")
@supervisor_only
def order(order_id: int):  # type: ignore[no-untyped-def]
    item = _order_in_scope(order_id)
    wh = db.session.get(Warehouse, item.warehouse_id)
    detail = browse.order_detail(item)
    active_wave = _active_wave(item)
    return render_template(
        "supervisor/orders/detail.html", warehouse=wh, order=item, detail=detail, tz=slots.warehouse_zone(wh),
        can_hold=item.status in holds.HOLDABLE and active_wave is None, can_release=item.held,
        can_cancel=item.status in OPEN_ORDER_STATUSES and active_wave is None, active_wave=active_wave,
        hold_kinds=[k.value for k in holds.HoldKind])


def _act(order_id: int, action: Any, success: str) -> Response:
    """Run hold/release/cancel; a refusal is rolled back and said in words on the order page."""
    back = url_for("supervisor.order", order_id=order_id)
    item = _order_in_scope(order_id)
    try:
        message = action(item) or success
    except DomainError as err:
        db.session.rollback()
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors if "field" in e)
        flash(f"{err.detail} {reasons}".strip(), "error")
        return redirect(back, 303)
    flash(message, "success")
    return redirect(back, 303)


@bp.post("/orders/<int:order_id>/hold")
@supervisor_only
def hold_order(order_id: int) -> Response:
    def act(item: Order) -> str:
        if item.status not in holds.HOLDABLE:
            raise holds.HoldRefused(_("Order %(order)s is %(status)s: it cannot be held now.",
                                      order=item.external_id, status=item.status.value))
        wave = _active_wave(item)
        if wave is not None:
            raise holds.HoldRefused(_("Order %(order)s is planned in wave %(wave)s: cancel or re-plan that wave "
                                      "before holding the order.", order=item.external_id, wave=wave))
        reason = request.form.get("reason", "").strip()
        if not reason:
            raise holds.HoldRefused(_("Say why the order is held; nothing was changed."))
        kind = request.form.get("kind", holds.HoldKind.MANUAL.value)
        if kind not in {k.value for k in holds.HoldKind}:
            kind = holds.HoldKind.MANUAL.value
        holds.hold(item, kind, reason)
        return _("Order %(order)s is held: no wave takes it until it is released.", order=item.external_id)

    return _act(order_id, act, "")


@bp.post("/orders/<int:order_id>/release")
@supervisor_only
def release_order(order_id: int) -> Response:
    def act(item: Order) -> str:
        if item.hold_kind is None:
            raise holds.HoldRefused(_("Order %(order)s is not held.", order=item.external_id))
        if item.hold_kind == holds.HoldKind.RELAY_POINT.value:
            raise holds.HoldRefused(_("Order %(order)s waits for a relay point: choose one on the relay points "
                                      "page, which releases it.", order=item.external_id))
        holds.release(item)
        return _("Order %(order)s is released: the next wave can take it.", order=item.external_id)

    return _act(order_id, act, "")


@bp.post("/orders/<int:order_id>/cancel")
@supervisor_only
def cancel(order_id: int) -> Response:
    def act(item: Order) -> str:
        if item.status == OrderStatus.CANCELLED:
            raise holds.HoldRefused(_("Order %(order)s is already cancelled.", order=item.external_id))
        if request.form.get("confirm") != "yes":
            raise holds.HoldRefused(_("Tick the box to confirm the cancellation; nothing was changed."))
        cancel_order(item)
        return _("Order %(order)s is cancelled; its reserved units are free again.", order=item.external_id)

    return _act(order_id, act, "")


@bp.get("/warehouses/<code>/backorders")
@supervisor_only
def backorders(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    return render_template("supervisor/orders/backorders.html", warehouse=wh, rows=browse.backorders(wh))


# --- phone orders ------------------------------------------------------------------------------------------------

@bp.get("/warehouses/<code>/orders/new")
@supervisor_only
def new_order(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    return _entry_form(wh, {"country": "FR"}, [])


def _entry_form(wh: Warehouse, form: dict[str, str], problems: list[str], status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("supervisor/orders/new.html", warehouse=wh, form=form, problems=problems,
                           carriers=browse.carriers_of(wh), tz_name=str(slots.warehouse_zone(wh))), status


def _parse_lines(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    lines, problems = [], []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        found = LINE_PATTERN.match(raw)
        if found is None:
            problems.append(_("Line %(n)s (%(text)s): write a SKU and a quantity, e.g. MUG 2.", n=n,
                              text=raw.strip()[:40]))
        else:
            lines.append({"sku": found.group(1), "quantity": int(found.group(2))})
    if not lines and not problems:
        problems.append(_("Give at least one line: a SKU and a quantity, e.g. MUG 2."))
    return lines, problems


def _pydantic_problems(err: ValidationError) -> list[str]:
    names = {"name": _("name"), "line1": _("address"), "postcode": _("postcode"), "city": _("city"),
             "country": _("country (2 letters, e.g. FR)"), "external_id": _("order id"),
             "priority": _("priority"), "quantity": _("quantity"), "sku": _("SKU"), "carrier": _("carrier"),
             "email": _("e-mail"), "phone": _("phone")}
    out = []
    for e in err.errors():
        last = next((str(p) for p in reversed(e["loc"]) if isinstance(p, str)), "")
        out.append(_("%(field)s: %(problem)s", field=names.get(last, last), problem=e["msg"]))
    return out


@bp.post("/warehouses/<code>/orders")
@supervisor_only
def create_phone_order(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    tz = slots.warehouse_zone(wh)
    form = {k: request.form.get(k, "").strip()[:2000 if k == "lines" else 200] for k in ENTRY_FIELDS}
    lines, problems = _parse_lines(form["lines"])
    cutoff = None
    try:
        cutoff = _local_input(form["cutoff_at"], tz, _("cutoff"))
    except DomainError as err:
        problems.append(err.detail)
    if form["priority"] and not re.fullmatch(r"-?\d{1,3}", form["priority"]):
        problems.append(_("The priority is a whole number from -100 to 100."))
    if problems:
        return _entry_form(wh, form, problems, 422)
    ship_to = {k: form[k] or None for k in ("name", "line1", "line2", "postcode", "city", "phone", "email")}
    ship_to["country"] = form["country"].upper()
    try:
        body = s.OrderIn(external_id=form["external_id"] or f"PH-{utcnow():%y%m%d-%H%M%S}", lines=lines,
                         priority=int(form["priority"] or 0), cutoff_at=cutoff, carrier=form["carrier"] or None,
                         shipping_method=form["shipping_method"] or None, ship_to=s.ShipTo(**ship_to))
    except ValidationError as err:
        return _entry_form(wh, form, _pydantic_problems(err), 422)
    req = OrderRequest(external_id=body.external_id,
                       lines=[LineRequest(ln.sku, ln.quantity) for ln in body.lines], priority=body.priority,
                       cutoff_at=body.cutoff_at, carrier_code=body.carrier, shipping_method=body.shipping_method,
                       ship_to=body.ship_to.model_dump(exclude_none=True) if body.ship_to else {},
                       customer_email=form["email"] or None, placed_at=utcnow())
    channel = browse.phone_channel(wh)
    if db.session.scalar(select(Order.id).where(Order.channel_id == channel.id,
                                                Order.external_id == req.external_id)) is not None:
        return _entry_form(wh, form, [_("Order %(order)s already exists on the phone channel; give another "
                                        "order id.", order=req.external_id)], 409)
    try:
        result = create_order(channel, req, actor_token_id=None)
    except DomainError as err:
        db.session.rollback()
        details = [f"{e.get('field', '')}: {e.get('message', '')}" for e in err.errors]
        return _entry_form(wh, form, [err.detail, *details], err.status if 400 <= err.status < 500 else 422)
    placed = result.order
    if placed.status == OrderStatus.BACKORDERED:
        flash(_("Order %(order)s is taken; some units wait for stock (see the backorders).",
                order=placed.external_id), "warning")
    else:
        flash(_("Order %(order)s is taken and its stock is reserved.", order=placed.external_id), "success")
    return redirect(url_for("supervisor.order", order_id=placed.id), 303)

