"""Server-side sessions: the signed cookie carries a random id, `user_sessions` its hash. A session is valid while
its row is neither revoked nor expired, so sign-out, a password/PIN/role change, deactivation and "sign out
everywhere" end it at once, wherever its cookie was copied. A session begun on a handheld is bound to the device id
the handheld sends (``X-Device-Id``); an API call with another id, or none, ends it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app, g, request, session
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from wms.auth.models import User, UserSession
from wms.db import db

SESSION_KEY = "sid"  # the key of the random id in Flask's signed session cookie
DEVICE_HEADER = "X-Device-Id"
MAX_DEVICE_ID = 64
_REVOKE_AFTER_REQUEST = "wms.revoke_session"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def token_hash(raw: str) -> str:
    """What the database keeps of a session id (a stolen database row is no cookie)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def clean_device_id(value: str | None) -> str | None:
    """A device id as the handheld sends it (trimmed, at most 64 printable characters), or None."""
    value = (value or "").strip()
    if not value or len(value) > MAX_DEVICE_ID or not value.isprintable():
        return None
    return value


def open_session(user: User, *, device_id: str | None = None) -> str:
    """A new session row for `user` (bound to `device_id` when given); returns the id for the cookie."""
    now = _now()
    lifetime = current_app.permanent_session_lifetime
    # The user's dead rows go as he signs in again: the table holds about one live row per device in use.
    db.session.execute(UserSession.__table__.delete().where(
        UserSession.user_id == user.id, (UserSession.expires_at < now) | (UserSession.revoked_at < now - lifetime)))
    raw = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(raw), device_id=device_id, created_at=now,
                               expires_at=now + lifetime))
    db.session.flush()
    return raw


def live_session_filter(user_id: int, raw: str, now: dt.datetime | None = None) -> list:  # type: ignore[type-arg]
    """The conditions of `raw` being a live session of user `user_id`."""
    return [UserSession.user_id == user_id, UserSession.token_hash == token_hash(raw),
            UserSession.revoked_at.is_(None), UserSession.expires_at > (now or _now())]


def end_session(raw: str | None) -> None:
    """Revoke the session whose cookie id is `raw` (sign-out)."""
    if raw:
        db.session.execute(update(UserSession).where(UserSession.token_hash == token_hash(raw),
                                                     UserSession.revoked_at.is_(None)).values(revoked_at=_now()))


def end_all_sessions(user: User) -> int:
    """Revoke every session of `user` (and bump his session version); returns how many were live."""
    now = _now()
    ended = db.session.execute(update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > now,
    ).values(revoked_at=now)).rowcount
    user.session_version += 1
    db.session.flush()
    return ended or 0


def live_sessions(user: User) -> int:
    """How many sessions of `user` are live."""
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > _now())) or 0


def is_api_call() -> bool:
    """A JSON call (handheld or REST API): the requests a handheld always sends its device id with. Page
    navigations cannot carry a header, so they are not held to it (they show no more than the API gives)."""
    return request.path.startswith(("/hh/api/", "/api/"))


def device_refused(bound_to: str | None) -> bool:
    """True when this request may not use a session bound to device `bound_to`: another device id, or none on an
    API call."""
    if bound_to is None:
        return False
    sent = request.headers.get(DEVICE_HEADER)
    if sent is None:
        return is_api_call()
    return sent.strip() != bound_to


def revoke_after_request(session_row_id: int) -> None:
    """End session `session_row_id` once this request is over (after its own commit or rollback: a refused
    request rolls back, the revocation must stay)."""
    g.setdefault(_REVOKE_AFTER_REQUEST, set()).add(session_row_id)


def commit_pending_revocations() -> None:
    """Teardown: write the revocations ``revoke_after_request`` asked for, in their own transaction."""
    ids = g.pop(_REVOKE_AFTER_REQUEST, None)
    if not ids:
        return
    try:
        db.session.rollback()
        db.session.execute(update(UserSession).where(UserSession.id.in_(ids), UserSession.revoked_at.is_(None))
                           .values(revoked_at=_now()))
        db.session.commit()
    except SQLAlchemyError:  # the request was refused all the same; the session ends at its next refusal
        db.session.rollback()
        current_app.logger.exception("could not end sessions %s refused for their device", sorted(ids))


def current_session_id() -> str | None:
    """The session id of this request's cookie, if any."""
    raw = session.get(SESSION_KEY)
    return raw if isinstance(raw, str) and raw else None
