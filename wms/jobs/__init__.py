"""The WMS job engine (procrastinate on PostgreSQL): declare tasks, defer them now or after commit.

    from wms.jobs import task, periodic, defer, defer_after_commit

    @task("channels.push_stock", queue="channels", lock_key="channel:{channel_id}")
    def push_stock(channel_id: int) -> None: ...

    defer_after_commit("channels.push_stock", queueing_lock=f"push:{channel.id}", channel_id=channel.id)

docs/jobs.md tells the design; `wms jobs worker` runs the jobs.
"""

from wms.jobs import aftercommit as _aftercommit  # noqa: F401  (registers the session commit hooks)
from wms.jobs.aftercommit import defer_after_commit
from wms.jobs.engine import (
    DEFAULT_RETRY,
    JobsNotConfigured,
    JobsUnavailable,
    UnknownTask,
    bind_app,
    defer,
    job_app,
    jobs_database_url,
    periodic,
    task,
)

__all__ = ["DEFAULT_RETRY", "JobsNotConfigured", "JobsUnavailable", "UnknownTask", "bind_app", "defer",
           "defer_after_commit", "job_app", "jobs_database_url", "periodic", "task"]
