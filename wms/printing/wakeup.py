"""Long-poll for the site daemon: wait until a job is claimable, holding no transaction while waiting.

On PostgreSQL a separate psycopg connection LISTENs on ``print_jobs`` (enqueue NOTIFYs at commit); the database
is still re-read every second because jobs also become claimable by time (a retry's not_before, an expired
lease). Without LISTEN (SQLite, or the listener cannot connect) the database is polled every 200 ms.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, current_app

from wms.db import db
from wms.printing.jobs import NOTIFY_CHANNEL, has_claimable

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
RECHECK_SECONDS = 1.0


def _listener(app: Flask) -> Any | None:
    """A psycopg connection listening on the job channel, or None when LISTEN is not available."""
    engine = db.engine(app)
    if engine.dialect.name != "postgresql":
        return None
    try:
        import psycopg

        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return conn
    except Exception:  # noqa: BLE001 - any failure to listen only costs latency: fall back to polling
        log.warning("cannot LISTEN on %s; polling every %.1f s", NOTIFY_CHANNEL, POLL_SECONDS, exc_info=True)
        return None


def _claimable_now(warehouse_id: int) -> bool:
    try:
        return has_claimable(warehouse_id)
    finally:
        db.session.rollback()  # a read only: end its transaction before sleeping


def wait_for_claimable(warehouse_id: int, wait_seconds: float) -> bool:
    """Block up to wait_seconds until the warehouse has a claimable job; True when it has one."""
    # Whatever the request did so far (the token's last use) is committed so no transaction stays open.
    db.session.commit()
    deadline = time.monotonic() + wait_seconds
    if _claimable_now(warehouse_id):
        return True  # work is there: no listener needed
    conn = _listener(current_app._get_current_object())  # type: ignore[attr-defined]
    wanted = str(warehouse_id)
    try:
        # LISTEN is active before this first check, so a job committed after it always wakes us.
        while True:
            if _claimable_now(warehouse_id):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if conn is None:
                time.sleep(min(remaining, POLL_SECONDS))
                continue
            try:
                for note in conn.notifies(timeout=min(remaining, RECHECK_SECONDS)):
                    if note.payload == wanted:
                        break
            except Exception:  # noqa: BLE001 - the listener died: keep waiting by polling
                log.warning("LISTEN connection lost; polling", exc_info=True)
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()
