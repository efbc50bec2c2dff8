"""Supervisor pages for returns: the list with a form to authorise one, and each return with its receive and
inspect forms. A refusal rolls everything back and shows the page again with the reason."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from wms.db import db
from wms.enums import ZoneKind
from wms.errors import DomainError, NotFound
from wms.layout.models import Location, Warehouse, Zone
from wms.orders.models import Channel
from wms.orders.services import get_order
from wms.outbound.carriers_registry import UnknownCarrier
from wms.printing.models import Printer
from wms.returns import labels, services
from wms.returns.api import document_response, rma_out
from wms.returns.models import Disposition, RmaStatus
from wms.stock import operations as ops
from wms.supervisor.views import supervisor_only, warehouse_in_scope

bp = Blueprint("returns_pages", __name__)

FORM_LIMIT = 500
MAX_FORM_LINES = 100
STATUSES = [s.value for s in RmaStatus]


def _actor() -> ops.Actor:
    return ops.Actor(user=current_user._get_current_object())


def _channels(wh: Warehouse) -> list[Channel]:
    return list(db.session.scalars(select(Channel).where(Channel.warehouse_id == wh.id).order_by(Channel.code)))


def _locations(wh: Warehouse, kind: ZoneKind) -> list[str]:
    return list(db.session.scalars(select(Location.code).join(Zone, Zone.id == Location.zone_id).where(
        Location.warehouse_id == wh.id, Zone.kind == kind, Location.active.is_(True)).order_by(Location.code)))


def _disposition_label(disposition: Disposition) -> str:
    return {Disposition.RESTOCK: _("restock"), Disposition.QUARANTINE: _("quarantine"),
            Disposition.SCRAP: _("scrap")}[disposition]


def _refusal(err: DomainError) -> str:
    """The service's sentence and, line by line, what was wrong."""
    reasons = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors if "field" in e)
    return f"{err.detail} {reasons}".strip()


def _whole(raw: str, label: str, errors: list[str]) -> int:
    raw = raw.strip()
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 7:
        errors.append(_("%(field)s: enter a whole number of units.", field=label))
        return 0
    return int(raw)


# --- list and authorise -----------------------------------------------------------------------------------------

def _list_page(wh: Warehouse, *, form: dict[str, str] | None = None, errors: list[str] | None = None,
               status: int = 200):  # type: ignore[no-untyped-def]
    wanted = request.args.get("status", "")
    rmas = services.list_rmas(wh, status=wanted if wanted in STATUSES else None, limit=200)
    return render_template("supervisor/returns/list.html", warehouse=wh, rmas=[rma_out(r) for r in rmas],
                           statuses=STATUSES, wanted=wanted, channels=_channels(wh), form=form or {},
                           errors=errors or [], reasons=services.REASONS), status


@bp.get("/warehouses/<code>/returns")
@supervisor_only
def returns(code: str):  # type: ignore[no-untyped-def]
    return _list_page(warehouse_in_scope(code))


def _parse_lines(text: str, errors: list[str]) -> list[services.LineRequest]:
    """One line per returned product: `SKU quantity reason` (reason optional: other)."""
    out = []
    for n, raw in enumerate([ln for ln in text.splitlines() if ln.strip()][:MAX_FORM_LINES], start=1):
        parts = raw.split()
        if len(parts) not in (2, 3) or not parts[1].isdigit() or len(parts[1]) > 7 or int(parts[1]) == 0:
            errors.append(_("Line %(n)s: write the SKU, the number of units and the reason, e.g. MUG 2 defective.",
                            n=n))
            continue
        reason = parts[2] if len(parts) == 3 else "other"
        if reason not in services.REASONS:
            errors.append(_("Line %(n)s: the reason is one of %(reasons)s.", n=n,
                            reasons=", ".join(services.REASONS)))
            continue
        out.append(services.LineRequest(quantity=int(parts[1]), reason=reason, sku=parts[0]))
    if not out and not errors:
        errors.append(_("Write at least one line: SKU, units, reason."))
    return out


@bp.post("/warehouses/<code>/returns")
@supervisor_only
def returns_create(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    form = {k: request.form.get(k, "").strip()[:FORM_LIMIT] for k in ("channel", "order_id", "external_id",
                                                                      "reason")}
    form["lines"] = request.form.get("lines", "")[:20_000]
    errors: list[str] = []
    channel = db.session.scalar(select(Channel).where(Channel.code == form["channel"],
                                                      Channel.warehouse_id == wh.id))
    if channel is None:
        errors.append(_("Choose the channel that sold the order."))
    if not form["order_id"]:
        errors.append(_("Enter the channel's order number."))
    lines = _parse_lines(form["lines"], errors)
    if errors:
        return _list_page(wh, form=form, errors=errors, status=422)
    assert channel is not None
    try:
        order = get_order(channel, form["order_id"])
        rma, _created = services.authorize_return(order, lines, external_id=form["external_id"] or None,
                                                  reason=form["reason"] or None, created_by_id=current_user.id)
    except DomainError as err:
        db.session.rollback()
        return _list_page(wh, form=form, errors=[_refusal(err)], status=err.status)
    flash(_("Return %(code)s authorised.", code=rma.code), "success")
    return redirect(url_for("returns_pages.return_detail", code=wh.code, rma_code=rma.code))


# --- one return -------------------------------------------------------------------------------------------------

def _detail_page(wh: Warehouse, rma_code: str, *, error: str | None = None, form: dict[str, Any] | None = None,
                 status: int = 200):  # type: ignore[no-untyped-def]
    rma = services.get_rma(wh, rma_code)
    can_label = rma.status in labels.LABEL_STATUSES and labels.live_label(rma) is None
    return render_template("supervisor/returns/detail.html", warehouse=wh, rma=rma_out(rma), error=error,
                           form=form or {}, returns_locations=_locations(wh, ZoneKind.RETURNS),
                           quarantine_locations=_locations(wh, ZoneKind.QUARANTINE),
                           open=rma.status in services.OPEN_STATUSES,
                           label_carriers=labels.return_carriers(wh) if can_label else [], can_label=can_label,
                           printers=_printers(wh), label_status=_label_status), status


def _printers(wh: Warehouse) -> list[str]:
    return list(db.session.scalars(select(Printer.code).where(Printer.warehouse_id == wh.id,
                                                              Printer.enabled.is_(True)).order_by(Printer.code)))


def _label_status(value: str) -> str:
    return {"issued": _("issued"), "in_transit": _("in transit"), "delivered": _("delivered"),
            "cancelled": _("cancelled")}.get(value, value)


@bp.get("/warehouses/<code>/returns/<rma_code>")
@supervisor_only
def return_detail(code: str, rma_code: str):  # type: ignore[no-untyped-def]
    return _detail_page(warehouse_in_scope(code), rma_code)


def _apply(wh: Warehouse, rma_code: str, action, success: str):  # type: ignore[no-untyped-def]
    form = request.form.to_dict()
    try:
        rma = services.get_rma(wh, rma_code, lock=True)
        action(rma)
    except NotFound:
        raise
    except DomainError as err:
        db.session.rollback()
        return _detail_page(wh, rma_code, error=_refusal(err), form=form, status=err.status)
    flash(success, "success")
    return redirect(url_for("returns_pages.return_detail", code=wh.code, rma_code=rma_code))


def _line_nos() -> list[int]:
    return [int(k.split("_")[-1]) for k in request.form if k.startswith("line_") and k.split("_")[-1].isdigit()
            and len(k) < 20]


@bp.post("/warehouses/<code>/returns/<rma_code>/receive")
@supervisor_only
def return_receive(code: str, rma_code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    errors: list[str] = []
    lines = []
    for line_no in sorted(set(_line_nos()))[:MAX_FORM_LINES]:
        units = _whole(request.form.get(f"line_{line_no}", ""), _("Line %(n)s", n=line_no), errors)
        if units:
            lines.append(services.LineRequest(quantity=units, line_no=line_no))
    if not lines and not errors:
        errors.append(_("Enter the units that arrived on at least one line."))
    if errors:
        return _detail_page(wh, rma_code, error=" ".join(errors), form=request.form.to_dict(), status=422)
    location = request.form.get("location", "").strip()[:32] or None
    return _apply(wh, rma_code, lambda rma: services.receive_return(rma, lines, _actor(), location_code=location),
                  _("Units received."))


@bp.post("/warehouses/<code>/returns/<rma_code>/inspect")
@supervisor_only
def return_inspect(code: str, rma_code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    errors: list[str] = []
    disposals = []
    for line_no in sorted(set(_line_nos()))[:MAX_FORM_LINES]:
        note = request.form.get(f"note_{line_no}", "").strip()[:FORM_LIMIT] or None
        for disposition in Disposition:
            label = _("Line %(n)s, %(what)s", n=line_no, what=_disposition_label(disposition))
            units = _whole(request.form.get(f"{disposition.value}_{line_no}", ""), label, errors)
            if units:
                where = request.form.get(f"{disposition.value}_location_{line_no}", "").strip()[:32] or None
                disposals.append(services.Disposal(line=services.LineRequest(quantity=units, line_no=line_no),
                                                   disposition=disposition, location=where, note=note))
    if not disposals and not errors:
        errors.append(_("Enter how many units to restock, quarantine or scrap on at least one line."))
    if errors:
        return _detail_page(wh, rma_code, error=" ".join(errors), form=request.form.to_dict(), status=422)
    location = request.form.get("location", "").strip()[:32] or None
    return _apply(wh, rma_code, lambda rma: services.inspect_return(rma, disposals, _actor(), location_code=location),
                  _("Inspection recorded."))


@bp.post("/warehouses/<code>/returns/<rma_code>/cancel")
@supervisor_only
def return_cancel(code: str, rma_code: str):  # type: ignore[no-untyped-def]
    return _apply(warehouse_in_scope(code), rma_code, services.cancel_return, _("Return cancelled."))


@bp.post("/warehouses/<code>/returns/<rma_code>/close")
@supervisor_only
def return_close(code: str, rma_code: str):  # type: ignore[no-untyped-def]
    return _apply(warehouse_in_scope(code), rma_code, services.close_return, _("Return closed."))


# --- return labels ----------------------------------------------------------------------------------------------

@bp.post("/warehouses/<code>/returns/<rma_code>/labels")
@supervisor_only
def return_label_create(code: str, rma_code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    form = request.form.to_dict()
    carrier = form.get("carrier", "").strip()[:32]
    printer = form.get("printer", "").strip()[:32] or None
    if not carrier:
        return _detail_page(wh, rma_code, error=_("Choose the carrier of the return label."), form=form,
                            status=422)
    try:
        rma = services.get_rma(wh, rma_code, lock=True)
        label, created = labels.create_return_label(
            rma, labels.LabelRequest(carrier_code=carrier, printer_code=printer,
                                     print_label=form.get("print", "1") != "0"),
            created_by_id=current_user.id, actor=current_user.username)
    except NotFound as err:
        if not isinstance(err, labels.PrinterUnknown | UnknownCarrier):
            raise
        db.session.rollback()
        return _detail_page(wh, rma_code, error=_refusal(err), form=form, status=err.status)
    except DomainError as err:
        db.session.rollback()
        return _detail_page(wh, rma_code, error=_refusal(err), form=form, status=err.status)
    if not created:
        flash(_("Return %(code)s already has label %(tracking)s.", code=rma.code, tracking=label.tracking_number),
              "info")
    elif label.print_job_id:
        flash(_("Return label %(tracking)s issued by %(carrier)s and sent to the printer.",
                tracking=label.tracking_number, carrier=label.carrier_code), "success")
    else:
        flash(_("Return label %(tracking)s issued by %(carrier)s; download it below.",
                tracking=label.tracking_number, carrier=label.carrier_code), "success")
    return redirect(url_for("returns_pages.return_detail", code=wh.code, rma_code=rma.code))


@bp.get("/warehouses/<code>/returns/<rma_code>/labels/<int:label_id>/document")
@supervisor_only
def return_label_document(code: str, rma_code: str, label_id: int):  # type: ignore[no-untyped-def]
    rma = services.get_rma(warehouse_in_scope(code), rma_code)
    return document_response(labels.get_label(rma, label_id))


@bp.post("/warehouses/<code>/returns/<rma_code>/labels/<int:label_id>/cancel")
@supervisor_only
def return_label_cancel(code: str, rma_code: str, label_id: int):  # type: ignore[no-untyped-def]
    return _apply(warehouse_in_scope(code), rma_code,
                  lambda rma: labels.cancel_return_label(labels.get_label(rma, label_id)),
                  _("Return label cancelled."))
