"""API tokens: random secrets shown once, stored as SHA-256 hashes, looked up by a public prefix."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select

from wms.auth.models import ApiToken, User
from wms.db import db
from wms.enums import TokenPurpose
from wms.errors import ValidationFailed

TOKEN_PREFIX = "wms_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    *,
    name: str,
    purpose: TokenPurpose,
    warehouse_id: int | None = None,
    user: User | None = None,
    created_by: User | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its clear text (the only time the clear text exists)."""
    if purpose == TokenPurpose.USER and user is None:
        raise ValidationFailed("A personal token needs its owner.", errors=[{"field": "user", "message": "required"}])
    if purpose != TokenPurpose.USER and warehouse_id is None:
        raise ValidationFailed(
            "A machine token is scoped to one warehouse.", errors=[{"field": "warehouse", "message": "required"}]
        )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip() or purpose.value,
        prefix=prefix,
        secret_hash=_hash(secret),
        purpose=purpose,
        warehouse_id=warehouse_id,
        user_id=user.id if user else None,
        created_by_id=created_by.id if created_by else None,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return token, f"{TOKEN_PREFIX}{prefix}_{secret}"


def verify_token(raw: str) -> ApiToken | None:
    """The live token matching `raw`, or None (unknown, wrong secret, expired or revoked)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    prefix, _, secret = raw[len(TOKEN_PREFIX):].partition("_")
    if not prefix or not secret:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
        return None
    now = dt.datetime.now(dt.UTC)
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    return token


def revoke_token(token: ApiToken) -> None:
    """Revoke a token from now on (kept for the audit trail)."""
    if token.revoked_at is None:
        token.revoked_at = dt.datetime.now(dt.UTC)
