"""Supervisor pages for printing: the fleet on the warehouse picture, print jobs with their history, routes."""

from __future__ import annotations

import uuid

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from wms.auth.forms import EmptyForm
from wms.db import db, utcnow
from wms.errors import DomainError, Forbidden, NoPrinter, ValidationFailed
from wms.layout.models import Resource, Warehouse, Zone
from wms.printing import jobs, services
from wms.printing.api import preview_png
from wms.printing.models import DocumentKind, JobState, Printer, PrintJob
from wms.supervisor import layout_svg as svg
from wms.supervisor.views import bp, layout_data, supervisor_only, warehouse_in_scope

JOBS_PER_PAGE = 50
MAX_PREVIEW_PAGES = 12  # a long pick order runs over several labels; show the first ones


def _stale_seconds() -> float:
    from flask import current_app

    return float(current_app.config.get("PRINTER_STALE_SECONDS", services.DEFAULT_STALE_SECONDS))


def _seen(printer: Printer) -> str:
    if printer.last_seen_at is None:
        return _("never seen")
    seconds = int((utcnow() - printer.last_seen_at).total_seconds())
    if seconds < 90:
        return _("seen %(n)s s ago", n=max(seconds, 0))
    if seconds < 5400:
        return _("seen %(n)s min ago", n=seconds // 60)
    return _("seen %(when)s", when=format_datetime(printer.last_seen_at, "short"))


def _fleet_picture(warehouse: Warehouse, rows: list[services.FleetRow]) -> Markup:
    by_code = {row.printer.code: row for row in rows}
    zones = layout_data(warehouse)
    for zone in zones:
        glyphs = []
        for p in zone.printers:
            row = by_code[p.code]
            note = _("%(n)s waiting", n=row.waiting) + " · " + _seen(row.printer)
            glyphs.append(svg.PrinterData(p.code, p.status, p.name, health=row.health, note=note))
        zone.printers[:] = glyphs
    labels = {"pick": _("pick aisle"), "replenish": _("replenish aisle"), "lane": _("lane"),
              "printer_ok": _("printer ok"), "printer_error": _("printer in error")}
    return Markup(svg.warehouse_svg(zones, labels))  # noqa: S704  (layout_svg escapes every text it draws)


@bp.get("/warehouses/<code>/printers")
@supervisor_only
def printer_fleet(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    rows = services.fleet(warehouse, stale_seconds=_stale_seconds())
    placed = {p.code for z in layout_data(warehouse) for p in z.printers}
    context = dict(warehouse=warehouse, rows=rows, picture=_fleet_picture(warehouse, rows), seen=_seen,
                   unplaced=[r for r in rows if r.printer.code not in placed], form=EmptyForm(),
                   refreshed_at=utcnow(), nonce=lambda: uuid.uuid4().hex)
    if request.args.get("fragment") == "1":
        resp = Response(render_template("supervisor/printing/_fleet.html", **context))
        resp.headers["X-Fleet-Fragment"] = "1"
        resp.headers["Cache-Control"] = "no-store"
        return resp
    return render_template("supervisor/printing/fleet.html", **context)


@bp.post("/warehouses/<code>/printers/<printer_code>/test")
@supervisor_only
def printer_test(code: str, printer_code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    if not EmptyForm().validate_on_submit():
        raise Forbidden(_("The form's security token is missing or expired. Reload the page."))
    printer = jobs.printer_by_code(warehouse.id, printer_code)
    job = services.queue_test_label(printer, current_user, request.form.get("nonce") or str(utcnow().timestamp()))
    flash(_("Test label queued on %(printer)s (job %(id)s).", printer=printer.code, id=job.id), "success")
    return redirect(url_for("supervisor.printer_fleet", code=warehouse.code))


@bp.get("/warehouses/<code>/print-jobs")
@supervisor_only
def print_jobs(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    state = request.args.get("state", "").strip()
    printer_code = request.args.get("printer", "").strip()[:32]
    reference = request.args.get("q", "").strip()[:120]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = select(PrintJob).where(PrintJob.warehouse_id == warehouse.id)
    errors = []
    if state:
        if state in {s.value for s in JobState}:
            stmt = stmt.where(PrintJob.state == JobState(state))
        else:
            errors.append(_("Unknown state %(state)s.", state=state))
            state = ""
    printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == warehouse.id)
                                       .order_by(Printer.code)))
    if printer_code:
        chosen = next((p for p in printers if p.code == printer_code), None)
        if chosen is None:
            errors.append(_("No printer %(code)s in this warehouse.", code=printer_code))
            printer_code = ""
        else:
            stmt = stmt.where((PrintJob.printer_id == chosen.id) | (PrintJob.printed_by_id == chosen.id))
    if reference:
        term = reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(PrintJob.reference.ilike(f"%{term}%", escape="\\"))
    found = list(db.session.scalars(stmt.order_by(PrintJob.id.desc()).limit(JOBS_PER_PAGE + 1)
                                    .offset((page - 1) * JOBS_PER_PAGE)))
    args = {k: v for k, v in (("state", state), ("printer", printer_code), ("q", reference)) if v}
    return render_template("supervisor/printing/jobs.html", warehouse=warehouse, jobs=found[:JOBS_PER_PAGE],
                           more=len(found) > JOBS_PER_PAGE, page=page, args=args, states=[s.value for s in JobState],
                           printers=printers, errors=errors, form=EmptyForm())


def _job_in_scope(job_id: int) -> PrintJob:
    job = jobs.get_job(None, job_id)
    warehouse = db.session.get(Warehouse, job.warehouse_id)
    assert warehouse is not None
    warehouse_in_scope(warehouse.code)
    return job


@bp.get("/print-jobs/<int:job_id>")
@supervisor_only
def print_job(job_id: int):  # type: ignore[no-untyped-def]
    job = _job_in_scope(job_id)
    warehouse = db.session.get(Warehouse, job.warehouse_id)
    printers = {p.id: p for p in db.session.scalars(select(Printer).where(Printer.warehouse_id == job.warehouse_id))}
    reprints = list(db.session.scalars(select(PrintJob).where(PrintJob.reprint_of_id == job.id)
                                       .order_by(PrintJob.id)))
    return render_template("supervisor/printing/job.html", job=job, warehouse=warehouse, printers=printers,
                           reprints=reprints, form=EmptyForm(),
                           can_cancel=job.state in (JobState.QUEUED, JobState.CLAIMED),
                           previewable=job.content_type == jobs.ZPL,
                           label_pages=range(1, min(max(job.payload.count(b"^XA"), 1), MAX_PREVIEW_PAGES) + 1))


@bp.get("/print-jobs/<int:job_id>/preview.png")
@supervisor_only
def print_job_preview(job_id: int):  # type: ignore[no-untyped-def]
    job = _job_in_scope(job_id)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    png = preview_png(job, page)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.post("/print-jobs/<int:job_id>/reprint")
@supervisor_only
def print_job_reprint(job_id: int):  # type: ignore[no-untyped-def]
    job = _job_in_scope(job_id)
    if not EmptyForm().validate_on_submit():
        raise Forbidden(_("The form's security token is missing or expired. Reload the page."))
    new = jobs.reprint(job, current_user)
    flash(_("Job %(old)s queued again as job %(new)s.", old=job.id, new=new.id), "success")
    return redirect(url_for("supervisor.print_job", job_id=new.id))


@bp.post("/print-jobs/<int:job_id>/cancel")
@supervisor_only
def print_job_cancel(job_id: int):  # type: ignore[no-untyped-def]
    job = _job_in_scope(job_id)
    if not EmptyForm().validate_on_submit():
        raise Forbidden(_("The form's security token is missing or expired. Reload the page."))
    try:
        jobs.cancel(job, current_user)
    except DomainError as err:
        flash(err.detail, "error")
    else:
        flash(_("Job %(id)s cancelled.", id=job.id), "success")
    return redirect(url_for("supervisor.print_job", job_id=job.id))


# --- routes ----------------------------------------------------------------------------------------------------

def _places(warehouse: Warehouse) -> list[tuple[str, str, int | None, int | None]]:
    """(value, label, zone_id, resource_id) for every place a document can print at."""
    zones = db.session.scalars(select(Zone).where(Zone.warehouse_id == warehouse.id).order_by(Zone.seq, Zone.code))
    resources = db.session.scalars(select(Resource).where(
        Resource.warehouse_id == warehouse.id, Resource.aisle_id.is_(None)).order_by(Resource.code))
    out: list[tuple[str, str, int | None, int | None]] = [
        (f"zone:{z.code}", _("zone %(code)s", code=z.code) + f" · {z.name}", z.id, None) for z in zones]
    out += [(f"resource:{r.code}", f"{r.code} · {r.name}", None, r.id) for r in resources]
    return out


def _effective(warehouse: Warehouse, places: list[tuple[str, str, int | None, int | None]]) -> list[tuple[str, list[str]]]:
    """For each place, which printer each kind of document would go to now (or why none)."""
    rows = []
    for _value, label, zone_id, resource_id in places:
        cells = []
        for kind in DocumentKind:
            try:
                cells.append(jobs.resolve_printer(warehouse.id, kind, zone_id=zone_id, resource_id=resource_id).code)
            except NoPrinter:
                cells.append("")
        rows.append((label, cells))
    return rows


@bp.get("/warehouses/<code>/print-routes")
@supervisor_only
def print_routes(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    places = _places(warehouse)
    routes = [(r, *services.route_place(r)) for r in services.list_routes(warehouse)]
    printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == warehouse.id)
                                       .order_by(Printer.code)))
    return render_template("supervisor/printing/routes.html", warehouse=warehouse, routes=routes, places=places,
                           printers=printers, kinds=[k.value for k in DocumentKind],
                           effective=_effective(warehouse, places), form=EmptyForm())


@bp.post("/warehouses/<code>/print-routes")
@supervisor_only
def print_route_set(code: str):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    if not EmptyForm().validate_on_submit():
        raise Forbidden(_("The form's security token is missing or expired. Reload the page."))
    place = request.form.get("place", "")
    kind_of_place, _sep, place_code = place.partition(":")
    spec = services.RouteSpec(
        document_kind=request.form.get("document_kind", ""),
        zone=place_code if kind_of_place == "zone" else None,
        resource=place_code if kind_of_place == "resource" else None,
        printer=request.form.get("printer", ""),
    )
    try:
        if place and kind_of_place not in ("zone", "resource"):
            raise ValidationFailed(_("Choose a place from the list."))
        services.set_route(warehouse, spec)
    except ValidationFailed as err:
        db.session.rollback()
        details = "; ".join(e["message"] for e in err.errors)
        flash(err.detail + (f" ({details})" if details else ""), "error")
    else:
        flash(_("Route saved: %(kind)s → %(printer)s.", kind=spec.document_kind, printer=spec.printer), "success")
    return redirect(url_for("supervisor.print_routes", code=warehouse.code))


@bp.post("/warehouses/<code>/print-routes/<int:route_id>/delete")
@supervisor_only
def print_route_delete(code: str, route_id: int):  # type: ignore[no-untyped-def]
    warehouse = warehouse_in_scope(code)
    if not EmptyForm().validate_on_submit():
        raise Forbidden(_("The form's security token is missing or expired. Reload the page."))
    services.delete_route(warehouse, route_id)
    flash(_("Route removed."), "success")
    return redirect(url_for("supervisor.print_routes", code=warehouse.code))



# The product and lane labels page lives beside the other printing pages.
import wms.supervisor.label_views  # noqa: E402, F401
