"""`wms jobs worker|schema|status|retry-failed|stalled`: run and watch the job engine."""

from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from wms.jobs.engine import JobsNotConfigured, jobs_database_url


@click.group("jobs")
def jobs_cli() -> None:
    """Background jobs (procrastinate on PostgreSQL): workers, schema, status."""


def _conninfo() -> str:
    try:
        url = jobs_database_url(current_app)
    except JobsNotConfigured as err:
        raise click.ClickException(str(err)) from err
    if not url:
        raise click.ClickException(str(JobsNotConfigured()))
    return url


def _hide_password(conninfo: str) -> str:
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(conninfo)
    except Exception:  # noqa: BLE001 (only for display)
        return "(jobs database)"
    host = parts.get("host", "")
    return f"{parts.get('user', '')}@{host}:{parts.get('port', '5432')}/{parts.get('dbname', '')}"


@jobs_cli.command("worker")
@click.option("--queue", "queues", multiple=True, help="Run only jobs of this queue (repeatable); default: all.")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at once by this worker (each in its own thread).")
@click.option("--name", default=None, help="Worker name shown in the logs.")
@with_appcontext
def worker(queues: tuple[str, ...], concurrency: int, name: str | None) -> None:
    """Run jobs until SIGTERM/SIGINT (running jobs finish first)."""
    from wms.jobs import admin
    from wms.jobs import worker as worker_module

    conninfo = _conninfo()
    try:
        state = admin.schema_state(conninfo)
    except Exception as err:  # noqa: BLE001 (psycopg's many connection errors)
        raise click.ClickException(f"jobs database unreachable ({_hide_password(conninfo)}): {err}") from err
    if not state.ok:
        raise click.ClickException("the jobs database has no (current) procrastinate schema: run "
                                   "`wms jobs schema --apply` first")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo(f"jobs worker on {_hide_password(conninfo)}, queues: {', '.join(queues) or 'all'}, "
               f"concurrency {concurrency}", err=True)
    worker_module.run(current_app._get_current_object(), queues=queues or None,  # type: ignore[attr-defined]
                      concurrency=concurrency, wait=True, name=name)
    click.echo("jobs worker stopped", err=True)


@jobs_cli.command("schema")
@click.option("--apply", "apply_", is_flag=True, help="Create procrastinate's schema when absent.")
@click.option("--check", is_flag=True, help="Exit 1 unless the schema is present and current.")
@with_appcontext
def schema(apply_: bool, check: bool) -> None:
    """Show, check or create the jobs schema (procrastinate's own SQL, not Alembic: docs/jobs.md)."""
    from wms.jobs import admin

    conninfo = _conninfo()
    if apply_:
        try:
            done = admin.apply_schema(conninfo)
        except RuntimeError as err:
            raise click.ClickException(str(err)) from err
        click.echo("; ".join(done) if done else "jobs schema already present")
    state = admin.schema_state(conninfo)
    click.echo(f"jobs database {_hide_password(conninfo)}: procrastinate tables "
               f"{'present' if state.jobs_table else 'absent'}, "
               f"{'current (3.10)' if state.up_to_date else 'not current'}, job failures table "
               f"{'present' if state.failures_table else 'absent'}")
    if check and not state.ok:
        sys.exit(1)


def _age(delta) -> str:  # type: ignore[no-untyped-def]
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


@jobs_cli.command("status")
@click.option("--failures", "last_failures", default=10, show_default=True, help="How many last errors to show.")
@with_appcontext
def status(last_failures: int) -> None:
    """Jobs ready/doing/failed per queue and task, the oldest waiting job, the last errors, the workers."""
    from wms.jobs import admin

    try:
        conninfo = jobs_database_url(current_app)
    except JobsNotConfigured as err:
        raise click.ClickException(str(err)) from err
    if not conninfo:
        click.echo(f"jobs: NOT CONFIGURED — {JobsNotConfigured()}")
        click.echo("nothing can be deferred: webhooks and channel syncs wait in the app database until a worker "
                   "runs on a configured jobs database")
        sys.exit(1)
    try:
        state = admin.schema_state(conninfo)
    except Exception as err:  # noqa: BLE001
        raise click.ClickException(f"jobs database unreachable ({_hide_password(conninfo)}): {err}") from err
    if not state.ok:
        click.echo(f"jobs database {_hide_password(conninfo)}: no current schema (run `wms jobs schema --apply`)")
        sys.exit(1)
    result = admin.status(conninfo, last_failures=last_failures)
    click.echo(f"jobs database {_hide_password(conninfo)}")
    click.echo(f"{'queue':<14} {'task':<40} {'todo':>6} {'doing':>6} {'failed':>6} {'done':>7}")
    table: dict[tuple[str, str], dict[str, int]] = {}
    for queue, task_name, job_status, count in result.counts:
        table.setdefault((queue, task_name), {})[job_status] = count
    for (queue, task_name), by in sorted(table.items()):
        click.echo(f"{queue:<14} {task_name:<40} {by.get('todo', 0):>6} {by.get('doing', 0):>6} "
                   f"{by.get('failed', 0):>6} {by.get('succeeded', 0):>7}")
    if not table:
        click.echo("(no jobs yet)")
    if result.oldest_waiting:
        queue, task_name, age = result.oldest_waiting
        click.echo(f"oldest waiting job: {task_name} on {queue}, waiting {_age(age)}")
    else:
        click.echo("oldest waiting job: none waiting")
    live = [w for w in result.workers if w[1].total_seconds() < 30]
    click.echo(f"workers: {len(live)} alive" + (f", {len(result.workers) - len(live)} silent"
                                                 if len(live) < len(result.workers) else ""))
    if result.failures:
        click.echo("last failures:")
    for f in result.failures:
        click.echo(f"  job {f['job_id']} {f['task']} attempt {f['attempt']} at {f['at']:%Y-%m-%d %H:%M:%S} "
                   f"[{f['job_status'] or 'gone'}]: {f['error']}")


@jobs_cli.command("retry-failed")
@click.option("--task", "task_name", default=None, help="Only jobs of this task.")
@click.option("--queue", default=None, help="Only jobs of this queue.")
@with_appcontext
def retry_failed(task_name: str | None, queue: str | None) -> None:
    """Put failed jobs back in their queue, to run now."""
    from wms.jobs import admin

    ids = admin.retry_failed(_conninfo(), task_name=task_name, queue=queue)
    click.echo(f"{len(ids)} failed job(s) queued again" + (f": {', '.join(map(str, ids))}" if ids else ""))


@jobs_cli.command("retry-stalled")
@with_appcontext
def retry_stalled() -> None:
    """Put back the running jobs of workers whose heartbeat stopped (the worker does it every 15 s itself)."""
    from wms.jobs.maintenance import retry_stalled_jobs

    _conninfo()
    ids = retry_stalled_jobs()
    click.echo(f"{len(ids)} stalled job(s) queued again" + (f": {', '.join(map(str, ids))}" if ids else ""))
