"""Defer jobs when the surrounding database transaction commits; forget them when it rolls back.

A job that reads what its transaction wrote must not start before that write is visible, and a job for a change
that was rolled back must never run. The pending defers live in `session.info` and are sent from SQLAlchemy's
`after_commit` event (outermost transaction only). A defer that fails then (no jobs database, PostgreSQL away)
is logged, never raised: the commit already happened, and every deferring area has a periodic sweep that finds
the work from the app database (the webhook outbox rows, the channels' dirty marks) and catches up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger("wms.jobs")

PENDING_KEY = "wms.jobs.after_commit"


@dataclass
class PendingDefer:
    conninfo: str | None
    name: str
    options: dict[str, Any]
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[Any, ...]:
        lock = self.options.get("queueing_lock")
        return (self.name, lock) if lock else (self.name, id(self))


def defer_after_commit(name: str, *, queueing_lock: str | None = None, lock: str | None = None,
                       schedule_in_s: float | None = None, priority: int = 0, session: Session | None = None,
                       **kwargs: Any) -> None:
    """Defer job `name` once the current transaction of `session` (default: db.session) commits; dropped on
    rollback. Several calls with the same queueing lock in one transaction defer once."""
    from wms.db import db
    from wms.jobs.engine import JobsNotConfigured, jobs_database_url

    session = session if session is not None else db.session
    try:
        conninfo = jobs_database_url()
    except JobsNotConfigured:
        conninfo = None
    if not session.in_transaction():
        session.begin()  # no connection yet: only so that a rollback before any SQL still forgets this defer
    pending: dict[tuple[Any, ...], PendingDefer] = session.info.setdefault(PENDING_KEY, {})
    item = PendingDefer(conninfo, name, {"queueing_lock": queueing_lock, "lock": lock,
                                         "schedule_in_s": schedule_in_s, "priority": priority}, kwargs)
    pending.setdefault(item.key, item)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    pending: dict[tuple[Any, ...], PendingDefer] | None = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    from wms.jobs.engine import _defer

    for item in pending.values():
        try:
            _defer(item.conninfo, item.name, kwargs=item.kwargs, **item.options)
        except Exception as err:  # the commit stands; the area's periodic sweep catches up
            log.error("jobs: could not defer %s after commit (%s); the periodic sweep will catch up",
                      item.name, err)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    # every rollback() of the outermost transaction, even one that had sent no SQL yet (no DBAPI rollback);
    # a savepoint's rollback keeps what the outer transaction will still commit
    if previous_transaction.parent is None and not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)
