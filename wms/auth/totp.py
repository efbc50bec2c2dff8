"""TOTP second factor: secrets encrypted at rest, one use per time step, recovery codes."""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
from flask import current_app
from sqlalchemy import select

from wms.auth.models import RecoveryCode, User
from wms.auth.passwords import hash_secret, verify_secret
from wms.crypto import SecretUnreadable, app_box
from wms.db import db


def store_secret(user: User, secret: str) -> None:
    """Keep a (not yet confirmed) TOTP secret, encrypted (wms.crypto, purpose totp)."""
    user.totp_secret_enc = app_box().encrypt("totp", secret)
    user.totp_confirmed_at = None
    user.totp_last_counter = None


def secret_of(user: User) -> str | None:
    if not user.totp_secret_enc:
        return None
    try:
        return app_box().decrypt("totp", user.totp_secret_enc)
    except SecretUnreadable:
        return None  # its key was dropped before `wms secrets rotate`: the user must enrol again


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
