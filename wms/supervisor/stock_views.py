"""Supervisor pages for stock levels: below-minimum alerts, replenishment planning, purchase suggestions, min/max."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Face, ZoneKind
from wms.errors import DomainError
from wms.layout.models import Location, LocationFace, Warehouse, Zone
from wms.replenishment import services as replenishment
from wms.stock import levels_services as levels
from wms.supervisor.views import bp, supervisor_only, visible_warehouses, warehouse_in_scope
from wms.tasks.models import Task

FORM_LIMIT = 64


@bp.get("/stock-alerts")
@supervisor_only
def stock_alerts_index():  # type: ignore[no-untyped-def]
    warehouses = visible_warehouses()
    if len(warehouses) == 1:
        return redirect(url_for("supervisor.stock_alerts", code=warehouses[0].code))
    counts = {wh.id: len(levels.below_minimum(wh)) for wh in warehouses}
    return render_template("supervisor/stock/index.html", warehouses=warehouses, counts=counts)


def _task_rows(tasks: list[Task]) -> list[dict[str, Any]]:
    """Tasks with the codes and names a person reads, in a few lookups."""
    location_ids = {t.location_id for t in tasks} | {t.source_location_id for t in tasks if t.source_location_id}
    codes = dict(db.session.execute(select(Location.id, Location.code).where(Location.id.in_(location_ids))).all()) \
        if location_ids else {}
    product_ids = {t.product_id for t in tasks if t.product_id}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(product_ids)))} \
        if product_ids else {}
    user_ids = {t.assignee_id for t in tasks if t.assignee_id}
    people = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} \
        if user_ids else {}
    return [{"task": t, "lane": codes.get(t.location_id, "?"), "source": codes.get(t.source_location_id or 0),
             "product": products.get(t.product_id or 0), "assignee": people.get(t.assignee_id or 0)}
            for t in tasks]


def _dashboard(wh: Warehouse, created: set[int]) -> str:
    alerts = levels.below_minimum(wh)
    open_tasks = replenishment.list_tasks(wh, status="open")
    return render_template(
        "supervisor/stock/alerts.html", warehouse=wh, alerts=alerts, lane_alerts=[a for a in alerts if a.lane],
        warehouse_alerts=[a for a in alerts if not a.lane], tasks=_task_rows(open_tasks), created=created,
        created_rows=_task_rows([t for t in open_tasks if t.id in created]),
        suggestions=replenishment.purchase_suggestions(wh))


@bp.get("/warehouses/<code>/stock-alerts")
@supervisor_only
def stock_alerts(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    created = {int(x) for x in request.args.get("created", "").split(",")[:200] if x.isdigit() and len(x) < 10}
    return _dashboard(wh, created)


@bp.post("/warehouses/<code>/stock-alerts/plan")
@supervisor_only
def stock_alerts_plan(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    result = replenishment.plan_replenishment(wh)
    if result.created:
        flash(_("Replenishment tasks created: %(num)d.", num=len(result.created)), "success")
    else:
        flash(_("No new replenishment task: every lane under its minimum already has one, or the reserve is empty."),
              "warning")
    created = ",".join(str(t.id) for t in result.created)
    return redirect(url_for("supervisor.stock_alerts", code=wh.code, created=created or None))


# --- levels page ------------------------------------------------------------------------------------------------

def _pick_lane_codes(wh: Warehouse) -> list[str]:
    return list(db.session.scalars(
        select(Location.code).join(Zone, Zone.id == Location.zone_id)
        .join(LocationFace, (LocationFace.location_id == Location.id) & (LocationFace.face == Face.PICK))
        .where(Location.warehouse_id == wh.id, Zone.kind == ZoneKind.RACK).order_by(Location.code)))


def _levels_page(wh: Warehouse, *, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 status: int = 200):  # type: ignore[no-untyped-def]
    rows = levels.list_levels(wh)
    alerting = {a.level_id for a in levels.below_minimum(wh)}
    return render_template("supervisor/stock/levels.html", warehouse=wh, rows=rows, alerting=alerting,
                           lanes=_pick_lane_codes(wh), form=form or {}, errors=errors or {}), status


def _read_form() -> dict[str, str]:
    return {k: request.form.get(k, "").strip()[:FORM_LIMIT] for k in ("sku", "lane", "min_qty", "max_qty")}


def _whole(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 7 else None


def _form_errors(form: dict[str, str]) -> dict[str, str]:
    """Readable messages per field, before the service is asked."""
    errors = {}
    if not form["sku"]:
        errors["sku"] = _("Enter the SKU of a product.")
    low, high = _whole(form["min_qty"]), _whole(form["max_qty"])
    if low is None:
        errors["min_qty"] = _("The minimum is a whole number of units, 0 or more.")
    if high is None:
        errors["max_qty"] = _("The maximum is a whole number of units, 1 or more.")
    elif high == 0:
        errors["max_qty"] = _("The maximum must be above zero.")
    elif high > levels.MAX_UNITS:
        errors["max_qty"] = _("The maximum is at most %(limit)s units.", limit=levels.MAX_UNITS)
    if low is not None and high is not None and low > high and "max_qty" not in errors:
        errors["min_qty"] = _("The minimum (%(low)s) is above the maximum (%(high)s).", low=low, high=high)
    return errors


def _service_errors(err: DomainError, form: dict[str, str]) -> dict[str, str]:
    fields = {e.get("field") for e in err.errors}
    if "sku" in fields:
        return {"sku": _("No product has the SKU %(sku)s.", sku=form["sku"])}
    if "lane" in fields and err.status == 404:
        return {"lane": _("No location %(code)s in this warehouse.", code=form["lane"])}
    if "lane" in fields:
        return {"lane": _("Location %(code)s is not a pick lane: levels are set on flow-rack lanes.",
                          code=form["lane"])}
    return {"form": err.detail}


def _lookup_errors(wh: Warehouse, form: dict[str, str]) -> dict[str, str]:
    """The product and the lane named in the form, checked together so every mistake shows at once."""
    errors = {}
    if form["sku"] and db.session.scalar(select(Product.id).where(Product.sku == form["sku"])) is None:
        errors["sku"] = _("No product has the SKU %(sku)s.", sku=form["sku"])
    if form["lane"]:
        try:
            levels.pick_lane(wh, form["lane"])
        except DomainError as err:
            errors.update(_service_errors(err, form))
    return errors


@bp.get("/warehouses/<code>/stock-levels")
@supervisor_only
def stock_levels(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    form = {k: request.args.get(k, "").strip()[:FORM_LIMIT] for k in ("sku", "lane", "min_qty", "max_qty")}
    return _levels_page(wh, form=form)


@bp.post("/warehouses/<code>/stock-levels")
@supervisor_only
def stock_levels_set(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    form = _read_form()
    errors = {**_lookup_errors(wh, form), **_form_errors(form)}
    if errors:
        return _levels_page(wh, form=form, errors=errors, status=422)
    try:
        _level, created = levels.set_level(wh, form["sku"], min_qty=int(form["min_qty"]),
                                           max_qty=int(form["max_qty"]), lane_code=form["lane"] or None)
    except DomainError as err:
        return _levels_page(wh, form=form, errors=_service_errors(err, form), status=err.status)
    where = form["lane"] or wh.code
    if created:
        flash(_("Level of %(sku)s in %(where)s set.", sku=form["sku"], where=where), "success")
    else:
        flash(_("Level of %(sku)s in %(where)s changed.", sku=form["sku"], where=where), "success")
    return redirect(url_for("supervisor.stock_levels", code=wh.code))


@bp.post("/warehouses/<code>/stock-levels/remove")
@supervisor_only
def stock_levels_remove(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    sku, lane = request.form.get("sku", "")[:FORM_LIMIT], request.form.get("lane", "")[:FORM_LIMIT] or None
    try:
        levels.remove_level(wh, sku, lane)
    except DomainError as err:
        return _levels_page(wh, errors={"form": _("There is no such level; it may have been removed already.")},
                            status=err.status)
    flash(_("Level of %(sku)s in %(where)s removed.", sku=sku, where=lane or wh.code), "success")
    return redirect(url_for("supervisor.stock_levels", code=wh.code))
