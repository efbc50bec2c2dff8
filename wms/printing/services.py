"""The printer fleet as supervisors see it: health, waiting jobs, routing rules, test labels, job lists."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from wms.auth.models import User
from wms.db import db, utcnow
from wms.enums import PrinterLanguage
from wms.errors import NotFound, ValidationFailed
from wms.labels.documents.base import LabelDocument
from wms.labels.layout import Code128, Label, LabelSize, block
from wms.layout.models import Resource, Warehouse, Zone
from wms.printing import jobs
from wms.printing.models import DocumentKind, JobState, Printer, PrintJob, PrintRoute

WARNING_STATUSES = frozenset({"paper_out", "head_open", "ribbon_out", "paused", "buffer_full"})
DOWN_STATUSES = frozenset({"offline", "error"})
DEFAULT_STALE_SECONDS = 120


def health(printer: Printer, *, now: dt.datetime | None = None, stale_seconds: float = DEFAULT_STALE_SECONDS) -> str:
    """ok / warning / down / unknown; a status nobody confirmed lately is unknown (the daemon may be gone)."""
    now = now or utcnow()
    if printer.last_seen_at is None or (now - printer.last_seen_at).total_seconds() > stale_seconds:
        return "unknown"
    if printer.status == "ready":
        return "ok"
    if printer.status in WARNING_STATUSES:
        return "warning"
    if printer.status in DOWN_STATUSES:
        return "down"
    return "unknown"


@dataclass(frozen=True)
class FleetRow:
    printer: Printer
    health: str
    waiting: int
    in_progress: int
    failed: int


def fleet(warehouse: Warehouse, *, stale_seconds: float = DEFAULT_STALE_SECONDS) -> list[FleetRow]:
    """Every printer of the warehouse with its health and how many jobs wait, run or failed on it."""
    printers = list(db.session.scalars(
        select(Printer).where(Printer.warehouse_id == warehouse.id).order_by(Printer.code)))
    reprinted = aliased(PrintJob)
    counts: Counter[tuple[int, JobState]] = Counter()
    rows = db.session.execute(
        select(PrintJob.printer_id, PrintJob.state, func.count())
        .where(PrintJob.warehouse_id == warehouse.id,
               PrintJob.state.in_([JobState.QUEUED, JobState.CLAIMED, JobState.SENT, JobState.FAILED]),
               ~select(reprinted.id).where(reprinted.reprint_of_id == PrintJob.id).exists())
        .group_by(PrintJob.printer_id, PrintJob.state))
    for printer_id, state, n in rows:
        counts[(printer_id, state)] = n
    now = utcnow()
    return [
        FleetRow(p, health(p, now=now, stale_seconds=stale_seconds), counts[(p.id, JobState.QUEUED)],
                 counts[(p.id, JobState.CLAIMED)] + counts[(p.id, JobState.SENT)], counts[(p.id, JobState.FAILED)])
        for p in printers
    ]


def list_jobs(warehouse: Warehouse | None, *, state: str | None = None, printer_code: str | None = None,
              limit: int = 100) -> list[PrintJob]:
    """Newest jobs first (of one warehouse, or all), optionally of one state and one printer (meant or used)."""
    q = select(PrintJob)
    if warehouse is not None:
        q = q.where(PrintJob.warehouse_id == warehouse.id)
    if state:
        q = q.where(PrintJob.state == JobState(state))
    if printer_code:
        if warehouse is None:
            raise ValidationFailed("A printer code names a printer of one warehouse: give the warehouse too.")
        printer = jobs.printer_by_code(warehouse.id, printer_code)
        q = q.where((PrintJob.printer_id == printer.id) | (PrintJob.printed_by_id == printer.id))
    return list(db.session.scalars(q.order_by(PrintJob.id.desc()).limit(limit)))


# --- test labels -------------------------------------------------------------------------------------------

TEST_LABEL_SIZE = LabelSize(100, 50)


@dataclass(frozen=True)
class PrinterTestLabel(LabelDocument):
    """A label that names the printer and carries a barcode, to check it prints and scans."""

    printer_code: str
    printer_name: str
    warehouse: str
    stamp: str

    def labels(self) -> list[Label]:
        d = TEST_LABEL_SIZE.dots
        data = f"TEST {self.printer_code}"
        return [Label(TEST_LABEL_SIZE, (
            block(d(4), d(3), f"{self.warehouse} · {self.printer_code}", d(8), d(92)),
            block(d(4), d(13), self.printer_name, d(5), d(92)),
            Code128(d(4), d(21), data, height=d(14), module=2, max_width=d(92), hri=True),
            block(d(4), d(42), f"Test label {self.stamp}", d(4), d(92)),
        ), title=f"Test {self.printer_code}")]


def _pdf_escape(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode()
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def test_page_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF with a few lines of Helvetica, for document (CUPS) printers."""
    content = "BT /F1 18 Tf 72 770 Td 24 TL " + " ".join(f"({_pdf_escape(ln)}) Tj T*" for ln in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content.encode() + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def queue_test_label(printer: Printer, user: User | None, idempotency_key: str) -> PrintJob:
    """Queue a test label (ZPL) or test page (PDF) on this very printer."""
    warehouse = db.session.get(Warehouse, printer.warehouse_id)
    assert warehouse is not None
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S UTC")
    if printer.language == PrinterLanguage.ZPL:
        doc = PrinterTestLabel(printer.code, printer.name, warehouse.code, stamp)
        payload, content_type = doc.to_zpl().encode("ascii"), jobs.ZPL
    else:
        payload = test_page_pdf([f"{warehouse.code} - {printer.code}", printer.name, f"Test page {stamp}"])
        content_type = jobs.PDF
    return jobs.enqueue_job(warehouse_id=printer.warehouse_id, kind=DocumentKind.TEST_PAGE,
                            reference=f"TEST-{printer.code}"[:120], payload=payload, content_type=content_type,
                            idempotency_key=f"test:{printer.id}:{idempotency_key}"[:200], printer=printer,
                            created_by_id=user.id if user else None, actor=user.username if user else None)


# --- routes ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RouteSpec:
    document_kind: str
    zone: str | None
    resource: str | None
    printer: str


def list_routes(warehouse: Warehouse) -> list[PrintRoute]:
    """The warehouse's routing rules, by kind then place."""
    return list(db.session.scalars(
        select(PrintRoute).where(PrintRoute.warehouse_id == warehouse.id)
        .order_by(PrintRoute.document_kind, PrintRoute.zone_id.nulls_first(), PrintRoute.resource_id.nulls_first())))


def route_place(route: PrintRoute) -> tuple[str | None, str | None]:
    zone = db.session.get(Zone, route.zone_id) if route.zone_id else None
    resource = db.session.get(Resource, route.resource_id) if route.resource_id else None
    return (zone.code if zone else None), (resource.code if resource else None)


def resolve_spec(warehouse: Warehouse, spec: RouteSpec, field: str = "route") -> tuple[DocumentKind, int | None, int | None,
                                                                              Printer]:
    errors = []
    try:
        kind = DocumentKind(spec.document_kind)
    except ValueError:
        errors.append({"field": f"{field}.document_kind", "message": "unknown document kind"})
        kind = DocumentKind.PICK_ORDER
    if spec.zone and spec.resource:
        errors.append({"field": f"{field}.resource", "message": "give a zone or a resource, not both"})
    zone_id = resource_id = None
    if spec.zone:
        zone_id = db.session.scalar(select(Zone.id).where(Zone.warehouse_id == warehouse.id, Zone.code == spec.zone))
        if zone_id is None:
            errors.append({"field": f"{field}.zone", "message": f"no zone {spec.zone!r}"})
    if spec.resource:
        resource_id = db.session.scalar(select(Resource.id).where(
            Resource.warehouse_id == warehouse.id, Resource.code == spec.resource))
        if resource_id is None:
            errors.append({"field": f"{field}.resource", "message": f"no resource {spec.resource!r}"})
    printer = db.session.scalar(select(Printer).where(
        Printer.warehouse_id == warehouse.id, Printer.code == spec.printer))
    if printer is None:
        errors.append({"field": f"{field}.printer", "message": f"no printer {spec.printer!r}"})
    if errors:
        raise ValidationFailed("A print route names something that does not exist here.", errors=errors)
    assert printer is not None
    return kind, zone_id, resource_id, printer


def replace_routes(warehouse: Warehouse, specs: list[RouteSpec]) -> list[PrintRoute]:
    """Make the warehouse's routing rules exactly these (all or nothing)."""
    resolved = [resolve_spec(warehouse, spec, f"routes.{i}") for i, spec in enumerate(specs)]
    seen: dict[tuple[DocumentKind, int | None, int | None], int] = {}
    for i, (kind, zone_id, resource_id, _printer) in enumerate(resolved):
        if (kind, zone_id, resource_id) in seen:
            raise ValidationFailed("Two rules for the same kind of document at the same place.",
                                   errors=[{"field": f"routes.{i}", "message": f"same as routes.{seen[kind, zone_id, resource_id]}"}])
        seen[(kind, zone_id, resource_id)] = i
    for route in list_routes(warehouse):
        db.session.delete(route)
    db.session.flush()
    routes = [PrintRoute(warehouse_id=warehouse.id, document_kind=kind, zone_id=zone_id, resource_id=resource_id,
                         printer_id=printer.id, printer=printer) for kind, zone_id, resource_id, printer in resolved]
    db.session.add_all(routes)
    db.session.flush()
    return routes


def find_route(warehouse: Warehouse, kind: DocumentKind, zone_id: int | None,
               resource_id: int | None) -> PrintRoute | None:
    """The rule for this kind at exactly this place (None place = the warehouse default), if any."""
    return db.session.scalar(select(PrintRoute).where(
        PrintRoute.warehouse_id == warehouse.id, PrintRoute.document_kind == kind,
        PrintRoute.zone_id.is_(None) if zone_id is None else PrintRoute.zone_id == zone_id,
        PrintRoute.resource_id.is_(None) if resource_id is None else PrintRoute.resource_id == resource_id))


def set_route(warehouse: Warehouse, spec: RouteSpec) -> PrintRoute:
    """Add or change the one rule for this kind at this place."""
    kind, zone_id, resource_id, printer = resolve_spec(warehouse, spec, "route")
    route = find_route(warehouse, kind, zone_id, resource_id)
    if route is None:
        route = PrintRoute(warehouse_id=warehouse.id, document_kind=kind, zone_id=zone_id, resource_id=resource_id)
        db.session.add(route)
    route.printer_id = printer.id
    route.printer = printer
    db.session.flush()
    return route


def delete_route(warehouse: Warehouse, route_id: int) -> None:
    """Remove one routing rule of the warehouse."""
    route = db.session.get(PrintRoute, route_id)
    if route is None or route.warehouse_id != warehouse.id:
        raise NotFound(f"No print route {route_id} in {warehouse.code}.")
    db.session.delete(route)
    db.session.flush()
