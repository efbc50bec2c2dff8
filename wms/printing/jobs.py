"""The print job queue: route a document to a printer, queue it, lease it to the site daemon, record every step.

Plain functions over ``db.session`` (add/flush, never commit). Every state change writes a PrintJobEvent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, case, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from wms.auth.models import User
from wms.db import db, utcnow
from wms.enums import PrinterLanguage, PrinterPlace
from wms.errors import Conflict, DomainError, NoPrinter, NotFound, ValidationFailed
from wms.layout.models import Resource, Zone
from wms.printing.models import DocumentKind, JobState, Printer, PrintJob, PrintJobEvent, PrintRoute

ZPL = "application/vnd.zebra.zpl"
PDF = "application/pdf"
CONTENT_TYPE_OF_LANGUAGE = {PrinterLanguage.ZPL: ZPL, PrinterLanguage.PDF: PDF}
NOTIFY_CHANNEL = "print_jobs"
DEFAULT_LEASE_SECONDS = 60
MAX_LEASE_SECONDS = 3600
MAX_CLAIM = 500  # jobs per claim
FINAL_STATES = (JobState.PRINTED, JobState.FAILED, JobState.CANCELLED)
PRINTER_STATUSES = ("ready", "paper_out", "head_open", "ribbon_out", "paused", "buffer_full", "offline", "error",
                    "unknown")


class Outcome(StrEnum):
    SENT = "sent"
    PRINTED = "printed"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class PrinterStatusReport:
    code: str
    status: str
    detail: str | None = None


# --- routing -----------------------------------------------------------------------------------------------

def _place_name(zone: Zone | None, resource: Resource | None) -> str:
    if zone is not None:
        return f"zone {zone.code}"
    if resource is not None:
        return f"{resource.kind.value.replace('_', ' ')} {resource.code}"
    return "this warehouse"


def _route(warehouse_id: int, kind: DocumentKind, zone_id: int | None, resource_id: int | None) -> PrintRoute | None:
    """The rule for the place if there is one, else the warehouse default rule for the kind (one query)."""
    default = and_(PrintRoute.zone_id.is_(None), PrintRoute.resource_id.is_(None))
    if zone_id is not None:
        place = or_(PrintRoute.zone_id == zone_id, default)
    elif resource_id is not None:
        place = or_(PrintRoute.resource_id == resource_id, default)
    else:
        place = default
    # the place's own rule sorts first: it has a zone or a resource
    specific = case((default, 1), else_=0)
    return db.session.scalar(select(PrintRoute).options(joinedload(PrintRoute.printer)).where(
        PrintRoute.warehouse_id == warehouse_id, PrintRoute.document_kind == kind, place,
    ).order_by(specific).limit(1))


def _usable(printer: Printer, kind: DocumentKind, where: str) -> Printer:
    """The printer itself when enabled, else its enabled backup; NoPrinter when neither can take the job."""
    if printer.enabled:
        return printer
    if printer.backup is not None and printer.backup.enabled:
        return printer.backup
    raise NoPrinter(f"Printer {printer.code} prints {kind.value.replace('_', ' ')} documents at {where}, but it is "
                    "disabled and has no enabled backup.", printer=printer.code)


def resolve_printer(warehouse_id: int, kind: DocumentKind, *, zone_id: int | None = None,
                    resource_id: int | None = None) -> Printer:
    """The printer for a kind of document at a place: route for the place, warehouse default route, printer there."""
    kind = DocumentKind(kind)
    if zone_id is not None and resource_id is not None:
        raise ValidationFailed("A document prints at a zone or at a resource, not both.",
                               errors=[{"field": "resource_id", "message": "give zone_id or resource_id"}])
    zone = resource = None
    if zone_id is not None:
        zone = db.session.get(Zone, zone_id)
        if zone is None or zone.warehouse_id != warehouse_id:
            raise NotFound(f"No zone {zone_id} in this warehouse.")
    if resource_id is not None:
        resource = db.session.get(Resource, resource_id)
        if resource is None or resource.warehouse_id != warehouse_id:
            raise NotFound(f"No resource {resource_id} in this warehouse.")
    where = _place_name(zone, resource)
    route = _route(warehouse_id, kind, zone_id, resource_id)
    if route is not None:
        return _usable(route.printer, kind, where)
    printer = None
    if zone is not None:
        printer = db.session.scalar(select(Printer).where(
            Printer.warehouse_id == warehouse_id, Printer.zone_id == zone.id, Printer.place == PrinterPlace.RACK_HEAD,
        ).order_by(Printer.enabled.desc(), Printer.code).limit(1))
    elif resource is not None:
        printer = db.session.scalar(select(Printer).where(
            Printer.warehouse_id == warehouse_id, Printer.resource_id == resource.id,
        ).order_by(Printer.enabled.desc(), Printer.code).limit(1))
    if printer is None:
        raise NoPrinter(f"No printer is routed for {kind.value.replace('_', ' ')} documents at {where}, and none "
                        "stands there. Add a print route or a printer at that place.", place=where)
    return _usable(printer, kind, where)


# --- events and notification -------------------------------------------------------------------------------

def _event(job: PrintJob, state: JobState, *, actor: str | None, detail: str | None = None,
           printer_id: int | None = None) -> PrintJobEvent:
    event = PrintJobEvent(job=job, state=state, printer_id=printer_id or job.printer_id, attempt=job.attempts,
                          detail=detail, actor=actor, at=utcnow())
    db.session.add(event)
    return event


def _user_name(user: User | None) -> str | None:
    return user.username if user is not None else None


def notify_jobs(warehouse_id: int) -> None:
    """Wake long-polling claimers of this warehouse (PostgreSQL delivers the NOTIFY at commit; a rollback drops it)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_notify(:channel, :payload)"),
                           {"channel": NOTIFY_CHANNEL, "payload": str(warehouse_id)})


# --- enqueue -----------------------------------------------------------------------------------------------

def _check_text(name: str, value: str, limit: int) -> None:
    if not value or not value.strip() or len(value) > limit or "\x00" in value:
        raise ValidationFailed(f"The {name.replace('_', ' ')} must be 1 to {limit} characters.",
                               errors=[{"field": name, "message": f"1 to {limit} characters, no NUL"}])


def _existing(warehouse_id: int, idempotency_key: str) -> PrintJob | None:
    return db.session.scalar(select(PrintJob).where(
        PrintJob.warehouse_id == warehouse_id, PrintJob.idempotency_key == idempotency_key))


def enqueue_job(*, warehouse_id: int, kind: DocumentKind, reference: str, payload: bytes, content_type: str,
                idempotency_key: str, printer: Printer | None = None, zone_id: int | None = None,
                resource_id: int | None = None, copies: int = 1, wave_id: int | None = None,
                pick_order_id: int | None = None, created_by_id: int | None = None,
                reprint_of_id: int | None = None, actor: str | None = None) -> PrintJob:
    """Queue a document once per idempotency key in the warehouse (flush, no commit) and wake the daemon."""
    kind = DocumentKind(kind)
    _check_text("idempotency_key", idempotency_key, 200)
    existing = _existing(warehouse_id, idempotency_key)
    if existing is not None:
        return existing
    _check_text("reference", reference, 120)
    if not payload:
        raise ValidationFailed("A print job needs a document to print.",
                               errors=[{"field": "payload", "message": "empty"}])
    if not 1 <= copies <= 100:
        raise ValidationFailed("Copies must be between 1 and 100.", errors=[{"field": "copies", "message": "1..100"}])
    if printer is None:
        printer = resolve_printer(warehouse_id, kind, zone_id=zone_id, resource_id=resource_id)
    elif printer.warehouse_id != warehouse_id:
        raise ValidationFailed(f"Printer {printer.code} belongs to another warehouse.",
                               errors=[{"field": "printer", "message": "other warehouse"}])
    if CONTENT_TYPE_OF_LANGUAGE[printer.language] != content_type:
        raise NoPrinter(f"Printer {printer.code} speaks {printer.language.value.upper()}, but the "
                        f"{kind.value.replace('_', ' ')} {reference} is {content_type}.", printer=printer.code)
    job = PrintJob(warehouse_id=warehouse_id, printer_id=printer.id, printer=printer, document_kind=kind,
                   reference=reference, idempotency_key=idempotency_key, content_type=content_type,
                   payload=payload, copies=copies, state=JobState.QUEUED, attempts=0, wave_id=wave_id,
                   pick_order_id=pick_order_id, created_by_id=created_by_id, reprint_of_id=reprint_of_id)
    detail = f"queued for {printer.code}" + (f" (reprint of job {reprint_of_id})" if reprint_of_id else "")
    if db.session.get_bind().dialect.name == "postgresql":
        # A concurrent twin with the same key may commit first: fall back to its job instead of failing.
        try:
            with db.session.begin_nested():
                db.session.add(job)
                _event(job, JobState.QUEUED, actor=actor, detail=detail)
                db.session.flush()
        except IntegrityError:
            existing = _existing(warehouse_id, idempotency_key)
            if existing is None:
                raise
            return existing
    else:
        db.session.add(job)
        _event(job, JobState.QUEUED, actor=actor, detail=detail)
        db.session.flush()
    notify_jobs(warehouse_id)
    return job


# --- the daemon's side: claim, lease, report -----------------------------------------------------------------

def claimable_filter(warehouse_id: int, now: dt.datetime):  # type: ignore[no-untyped-def]
    """Queued and due, or claimed by a daemon whose lease ran out; never ahead of an older job of the same
    printer that waits for its retry (labels come out of a printer in the order they were queued)."""
    earlier = aliased(PrintJob)
    older_job_backing_off = (
        select(earlier.id)
        # warehouse_id lets the claimable index (warehouse, state, not_before) find the few jobs in backoff
        # instead of walking the printer's whole history
        .where(earlier.warehouse_id == PrintJob.warehouse_id, earlier.printer_id == PrintJob.printer_id,
               earlier.id < PrintJob.id, earlier.state == JobState.QUEUED, earlier.not_before > now)
        .exists()
    )
    return and_(
        PrintJob.warehouse_id == warehouse_id,
        or_(
            and_(PrintJob.state == JobState.QUEUED, or_(PrintJob.not_before.is_(None), PrintJob.not_before <= now)),
            and_(PrintJob.state == JobState.CLAIMED, PrintJob.lease_expires_at < now),
        ),
        ~older_job_backing_off,
    )


def has_claimable(warehouse_id: int) -> bool:
    """Whether a claim would find work now (a cheap read, no locks)."""
    return db.session.scalar(select(PrintJob.id).where(claimable_filter(warehouse_id, utcnow())).limit(1)) is not None


def _check_daemon(daemon_id: str) -> None:
    _check_text("daemon_id", daemon_id, 120)


def _check_lease_seconds(lease_seconds: float) -> None:
    if not 1 <= lease_seconds <= MAX_LEASE_SECONDS:
        raise ValidationFailed(f"A lease lasts 1 to {MAX_LEASE_SECONDS} seconds.",
                               errors=[{"field": "lease_seconds", "message": f"1..{MAX_LEASE_SECONDS}"}])


def claim_jobs(warehouse_id: int, daemon_id: str, max_jobs: int = 10,
               lease_seconds: float = DEFAULT_LEASE_SECONDS) -> list[PrintJob]:
    """Lease up to max_jobs claimable jobs to a daemon, oldest first; a re-claimed expired lease is a possible duplicate.

    Set-based, as a site daemon claims hundreds of jobs a second: the jobs are picked and row-locked (skipping
    those another claimer holds) in one SELECT, leased in one UPDATE, their CLAIMED events written in one INSERT,
    then read back as objects (any copy already in the session is refreshed)."""
    _check_daemon(daemon_id)
    _check_lease_seconds(lease_seconds)
    if not 1 <= max_jobs <= MAX_CLAIM:
        raise ValidationFailed(f"Claim 1 to {MAX_CLAIM} jobs at a time.",
                               errors=[{"field": "max_jobs", "message": f"1..{MAX_CLAIM}"}])
    db.session.flush()
    now = utcnow()
    query = (select(PrintJob.id, PrintJob.state, PrintJob.lease_owner, PrintJob.lease_expires_at,
                    PrintJob.attempts, PrintJob.printer_id)
             .where(claimable_filter(warehouse_id, now)).order_by(PrintJob.id).limit(max_jobs))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=PrintJob)
    rows = db.session.execute(query).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    db.session.execute(
        update(PrintJob).where(PrintJob.id.in_(ids)).values(
            state=JobState.CLAIMED, lease_owner=daemon_id, lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            not_before=None, attempts=PrintJob.attempts + 1, updated_at=now,
            # the right-hand side reads the row before the update: an expired lease's job is claimed again
            possible_duplicate=or_(PrintJob.possible_duplicate, PrintJob.state == JobState.CLAIMED),
        ).execution_options(synchronize_session=False))
    events = []
    for row in rows:
        detail = None
        if row.state == JobState.CLAIMED:
            detail = (f"the lease of {row.lease_owner} expired at {row.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC; "
                      "it may have printed, so this attempt is marked as a possible duplicate")
        events.append({"job_id": row.id, "state": JobState.CLAIMED, "printer_id": row.printer_id,
                       "attempt": row.attempts + 1, "detail": detail, "actor": daemon_id, "at": now})
    db.session.execute(insert(PrintJobEvent.__table__), events)  # Core: no ids to read back
    for job_id in ids:  # copies loaded before the UPDATE are stale, their events too
        held = db.session.identity_map.get(db.session.identity_key(PrintJob, job_id))
        if held is not None:
            db.session.expire(held)
    return list(db.session.scalars(select(PrintJob).where(PrintJob.id.in_(ids)).order_by(PrintJob.id)))


def _holder(job: PrintJob) -> str | None:
    """The daemon holding the job: the lease owner while claimed; the last claimer while sent (no owner column then)."""
    if job.state == JobState.CLAIMED:
        return job.lease_owner
    if job.state == JobState.SENT:
        return db.session.scalar(select(PrintJobEvent.actor).where(
            PrintJobEvent.job_id == job.id, PrintJobEvent.state == JobState.CLAIMED,
        ).order_by(PrintJobEvent.id.desc()).limit(1))
    return None


def _check_holder(job: PrintJob, holder: str | None, daemon_id: str) -> None:
    if holder != daemon_id:
        held = f"held by {holder}" if holder else f"{job.state.value}, held by no daemon"
        raise Conflict(f"Job {job.id} is {held}; {daemon_id} does not hold its lease.", job_state=job.state.value)


def _require_holder(job: PrintJob, daemon_id: str) -> None:
    _check_holder(job, _holder(job), daemon_id)


def renew_lease(job: PrintJob, daemon_id: str, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> PrintJob:
    """Extend the lease of the daemon holding the job; Conflict when it does not hold it."""
    _check_daemon(daemon_id)
    _check_lease_seconds(lease_seconds)
    _require_holder(job, daemon_id)
    job.lease_expires_at = utcnow() + dt.timedelta(seconds=lease_seconds)
    db.session.flush()
    return job


def printer_by_code(warehouse_id: int, code: str) -> Printer:
    """A printer of the warehouse by its code (NotFound otherwise)."""
    printer = db.session.scalar(select(Printer).where(Printer.warehouse_id == warehouse_id, Printer.code == code))
    if printer is None:
        raise NotFound(f"No printer {code!r} in this warehouse.")
    return printer


def lock_job(job: PrintJob) -> PrintJob:
    """Take the job's row lock and re-read it: changes to one job apply one after the other, each to the state the
    previous one left (two reports of one job at once apply once)."""
    db.session.scalar(select(PrintJob).where(PrintJob.id == job.id).with_for_update()
                      .execution_options(populate_existing=True))
    return job


def _retry_replayed(job: PrintJob, outcome: Outcome, daemon_id: str) -> bool:
    """A `retry` from the daemon whose `retry` queued the job again, nobody having claimed it since: the same news
    twice (the first released the lease, so the holder check would refuse it)."""
    if outcome != Outcome.RETRY or job.state != JobState.QUEUED:
        return False
    last = db.session.execute(select(PrintJobEvent.state, PrintJobEvent.actor).where(PrintJobEvent.job_id == job.id)
                              .order_by(PrintJobEvent.id.desc()).limit(1)).first()
    return last is not None and last.state == JobState.QUEUED and last.actor == daemon_id


def report(job: PrintJob, daemon_id: str, outcome: Outcome | str, printer_code: str, detail: str | None = None,
           retry_after_seconds: float | None = None, possible_duplicate: bool = False) -> PrintJob:
    """Apply the daemon's report on a job it holds; a report on a finished job changes nothing (replay)."""
    outcome = Outcome(outcome)
    _check_daemon(daemon_id)
    lock_job(job)
    if job.state in FINAL_STATES:
        if job.state == JobState.CANCELLED and outcome in (Outcome.SENT, Outcome.PRINTED):
            _late_report_on_cancelled(job, daemon_id, outcome, printer_code)
        return job
    if _retry_replayed(job, outcome, daemon_id):
        return job
    _require_holder(job, daemon_id)
    printer = db.session.scalar(select(Printer).where(
        Printer.warehouse_id == job.warehouse_id, Printer.code == printer_code))
    change = _apply_report(job, outcome, printer, printer_code, lambda: job.printer.code, detail,
                           retry_after_seconds, possible_duplicate)
    if change is not None:
        _event(job, job.state, actor=daemon_id, detail=change[0], printer_id=change[1])
    db.session.flush()
    if change is not None and outcome in (Outcome.RETRY, Outcome.FAILED):
        from wms.printing import fallback

        fallback.after_failures([job], daemon_id)
    return job


def _apply_report(job: PrintJob, outcome: Outcome, printer: Printer | None, printer_code: str,
                  meant_for: Callable[[], str], detail: str | None, retry_after_seconds: float | None,
                  possible_duplicate: bool) -> tuple[str | None, int] | None:
    """The state change of a report by the job's holder (checked by the caller); refusals come before any change.

    Returns the (detail, printer id) of the event the caller records for the job's new state, None when the
    report changes nothing."""
    if printer is None:
        raise ValidationFailed(f"No printer {printer_code!r} in this warehouse.",
                               errors=[{"field": "printer_code", "message": "unknown printer"}])
    if retry_after_seconds is not None and not 0 <= retry_after_seconds <= 86400:
        raise ValidationFailed("Retry after 0 to 86400 seconds.",
                               errors=[{"field": "retry_after_seconds", "message": "0..86400"}])
    now = utcnow()
    job.possible_duplicate = job.possible_duplicate or possible_duplicate
    note = detail
    if printer.id != job.printer_id:
        via = f"on backup printer {printer.code} instead of {meant_for()}"
        note = f"{via}: {detail}" if detail else via
    if outcome == Outcome.SENT and job.state == JobState.SENT:
        return None  # the same news twice
    if outcome == Outcome.SENT:
        job.state = JobState.SENT
        job.lease_owner = None  # the schema keeps an owner only while claimed; _holder() finds the claimer
    elif outcome == Outcome.PRINTED:
        job.state = JobState.PRINTED
        job.printed_by_id = printer.id
        job.finished_at = now
        _release(job)
    elif outcome == Outcome.RETRY:
        job.state = JobState.QUEUED
        job.not_before = now + dt.timedelta(seconds=retry_after_seconds or 0)
        job.last_error = detail or "the daemon will retry"
        _release(job)
        if retry_after_seconds:
            note = f"{note or 'retry'} (next attempt after {job.not_before:%H:%M:%S} UTC)"
    else:
        job.state = JobState.FAILED
        job.finished_at = now
        job.last_error = detail or "the daemon gave up"
        _release(job)
    if possible_duplicate:
        note = f"{note} (possible duplicate)" if note else "possible duplicate"
    return note, printer.id


@dataclass(frozen=True)
class ReportItem:
    """One report of a batch (see report_many)."""

    job_id: int
    outcome: Outcome | str
    printer_code: str
    detail: str | None = None
    retry_after_seconds: float | None = None
    possible_duplicate: bool = False


def _claimers(job_ids: list[int]) -> dict[int, str | None]:
    """The daemon of each job's last claim, in one query (who holds a `sent` job)."""
    if not job_ids:
        return {}
    last = (select(PrintJobEvent.job_id, func.max(PrintJobEvent.id).label("id"))
            .where(PrintJobEvent.job_id.in_(job_ids), PrintJobEvent.state == JobState.CLAIMED)
            .group_by(PrintJobEvent.job_id).subquery())
    return dict(db.session.execute(select(PrintJobEvent.job_id, PrintJobEvent.actor).join(
        last, PrintJobEvent.id == last.c.id)).all())  # type: ignore[arg-type]


def report_many(warehouse_id: int, daemon_id: str, items: list[ReportItem]) -> list[JobState | DomainError]:
    """Apply many reports in the given order, each exactly as report() would (a job may appear more than once).

    Per item: the job's state right after it, or the refusal (NotFound, Conflict, ValidationFailed) that left
    it without effect while the others apply. The jobs (row-locked, in id order), the site's printers and the
    holders of sent jobs are read in three queries and everything is flushed once."""
    _check_daemon(daemon_id)
    ids = sorted({item.job_id for item in items})
    query = select(PrintJob).where(PrintJob.warehouse_id == warehouse_id, PrintJob.id.in_(ids)).order_by(PrintJob.id)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=PrintJob)
    found = {job.id: job for job in db.session.scalars(query.execution_options(populate_existing=True))}
    printers = list(db.session.scalars(select(Printer).where(Printer.warehouse_id == warehouse_id)))
    by_code = {p.code: p for p in printers}
    by_id = {p.id: p for p in printers}
    claimers = _claimers([job.id for job in found.values() if job.state == JobState.SENT])
    results: list[JobState | DomainError] = []
    events: list[dict] = []
    failed: dict[int, PrintJob] = {}  # jobs a retry/failed report queued again or failed: may fall back to PDF
    for item in items:
        job = found.get(item.job_id)
        if job is None:
            results.append(NotFound(f"No print job {item.job_id}."))
            continue
        try:
            outcome = Outcome(item.outcome)
            if job.state in FINAL_STATES:
                if job.state == JobState.CANCELLED and outcome in (Outcome.SENT, Outcome.PRINTED):
                    _late_report_on_cancelled(job, daemon_id, outcome, item.printer_code)
                results.append(job.state)
                continue
            if _retry_replayed(job, outcome, daemon_id):
                results.append(job.state)
                continue
            holder = job.lease_owner if job.state == JobState.CLAIMED else claimers.get(job.id) \
                if job.state == JobState.SENT else None
            _check_holder(job, holder, daemon_id)
            change = _apply_report(job, outcome, by_code.get(item.printer_code), item.printer_code,
                                   lambda j=job: by_id[j.printer_id].code, item.detail, item.retry_after_seconds,
                                   item.possible_duplicate)
            if change is not None:
                events.append({"job_id": job.id, "state": job.state, "printer_id": change[1],
                               "attempt": job.attempts, "detail": change[0], "actor": daemon_id, "at": utcnow()})
                if outcome in (Outcome.RETRY, Outcome.FAILED):
                    failed[job.id] = job
            if job.state == JobState.SENT:
                claimers[job.id] = holder  # the claimer still holds it, as _holder() would find in the events
        except DomainError as err:
            results.append(err)
            continue
        results.append(job.state)
    db.session.flush()
    if events:
        db.session.execute(insert(PrintJobEvent.__table__), events)  # Core: no ids to read back
    if failed:
        from wms.printing import fallback

        for job in failed.values():
            db.session.expire(job, ["events"])  # the Core insert above is not in the loaded history
        fallback.after_failures([failed[i] for i in sorted(failed)], daemon_id)
    return results


def _late_report_on_cancelled(job: PrintJob, daemon_id: str, outcome: Outcome, printer_code: str) -> None:
    """A cancelled job the daemon had already taken may still come out: say so in its history (once)."""
    detail = f"the daemon reported it {outcome.value} on {printer_code[:32]} after it was cancelled"
    if any(e.detail == detail for e in job.events):
        return
    printer = db.session.scalar(select(Printer).where(
        Printer.warehouse_id == job.warehouse_id, Printer.code == printer_code))
    _event(job, JobState.CANCELLED, actor=daemon_id, detail=detail, printer_id=printer.id if printer else None)
    db.session.flush()


def _release(job: PrintJob) -> None:
    job.lease_owner = None
    job.lease_expires_at = None


# --- the supervisor's side: reprint, cancel ------------------------------------------------------------------

def reprint(job: PrintJob, user: User | None, *, idempotency_key: str | None = None) -> PrintJob:
    """Queue the same document again as a new job (reprint_of the original) on the same printer."""
    key = idempotency_key or f"reprint:{job.id}:{uuid.uuid4().hex}"
    new = enqueue_job(warehouse_id=job.warehouse_id, kind=job.document_kind, reference=job.reference,
                      payload=job.payload, content_type=job.content_type, idempotency_key=key,
                      printer=job.printer, copies=job.copies, wave_id=job.wave_id, pick_order_id=job.pick_order_id,
                      created_by_id=user.id if user else None, reprint_of_id=job.id, actor=_user_name(user))
    if not any(e.detail == f"reprinted as job {new.id}" for e in job.events):
        _event(job, job.state, actor=_user_name(user), detail=f"reprinted as job {new.id}")
        db.session.flush()
    return new


def cancel(job: PrintJob, user: User | None) -> PrintJob:
    """Cancel a job that has not reached the printer yet; cancelling a cancelled job changes nothing."""
    lock_job(job)
    if job.state == JobState.CANCELLED:
        return job
    if job.state not in (JobState.QUEUED, JobState.CLAIMED):
        raise Conflict(f"Job {job.id} is already {job.state.value}; only a queued or claimed job can be cancelled.",
                       job_state=job.state.value)
    detail = f"cancelled while {job.lease_owner} held it" if job.state == JobState.CLAIMED else None
    job.state = JobState.CANCELLED
    job.finished_at = utcnow()
    _release(job)
    _event(job, JobState.CANCELLED, actor=_user_name(user), detail=detail)
    db.session.flush()
    return job


# --- printer status ----------------------------------------------------------------------------------------

def record_printer_status(warehouse_id: int, daemon_id: str, reports: Iterable[PrinterStatusReport]) -> list[Printer]:
    """Store each printer's last status and when it was seen; all reports or none (unknown codes are refused)."""
    _check_daemon(daemon_id)
    reports = list(reports)
    printers = {p.code: p for p in db.session.scalars(select(Printer).where(
        Printer.warehouse_id == warehouse_id, Printer.code.in_({r.code for r in reports})))}
    errors = []
    for i, r in enumerate(reports):
        if r.code not in printers:
            errors.append({"field": f"printers.{i}.code", "message": f"no printer {r.code!r} in this warehouse"})
        if r.status not in PRINTER_STATUSES:
            errors.append({"field": f"printers.{i}.status", "message": "one of " + ", ".join(PRINTER_STATUSES)})
    if errors:
        raise ValidationFailed("Some printer status reports are not valid; none was stored.", errors=errors)
    now = utcnow()
    for r in reports:
        printer = printers[r.code]
        if printer.status != r.status or printer.status_changed_at is None:
            printer.status_changed_at = now
        printer.status = r.status
        printer.status_detail = r.detail
        printer.last_seen_at = now
    db.session.flush()
    from wms.printing import fallback

    fallback.after_status(warehouse_id, daemon_id, list(printers.values()))
    return [printers[r.code] for r in reports]


def get_job(warehouse_id: int | None, job_id: int) -> PrintJob:
    """A job by id (within the warehouse when given), NotFound otherwise."""
    job = db.session.get(PrintJob, job_id)
    if job is None or (warehouse_id is not None and job.warehouse_id != warehouse_id):
        raise NotFound(f"No print job {job_id}.")
    return job
