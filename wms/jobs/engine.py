"""The one job engine of the WMS: a procrastinate App on PostgreSQL, and the small API the areas use.

Tasks are sync functions taking JSON-able keyword arguments; each runs inside a Flask app context with
`wms.db.db.session`, committed when the function returns and rolled back when it raises (procrastinate then
retries the job by its retry strategy). Deferring goes through a small synchronous psycopg pool of this process
(web threads, CLI, task threads alike); the worker's own async pool only fetches and finishes jobs.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import procrastinate
from flask import Flask, current_app, has_app_context
from procrastinate import exceptions as pexc
from procrastinate import manager, tasks
from procrastinate.retry import RetryStrategy

log = logging.getLogger("wms.jobs")

# Every module holding tasks. A listed module that does not exist (yet) is skipped with a warning, so one area's
# missing module never keeps the worker from running the others' jobs.
TASK_MODULES = ("wms.jobs.maintenance", "wms.webhooks.jobs", "wms.channels.jobs", "wms.outbound.tracking_jobs",
                "wms.outbound.relay_points")

# Retried 10 times, 2, 4, 8 ... 1024 s apart (about 34 minutes in all), then the job is marked failed.
DEFAULT_RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)

# How long a process stops trying to reach an unreachable jobs database before trying again (web requests must
# not each wait for a connect timeout; what they would have deferred is caught up by the periodic sweeps).
UNREACHABLE_PAUSE_S = 30.0
CONNECT_TIMEOUT_S = 5.0


class JobsNotConfigured(RuntimeError):
    """No PostgreSQL database is configured for jobs (JOBS_DATABASE_URL / WMS_JOBS_DATABASE_URL)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "no jobs database: set WMS_JOBS_DATABASE_URL (or JOBS_DATABASE_URL in the config file) to a "
            "postgresql:// URL, or run the app itself on PostgreSQL (WMS_DATABASE_URL)" + (f" ({detail})" if detail
                                                                                           else ""))


class JobsUnavailable(RuntimeError):
    """The jobs database is configured but cannot be reached or has no procrastinate schema."""


class UnknownTask(KeyError):
    """No task of that name is registered."""


def _plain_conninfo(url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what libpq understands)."""
    scheme, sep, rest = url.partition("://")
    if scheme.startswith("postgres"):
        return "postgresql://" + rest if sep else url
    return url


def jobs_database_url(app: Flask | None = None) -> str | None:
    """The jobs database URL: JOBS_DATABASE_URL, else the app's DATABASE_URL when it is PostgreSQL, else None."""
    app = app or (current_app._get_current_object() if has_app_context() else _bound_app)  # type: ignore[attr-defined]
    if app is not None:
        url = app.config.get("JOBS_DATABASE_URL") or ""
        if not url:
            main = app.config.get("DATABASE_URL") or ""
            url = main if main.startswith("postgres") else ""
    else:
        url = os.environ.get("WMS_JOBS_DATABASE_URL") or ""
        if not url and os.environ.get("WMS_DATABASE_URL", "").startswith("postgres"):
            url = os.environ["WMS_DATABASE_URL"]
    if not url:
        return None
    if not url.startswith("postgres"):
        raise JobsNotConfigured(f"JOBS_DATABASE_URL is not a postgresql:// URL: {url.split('://')[0]}://...")
    return _plain_conninfo(url)


class _WmsApp(procrastinate.App):
    """procrastinate.App whose import paths tolerate a task module that does not exist (yet)."""

    def perform_import_paths(self) -> None:
        if self._import_paths_performed:
            return
        for path in self.import_paths:
            try:
                importlib.import_module(path)
            except ModuleNotFoundError as err:
                if err.name != path:
                    raise  # the module exists but something it imports is missing: a real error
                log.warning("jobs: task module %s does not exist; its tasks are not available", path)
        self._import_paths_performed = True


class _WorkerConnector(procrastinate.PsycopgConnector):
    """The worker's async connector; its conninfo is set when the worker starts (wms.jobs.worker)."""

    def set_conninfo(self, conninfo: str) -> None:
        self._pool_args = {"conninfo": conninfo, "min_size": 1, "max_size": 8,
                           "kwargs": {"application_name": "wms-jobs-worker"}}
        self._sync_connector = None

    def get_sync_connector(self) -> Any:
        # sync calls (defer from a task thread, status) never borrow the worker's event-loop pool
        return _sync_connector(self._pool_args.get("conninfo"))


job_app = _WmsApp(connector=_WorkerConnector(), import_paths=list(TASK_MODULES))

_bound_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """The Flask app tasks run in (the worker builds it once; tests bind theirs)."""
    global _bound_app
    _bound_app = app


def bound_app() -> Flask:
    if _bound_app is None:
        raise RuntimeError("no Flask app bound to the job engine (wms.jobs.bind_app)")
    return _bound_app


# --- the process's synchronous pool for deferring and reading job state -----------------------------------------

_sync_lock = threading.Lock()
_sync: dict[str, Any] = {}


def _sync_connector(conninfo: str | None) -> procrastinate.SyncPsycopgConnector:
    """An opened SyncPsycopgConnector for this conninfo in this process (made again after a fork)."""
    import psycopg_pool

    if not conninfo:
        raise JobsNotConfigured()
    with _sync_lock:
        if _sync.get("pid") == os.getpid() and _sync.get("conninfo") == conninfo:
            return _sync["connector"]
        paused = _sync.get("unreachable", {}).get(conninfo, 0.0)
        now = dt.datetime.now(dt.UTC).timestamp()
        if paused > now:
            raise JobsUnavailable(f"jobs database unreachable (not retried before {paused - now:.0f} s)")
        old = _sync.get("connector") if _sync.get("pid") == os.getpid() else None
        pool = psycopg_pool.ConnectionPool(conninfo, min_size=1, max_size=4, open=False, timeout=CONNECT_TIMEOUT_S,
                                           kwargs={"connect_timeout": int(CONNECT_TIMEOUT_S),
                                                   "application_name": "wms-jobs"},
                                           check=psycopg_pool.ConnectionPool.check_connection)
        try:
            pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except psycopg_pool.PoolTimeout as err:
            pool.close()
            _sync.setdefault("unreachable", {})[conninfo] = now + UNREACHABLE_PAUSE_S
            raise JobsUnavailable(f"jobs database unreachable: {err}") from err
        connector = procrastinate.SyncPsycopgConnector()
        connector.open(pool)
        if old is not None:
            old.pool.close()
        _sync.update(pid=os.getpid(), conninfo=conninfo, connector=connector,
                     manager=manager.JobManager(connector=connector), unreachable={})
        return connector


def job_manager(conninfo: str | None = None) -> manager.JobManager:
    """A JobManager over this process's sync pool (for defer, status, retry)."""
    conninfo = conninfo or jobs_database_url()
    _sync_connector(conninfo)
    return _sync["manager"]


def close_pool() -> None:
    """Close this process's sync pool (tests, worker exit)."""
    with _sync_lock:
        connector = _sync.pop("connector", None)
        if connector is not None and _sync.get("pid") == os.getpid():
            connector.pool.close()
        _sync.pop("pid", None)
        _sync.pop("conninfo", None)
        _sync.pop("manager", None)


# --- declaring tasks -------------------------------------------------------------------------------------------

_lock_keys: dict[str, str] = {}


def task(name: str, *, queue: str = "default", retry: RetryStrategy | bool | int = DEFAULT_RETRY,
         lock_key: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Declare a job. `lock_key` is a format string over the job's kwargs (e.g. "channel:{channel_id}"): two jobs
    with the same lock never run at once (procrastinate lock). The function runs in an app context; the session
    is committed when it returns, rolled back when it raises."""

    def decorate(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def run(**kwargs: Any) -> Any:
            return _run_in_app(name, func, kwargs)

        if lock_key:
            _lock_keys[name] = lock_key
        return job_app.task(name=name, queue=queue, retry=retry)(run)

    return decorate


def periodic(cron: str, name: str, *, queue: str = "default",
             retry: RetryStrategy | bool | int = False) -> Callable[[Callable[..., Any]], Any]:
    """Declare a periodic job (cron with an optional 6th field for seconds). The function takes no argument; many
    workers defer each tick once (procrastinate_periodic_defers). Periodic jobs are not retried by default: the
    next tick is the retry."""

    def decorate(func: Callable[..., Any]) -> Any:
        @functools.wraps(func)
        def run(timestamp: int) -> Any:  # procrastinate passes the tick's timestamp
            return _run_in_app(name, func, {})

        registered = job_app.task(name=name, queue=queue, retry=retry,
                                  queueing_lock=f"periodic:{name}")(run)
        return job_app.periodic(cron=cron)(registered)

    return decorate


def _run_in_app(name: str, func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    from wms.db import db
    from wms.jobs import failures

    app = bound_app()
    with app.app_context():
        try:
            result = func(**kwargs)
            db.session.commit()
        except BaseException as err:
            db.session.rollback()
            failures.record(name, kwargs, err)
            raise
    return result


# --- deferring -------------------------------------------------------------------------------------------------

def defer(name: str, *, queueing_lock: str | None = None, lock: str | None = None,
          schedule_in_s: float | None = None, priority: int = 0, **kwargs: Any) -> int | None:
    """Queue job `name` with `kwargs` now; the job id, or None when a job with the same queueing lock is already
    waiting (how pushes are debounced). Raises JobsNotConfigured / JobsUnavailable / UnknownTask."""
    return _defer(jobs_database_url(), name, queueing_lock=queueing_lock, lock=lock, schedule_in_s=schedule_in_s,
                  priority=priority, kwargs=kwargs)


def _defer(conninfo: str | None, name: str, *, queueing_lock: str | None, lock: str | None,
           schedule_in_s: float | None, priority: int, kwargs: dict[str, Any]) -> int | None:
    if not conninfo:
        raise JobsNotConfigured()
    job_app.perform_import_paths()
    declared = job_app.tasks.get(name)
    if declared is None:
        raise UnknownTask(name)
    if lock is None and name in _lock_keys:
        lock = _lock_keys[name].format(**kwargs)
    deferrer = tasks.configure_task(
        name=name, job_manager=job_manager(conninfo), lock=lock, queueing_lock=queueing_lock,
        queue=declared.queue, priority=priority,
        schedule_in={"seconds": schedule_in_s} if schedule_in_s else None)
    try:
        return deferrer.defer(**kwargs)
    except pexc.AlreadyEnqueued:
        return None
    except pexc.ConnectorException as err:
        raise JobsUnavailable(f"could not defer {name}: {err.__cause__ or err}") from err
