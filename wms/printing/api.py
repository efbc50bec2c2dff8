"""Printing API: the site daemon's claim/lease/report/status calls (print_site tokens), and supervisors' fleet,
job, reprint, cancel, preview and routing operations."""

from __future__ import annotations

import base64
import re

from flask import Response, current_app, request
from pydantic import BaseModel, Field
from sqlalchemy import select

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.auth.models import User
from wms.db import db
from wms.enums import TokenPurpose
from wms.errors import Conflict, Forbidden
from wms.labels.preview import png_or_placeholder
from wms.layout.models import Resource, Warehouse
from wms.printing import jobs, services
from wms.printing import schemas as s
from wms.printing.models import Printer, PrintJob
from wms.printing.wakeup import wait_for_claimable

SITE = ("print_site",)
SUPERVISORS = ("supervisor",)


def _site_warehouse_id() -> int:
    """The one warehouse of the calling print-site token; anyone else is refused."""
    p = _principal()
    if p.purpose != TokenPurpose.PRINT_SITE or not p.warehouse_ids or len(p.warehouse_ids) != 1:
        raise Forbidden("Only a print-site token (one site daemon) can call this operation.")
    (warehouse_id,) = p.warehouse_ids
    return warehouse_id


def _user() -> User | None:
    p = _principal()
    return db.session.get(User, p.user_id) if p.user_id else None


def lease_seconds() -> int:
    return int(current_app.config.get("PRINT_LEASE_SECONDS", jobs.DEFAULT_LEASE_SECONDS))


# --- shaping ---------------------------------------------------------------------------------------------------

def _printer_out(printer: Printer) -> s.PrinterOut:
    return s.PrinterOut(code=printer.code, name=printer.name, connection=printer.connection,
                        language=printer.language.value, enabled=printer.enabled)


def job_out(job: PrintJob) -> s.JobOut:
    return s.JobOut(
        id=job.id, reference=job.reference, document_kind=job.document_kind.value, content_type=job.content_type,
        payload_b64=base64.b64encode(job.payload).decode("ascii"), copies=job.copies, attempt=job.attempts,
        possible_duplicate=job.possible_duplicate, lease_expires_at=job.lease_expires_at,
        printer=_printer_out(job.printer), backup=_printer_out(job.printer.backup) if job.printer.backup else None,
        state=job.state.value,
    )


def job_summary(job: PrintJob, warehouse_code: str) -> dict:  # type: ignore[type-arg]
    return dict(
        id=job.id, warehouse=warehouse_code, reference=job.reference, document_kind=job.document_kind.value,
        content_type=job.content_type, copies=job.copies, state=job.state.value, printer=job.printer.code,
        printed_by=job.printed_by.code if job.printed_by else None, attempts=job.attempts,
        possible_duplicate=job.possible_duplicate, last_error=job.last_error, reprint_of=job.reprint_of_id,
        created_at=job.created_at, updated_at=job.updated_at, finished_at=job.finished_at,
    )


def job_detail(job: PrintJob) -> s.JobDetailOut:
    warehouse = db.session.get(Warehouse, job.warehouse_id)
    assert warehouse is not None
    printers = {p.id: p.code for p in db.session.scalars(select(Printer).where(
        Printer.warehouse_id == job.warehouse_id))}
    return s.JobDetailOut(
        **job_summary(job, warehouse.code), lease_owner=job.lease_owner, lease_expires_at=job.lease_expires_at,
        not_before=job.not_before,
        events=[s.JobEventOut(at=e.at, state=e.state.value, printer=printers.get(e.printer_id or 0),
                              attempt=e.attempt, detail=e.detail, actor=e.actor) for e in job.events],
    )


def _site_printer_out(printer: Printer) -> s.SitePrinterOut:
    return s.SitePrinterOut(**_printer_out(printer).model_dump(), backup=printer.backup.code if printer.backup else None,
                            status=printer.status, place=printer.place.value,
                            zone=printer.zone.code if printer.zone else None)


# --- the site daemon -------------------------------------------------------------------------------------------

def _wait_before_claim(body: s.ClaimIn) -> None:
    """Long-poll outside the transaction that records the idempotency key; a replayed key answers at once."""
    from wms.idempotency import HEADER
    from wms.idempotency_models import IdempotencyRecord

    warehouse_id = _site_warehouse_id()
    if body.wait_seconds <= 0:
        return
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return  # refused at once (428) by the idempotent apply
    if db.session.scalar(select(IdempotencyRecord.key).where(
            IdempotencyRecord.scope == _principal().scope_key, IdempotencyRecord.key == key)) is not None:
        return
    wait_for_claimable(warehouse_id, body.wait_seconds)


@operation("/print/claim", "POST", summary="Claim print jobs with a lease (long-poll)", tags=["print site"],
           body=s.ClaimIn, response=s.ClaimOut, purposes=SITE, idempotent=True, prepare=_wait_before_claim)
def claim_print_jobs(body: s.ClaimIn) -> s.ClaimOut:
    """Leases up to `max_jobs` jobs of the token's site, oldest first: queued ones whose backoff has passed, and
    claimed ones whose lease expired (those come back with `possible_duplicate` true: the earlier holder may
    have printed them). With `wait_seconds`, waits up to that long for work when there is none."""
    warehouse_id = _site_warehouse_id()
    lease = lease_seconds()
    claimed = jobs.claim_jobs(warehouse_id, body.daemon_id, body.max_jobs, lease)
    # The site's printers in one query, held while the answer is built: each job's printer and backup then come
    # from the identity map (weakly referenced: a discarded list would be forgotten) instead of one query each.
    site_printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == warehouse_id))) \
        if claimed else []
    answer = s.ClaimOut(lease_seconds=lease, jobs=[job_out(j) for j in claimed])
    del site_printers
    return answer


def _site_job(job_id: int) -> PrintJob:
    return jobs.get_job(_site_warehouse_id(), job_id)


@operation("/print/jobs/<int:job_id>/lease", "POST", summary="Renew the lease of a claimed job",
           tags=["print site"], body=s.LeaseIn, response=s.JobOut, purposes=SITE, idempotent=True, errors=(409,))
def renew_print_lease(job_id: int, body: s.LeaseIn) -> s.JobOut:
    """409 when the calling daemon does not hold the job (another claimed it after the lease expired, or a
    supervisor cancelled it): stop working on it."""
    job = _site_job(job_id)
    return job_out(jobs.renew_lease(job, body.daemon_id, lease_seconds()))


@operation("/print/jobs/<int:job_id>/report", "POST", summary="Report what happened to a job", tags=["print site"],
           body=s.ReportIn, response=s.JobOut, purposes=SITE, idempotent=True, errors=(409,))
def report_print_job(job_id: int, body: s.ReportIn) -> s.JobOut:
    """`sent`: bytes delivered, the lease is kept. `printed`: done, by `printer_code` (maybe the backup).
    `retry`: queued again after `retry_after_seconds`, with `detail` as the reason. `failed`: given up, visible
    to supervisors with `detail`. A report on a finished job answers its state and changes nothing; a report
    from a daemon that does not hold the lease is refused (409). After a `retry` or `failed` report on a carrier
    label that neither its ZPL printer nor that printer's ZPL backup can print, the job answered is queued again as
    a PDF on a document (CUPS) printer of the site, or queued waiting for a printer when there is none."""
    job = _site_job(job_id)
    jobs.report(job, body.daemon_id, body.outcome, body.printer_code, body.detail, body.retry_after_seconds,
                body.possible_duplicate)
    return job_out(job)


@operation("/print/reports", "POST", summary="Report what happened to many jobs in one call", tags=["print site"],
           body=s.BatchReportIn, response=s.BatchReportOut, purposes=SITE, idempotent=True)
def report_print_jobs(body: s.BatchReportIn) -> s.BatchReportOut:
    """The same as one `/print/jobs/<id>/report` per item, applied in the given order, each item once per its
    own `key` (a replayed item answers what it answered the first time and changes nothing). Items are applied
    or refused one by one: a refused item (404 unknown job, 409 lease not held) does not undo the others."""
    from wms.printing.batch_reports import apply_reports

    return s.BatchReportOut(results=apply_reports(_site_warehouse_id(), _principal().scope_key, body))


@operation("/print/printers/status", "POST", summary="Report the status of the site's printers",
           tags=["print site"], body=s.StatusIn, response=s.SitePrintersOut, purposes=SITE, idempotent=True)
def report_printer_status(body: s.StatusIn) -> s.SitePrintersOut:
    """Sets each printer's status, detail and last-seen time (and when the status changed). All or nothing:
    an unknown printer code refuses the whole report (422). Queued carrier labels whose ZPL printer and backup
    now both print nothing move to a document printer as PDF."""
    warehouse_id = _site_warehouse_id()
    printers = jobs.record_printer_status(warehouse_id, body.daemon_id, [
        jobs.PrinterStatusReport(p.code, p.status, p.detail) for p in body.printers])
    return s.SitePrintersOut(printers=[_site_printer_out(p) for p in printers])


@operation("/print/printers", "GET", summary="The site's printers (the daemon's configuration)",
           tags=["print site"], response=s.SitePrintersOut, purposes=SITE)
def site_printers() -> s.SitePrintersOut:
    """Every printer of the token's site with its connection, language, backup, status and place."""
    warehouse_id = _site_warehouse_id()
    printers = db.session.scalars(select(Printer).where(Printer.warehouse_id == warehouse_id).order_by(Printer.code))
    return s.SitePrintersOut(printers=[_site_printer_out(p) for p in printers])


# --- supervisors -----------------------------------------------------------------------------------------------

def fleet_out(warehouse: Warehouse) -> list[s.FleetPrinterOut]:
    stale = float(current_app.config.get("PRINTER_STALE_SECONDS", services.DEFAULT_STALE_SECONDS))
    out = []
    for row in services.fleet(warehouse, stale_seconds=stale):
        p = row.printer
        resource = p.resource_id and db.session.get(Resource, p.resource_id)
        out.append(s.FleetPrinterOut(
            code=p.code, name=p.name, place=p.place.value, zone=p.zone.code if p.zone else None,
            resource=resource.code if resource else None, language=p.language.value, connection=p.connection,
            enabled=p.enabled, backup=p.backup.code if p.backup else None, status=p.status, health=row.health,
            status_detail=p.status_detail, last_seen_at=p.last_seen_at, status_changed_at=p.status_changed_at,
            jobs_waiting=row.waiting, jobs_in_progress=row.in_progress, jobs_failed=row.failed))
    return out


@operation("/warehouses/<code>/printers", "GET", summary="The printer fleet with status and waiting jobs",
           tags=["printing"], response=list[s.FleetPrinterOut], roles=SUPERVISORS)
def printer_fleet(code: str) -> list[s.FleetPrinterOut]:
    """Each printer's last status, its health (a status not confirmed lately is `unknown`), when it was last
    seen, and its queued, in-progress and failed jobs."""
    return fleet_out(_warehouse(code))


@operation("/warehouses/<code>/printers/<printer>/test", "POST", summary="Queue a test label on a printer",
           tags=["printing"], response=s.JobDetailOut, status=201, roles=SUPERVISORS, idempotent=True,
           errors=(409,))
def queue_printer_test(code: str, printer: str) -> s.JobDetailOut:
    """A label naming the printer with a Code 128 (a one-page PDF on document printers)."""
    warehouse = _warehouse(code)
    target = jobs.printer_by_code(warehouse.id, printer)
    key = request.headers.get("Idempotency-Key", "")
    return job_detail(services.queue_test_label(target, _user(), key))


@operation("/warehouses/<code>/print-jobs", "GET", summary="Print jobs of a warehouse, newest first",
           tags=["printing"], query=s.JobsQuery, response=list[s.JobSummaryOut], roles=SUPERVISORS)
def list_print_jobs(code: str, query: s.JobsQuery) -> list[s.JobSummaryOut]:
    """Filter by `state` and by `printer` (jobs meant for it or printed by it)."""
    warehouse = _warehouse(code)
    found = services.list_jobs(warehouse, state=query.state, printer_code=query.printer, limit=query.limit)
    return [s.JobSummaryOut(**job_summary(j, warehouse.code)) for j in found]


def _supervised_job(job_id: int) -> PrintJob:
    job = jobs.get_job(None, job_id)
    _principal().require_warehouse(job.warehouse_id)
    return job


@operation("/print-jobs/<int:job_id>", "GET", summary="A print job with its history", tags=["printing"],
           response=s.JobDetailOut, roles=SUPERVISORS)
def read_print_job(job_id: int) -> s.JobDetailOut:
    """Every event: queued, each claim and attempt, failures with their reason, the printer used, reprints."""
    return job_detail(_supervised_job(job_id))


@operation("/print-jobs/<int:job_id>/reprint", "POST", summary="Print a job again", tags=["printing"],
           response=s.JobDetailOut, status=201, roles=SUPERVISORS, idempotent=True, errors=(409,))
def reprint_print_job(job_id: int) -> s.JobDetailOut:
    """A new job with the same document on the same printer, pointing at the original (`reprint_of`)."""
    job = _supervised_job(job_id)
    key = request.headers.get("Idempotency-Key", "")
    new = jobs.reprint(job, _user(), idempotency_key=f"reprint:{job.id}:{_principal().scope_key}:{key}"[:200])
    return job_detail(new)


@operation("/print-jobs/<int:job_id>/cancel", "POST", summary="Cancel a job not yet sent to the printer",
           tags=["printing"], response=s.JobDetailOut, roles=SUPERVISORS, idempotent=True, errors=(409,))
def cancel_print_job(job_id: int) -> s.JobDetailOut:
    """Queued or claimed jobs only (409 once the bytes reached the printer); the daemon's later report on it
    changes nothing."""
    return job_detail(jobs.cancel(_supervised_job(job_id), _user()))


class PreviewQuery(BaseModel):
    model_config = {"extra": "forbid"}
    page: int = Field(default=1, ge=1, le=1000, description="which label of the job, 1 first")


_PW = re.compile(rb"\^PW(\d{1,5})")
_LL = re.compile(rb"\^LL(\d{1,5})")


def preview_png(job: PrintJob, page: int = 1) -> bytes:
    """The job's own bytes rendered to PNG (ZPL jobs); the label size comes from its ^PW/^LL."""
    if job.content_type != jobs.ZPL:
        raise Conflict(f"Job {job.id} is {job.content_type}; only ZPL jobs have a PNG preview.")
    width, height = _PW.search(job.payload), _LL.search(job.payload)
    w = min(int(width.group(1)), 4000) if width else 812
    h = min(int(height.group(1)), 8000) if height else 1218
    # A screen preview never fails: what zplkit cannot draw is redrawn or replaced by a placeholder page.
    source = job.payload.decode("ascii", "replace").replace("\ufffd", "?")
    rendered = png_or_placeholder(source, width=max(w, 1), height=max(h, 1), dpi=203)
    if not 1 <= page <= len(rendered.pages):
        raise Conflict(f"Job {job.id} has {len(rendered.pages)} label(s); there is no label {page}.")
    return rendered.pages[page - 1]


@operation("/print-jobs/<int:job_id>/preview.png", "GET", summary="PNG preview of a job's label",
           tags=["printing"], query=PreviewQuery, roles=SUPERVISORS, errors=(409,))
def preview_print_job(job_id: int, query: PreviewQuery) -> Response:
    """Rendered from the very ZPL bytes queued for the printer (image/png)."""
    png = preview_png(_supervised_job(job_id), query.page)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


def routes_out(warehouse: Warehouse) -> s.RoutesOut:
    out = []
    for route in services.list_routes(warehouse):
        zone, resource = services.route_place(route)
        out.append(s.RouteOut(document_kind=route.document_kind.value, zone=zone, resource=resource,
                              printer=route.printer.code))
    return s.RoutesOut(routes=out)


@operation("/warehouses/<code>/print-routes", "GET", summary="Which printer prints which document where",
           tags=["printing"], response=s.RoutesOut, roles=SUPERVISORS)
def read_print_routes(code: str) -> s.RoutesOut:
    """A rule with neither zone nor resource is the warehouse default for its kind. Without a rule, a zone's
    documents go to the printer at its head and a resource's to the printer standing at it."""
    return routes_out(_warehouse(code))


@operation("/warehouses/<code>/print-routes", "PUT", summary="Replace the routing rules", tags=["printing"],
           body=s.RoutesIn, response=s.RoutesOut, roles=SUPERVISORS, idempotent=True)
def replace_print_routes(code: str, body: s.RoutesIn) -> s.RoutesOut:
    """The warehouse's rules become exactly these; unknown zones, resources or printers refuse them all."""
    warehouse = _warehouse(code)
    services.replace_routes(warehouse, [services.RouteSpec(r.document_kind, r.zone, r.resource, r.printer)
                                        for r in body.routes])
    return routes_out(warehouse)

