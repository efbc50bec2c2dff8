"""TOTP second factor: secrets encrypted at rest, one use per time step, recovery codes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import select

from wms.auth.models import RecoveryCode, User
from wms.auth.passwords import hash_secret, verify_secret
from wms.db import db


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"wms-totp:" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def store_secret(user: User, secret: str) -> None:
    """Keep a (not yet confirmed) TOTP secret, encrypted with a key derived from SECRET_KEY."""
    user.totp_secret_enc = _fernet().encrypt(secret.encode()).decode()
    user.totp_confirmed_at = None
    user.totp_last_counter = None


def secret_of(user: User) -> str | None:
    if not user.totp_secret_enc:
        return None
    try:
        return _fernet().decrypt(user.totp_secret_enc.encode()).decode()
    except InvalidToken:
        return None  # SECRET_KEY changed: the user must enrol again


def mark_confirmed(user: User) -> None:
    user.totp_confirmed_at = dt.datetime.now(dt.UTC)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["TOTP_ISSUER"])


def verify_code(user: User, code: str) -> bool:
    """Accept a current TOTP code once (the same time step cannot be replayed)."""
    secret = secret_of(user)
    code = code.strip().replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)
    for drift in (-1, 0, 1):
        at = now + dt.timedelta(seconds=30 * drift)
        counter = totp.timecode(at)
        if secrets.compare_digest(totp.at(at), code):
            if user.totp_last_counter is not None and counter <= user.totp_last_counter:
                return False
            user.totp_last_counter = counter
            return True
    return False


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes; returns the clear codes (shown once)."""
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(current_app.config["RECOVERY_CODE_COUNT"])]
    for c in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_secret(c)))
    db.session.flush()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Consume one unused recovery code matching `code`."""
    code = code.strip().lower()
    for row in db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ):
        if verify_secret(row.code_hash, code):
            row.used_at = dt.datetime.now(dt.UTC)
            return True
    return False
