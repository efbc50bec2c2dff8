"""Apply a mutating call once per (caller, Idempotency-Key); a replay gets the stored answer."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from flask import Response, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from wms.auth.principal import Principal
from wms.db import db, utcnow
from wms.errors import IdempotencyKeyRequired, IdempotencyKeyReused, ValidationFailed
from wms.idempotency_models import IdempotencyRecord

HEADER = "Idempotency-Key"


def _request_hash() -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(request.path.encode())
    h.update(b"\0")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


def request_key() -> str:
    """The idempotency key of this request; refuses a missing or oversize one."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise IdempotencyKeyRequired(f"Every mutating call must carry an {HEADER} header (a UUID is fine).")
    if len(key) > 200:
        raise ValidationFailed(f"{HEADER} is longer than 200 characters.", errors=[{"field": HEADER, "message": "too long"}])
    return key


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise IdempotencyKeyReused(
            f"Key {record.key!r} was first used for a different request; use a new key for a new request."
        )
    resp = Response(record.response_body, status=record.status_code, mimetype="application/json")
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def run_idempotent(principal: Principal | None, apply: Callable[[], Response]) -> Response:
    """Run `apply` once for this key. The key row is inserted first, so a concurrent twin waits on it."""
    key = request_key()
    scope = principal.scope_key if principal else f"anon:{request.remote_addr}"
    digest = _request_hash()
    session = db.session
    existing = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if existing is not None:
        return _replay(existing, digest)
    record = IdempotencyRecord(scope=scope, key=key, request_hash=digest, status_code=0, response_body="")
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        # A twin committed first (PostgreSQL made us wait on its row): answer as it was answered.
        session.rollback()
        existing = session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        )
        if existing is None:
            raise
        return _replay(existing, digest)
    response = apply()
    record.status_code = response.status_code
    record.response_body = response.get_data(as_text=True)
    session.flush()
    return response


def purge(older_than: dt.timedelta, *, batch: int = 10_000,
          progress: Callable[[int], None] | None = None) -> int:
    """Delete the stored answers of keys first used more than `older_than` ago, `batch` rows per transaction
    (committed), so a big backlog never holds long locks. A call retried with a purged key would be applied again:
    keep them longer than any device may hold a queued scan. Returns how many were deleted."""
    cutoff = utcnow() - older_than
    total = 0
    while True:
        ids = select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff).order_by(
            IdempotencyRecord.id).limit(batch)
        deleted = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id.in_(ids))).rowcount
        db.session.commit()
        total += deleted
        if progress is not None and deleted:
            progress(total)
        if deleted < batch:
            return total
