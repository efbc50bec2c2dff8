"""Jobs in tests: procrastinate's schema in the suite's PostgreSQL test database, and a real worker drained
in-process.

    from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (jobs is a fixture)

    def test_x(app, jobs):                       # schema applied, job tables empty, app bound
        ... commit something that defers ...
        drain(app)                               # a real procrastinate worker runs every ready job, then returns
        assert job_counts(app)[("webhooks.deliver_due", "succeeded")] == 1
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator

import psycopg
import pytest
from flask import Flask
from procrastinate.periodic import PeriodicRegistry

from wms.jobs import admin, engine
from wms.jobs import worker as worker_module

JOB_TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers",
              "wms_job_failures")

_applied: set[str] = set()


def conninfo_of(app: Flask) -> str:
    url = engine.jobs_database_url(app)
    assert url, "the test app has no PostgreSQL jobs database"
    return url


def apply_jobs_schema(app: Flask) -> str:
    """procrastinate's schema (and wms_job_failures) in the app's own PostgreSQL database, once per session."""
    conninfo = conninfo_of(app)
    if conninfo not in _applied:
        admin.apply_schema(conninfo)
        _applied.add(conninfo)
    return conninfo


def clear_jobs(app: Flask) -> None:
    """Empty every job table (the suite's truncation only knows the app's own tables)."""
    with psycopg.connect(conninfo_of(app), autocommit=True) as conn:
        conn.execute("TRUNCATE " + ", ".join(JOB_TABLES) + " RESTART IDENTITY CASCADE")


@pytest.fixture
def jobs(app: Flask) -> Iterator[str]:
    """Jobs for this test: schema applied, job tables empty before and after, the app bound to the engine.
    Yields the jobs conninfo."""
    conninfo = apply_jobs_schema(app)
    clear_jobs(app)
    engine.bind_app(app)
    yield conninfo
    engine.close_pool()
    clear_jobs(app)


@contextlib.contextmanager
def _no_periodic(enabled: bool) -> Iterator[None]:
    saved = engine.job_app.periodic_registry
    if not enabled:
        engine.job_app.periodic_registry = PeriodicRegistry()
    try:
        yield
    finally:
        engine.job_app.periodic_registry = saved


def drain(app: Flask, queues: Iterable[str] | None = None, *, periodic: bool = False, concurrency: int = 1) -> None:
    """Run a real procrastinate worker in this process until no job is ready (run_worker(wait=False)). Jobs
    scheduled later (retries waiting for their backoff) stay. Periodic tasks are not deferred unless `periodic`."""
    with _no_periodic(periodic):
        worker_module.run(app, queues=list(queues) if queues else None, concurrency=concurrency, wait=False,
                          install_signal_handlers=False, listen_notify=False)


def job_counts(app: Flask) -> Counter[tuple[str, str]]:
    """{(task name, status): count} over every job in the jobs database."""
    with psycopg.connect(conninfo_of(app)) as conn:
        rows = conn.execute("SELECT task_name, status::text, count(*) FROM procrastinate_jobs GROUP BY 1, 2")
        return Counter({(task, status): n for task, status, n in rows})


def make_due(app: Flask) -> int:
    """Make every job waiting for a later time (a retry's backoff) due now; returns how many."""
    with psycopg.connect(conninfo_of(app), autocommit=True) as conn:
        return conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo' "
                            "AND scheduled_at > now()").rowcount


# --- tasks the jobs tests run (registered when this module is imported, in the test process or a worker) ---------

from procrastinate.retry import RetryStrategy  # noqa: E402

from wms.jobs import task  # noqa: E402


@task("tests.record_attempt", queue="tests", retry=RetryStrategy(max_attempts=3))
def record_attempt(subject: str, fail: bool = False) -> None:
    """Write a row, then fail when told: the row must be committed on success and rolled back on failure."""
    from wms.auth.models import LoginAttempt
    from wms.db import db

    db.session.add(LoginAttempt(kind="test", subject=subject, ip="127.0.0.1", success=not fail))
    db.session.flush()
    if fail:
        raise RuntimeError(f"receiver refused {subject}")


@task("tests.hold_while_file_exists", queue="tests", retry=False)
def hold_while_file_exists(marker: str, hold: str) -> None:
    """Append 'start <pid>' to `marker`, wait while the file `hold` exists, append 'end <pid>'."""
    import os
    import time
    from pathlib import Path

    with Path(marker).open("a") as fh:
        fh.write(f"start {os.getpid()}\n")
    while Path(hold).exists():
        time.sleep(0.1)
    with Path(marker).open("a") as fh:
        fh.write(f"end {os.getpid()}\n")
