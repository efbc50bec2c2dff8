"""The last way out for a label: when a ZPL label printer and its ZPL backup both cannot print, the job goes as a
PDF (rendered from its very ZPL, one page per label) to a document printer (CUPS) of the warehouse.

The WMS decides, not the site daemon: the PDF is rendered with wms.labels (the daemon imports nothing from wms),
the choice of a document printer needs the whole site's printers and their statuses, and the job keeps its one
row, so its idempotency key, its history and its exactly-once accounting stay as they are. The daemon only ever
sees a job that now names a PDF printer, and prints it through its CUPS backend like any document.

When is a printer unusable for a job: it is disabled, or its last status (fresh: seen within the stale window)
is one that prints nothing (offline, error, paused, paper/ribbon out, head open), or this job's delivery to it
has failed `PRINT_PDF_FALLBACK_AFTER_FAILURES` times. Checked when the daemon reports a failed delivery
(retry/failed) and when it reports printer statuses; a job with no usable document printer waits, queued, and
says so in its history (it still prints on the Zebra when that one is back).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, func, or_, select

from wms.db import db, utcnow
from wms.enums import PrinterLanguage, PrinterPlace
from wms.labels.pdf import pdf_from_zpl
from wms.labels.preview import PreviewUnavailable
from wms.layout.models import Warehouse
from wms.printing.models import DocumentKind, JobState, Printer, PrintJob, PrintJobEvent

log = logging.getLogger(__name__)
ZPL = "application/vnd.zebra.zpl"
PDF = "application/pdf"
# what a printer in one of these states prints: nothing (buffer_full and unknown are not a verdict)
BLOCKING_STATUSES = frozenset({"offline", "error", "paused", "paper_out", "head_open", "ribbon_out"})
DEFAULT_KINDS = (DocumentKind.CARRIER_LABEL.value,)
DEFAULT_AFTER_FAILURES = 2
DEFAULT_GRACE_SECONDS = 30.0  # a printer's status must have lasted this long to count
WAIT_AFTER_FAILED_SECONDS = 60  # a `failed` report on a job that waits for a printer: asked again after this
ACTOR = "wms"
REROUTED = "rerouted as PDF to document printer "
WAITING = "waiting for a printer: "
_OWN_NOTES = (REROUTED, WAITING, "reprinted as job ")
# the daemon's own `retry` reports that say nothing of the printer (printserver.daemon, printserver.worker)
_NOT_DELIVERY_FAILURES = ("printserver stopped before printing it", "printer unknown after restart",
                          "printserver error; see the daemon log")
STATUS_SCAN_LIMIT = 200  # queued label jobs looked at per status report


# --- the decision (no database) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrinterView:
    """What the decision knows of one printer for one job."""

    code: str
    enabled: bool
    status: str
    status_detail: str | None
    status_fresh: bool
    failures: int  # failed deliveries of this job to it
    status_for_seconds: float = float("inf")  # how long it has had this status


def why_unusable(printer: PrinterView, after_failures: int, grace_seconds: float = 0) -> str | None:
    """Why this printer cannot print the job now, or None when it may (a status counts once it has lasted
    `grace_seconds`: a Zebra being switched off and on is no reason to print on paper sheets)."""
    if not printer.enabled:
        return f"{printer.code} is disabled"
    if printer.status_fresh and printer.status in BLOCKING_STATUSES and printer.status_for_seconds >= grace_seconds:
        detail = f": {printer.status_detail}" if printer.status_detail else ""
        return f"{printer.code} is {printer.status.replace('_', ' ')}{detail}"
    if after_failures and printer.failures >= after_failures:
        return f"{printer.code} failed {printer.failures} deliveries of this job"
    return None


def stranded(label_printers: list[PrinterView], after_failures: int, grace_seconds: float = 0) -> str | None:
    """The reason every label printer of the job (its printer, its backup) is unusable; None if one may print."""
    reasons = []
    for printer in label_printers:
        reason = why_unusable(printer, after_failures, grace_seconds)
        if reason is None:
            return None
        reasons.append(reason)
    return "; ".join(reasons) if reasons else None


_PW = re.compile(rb"\^PW(\d{1,5})")
_LL = re.compile(rb"\^LL(\d{1,5})")


def label_geometry(zpl: bytes) -> tuple[int, int, int]:
    """(width, height, dpi) of the labels in a ZPL job: its ^PW/^LL, else 4x6 in at 203 dpi. A width over 900
    dots is taken as 300 dpi (a 4 in label is 812 dots at 203 dpi, 1200 at 300; the job does not say)."""
    width, height = _PW.search(zpl), _LL.search(zpl)
    w = min(int(width.group(1)), 4000) if width else 812
    h = min(int(height.group(1)), 8000) if height else 1218
    return max(w, 1), max(h, 1), 300 if w > 900 else 203


def render_pdf(zpl: bytes) -> bytes:
    """The job's ZPL as a PDF, one page per label at the label's size (PreviewUnavailable when it cannot)."""
    try:
        source = zpl.decode("ascii")
    except UnicodeDecodeError:
        raise PreviewUnavailable("the ZPL is not plain ASCII; it cannot be rendered to PDF") from None
    width, height, dpi = label_geometry(zpl)
    return pdf_from_zpl(source, width=width, height=height, dpi=dpi)


# --- over the session -----------------------------------------------------------------------------------------

def _kinds() -> frozenset[str]:
    return frozenset(str(k) for k in current_app.config.get("PRINT_PDF_FALLBACK_KINDS", DEFAULT_KINDS))


def _after_failures() -> int:
    return int(current_app.config.get("PRINT_PDF_FALLBACK_AFTER_FAILURES", DEFAULT_AFTER_FAILURES))


def _grace_seconds() -> float:
    return float(current_app.config.get("PRINT_PDF_FALLBACK_GRACE_SECONDS", DEFAULT_GRACE_SECONDS))


def _stale_seconds() -> float:
    from wms.printing.services import DEFAULT_STALE_SECONDS

    return float(current_app.config.get("PRINTER_STALE_SECONDS", DEFAULT_STALE_SECONDS))


def _fresh(printer: Printer, now: dt.datetime) -> bool:
    return printer.last_seen_at is not None and (now - printer.last_seen_at).total_seconds() <= _stale_seconds()


def _lasted(printer: Printer, now: dt.datetime) -> float:
    changed = printer.status_changed_at
    return (now - changed).total_seconds() if changed is not None else float("inf")


def eligible(job: PrintJob) -> bool:
    """A ZPL job of a kind that may fall back to PDF, not finished nor with a daemon."""
    return (job.content_type == ZPL and job.document_kind.value in _kinds()
            and job.state in (JobState.QUEUED, JobState.FAILED))


def _failures(job: PrintJob) -> dict[int, int]:
    """Failed deliveries of this job per printer: the daemon's retry and failed reports (attempt > 0)."""
    detail = PrintJobEvent.detail
    not_a_note = or_(detail.is_(None), and_(*[~detail.startswith(note) for note in _OWN_NOTES],
                                            *[~detail.contains(text) for text in _NOT_DELIVERY_FAILURES]))
    rows = db.session.execute(
        select(PrintJobEvent.printer_id, func.count()).where(
            PrintJobEvent.job_id == job.id, PrintJobEvent.state.in_([JobState.QUEUED, JobState.FAILED]),
            PrintJobEvent.attempt > 0, PrintJobEvent.printer_id.is_not(None), not_a_note)
        .group_by(PrintJobEvent.printer_id))
    return {printer_id: n for printer_id, n in rows}


def label_printers(job: PrintJob) -> list[Printer]:
    """The ZPL printers the daemon may print the job on: its printer and that printer's ZPL backup."""
    printers = [job.printer]
    backup = job.printer.backup
    if backup is not None and backup.language == PrinterLanguage.ZPL and backup.id != job.printer.id:
        printers.append(backup)
    return printers


def document_printer(job: PrintJob, now: dt.datetime) -> Printer | None:
    """The enabled PDF printer to take the job: one standing at the label printer's station first, then an
    office printer, then any other of the warehouse (by code); none whose fresh status prints nothing."""
    station = job.printer.resource_id
    candidates = db.session.scalars(select(Printer).where(
        Printer.warehouse_id == job.warehouse_id, Printer.language == PrinterLanguage.PDF,
        Printer.enabled.is_(True)).order_by(Printer.code))

    def rank(p: Printer) -> tuple[int, int, str]:
        return (0 if station is not None and p.resource_id == station else 1,
                0 if p.place == PrinterPlace.OFFICE else 1, p.code)

    usable = [p for p in candidates if not (_fresh(p, now) and p.status in BLOCKING_STATUSES)]
    return min(usable, key=rank) if usable else None


def reroute_if_stranded(job: PrintJob, *, because: str) -> bool:
    """Move a stranded ZPL label job to a document printer as PDF, or note that it waits; True when moved.

    `because` says what made the WMS look (a daemon's report, a status report), for the job's history."""
    from wms.printing.jobs import _event, _release, notify_jobs

    if not eligible(job):
        return False
    now = utcnow()
    failures = _failures(job)
    views = [PrinterView(p.code, p.enabled, p.status, p.status_detail, _fresh(p, now), failures.get(p.id, 0),
                         _lasted(p, now)) for p in label_printers(job)]
    reason = stranded(views, _after_failures(), _grace_seconds())
    if reason is None:
        return False
    target = document_printer(job, now)
    render_error = None
    if target is not None:
        try:
            pdf = render_pdf(job.payload)
        except PreviewUnavailable as exc:
            render_error, target = exc.detail, None
        except Exception as exc:  # a label the renderer chokes on must not break the daemon's report
            log.exception("job %s: its ZPL could not be rendered to PDF", job.id)
            render_error, target = f"{exc.__class__.__name__}: {exc}"[:300], None
    if target is None:
        _wait(job, reason, render_error, because, now)
        return False
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    was = job.printer.code
    job.printer_id, job.printer = target.id, target
    job.payload, job.content_type = pdf, PDF
    job.state, job.not_before, job.finished_at = JobState.QUEUED, None, None
    job.last_error = f"no label printer can print it ({reason}); rerouted as PDF to {target.code}"
    _release(job)
    _event(job, JobState.QUEUED, actor=ACTOR, printer_id=target.id,
           detail=f"{REROUTED}{target.code} ({target.connection}, {max(pages, 1)} page(s), was {was}) after "
                  f"{because}: {reason}")
    db.session.flush()
    notify_jobs(job.warehouse_id)
    return True


def _wait(job: PrintJob, reason: str, render_error: str | None, because: str, now: dt.datetime) -> None:
    """No document printer (or no PDF): the job stays queued for its label printers and says why, once."""
    from wms.printing.jobs import _event, _release

    warehouse = db.session.get(Warehouse, job.warehouse_id)
    code = warehouse.code if warehouse is not None else str(job.warehouse_id)
    why = (f"its label could not be made into a PDF ({render_error})" if render_error
           else f"no document printer (PDF) of {code} can take it")
    note = f"{WAITING}{why}; it prints on its label printer when one is back"
    job.last_error = f"no label printer can print it ({reason}); {why}: waiting"
    if job.state == JobState.FAILED:  # never given up while it waits for a printer
        job.state, job.finished_at = JobState.QUEUED, None
        job.not_before = now + dt.timedelta(seconds=WAIT_AFTER_FAILED_SECONDS)
        _release(job)
    elif any((e.detail or "").startswith(note) for e in job.events):
        db.session.flush()
        return
    _event(job, JobState.QUEUED, actor=ACTOR, detail=f"{note} (after {because}: {reason})")
    db.session.flush()


def after_failures(jobs: Iterable[PrintJob], daemon_id: str) -> None:
    """After a daemon's retry/failed reports: reroute those of the jobs that no label printer can print."""
    for job in jobs:
        if eligible(job):
            reroute_if_stranded(job, because=f"{daemon_id} reported a failed delivery")


def after_status(warehouse_id: int, daemon_id: str, printers: list[Printer]) -> None:
    """After a status report: queued label jobs whose printers now all print nothing move (or say they wait).

    Looked at only when the report says some printer prints nothing, or that a document printer is ready; only
    the jobs meant for a label printer that prints nothing by its status (failing deliveries are the reports')."""
    if not any(p.status in BLOCKING_STATUSES or (p.language == PrinterLanguage.PDF and p.status == "ready")
               for p in printers):
        return
    now = utcnow()
    blocked = [p.id for p in db.session.scalars(select(Printer).where(
        Printer.warehouse_id == warehouse_id, Printer.language == PrinterLanguage.ZPL))
        if not p.enabled or (_fresh(p, now) and p.status in BLOCKING_STATUSES)]
    if not blocked:
        return
    query = (select(PrintJob).where(
        PrintJob.warehouse_id == warehouse_id, PrintJob.state == JobState.QUEUED, PrintJob.content_type == ZPL,
        PrintJob.printer_id.in_(blocked), PrintJob.document_kind.in_([DocumentKind(k) for k in _kinds()]))
        .order_by(PrintJob.id).limit(STATUS_SCAN_LIMIT))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=PrintJob)  # a job being claimed is left to its report
    for job in db.session.scalars(query.execution_options(populate_existing=True)).all():
        reroute_if_stranded(job, because=f"{daemon_id} reported printer status")
