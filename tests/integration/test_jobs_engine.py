"""The job engine on real PostgreSQL with a real worker: commit/rollback of a task's session, retries then
failure, what `wms jobs status` shows, `retry-failed`, the queueing lock, and no jobs database at all."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import make_test_app
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (fixture)
from wms.auth.models import LoginAttempt
from wms.db import db
from wms.jobs import JobsNotConfigured, defer, defer_after_commit


def _attempts(app, subject: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).where(LoginAttempt.subject == subject))


def test_a_task_that_returns_has_its_session_committed(app, jobs) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    with app.app_context():
        assert defer("tests.record_attempt", subject="ok") is not None
    drain(app)
    assert _attempts(app, "ok") == 1
    assert job_counts(app) == {("tests.record_attempt", "succeeded"): 1}


def test_a_failing_task_is_rolled_back_retried_then_failed_and_shown_by_status(app, jobs, runner) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    with app.app_context():
        job_id = defer("tests.record_attempt", subject="bad", fail=True)
    drain(app)  # RetryStrategy(max_attempts=3), no wait: the first run and three retries in this drain
    assert job_counts(app) == {("tests.record_attempt", "failed"): 1}
    assert _attempts(app, "bad") == 0  # every attempt's write was rolled back
    result = runner.invoke(args=["jobs", "status"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("tests "))
    assert row.split() == ["tests", "tests.record_attempt", "0", "0", "1", "0"]
    failures = [line for line in result.output.splitlines() if f"job {job_id} " in line]
    assert len(failures) == 4
    assert all("RuntimeError: receiver refused bad" in line and "[failed]" in line for line in failures)
    assert {re.search(r" attempt (\d+) at ", line).group(1) for line in failures} == {"1", "2", "3", "4"}

    result = runner.invoke(args=["jobs", "retry-failed"])
    assert f"1 failed job(s) queued again: {job_id}" in result.output
    assert job_counts(app) == {("tests.record_attempt", "todo"): 1}


def test_status_shows_the_oldest_waiting_job(app, jobs, runner) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    with app.app_context():
        defer("tests.record_attempt", subject="later")
    result = runner.invoke(args=["jobs", "status"])
    assert "oldest waiting job: tests.record_attempt on tests, waiting " in result.output
    drain(app)
    result = runner.invoke(args=["jobs", "status"])
    assert "oldest waiting job: none waiting" in result.output


def test_a_queueing_lock_keeps_one_waiting_job(app, jobs) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    with app.app_context():
        first = defer("tests.record_attempt", queueing_lock="push:1", subject="a")
        assert first is not None
        assert defer("tests.record_attempt", queueing_lock="push:1", subject="b") is None
    drain(app)
    with app.app_context():  # the lock only holds while a job waits
        assert defer("tests.record_attempt", queueing_lock="push:1", subject="c") is not None


def test_defer_after_commit_waits_for_the_commit_and_forgets_a_rollback(app, jobs) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    with app.app_context():
        defer_after_commit("tests.record_attempt", subject="kept")
        assert job_counts(app) == {}
        db.session.commit()
        assert job_counts(app) == {("tests.record_attempt", "todo"): 1}
        defer_after_commit("tests.record_attempt", subject="dropped")
        db.session.rollback()
        db.session.commit()
    assert job_counts(app) == {("tests.record_attempt", "todo"): 1}


def test_without_a_jobs_database_defer_refuses_and_after_commit_only_logs(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    app = make_test_app(f"sqlite:///{tmp_path / 'wms.sqlite3'}")
    with app.app_context():
        with pytest.raises(JobsNotConfigured, match="WMS_JOBS_DATABASE_URL"):
            defer("tests.record_attempt", subject="x")
        defer_after_commit("tests.record_attempt", subject="x")
        with caplog.at_level(logging.ERROR, logger="wms.jobs"):
            db.session.commit()  # the commit stands
    assert "could not defer tests.record_attempt after commit" in caplog.text
    result = app.test_cli_runner().invoke(args=["jobs", "status"])
    assert result.exit_code == 1
    assert "jobs: NOT CONFIGURED" in result.output
    result = app.test_cli_runner().invoke(args=["jobs", "worker"])
    assert result.exit_code != 0
    assert "no jobs database" in result.output
