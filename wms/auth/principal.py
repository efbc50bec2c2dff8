"""Who is calling: a signed-in person (session) or a bearer token (machine or personal)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import request, session
from flask_login import current_user

from wms.auth import sessions
from wms.enums import ROLES_NEEDING_SECOND_FACTOR, Role, TokenPurpose
from wms.errors import AuthenticationRequired, SecondFactorRequired, WarehouseForbidden


@dataclass
class Principal:
    roles: frozenset[Role]
    warehouse_ids: frozenset[int] | None  # None: every warehouse
    user_id: int | None = None
    token_id: int | None = None
    purpose: TokenPurpose | None = None
    via_session: bool = False
    second_factor_done: bool = False
    channel_id: int | None = None  # channel tokens speak for one sales channel
    locale: str | None = None  # the person's language, when known without loading the user (session_principal)

    @property
    def is_machine(self) -> bool:
        return self.purpose in (TokenPurpose.CHANNEL, TokenPurpose.PRINT_SITE)

    @property
    def scope_key(self) -> str:
        return f"token:{self.token_id}" if self.token_id is not None else f"user:{self.user_id}"

    def has_any_role(self, roles: Iterable[str]) -> bool:
        wanted = {Role(r) for r in roles}
        if Role.ADMIN in self.roles and Role.SUPERVISOR in wanted:
            return True
        return bool(self.roles & wanted)

    def can_see_warehouse(self, warehouse_id: int) -> bool:
        return self.warehouse_ids is None or warehouse_id in self.warehouse_ids

    def require_warehouse(self, warehouse_id: int, code: str = "") -> None:
        """Refuse any look at a warehouse outside the caller's scope."""
        if not self.can_see_warehouse(warehouse_id):
            raise WarehouseForbidden(f"Warehouse {code or warehouse_id} is outside the scope of your credentials.")

    def require_second_factor_if_needed(self) -> None:
        if self.via_session and self.roles & ROLES_NEEDING_SECOND_FACTOR and not self.second_factor_done:
            raise SecondFactorRequired("Confirm your second factor (TOTP) before using supervisor functions.")


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _from_token(raw: str) -> Principal:
    from wms.auth.tokens import verify_token

    token = verify_token(raw)
    if token is None:
        raise AuthenticationRequired("The bearer token is unknown, expired or revoked.")
    now = dt.datetime.now(dt.UTC)
    # Recorded at most once a minute: every request updating the token's row would serialise all concurrent
    # requests of one channel on that row lock until their commits.
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    if token.purpose == TokenPurpose.USER:
        user = token.user
        if user is None or not user.active:
            raise AuthenticationRequired("The token's owner is deactivated.")
        scope = user.warehouse_ids
        if token.warehouse_id is not None:
            scope = frozenset({token.warehouse_id}) if scope is None or token.warehouse_id in scope else frozenset()
        return Principal(
            roles=user.roles, warehouse_ids=scope, user_id=user.id, token_id=token.id,
            purpose=TokenPurpose.USER, second_factor_done=True,
        )
    return Principal(
        roles=frozenset(), warehouse_ids=frozenset({token.warehouse_id}), token_id=token.id,
        purpose=TokenPurpose(token.purpose), channel_id=token.channel_id,
    )


_CACHE_KEY = "wms.principal"


def cached_principal() -> Principal | None:
    """The caller if this request has already worked out who it is, else None (without working it out)."""
    return request.environ.get(_CACHE_KEY)


def current_principal() -> Principal | None:
    """The caller of this request, or None when anonymous. Cached for the request."""
    # Cached on the request, not on `g`: an app context can outlive one request (tests, CLI).
    if _CACHE_KEY in request.environ:
        return request.environ[_CACHE_KEY]
    principal: Principal | None = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationRequired("Use 'Authorization: Bearer <token>'.")
        principal = _from_token(raw.strip())
    elif current_user.is_authenticated:
        user = current_user
        principal = Principal(
            roles=user.roles, warehouse_ids=user.warehouse_ids, user_id=user.id, via_session=True,
            second_factor_done=bool(session.get("second_factor_done")),
        )
    request.environ[_CACHE_KEY] = principal
    return principal


# The signed-in person and their live session row in one statement, without building the ORM user: for the
# handheld's hot path, which queues it in a pipeline with its own statements. No row: no such person or session.
SESSION_PRINCIPAL_SQL = """
SELECT u.active, u.session_version, u.locale, u.all_warehouses,
       ARRAY(SELECT ur.role FROM user_roles ur WHERE ur.user_id = u.id) AS roles,
       ARRAY(SELECT uw.warehouse_id FROM user_warehouses uw WHERE uw.user_id = u.id) AS warehouses,
       s.device_id
FROM users u
JOIN user_sessions s ON s.user_id = u.id AND s.token_hash = %(session)s AND s.revoked_at IS NULL
                        AND s.expires_at > %(now)s
WHERE u.id = %(user)s
"""
_MAX_ID = 2**31 - 1


def session_user_key() -> tuple[int, str, str] | None:
    """(user id, session version, hash of the session id) of a session cookie Flask-Login would take as it is,
    without loading anyone; None for everything else (a bearer token, no one signed in, a session whose protection identifier does not
    match this client), which ``current_principal`` decides the usual way."""
    from wms import login_manager

    if request.headers.get("Authorization") or _CACHE_KEY in request.environ:
        return None
    user_key = session.get("_user_id")
    # The identifier Flask-Login's "strong" session protection compares (hash of address and user agent).
    if not isinstance(user_key, str) or session.get("_id") != login_manager._session_identifier_generator():
        return None
    user_id, _, version = user_key.partition(":")
    raw = sessions.current_session_id()
    if not user_id.isdigit() or not 1 <= int(user_id) <= _MAX_ID or raw is None:
        return None
    return int(user_id), version, sessions.token_hash(raw)


def session_principal(user_id: int, version: str, row: tuple[Any, ...] | None) -> Principal | None:
    """The principal of SESSION_PRINCIPAL_SQL's `row`, cached for the request like ``current_principal``'s; None
    when the person is gone or deactivated, the session revoked or expired, or bound to another device than this
    request's (``current_principal`` then refuses, and ends a session a copied cookie was caught using)."""
    if row is None:
        return None
    active, session_version, locale, all_warehouses, roles, warehouses, device_id = row
    if not active or str(session_version) != version or sessions.device_refused(device_id):
        return None
    principal = Principal(
        roles=frozenset(Role(r) for r in roles), warehouse_ids=None if all_warehouses else frozenset(warehouses),
        user_id=user_id, via_session=True, second_factor_done=bool(session.get("second_factor_done")),
        locale=locale,
    )
    request.environ[_CACHE_KEY] = principal
    return principal
