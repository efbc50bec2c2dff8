"""Run procrastinate workers over the WMS Flask app (built once per worker process)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Iterable
from typing import Any

from flask import Flask
from procrastinate import job_context

from wms.jobs.engine import JobsNotConfigured, bind_app, job_app, jobs_database_url

log = logging.getLogger("wms.jobs")

_current: contextvars.ContextVar[job_context.JobContext | None] = contextvars.ContextVar("wms_job", default=None)

# A worker is taken for dead (its jobs stalled) when its heartbeat is older than JOBS_STALLED_AFTER_S (config,
# default 30 s); it beats a few times within that. See maintenance.retry_stalled_jobs.
STALLED_WORKER_TIMEOUT_S = 30.0


def stalled_after_s(app: Flask | None = None) -> float:
    from flask import current_app

    config = (app or current_app).config
    return float(config.get("JOBS_STALLED_AFTER_S", STALLED_WORKER_TIMEOUT_S))


def current_job() -> Any:
    """The procrastinate Job the current thread runs, or None outside a worker."""
    context = _current.get()
    return context.job if context is not None else None


def _job_context_middleware(call_next: Any, context: job_context.JobContext, _worker: Any) -> Any:
    token = _current.set(context)
    try:
        return call_next()
    finally:
        _current.reset(token)


def prepare(app: Flask) -> str:
    """Bind the Flask app and point the worker's connector at the jobs database; returns the conninfo."""
    conninfo = jobs_database_url(app)
    if not conninfo:
        raise JobsNotConfigured()
    bind_app(app)
    job_app.connector.set_conninfo(conninfo)  # type: ignore[attr-defined]
    job_app.perform_import_paths()
    return conninfo


def worker_options(*, queues: Iterable[str] | None, concurrency: int, wait: bool, name: str | None = None,
                   install_signal_handlers: bool = True, listen_notify: bool = True,
                   fetch_job_polling_interval: float = 2.0, stalled_after: float = STALLED_WORKER_TIMEOUT_S,
                   ) -> dict[str, Any]:
    return {
        "queues": list(queues) if queues else None,
        "concurrency": concurrency,
        "wait": wait,
        "name": name or "wms-worker",
        "install_signal_handlers": install_signal_handlers,
        "listen_notify": listen_notify,
        "fetch_job_polling_interval": fetch_job_polling_interval,
        "update_heartbeat_interval": min(5.0, stalled_after / 3),
        "stalled_worker_timeout": stalled_after,
        # a stop (SIGTERM/SIGINT) lets running jobs finish: no graceful timeout, nothing aborted
        "shutdown_graceful_timeout": None,
        "delete_jobs": "never",
        "task_middleware": [_job_context_middleware],
    }


def run(app: Flask, *, queues: Iterable[str] | None = None, concurrency: int = 1, wait: bool = True,
        **options: Any) -> None:
    """Run a worker in this process until stopped (wait=True) or until no job is ready (wait=False)."""
    prepare(app)

    async def main() -> None:
        async with job_app.open_async():
            await job_app.run_worker_async(**worker_options(
                queues=queues, concurrency=concurrency, wait=wait, stalled_after=stalled_after_s(app), **options))

    asyncio.run(main())
