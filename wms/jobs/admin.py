"""Schema, status and retries of the jobs database (what `wms jobs schema|status|retry-failed` print)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import psycopg
from procrastinate.schema import SchemaManager

from wms.jobs.failures import TABLE_SQL

# The newest database object procrastinate 3.10's schema has (migration 03.04.00): present means up to date.
LATEST_OBJECT = "procrastinate_retry_job_v2"


@dataclass
class SchemaState:
    jobs_table: bool
    up_to_date: bool
    failures_table: bool

    @property
    def ok(self) -> bool:
        return self.jobs_table and self.up_to_date and self.failures_table


def schema_state(conninfo: str) -> SchemaState:
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename IN ('procrastinate_jobs', 'wms_job_failures')")}
        latest = conn.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", (LATEST_OBJECT,)).fetchone()
    return SchemaState("procrastinate_jobs" in tables, bool(latest and latest[0]), "wms_job_failures" in tables)


def apply_schema(conninfo: str) -> list[str]:
    """Create procrastinate's schema (its own schema.sql) and the job-failures table when absent; returns what was
    done. An older procrastinate schema is not migrated here: apply procrastinate's migrations (docs/jobs.md)."""
    done: list[str] = []
    state = schema_state(conninfo)
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        if not state.jobs_table:
            conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
            done.append("procrastinate schema created")
        elif not state.up_to_date:
            raise RuntimeError("the jobs database holds an older procrastinate schema: apply the migrations in "
                               f"{SchemaManager.get_migrations_path()} newer than it (docs/jobs.md)")
        if not state.failures_table:
            conn.execute(TABLE_SQL)  # type: ignore[arg-type]
            done.append("wms_job_failures created")
    return done


@dataclass
class Status:
    counts: list[tuple[str, str, str, int]] = field(default_factory=list)  # queue, task, status, count
    oldest_waiting: tuple[str, str, dt.timedelta] | None = None  # queue, task, age
    failures: list[dict[str, Any]] = field(default_factory=list)
    workers: list[tuple[int, dt.timedelta]] = field(default_factory=list)  # id, heartbeat age


def status(conninfo: str, *, last_failures: int = 10) -> Status:
    """Jobs per queue, task and status; the oldest job waiting to run; the last recorded errors; live workers."""
    result = Status()
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        result.counts = [tuple(row) for row in conn.execute(  # type: ignore[misc]
            "SELECT queue_name, task_name, status::text, count(*) FROM procrastinate_jobs "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")]
        # waiting = todo and due; its age counts from when it became due (deferred or scheduled)
        row = conn.execute(
            "SELECT j.queue_name, j.task_name, now() - greatest(coalesce(j.scheduled_at, e.at), e.at) "
            "FROM procrastinate_jobs j JOIN LATERAL (SELECT min(at) AS at FROM procrastinate_events "
            "WHERE job_id = j.id) e ON true "
            "WHERE j.status = 'todo' AND (j.scheduled_at IS NULL OR j.scheduled_at <= now()) "
            "ORDER BY 3 DESC LIMIT 1").fetchone()
        if row is not None:
            result.oldest_waiting = (row[0], row[1], row[2])
        rows = conn.execute(
            "SELECT f.job_id, f.task_name, f.attempt, f.error, f.at, j.status::text FROM wms_job_failures f "
            "LEFT JOIN procrastinate_jobs j ON j.id = f.job_id ORDER BY f.id DESC LIMIT %s", (last_failures,))
        result.failures = [dict(zip(("job_id", "task", "attempt", "error", "at", "job_status"), r, strict=True))
                           for r in rows]
        result.workers = [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT id, now() - last_heartbeat FROM procrastinate_workers ORDER BY id")]
    return result


def retry_failed(conninfo: str, *, task_name: str | None = None, queue: str | None = None) -> list[int]:
    """Put every failed job (of a task / queue) back to `todo`, now."""
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM procrastinate_jobs WHERE status = 'failed' AND (%(task)s::text IS NULL OR "
            "task_name = %(task)s) AND (%(queue)s::text IS NULL OR queue_name = %(queue)s) ORDER BY id",
            {"task": task_name, "queue": queue})]
        for job_id in ids:
            conn.execute("SELECT procrastinate_retry_job_v2(%s, now(), NULL, NULL, NULL)", (job_id,))
    return ids
