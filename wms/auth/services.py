"""Sign-in and user administration: throttled credential checks, people, badges, second factors, tokens."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wms.auth import totp as totp_service
from wms.auth.models import ApiToken, LoginAttempt, LoginThrottle, RecoveryCode, User, UserRole, UserWarehouse
from wms.auth.passwords import hash_secret, needs_rehash, verify_secret
from wms.auth.sessions import end_all_sessions
from wms.auth.tokens import issue_token, revoke_token
from wms.db import db
from wms.enums import Role, TokenPurpose
from wms.errors import (
    AuthenticationRequired,
    Conflict,
    Forbidden,
    NotFound,
    TooManyAttempts,
    ValidationFailed,
    explain_constraint,
)
from wms.layout.models import Warehouse

MIN_PASSWORD_LENGTH = 10
MAX_SECRET_LENGTH = 1024
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
PIN_RE = re.compile(r"^[0-9]{4,8}$")
BADGE_RE = re.compile(r"^[\x21-\x7e]{1,64}$")

KIND_PASSWORD = "password"
KIND_BADGE = "badge"
KIND_TOTP = "totp"


class InvalidCredentials(AuthenticationRequired):
    """Unknown user, wrong password, wrong PIN or inactive account: deliberately one message for all."""

    slug = "invalid-credentials"
    title = "Sign-in failed"


class LoginThrottled(TooManyAttempts):
    slug = "login-throttled"
    title = "Too many failed sign-in attempts"


class BadgeSignInNotAllowed(Forbidden):
    """Supervisors and admins need their second factor, which a badge and PIN cannot give."""

    slug = "badge-sign-in-not-allowed"
    title = "Badge sign-in is not allowed for this account"


class UsernameTaken(Conflict):
    slug = "username-taken"
    title = "This username is already used"


class BadgeTaken(Conflict):
    slug = "badge-taken"
    title = "This badge already belongs to someone"


class UserInputInvalid(ValidationFailed):
    slug = "user-invalid"
    title = "The user details are not valid"


class WeakPassword(ValidationFailed):
    slug = "weak-password"
    title = "The password is too weak"


class InvalidPin(ValidationFailed):
    slug = "invalid-pin"
    title = "The PIN is not valid"


class SelfLockout(Conflict):
    """An admin cannot deactivate himself or drop his own admin role (nobody could undo it)."""

    slug = "self-lockout"
    title = "You would lock yourself out"


explain_constraint("uq_users_username", UsernameTaken, "This username is already used.")
explain_constraint("uq_users_badge_code", BadgeTaken, "This badge already belongs to another user.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- redirects ---------------------------------------------------------------------------------------------


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default` (no open redirect to another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- throttling --------------------------------------------------------------------------------------------


def claim_attempt(kind: str, subject: str, ip: str) -> None:
    """Claim one sign-in attempt for `subject` before its secret is checked, or refuse it (429) while the subject
    has used up its attempts of the window or the address failed too often. The claim is one conditional upsert:
    concurrent attempts for one subject queue on its row, so no more than the limit are ever checked."""
    cfg = current_app.config
    window = dt.timedelta(seconds=int(cfg["LOGIN_WINDOW_SECONDS"]))
    now = _now()
    since = now - window
    subject = subject[:128]
    _check_address(ip, since, window)
    table = LoginThrottle.__table__
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    expired = table.c.window_started_at <= since
    claim = insert(table).values(kind=kind, subject=subject, attempts=1, window_started_at=now)
    claim = claim.on_conflict_do_update(
        index_elements=[table.c.kind, table.c.subject],
        set_={"attempts": case((expired, 1), else_=table.c.attempts + 1),
              "window_started_at": case((expired, now), else_=table.c.window_started_at)},
        where=expired | (table.c.attempts < int(cfg["LOGIN_MAX_FAILURES"])),
    ).returning(table.c.attempts)
    if db.session.execute(claim).first() is None:
        started = db.session.scalar(select(LoginThrottle.window_started_at).where(
            LoginThrottle.kind == kind, LoginThrottle.subject == subject))
        _refuse(started or now, window)


def _check_address(ip: str, since: dt.datetime, window: dt.timedelta) -> None:
    """Refuse while this address failed too often within the window (a spray over many subjects); counted, not
    claimed: a claim would make every sign-in behind one NAT wait for the others' checks."""
    oldest_ip, ip_failures = db.session.execute(
        select(func.min(LoginAttempt.at), func.count()).where(
            LoginAttempt.ip == ip[:64], LoginAttempt.success.is_(False), LoginAttempt.at >= since
        )
    ).one()
    if ip_failures >= int(current_app.config["LOGIN_MAX_FAILURES_PER_IP"]):
        _refuse(oldest_ip, window)


def _refuse(oldest: dt.datetime, window: dt.timedelta) -> None:
    seconds = max(1, math.ceil((oldest + window - _now()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    raise LoginThrottled(
        f"Too many failed sign-in attempts. Wait {minutes} minute(s) before trying again.", retry_after=seconds
    )


def record_attempt(kind: str, subject: str, ip: str, *, success: bool) -> None:
    """Remember one checked sign-in attempt (the audit trail and the address's count); a success gives the
    subject its attempts back, a failure keeps its claim."""
    subject = subject[:128]
    db.session.add(LoginAttempt(kind=kind, subject=subject, ip=ip[:64], success=success, at=_now()))
    if success:
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.subject == subject))
    db.session.flush()


# --- signing in --------------------------------------------------------------------------------------------


def find_user_by_username(username: str) -> User | None:
    """The user with this username, case-insensitively."""
    return db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def authenticate_password(username: str, password: str, ip: str) -> User:
    """The active user matching these credentials; records the attempt, throttles repeated failures."""
    subject = username.strip().lower()
    claim_attempt(KIND_PASSWORD, subject, ip)
    user = find_user_by_username(subject) if subject else None
    ok = verify_secret(user.password_hash if user else None, password[:MAX_SECRET_LENGTH])
    if not ok or user is None or not user.active:
        record_attempt(KIND_PASSWORD, subject, ip, success=False)
        raise InvalidCredentials("Unknown username or wrong password.")
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_secret(password)
    record_attempt(KIND_PASSWORD, subject, ip, success=True)
    return user


def authenticate_badge(badge: str, pin: str, ip: str) -> User:
    """The active floor user holding this badge and PIN; supervisors and admins are refused."""
    badge = badge.strip()
    claim_attempt(KIND_BADGE, badge, ip)
    user = db.session.scalar(select(User).where(User.badge_code == badge)) if badge else None
    ok = verify_secret(user.pin_hash if user else None, pin.strip()[:MAX_SECRET_LENGTH])
    if not ok or user is None or not user.active:
        record_attempt(KIND_BADGE, badge, ip, success=False)
        raise InvalidCredentials("Unknown badge or wrong PIN.")
    if user.needs_second_factor:
        raise BadgeSignInNotAllowed(
            "Supervisors and admins sign in with their username, password and second factor, not with a badge."
        )
    record_attempt(KIND_BADGE, badge, ip, success=True)
    return user


def verify_second_factor(user: User, code: str, ip: str) -> bool:
    """Accept a current TOTP code (once) or an unused recovery code; throttled like passwords."""
    subject = f"user:{user.id}"
    claim_attempt(KIND_TOTP, subject, ip)
    code = code.strip()
    compact = code.replace(" ", "")
    ok = totp_service.verify_code(user, compact) if compact.isdigit() else totp_service.use_recovery_code(user, code)
    record_attempt(KIND_TOTP, subject, ip, success=ok)
    return ok


def begin_enrolment(user: User) -> str:
    """The pending TOTP secret of a user enrolling (a new one unless one awaits confirmation)."""
    import pyotp

    if user.has_totp:
        raise Conflict("Two-factor authentication is already set up; an admin can reset it.")
    secret = totp_service.secret_of(user)
    if secret is None:
        secret = pyotp.random_base32()
        totp_service.store_secret(user, secret)
        db.session.flush()
    return secret


def confirm_enrolment(user: User, code: str, ip: str) -> list[str] | None:
    """Confirm the pending TOTP secret with a code; returns the fresh recovery codes, or None if wrong."""
    if user.has_totp:
        raise Conflict("Two-factor authentication is already set up; an admin can reset it.")
    subject = f"user:{user.id}"
    claim_attempt(KIND_TOTP, subject, ip)
    ok = totp_service.verify_code(user, code)
    record_attempt(KIND_TOTP, subject, ip, success=ok)
    if not ok:
        return None
    totp_service.mark_confirmed(user)
    return totp_service.new_recovery_codes(user)


def regenerate_recovery_codes(user: User, code: str, ip: str) -> list[str] | None:
    """New recovery codes in exchange for a current TOTP code (a recovery code does not do); None if wrong."""
    subject = f"user:{user.id}"
    claim_attempt(KIND_TOTP, subject, ip)
    ok = user.has_totp and totp_service.verify_code(user, code)
    record_attempt(KIND_TOTP, subject, ip, success=ok)
    return totp_service.new_recovery_codes(user) if ok else None


def unused_recovery_codes(user: User) -> int:
    """How many recovery codes the user has left."""
    return db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ) or 0


# --- people ------------------------------------------------------------------------------------------------


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
            errors=[{"field": "password", "message": f"at least {MIN_PASSWORD_LENGTH} characters"}],
        )
    if len(password) > MAX_SECRET_LENGTH:
        raise WeakPassword(
            f"The password is longer than {MAX_SECRET_LENGTH} characters.",
            errors=[{"field": "password", "message": f"at most {MAX_SECRET_LENGTH} characters"}],
        )


def _check_badge(user: User | None, badge: str, pin: str) -> str:
    badge = badge.strip()
    if not BADGE_RE.match(badge):
        raise UserInputInvalid(
            "A badge code is 1 to 64 printable characters without spaces.",
            errors=[{"field": "badge", "message": "1-64 printable characters"}],
        )
    if not PIN_RE.match(pin):
        raise InvalidPin("The PIN is 4 to 8 digits.", errors=[{"field": "pin", "message": "4 to 8 digits"}])
    holder = db.session.scalar(select(User).where(User.badge_code == badge))
    if holder is not None and holder is not user:
        raise BadgeTaken(f"The badge {badge} already belongs to another user.")
    return badge


def _roles(roles: Iterable[str | Role]) -> list[Role]:
    try:
        parsed = sorted({Role(r) for r in roles})
    except ValueError:
        raise UserInputInvalid(
            "Unknown role; choose among " + ", ".join(r.value for r in Role) + ".",
            errors=[{"field": "roles", "message": "unknown role"}],
        ) from None
    if not parsed:
        raise UserInputInvalid("Give the user at least one role.", errors=[{"field": "roles", "message": "required"}])
    return parsed


def warehouses_by_code(codes: Iterable[str]) -> list[Warehouse]:
    """The warehouses named by `codes`; refuses any unknown code."""
    wanted = {c.strip() for c in codes if c.strip()}
    found = list(db.session.scalars(select(Warehouse).where(Warehouse.code.in_(wanted)))) if wanted else []
    missing = wanted - {w.code for w in found}
    if missing:
        raise UserInputInvalid(
            "Unknown warehouse: " + ", ".join(sorted(missing)) + ".",
            errors=[{"field": "warehouses", "message": "unknown code " + c} for c in sorted(missing)],
        )
    return sorted(found, key=lambda w: w.code)


def _scope(warehouses: Iterable[Warehouse], all_warehouses: bool) -> list[Warehouse]:
    chosen = list(warehouses)
    if not all_warehouses and not chosen:
        raise UserInputInvalid(
            "Choose at least one warehouse, or all warehouses.",
            errors=[{"field": "warehouses", "message": "required unless all warehouses"}],
        )
    return [] if all_warehouses else chosen


def create_user(
    username: str,
    *,
    roles: Iterable[str | Role],
    password: str | None,
    display_name: str = "",
    warehouses: Iterable[Warehouse] = (),
    all_warehouses: bool = False,
    badge: str | None = None,
    pin: str | None = None,
) -> User:
    """Create a person with roles, a warehouse scope, a password and optionally a badge + PIN."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise UserInputInvalid(
            "A username is 1 to 64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit.",
            errors=[{"field": "username", "message": "invalid username"}],
        )
    display_name = display_name.strip() or username
    if len(display_name) > 120:
        raise UserInputInvalid("The display name is at most 120 characters.",
                               errors=[{"field": "display_name", "message": "at most 120 characters"}])
    parsed_roles = _roles(roles)
    scope = _scope(warehouses, all_warehouses)
    if password is None and not badge:
        raise UserInputInvalid("Give the user a password or a badge and PIN.",
                               errors=[{"field": "password", "message": "required"}])
    if password is not None:
        _check_password(password)
    if bool(badge) != bool(pin):
        raise InvalidPin("A badge needs a PIN and a PIN needs a badge.",
                         errors=[{"field": "pin", "message": "badge and PIN go together"}])
    if badge and pin is not None:
        badge = _check_badge(None, badge, pin)
    if find_user_by_username(username) is not None:
        raise UsernameTaken(f"The username {username} is already used.")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_secret(password) if password is not None else None,
        badge_code=badge or None,
        pin_hash=hash_secret(pin) if badge and pin else None,
        all_warehouses=all_warehouses,
    )
    user.role_rows = [UserRole(role=r) for r in parsed_roles]
    user.warehouse_rows = [UserWarehouse(warehouse_id=w.id) for w in scope]
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User,
    *,
    roles: Iterable[str | Role],
    warehouses: Iterable[Warehouse],
    all_warehouses: bool,
    active: bool,
    display_name: str,
    acting: User | None = None,
) -> None:
    """Change a person's roles, warehouse scope, display name and active flag."""
    parsed_roles = _roles(roles)
    scope = _scope(warehouses, all_warehouses)
    display_name = display_name.strip() or user.username
    if len(display_name) > 120:
        raise UserInputInvalid("The display name is at most 120 characters.",
                               errors=[{"field": "display_name", "message": "at most 120 characters"}])
    if acting is not None and acting.id == user.id:
        if not active:
            raise SelfLockout("You cannot deactivate your own account.")
        if Role.ADMIN not in parsed_roles:
            raise SelfLockout("You cannot remove your own admin role.")
    sessions_end = (not active and user.active) or set(parsed_roles) != set(user.roles)
    user.display_name = display_name
    user.active = active
    user.all_warehouses = all_warehouses
    keep_roles = {r.role: r for r in user.role_rows}
    user.role_rows = [keep_roles.get(r) or UserRole(role=r) for r in parsed_roles]
    keep_wh = {w.warehouse_id: w for w in user.warehouse_rows}
    user.warehouse_rows = [keep_wh.get(w.id) or UserWarehouse(warehouse_id=w.id) for w in scope]
    if sessions_end:
        end_all_sessions(user)
    db.session.flush()


def set_password(user: User, password: str) -> None:
    """Replace a person's password; every session of his ends (whoever knew the old one is signed out)."""
    _check_password(password)
    user.password_hash = hash_secret(password)
    end_all_sessions(user)


def set_badge(user: User, badge: str, pin: str) -> None:
    """Give a floor user a badge and PIN for handheld sign-in."""
    if user.needs_second_factor:
        raise BadgeSignInNotAllowed("Supervisors and admins cannot sign in by badge, so they get no badge.")
    user.badge_code = _check_badge(user, badge, pin)
    user.pin_hash = hash_secret(pin)
    end_all_sessions(user)


def clear_badge(user: User) -> None:
    """Take a person's badge and PIN away, and end his sessions."""
    user.badge_code = None
    user.pin_hash = None
    end_all_sessions(user)


def sign_out_everywhere(user: User) -> int:
    """End every session of `user` at once (his personal API tokens are revoked separately); returns how many."""
    return end_all_sessions(user)


def reset_second_factor(user: User) -> None:
    """Forget the TOTP secret and recovery codes and end every session of the user (he enrols again)."""
    user.totp_secret_enc = None
    user.totp_confirmed_at = None
    user.totp_last_counter = None
    for row in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(row)
    end_all_sessions(user)


def deactivate_user(user: User, acting: User | None = None) -> None:
    """Stop a person from signing in; his sessions and personal tokens stop working at once."""
    if acting is not None and acting.id == user.id:
        raise SelfLockout("You cannot deactivate your own account.")
    if user.active:
        user.active = False
        end_all_sessions(user)
    db.session.flush()


def get_user(user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def search_users(text: str = "", *, limit: int = 200) -> list[User]:
    """Users whose username or display name contains `text`, by username."""
    stmt = select(User).order_by(User.username).limit(limit)
    text = text.strip()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(User.username.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
    return list(db.session.scalars(stmt))


def warehouse_codes(user: User) -> list[str] | None:
    """Codes of the user's warehouses, or None for all warehouses."""
    ids = user.warehouse_ids
    if ids is None:
        return None
    if not ids:
        return []
    return sorted(db.session.scalars(select(Warehouse.code).where(Warehouse.id.in_(ids))))


def all_warehouses() -> list[Warehouse]:
    """Every warehouse, by code."""
    return list(db.session.scalars(select(Warehouse).order_by(Warehouse.code)))


# --- tokens ------------------------------------------------------------------------------------------------


def _token_name(name: str, default: str) -> str:
    name = name.strip() or default
    if len(name) > 120:
        raise UserInputInvalid("A token name is at most 120 characters.",
                               errors=[{"field": "name", "message": "at most 120 characters"}])
    return name


def _expiry(days: int | None) -> dt.datetime | None:
    if days is None:
        return None
    if not 1 <= days <= 3650:
        raise UserInputInvalid("A token lives 1 to 3650 days.",
                               errors=[{"field": "expires_in_days", "message": "1 to 3650"}])
    return _now() + dt.timedelta(days=days)


def create_machine_token(
    name: str, purpose: str | TokenPurpose, warehouse: Warehouse, *, created_by: User | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A channel or print-site token for one warehouse; returns it with its clear text (shown once)."""
    try:
        purpose = TokenPurpose(purpose)
    except ValueError:
        purpose = None  # type: ignore[assignment]
    if purpose not in (TokenPurpose.CHANNEL, TokenPurpose.PRINT_SITE):
        raise UserInputInvalid("A machine token is for a channel or a print site.",
                               errors=[{"field": "purpose", "message": "channel or print_site"}])
    return issue_token(name=_token_name(name, f"{purpose.value} {warehouse.code}"), purpose=purpose,
                       warehouse_id=warehouse.id, created_by=created_by, expires_at=_expiry(expires_in_days))


def create_personal_token(
    user: User, name: str, *, created_by: User | None = None, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A token acting as `user` (his roles and warehouses); returns it with its clear text (shown once)."""
    if not user.active:
        raise UserInputInvalid("A deactivated user cannot get a token.",
                               errors=[{"field": "user", "message": "inactive"}])
    return issue_token(name=_token_name(name, f"{user.username} token"), purpose=TokenPurpose.USER, user=user,
                       created_by=created_by, expires_at=_expiry(expires_in_days))


def list_tokens(*, include_revoked: bool = False) -> list[ApiToken]:
    """API tokens, newest first."""
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if not include_revoked:
        stmt = stmt.where(ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(stmt))


def revoke_token_by_id(token_id: int, *, owner_id: int | None = None) -> ApiToken:
    """Revoke token `token_id`; when `owner_id` is given, only a personal token of that user."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise NotFound(f"No token {token_id} of yours.")
    revoke_token(token)
    db.session.flush()
    return token
