"""Supervisor page to print product and lane labels (one or a batch: a list, an aisle, a zone) with a preview."""

from __future__ import annotations

import re
import uuid

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from wms.auth.forms import EmptyForm
from wms.db import db
from wms.errors import DomainError, Forbidden
from wms.labels.documents.base import LabelDocument
from wms.labels.preview import png
from wms.layout.models import Aisle, Warehouse, Zone
from wms.printing import item_labels
from wms.printing.models import Printer
from wms.supervisor.views import bp, supervisor_only, warehouse_in_scope

PREVIEW_LABELS = 4  # the first labels of the selection are drawn; the rest print the same way
_SPLIT = re.compile(r"[\s,;]+")


def _codes(raw: str | None) -> list[str]:
    return [c for c in _SPLIT.split(raw or "") if c][: item_labels.MAX_ITEMS + 1]


def _copies(raw: str | None) -> int:
    try:
        return int(raw or 1)
    except ValueError:
        return 0  # refused by the service with its own message


def _selection(warehouse: Warehouse, args) -> list[LabelDocument]:  # type: ignore[no-untyped-def]
    """The documents the form's arguments name (products, or lanes by list, aisle or zone)."""
    if args.get("what") == "product":
        return [item_labels.product_document(p) for p in item_labels.products_by_sku(_codes(args.get("skus")))]
    codes = _codes(args.get("locations")) or None
    locations = item_labels.select_locations(warehouse, codes=codes, zone=(args.get("zone") or None) if not codes
                                             else None, aisle=(args.get("aisle") or None) if not codes else None)
    return [doc for _loc, doc in item_labels.lane_documents(locations, args.get("face", "both"),
                                                            strict=codes is not None)]


def _choices(warehouse: Warehouse) -> dict:  # type: ignore[type-arg]
    zones = list(db.session.scalars(select(Zone).where(Zone.warehouse_id == warehouse.id)
                                    .order_by(Zone.seq, Zone.code)))
    aisles = list(db.session.execute(select(Zone.code, Aisle.code, Aisle.face).join(Aisle, Aisle.zone_id == Zone.id)
                                     .where(Zone.warehouse_id == warehouse.id).order_by(Zone.code, Aisle.seq)))
    printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == warehouse.id)
                                       .order_by(Printer.code)))
    return dict(zones=zones, aisles=aisles, printers=printers)


@bp.get("/warehouses/<code>/labels")
@supervisor_only
def item_labels_page(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    args = request.args
    if "csrf_token" in args or "nonce" in args:
        # the Preview button submits the print form by GET: keep the form's token out of the address
        clean = {k: v for k, v in args.items() if k not in ("csrf_token", "nonce")}
        return redirect(url_for("supervisor.item_labels_page", code=warehouse.code, **clean))
    previews: list[str] = []
    error = None
    if args.get("what") in ("product", "location"):
        try:
            labels = [label for doc in _selection(warehouse, args) for label in doc.labels()]
        except DomainError as err:
            error = err.detail
        else:
            query = {k: v for k, v in args.items() if k != "page"}
            previews = [url_for("supervisor.item_labels_preview", code=warehouse.code, page=n, **query)
                        for n in range(1, min(len(labels), PREVIEW_LABELS) + 1)]
    return render_template("supervisor/printing/labels.html", warehouse=warehouse, args=args, previews=previews,
                           error=error, form=EmptyForm(), nonce=uuid.uuid4().hex, faces=item_labels.FACE_CHOICES,
                           **_choices(warehouse))


@bp.get("/warehouses/<code>/labels/preview.png")
@supervisor_only
def item_labels_preview(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    labels = [(doc, n) for doc in _selection(warehouse, request.args)[:PREVIEW_LABELS]
              for n in range(len(doc.labels()))]
    if page > min(len(labels), PREVIEW_LABELS):
        return Response(status=404)
    doc, n = labels[page - 1]
    image = png(doc).pages[n]
    return Response(image, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


@bp.post("/warehouses/<code>/labels")
@supervisor_only
def item_labels_print(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    if not EmptyForm().validate_on_submit():
        raise Forbidden(_("The form's security token is missing or expired. Reload the page."))
    form = request.form
    key = "page:" + (form.get("nonce") or uuid.uuid4().hex)[:64]
    printer = form.get("printer") or None
    back = {k: form.get(k) for k in ("what", "skus", "copies", "locations", "zone", "aisle", "face", "printer")
            if form.get(k)}
    try:
        if form.get("what") == "product":
            jobs = item_labels.print_product_labels(warehouse, _codes(form.get("skus")), current_user, key=key,
                                                    copies=_copies(form.get("copies")), printer_code=printer)
        else:
            codes = _codes(form.get("locations")) or None
            jobs = item_labels.print_location_labels(
                warehouse, current_user, key=key, codes=codes, zone=None if codes else form.get("zone") or None,
                aisle=None if codes else form.get("aisle") or None, face=form.get("face", "both"),
                printer_code=printer)
    except DomainError as err:
        g.rollback_only = True  # nothing of a refused batch is queued
        flash(err.detail, "error")
        return redirect(url_for("supervisor.item_labels_page", code=warehouse.code, **back))
    printers = ", ".join(sorted({j.printer.code for j in jobs}))
    flash(_("%(n)s label jobs queued on %(printers)s.", n=len(jobs), printers=printers), "success")
    return redirect(url_for("supervisor.item_labels_page", code=warehouse.code, **back))
