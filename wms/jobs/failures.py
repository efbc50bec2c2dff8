"""The error of every failed job attempt, kept beside procrastinate's tables (procrastinate keeps none).

`wms jobs status` shows the last ones; the table is created by `wms jobs schema --apply` in the jobs database
(which may not be the app database, so it is not an Alembic table) and purged by the retention task.
"""

from __future__ import annotations

import json
import logging
import traceback
from typing import Any

log = logging.getLogger("wms.jobs")

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS wms_job_failures (
    id bigserial PRIMARY KEY,
    job_id bigint,
    task_name varchar(128) NOT NULL,
    attempt integer,
    args jsonb NOT NULL DEFAULT '{}',
    error text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS wms_job_failures_at_idx ON wms_job_failures (at);
"""

MAX_ERROR_CHARS = 4000


def _current_job() -> tuple[int | None, int | None]:
    from wms.jobs.worker import current_job

    job = current_job()
    return (job.id, job.attempts + 1) if job is not None else (None, None)


def record(task_name: str, kwargs: dict[str, Any], err: BaseException) -> None:
    """Write one failed attempt; never raises (the job's own failure is what matters)."""
    from wms.jobs.engine import job_manager

    job_id, attempt = _current_job()
    text = "".join(traceback.format_exception_only(type(err), err)).strip()
    try:
        connector = job_manager().connector
        with connector.pool.connection() as conn:
            conn.execute("INSERT INTO wms_job_failures (job_id, task_name, attempt, args, error) "
                         "VALUES (%s, %s, %s, %s, %s)",
                         (job_id, task_name, attempt, json.dumps(kwargs, default=str), text[:MAX_ERROR_CHARS]))
    except Exception as exc:  # noqa: BLE001 (the job fails and is retried whatever happens here)
        log.warning("jobs: could not record the failure of %s: %s", task_name, exc)
