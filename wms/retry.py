"""Run a request's transaction again when PostgreSQL broke it off to resolve a deadlock or a serialization failure.

The stock paths take their locks in one global order (docs/stock.md, "Lock order"), so they do not deadlock with
each other; a deadlock with some path that does not (or a serialization failure) is still possible, and the cure
is the one PostgreSQL recommends: roll the transaction back and run it again. A request is one transaction (one
commit at the boundary), so its view is run again from the start, at most TRANSACTION_ATTEMPTS times in all, after
a short random pause. A request that did something outside the database before failing (called a carrier, say)
is not run again: `note_outside_effect()` marks it and the failure is answered 503 with `Retry-After`.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

# deadlock_detected, serialization_failure: the transaction was rolled back and may simply be run again
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
DEFAULT_ATTEMPTS = 3


def is_retryable(exc: BaseException) -> bool:
    """True for a database error that asks for the whole transaction to be run again."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, DBAPIError) and getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def note_outside_effect() -> None:
    """Mark this request as having acted outside its database transaction: it must not be run twice."""
    if has_app_context():
        g.wms_outside_effect = True


def _pause(attempt: int) -> None:
    # jitter, so that the two transactions that deadlocked do not meet again at the same instant
    time.sleep(random.uniform(0.01, 0.05) * attempt)


def run_with_retry(work: Callable[[], Any]) -> Any:
    """Call `work` (one whole request transaction); on a retryable failure roll back and call it again."""
    from wms.db import db

    attempts = int(current_app.config.get("TRANSACTION_ATTEMPTS", DEFAULT_ATTEMPTS))
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as exc:
            if attempt >= attempts or not is_retryable(exc) or g.get("wms_outside_effect"):
                raise
            log.warning("transaction attempt %s of %s failed (%s); running it again", attempt, attempts,
                        getattr(exc.orig, "sqlstate", "?"))
            if db.has_session():
                db.session.rollback()
            attempt += 1
            _pause(attempt)


def install(app: Flask) -> None:
    """Run every view of `app` under run_with_retry (before-request hooks and the commit stay outside it)."""
    dispatch = app.dispatch_request

    @functools.wraps(dispatch)
    def dispatch_with_retry() -> Any:
        g.wms_in_view = True
        try:
            return run_with_retry(dispatch)
        finally:
            g.wms_in_view = False

    app.dispatch_request = dispatch_with_retry  # type: ignore[method-assign]
    engine = app.extensions.get("wms.engine")
    if engine is not None:
        # A view that commits part of its work itself (a long poll does, before it waits) is no longer one
        # transaction: what it committed would be done twice.
        @event.listens_for(engine, "commit")
        def _committed_in_view(_conn: Any) -> None:
            if has_app_context() and g.get("wms_in_view"):
                note_outside_effect()
