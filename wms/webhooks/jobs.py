"""Webhook delivery as jobs: one deferred right after each commit that queued events, plus a sweep every few
seconds for retries that came due and for anything lost between a commit and its defer (a crash, no jobs
database at that moment). The outbox rows in the app database are the truth; a job only says "look now"."""

from __future__ import annotations

import logging

from flask import current_app

from wms.jobs import periodic, task
from wms.webhooks.dispatcher import run_once

log = logging.getLogger("wms.webhooks")

DELIVER_TASK = "webhooks.deliver_due"
# One waiting delivery job at a time is enough: it delivers everything due when it runs.
DELIVER_QUEUEING_LOCK = "webhooks.deliver_due"


def deliver_due_events() -> tuple[int, int]:
    """Deliver what is due now (one locked event per transaction, in order per object)."""
    delivered, failed = run_once(current_app.extensions["wms.db"])
    if delivered or failed:
        log.info("webhooks: %d delivered, %d failed (will retry)", delivered, failed)
    return delivered, failed


@task(DELIVER_TASK, queue="webhooks", retry=False)
def deliver_due() -> None:
    """Deferred after a commit that emitted events. Not retried itself: a failed delivery is rescheduled in the
    outbox row (dispatcher backoff) and picked up by the sweep."""
    deliver_due_events()


@periodic("* * * * * */5", "webhooks.sweep", queue="webhooks")  # croniter: the seconds field comes last
def sweep() -> None:
    """Every 5 s: events whose retry came due, and any whose defer was lost."""
    deliver_due_events()
