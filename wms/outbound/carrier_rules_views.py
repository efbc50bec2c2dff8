"""Supervisor page of the carrier rules: the rules in the order they are tried, a form to add or change one,
deactivate and reactivate, and "try it": what would be chosen for an order now, and why."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from wms.db import db
from wms.errors import DomainError
from wms.layout.models import Warehouse
from wms.orders.models import Channel
from wms.outbound import carrier_choice
from wms.outbound import carrier_rules as rules
from wms.outbound import carriers_registry as registry
from wms.outbound.models import CarrierRule
from wms.supervisor.views import supervisor_only, visible_warehouses

bp = Blueprint("carrier_rules", __name__)

TEXT_FIELDS = ("name", "priority", "warehouse", "channel", "shipping_method", "countries", "min_weight_g",
               "max_weight_g", "max_side_mm", "min_value", "max_value", "before_time", "carrier", "service")


def _form_values() -> dict[str, Any]:
    data: dict[str, Any] = {f: request.form.get(f, "") for f in TEXT_FIELDS}
    data["relay"] = request.form.get("relay") == "on"
    return data


def _codes(rule: CarrierRule | None) -> dict[str, str]:
    if rule is None:
        return {"warehouse": "", "channel": ""}
    wh = db.session.get(Warehouse, rule.warehouse_id) if rule.warehouse_id else None
    ch = db.session.get(Channel, rule.channel_id) if rule.channel_id else None
    return {"warehouse": wh.code if wh else "", "channel": ch.code if ch else ""}


def _page(form: dict[str, Any] | None = None, editing: CarrierRule | None = None, status: int = 200,
          errors: list[str] | None = None) -> Any:
    ids = current_user.warehouse_ids
    shown = rules.list_rules(ids)
    tried = None
    errors = list(errors or [])
    order_ref = (request.args.get("order") or "").strip()
    if order_ref:
        try:
            order = rules.find_order(order_ref, ids)
            tried = {"order": order, "choice": carrier_choice.preview(order),
                     "stored": carrier_choice.shipping_carrier(order)}
        except DomainError as err:
            errors.append(err.detail)
    channels = list(db.session.scalars(select(Channel).order_by(Channel.code)))
    return render_template(
        "supervisor/shipping/carrier_rules.html", rules=shown, codes={r.id: _codes(r) for r in shown},
        carriers=registry.carrier_codes(), warehouses=visible_warehouses(),
        channels=[c for c in channels if ids is None or c.warehouse_id in ids],
        form=form, editing=editing, tried=tried, order_ref=order_ref, errors=errors,
    ), status


def _rule_form(rule: CarrierRule) -> dict[str, Any]:
    form: dict[str, Any] = {f: getattr(rule, f, None) for f in TEXT_FIELDS}
    form.update(_codes(rule), carrier=rule.carrier_code, relay=rule.relay, active=rule.active)
    return {k: ("" if v is None else v) for k, v in form.items()}


@bp.get("/carrier-rules")
@supervisor_only
def carrier_rules():  # type: ignore[no-untyped-def]
    return _page()


@bp.get("/carrier-rules/<int:rule_id>")
@supervisor_only
def carrier_rule(rule_id: int):  # type: ignore[no-untyped-def]
    rule = rules.get_rule(rule_id, current_user.warehouse_ids)
    return _page(form=_rule_form(rule), editing=rule)


def _refused(err: DomainError, form: dict[str, Any], editing: CarrierRule | None) -> Any:
    db.session.rollback()
    editing = db.session.get(CarrierRule, editing.id) if editing is not None else None
    return _page(form=form, editing=editing, status=err.status, errors=[err.detail])


@bp.post("/carrier-rules")
@supervisor_only
def carrier_rule_add() -> Any:
    form = _form_values()
    try:
        rule = rules.create_rule(form, current_user.warehouse_ids)
    except DomainError as err:
        return _refused(err, form, None)
    flash(_("Rule '%(name)s' added (#%(id)s).", name=rule.name, id=rule.id), "success")
    return redirect(url_for("carrier_rules.carrier_rules"))


@bp.post("/carrier-rules/<int:rule_id>")
@supervisor_only
def carrier_rule_save(rule_id: int) -> Any:
    rule = rules.get_rule(rule_id, current_user.warehouse_ids)
    form = _form_values()
    try:
        rules.update_rule(rule, form, current_user.warehouse_ids)
    except DomainError as err:
        return _refused(err, form, rule)
    flash(_("Rule '%(name)s' saved.", name=rule.name), "success")
    return redirect(url_for("carrier_rules.carrier_rules"))


@bp.post("/carrier-rules/<int:rule_id>/active")
@supervisor_only
def carrier_rule_active(rule_id: int) -> Response:
    rule = rules.get_rule(rule_id, current_user.warehouse_ids)
    active = request.form.get("active") == "on"
    try:
        rules.update_rule(rule, {"active": active}, current_user.warehouse_ids)
    except DomainError as err:
        db.session.rollback()
        flash(err.detail, "error")
        return redirect(url_for("carrier_rules.carrier_rules"))
    flash(_("Rule '%(name)s' is active again.", name=rule.name) if active
          else _("Rule '%(name)s' is deactivated.", name=rule.name), "success")
    return redirect(url_for("carrier_rules.carrier_rules"))
