"""Supervisor pages of inbound: purchase orders (received against ordered), their ASNs and receipts with lots,
best-before dates and quality holds; close or cancel a PO, release a hold, import POs from CSV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from wms.db import db
from wms.errors import DomainError, NotFound, WarehouseForbidden
from wms.inbound import receiving, services
from wms.inbound.models import PurchaseOrder, PurchaseOrderStatus
from wms.supervisor.views import supervisor_only, visible_warehouses, warehouse_in_scope

bp = Blueprint("inbound", __name__, url_prefix="/inbound")

STATUSES = [s.value for s in PurchaseOrderStatus]


def _po_in_scope(number: str) -> PurchaseOrder:
    po = services.get_purchase_order(number)
    ids = current_user.warehouse_ids
    if ids is not None and po.warehouse_id not in ids:
        raise WarehouseForbidden(_("Purchase order %(number)s is outside your scope.", number=number))
    return po


def _act(action: Callable[[], Any], success: str, back: str) -> Response:
    """Run a change; a refusal is rolled back and shown as a readable message on the page it came from."""
    try:
        action()
    except DomainError as err:
        db.session.rollback()
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in err.errors if "field" in e)
        flash(f"{err.detail} {reasons}".strip(), "error")
        return redirect(back)
    flash(success, "success")
    return redirect(back)


@bp.get("/")
@supervisor_only
def index():  # type: ignore[no-untyped-def]
    warehouses = visible_warehouses()
    if len(warehouses) == 1:
        return redirect(url_for("inbound.purchase_orders", code=warehouses[0].code))
    return render_template("supervisor/inbound/index.html", warehouses=warehouses)


@bp.get("/warehouses/<code>/purchase-orders")
@supervisor_only
def purchase_orders(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    status = request.args.get("status") or None
    if status not in (None, "receivable", *STATUSES):
        flash(_("Unknown status %(status)s; showing every purchase order.", status=status), "warning")
        status = None
    orders = services.list_purchase_orders(wh, status=status)
    totals = {po.id: (sum(ln.quantity for ln in po.lines), sum(ln.received for ln in po.lines)) for po in orders}
    return render_template("supervisor/inbound/purchase_orders.html", warehouse=wh, orders=orders, totals=totals,
                           status=status, statuses=["receivable", *STATUSES])


@bp.get("/purchase-orders/<number>")
@supervisor_only
def purchase_order(number: str):  # type: ignore[no-untyped-def]
    po = _po_in_scope(number)
    pct = services.tolerance_pct(po)
    receipts = receiving.list_receipts(po.warehouse_id, purchase_order_id=po.id)
    planned = {ln.id: receiving.planned_units(ln) for r in receipts for ln in r.lines}
    return render_template("supervisor/inbound/purchase_order.html", po=po, pct=pct,
                           allowed={ln.id: services.allowed_units(ln.quantity, pct) for ln in po.lines},
                           asns=services.list_asns(po), receipts=receipts, planned=planned)


@bp.post("/purchase-orders/<number>/close")
@supervisor_only
def close_purchase_order(number: str):  # type: ignore[no-untyped-def]
    po = _po_in_scope(number)
    return _act(lambda: services.close_purchase_order(po), _("Purchase order %(number)s closed.", number=number),
                url_for("inbound.purchase_order", number=number))


@bp.post("/purchase-orders/<number>/cancel")
@supervisor_only
def cancel_purchase_order(number: str):  # type: ignore[no-untyped-def]
    po = _po_in_scope(number)
    return _act(lambda: services.cancel_purchase_order(po),
                _("Purchase order %(number)s cancelled.", number=number),
                url_for("inbound.purchase_order", number=number))


@bp.post("/receipt-lines/<int:line_id>/release")
@supervisor_only
def release_hold(line_id: int):  # type: ignore[no-untyped-def]
    line = receiving.get_line(line_id)
    po = db.session.get(PurchaseOrder, line.receipt.purchase_order_id)
    if po is None:
        raise NotFound(_("No receipt line %(id)s.", id=line_id))
    _po_in_scope(po.number)
    return _act(lambda: receiving.release_hold(line, current_user),
                _("Hold released: the units wait at the dock for put-away."),
                url_for("inbound.purchase_order", number=po.number))


@bp.get("/warehouses/<code>/receipts")
@supervisor_only
def receipts(code: str):  # type: ignore[no-untyped-def]
    wh = warehouse_in_scope(code)
    rows = receiving.list_receipts(wh.id)
    return render_template("supervisor/inbound/receipts.html", warehouse=wh, receipts=rows)


@bp.post("/warehouses/<code>/purchase-orders/import")
@supervisor_only
def import_purchase_orders(code: str):  # type: ignore[no-untyped-def]
    from wms.inbound.csvio import import_purchase_orders_text

    wh = warehouse_in_scope(code)
    back = url_for("inbound.purchase_orders", code=wh.code)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV file to import."), "error")
        return redirect(back)
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        flash(_("The file is not UTF-8 text."), "error")
        return redirect(back)
    return _act(lambda: _flash_import(import_purchase_orders_text(wh, text)), _("Import done."), back)


def _flash_import(report: Any) -> None:
    flash(_("Purchase orders created: %(num)d, lines: %(lines)d.", num=report.created, lines=report.lines), "success")
