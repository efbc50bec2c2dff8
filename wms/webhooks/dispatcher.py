"""Deliver outbox events: signed with HMAC, retried with backoff, in order per object, every attempt logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, aliased

from wms.db import utcnow
from wms.orders.models import Channel
from wms.webhooks.models import WebhookDelivery, WebhookEvent

MAX_BACKOFF_S = 3600
SIGNATURE_HEADER = "WMS-Signature"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None


Sender = Callable[[str, bytes, dict[str, str], float], Answer]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as receivers verify it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance_s: int = 300, now: float | None = None) -> bool:
    """Check a signature header (for channel implementers and our tests)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST with the standard library; any 2xx is a delivery."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (URL set by an admin)
            return Answer(resp.status, None)
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return Answer(None, str(getattr(exc, "reason", exc)))


def backoff(attempts: int) -> float:
    """Seconds before the next try: 2, 4, 8 ... capped at an hour, with jitter so receivers are not stampeded."""
    base = min(MAX_BACKOFF_S, 2 ** min(attempts, 12))
    return base * (0.8 + 0.4 * random.random())


def due_events(session: Session, now: dt.datetime, limit: int = 50) -> list[WebhookEvent]:
    """Undelivered due events that are the oldest pending one of their object (order per object)."""
    older = aliased(WebhookEvent)
    query = (
        select(WebhookEvent)
        .where(WebhookEvent.delivered_at.is_(None), WebhookEvent.next_attempt_at <= now)
        .where(~exists().where(and_(
            older.channel_id == WebhookEvent.channel_id, older.object_key == WebhookEvent.object_key,
            older.delivered_at.is_(None), older.id < WebhookEvent.id)))
        .order_by(WebhookEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookEvent)
    return list(session.scalars(query))


def deliver(session: Session, event: WebhookEvent, send: Sender = http_post, timeout: float = 10.0,
            clock: Callable[[], dt.datetime] = utcnow) -> bool:
    """Try one event once; record the attempt and schedule the next one on failure."""
    channel = session.get(Channel, event.channel_id)
    body = json.dumps({"id": event.id, **event.payload}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "WMS-Event-Id": str(event.id), "WMS-Topic": event.topic}
    if channel and channel.webhook_secret:
        headers[SIGNATURE_HEADER] = sign(channel.webhook_secret, int(time.time()), body)
    started = time.perf_counter()
    if channel is None or not channel.webhook_url:
        answer = Answer(None, "channel has no webhook URL any more")
    else:
        answer = send(channel.webhook_url, body, headers, timeout)
    ok = answer.status_code is not None and 200 <= answer.status_code < 300
    now = clock()
    event.attempts += 1
    session.add(WebhookDelivery(event_id=event.id, at=now, status_code=answer.status_code, error=answer.error,
                                duration_ms=int((time.perf_counter() - started) * 1000)))
    if ok:
        event.delivered_at = now
        event.last_error = None
    else:
        event.last_error = answer.error or f"HTTP {answer.status_code}"
        event.next_attempt_at = now + dt.timedelta(seconds=backoff(event.attempts))
    return ok


def run_once(session_factory: Callable[[], Session], send: Sender = http_post, limit: int = 50,
             clock: Callable[[], dt.datetime] = utcnow) -> tuple[int, int]:
    """Deliver what is due now, one locked event per transaction; returns (delivered, failed)."""
    delivered = failed = 0
    skip: set[int] = set()
    for _ in range(limit):
        with session_factory() as session:
            candidates = [e for e in due_events(session, clock(), limit=1 + len(skip)) if e.id not in skip]
            if not candidates:
                break
            event = candidates[0]
            if deliver(session, event, send, clock=clock):
                delivered += 1
            else:
                failed += 1
                skip.add(event.id)
            session.commit()
    return delivered, failed
