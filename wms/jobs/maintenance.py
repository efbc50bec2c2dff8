"""Periodic housekeeping jobs: retention purges and the rescue of jobs a dead worker left in `doing`.

Every job here is idempotent: it deletes or re-queues what is past its cutoff at the time it runs, so a tick run
twice, late, or by two workers at once does the same as one run. Retention settings (days) are read from the
app config: IDEMPOTENCY_KEYS_RETENTION_DAYS (30, what the former wms-purge-keys.timer ran), WEBHOOK_EVENTS_RETENTION_DAYS
(30: delivered events and their attempts), LOGIN_ATTEMPTS_RETENTION_DAYS (90: the sign-in audit trail; never
less than the throttle window), JOB_FAILURES_RETENTION_DAYS (30).
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from procrastinate import sql
from sqlalchemy import delete, or_, select

from wms.db import db, utcnow
from wms.jobs.engine import job_manager, periodic

log = logging.getLogger("wms.jobs")

DEFAULT_RETENTION_DAYS = {
    "IDEMPOTENCY_KEYS_RETENTION_DAYS": 30,
    "WEBHOOK_EVENTS_RETENTION_DAYS": 30,
    "LOGIN_ATTEMPTS_RETENTION_DAYS": 90,
    "JOB_FAILURES_RETENTION_DAYS": 30,
}
BATCH = 5_000


def retention(key: str) -> dt.timedelta:
    return dt.timedelta(days=float(current_app.config.get(key, DEFAULT_RETENTION_DAYS[key])))


def _delete_in_batches(table, where) -> int:  # type: ignore[no-untyped-def]
    """Delete matching rows BATCH at a time, one committed transaction each (no long lock over a backlog)."""
    total = 0
    pk = table.c.id
    while True:
        ids = select(pk).where(where).order_by(pk).limit(BATCH)
        deleted = db.session.execute(delete(table).where(pk.in_(ids))).rowcount
        db.session.commit()
        total += deleted
        if deleted < BATCH:
            return total


def purge_idempotency_keys() -> int:
    """Stored answers of idempotency keys older than the retention (as `wms db purge-keys` does)."""
    from wms.idempotency import purge

    return purge(retention("IDEMPOTENCY_KEYS_RETENTION_DAYS"))


def purge_sessions(now: dt.datetime | None = None) -> int:
    """Sign-in sessions that expired, or were revoked longer than a session's lifetime ago (as open_session)."""
    from wms.auth.models import UserSession

    now = now or utcnow()
    lifetime = current_app.permanent_session_lifetime
    table = UserSession.__table__
    return _delete_in_batches(table, or_(table.c.expires_at < now, table.c.revoked_at < now - lifetime))


def purge_login_records(now: dt.datetime | None = None) -> tuple[int, int]:
    """Throttle rows whose window ended (a new attempt would restart them anyway) and sign-in attempts older than
    the audit retention, never younger than the throttle window (the address count reads them)."""
    from wms.auth.models import LoginAttempt, LoginThrottle

    now = now or utcnow()
    window = dt.timedelta(seconds=int(current_app.config["LOGIN_WINDOW_SECONDS"]))
    throttles = db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.window_started_at <= now - window)).rowcount
    db.session.commit()
    keep = max(retention("LOGIN_ATTEMPTS_RETENTION_DAYS"), window)
    attempts = _delete_in_batches(LoginAttempt.__table__, LoginAttempt.__table__.c.at < now - keep)
    return throttles, attempts


def purge_webhook_events(now: dt.datetime | None = None) -> int:
    """Delivered webhook events (and their attempts, by cascade) older than the retention; undelivered ones stay."""
    from wms.webhooks.models import WebhookDelivery, WebhookEvent

    now = now or utcnow()
    cutoff = now - retention("WEBHOOK_EVENTS_RETENTION_DAYS")
    events = WebhookEvent.__table__
    old = select(events.c.id).where(events.c.delivered_at.is_not(None), events.c.delivered_at < cutoff)
    total = 0
    while True:
        ids = list(db.session.scalars(old.order_by(events.c.id).limit(BATCH)))
        if not ids:
            return total
        # deliveries first: SQLite without the ORM cascade, and fewer FK checks on PostgreSQL
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(ids)))
        total += db.session.execute(delete(events).where(events.c.id.in_(ids))).rowcount
        db.session.commit()


def purge_job_failures() -> int:
    """Recorded job errors older than the retention (jobs database)."""
    cutoff = utcnow() - retention("JOB_FAILURES_RETENTION_DAYS")
    with job_manager().connector.pool.connection() as conn:  # type: ignore[attr-defined]
        return conn.execute("DELETE FROM wms_job_failures WHERE at < %s", (cutoff,)).rowcount


@periodic("30 3 * * *", "maintenance.purge_retention", queue="maintenance")
def purge_retention() -> None:
    """Every night: idempotency keys, dead sessions, old sign-in records, delivered webhook events, job errors."""
    keys = purge_idempotency_keys()
    sessions = purge_sessions()
    throttles, attempts = purge_login_records()
    events = purge_webhook_events()
    failures = purge_job_failures()
    log.info("retention: %d idempotency keys, %d sessions, %d throttles, %d sign-in attempts, %d webhook events, "
             "%d job errors deleted", keys, sessions, throttles, attempts, events, failures)


# --- jobs of dead workers --------------------------------------------------------------------------------------

def retry_stalled_jobs(seconds_since_heartbeat: float | None = None) -> list[int]:
    """Put back to `todo` the jobs in `doing` whose worker stopped sending heartbeats (killed, host lost): they
    run again on a live worker. Tasks are idempotent, so a job that had half run is safe to run again."""
    from wms.jobs.worker import stalled_after_s

    seconds = stalled_after_s() if seconds_since_heartbeat is None else seconds_since_heartbeat

    manager = job_manager()
    rows = manager.connector.execute_query_all(
        query=sql.queries["select_stalled_jobs_by_heartbeat"], queue=None, task_name=None,
        seconds_since_heartbeat=seconds)
    ids = [row["id"] for row in rows]
    for job_id in ids:
        manager.retry_job_by_id(job_id, retry_at=utcnow())
    if ids:
        log.warning("jobs: %d stalled job(s) of dead workers put back in the queue: %s", len(ids), ids)
    return ids


# croniter's sixth field is the seconds, at the end ("*/15 * * * * *" would be every second of every 15th minute).
@periodic("* * * * * */15", "maintenance.retry_stalled_jobs", queue="maintenance")
def retry_stalled() -> None:
    """Every 15 s: rescue the jobs of workers whose heartbeat stopped."""
    retry_stalled_jobs()


FINISHED_JOBS_SQL = """
DELETE FROM procrastinate_jobs j
 WHERE j.status = ANY(%(statuses)s::procrastinate_job_status[])
   AND NOT EXISTS (SELECT 1 FROM procrastinate_periodic_defers d WHERE d.job_id = j.id)
   AND (SELECT max(e.at) FROM procrastinate_events e WHERE e.job_id = j.id) < now() - %(older_than)s
"""


def purge_finished_jobs() -> tuple[int, int]:
    """Jobs that succeeded (or were cancelled) more than FINISHED_JOBS_RETENTION_HOURS (24) ago, failed ones
    after JOB_FAILURES_RETENTION_DAYS; the last job of each periodic task stays (procrastinate refers to it)."""
    hours = float(current_app.config.get("FINISHED_JOBS_RETENTION_HOURS", 24))
    with job_manager().connector.pool.connection() as conn:  # type: ignore[attr-defined]
        done = conn.execute(FINISHED_JOBS_SQL, {"statuses": ["succeeded", "cancelled", "aborted"],
                                                "older_than": dt.timedelta(hours=hours)}).rowcount
        failed = conn.execute(FINISHED_JOBS_SQL, {"statuses": ["failed"],
                                                  "older_than": retention("JOB_FAILURES_RETENTION_DAYS")}).rowcount
    return done, failed


@periodic("17 * * * *", "maintenance.purge_finished_jobs", queue="maintenance")
def purge_finished() -> None:
    """Every hour: finished jobs past their retention (the sweeps alone make thousands a day)."""
    done, failed = purge_finished_jobs()
    if done or failed:
        log.info("jobs: %d finished and %d failed jobs deleted", done, failed)
