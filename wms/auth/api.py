"""auth API operations: who am I, users (admins), personal tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from wms.api.framework import operation
from wms.auth import services
from wms.auth.models import User
from wms.auth.principal import current_principal
from wms.db import db
from wms.enums import Role, TokenPurpose
from wms.errors import AuthenticationRequired
from wms.layout.models import Warehouse

MACHINE_PURPOSES = (TokenPurpose.CHANNEL.value, TokenPurpose.PRINT_SITE.value)


class Me(BaseModel):
    kind: Literal["user", "token"]
    user_id: int | None
    username: str | None
    display_name: str | None
    token_id: int | None
    purpose: TokenPurpose | None
    roles: list[Role]
    all_warehouses: bool
    warehouses: list[str]
    second_factor_done: bool


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[Role]
    all_warehouses: bool
    warehouses: list[str]
    active: bool
    has_badge: bool
    has_totp: bool


class UserQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, Field(max_length=100, description="part of the username or display name")] = ""


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: Annotated[str, Field(max_length=120)] = ""
    roles: Annotated[list[Role], Field(min_length=1)]
    all_warehouses: bool = False
    warehouses: Annotated[list[Annotated[str, Field(min_length=1, max_length=20)]], Field(max_length=200)] = []
    password: Annotated[str, Field(min_length=services.MIN_PASSWORD_LENGTH, max_length=services.MAX_SECRET_LENGTH)]
    badge: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,8}$")] | None = None


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=120)] = ""
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class TokenCreated(BaseModel):
    id: int
    name: str
    prefix: str
    purpose: TokenPurpose
    expires_at: dt.datetime | None
    token: Annotated[str, Field(description="the clear token; shown in this response only")]


def _codes(ids: frozenset[int] | None) -> list[str]:
    if not ids:
        return []
    return sorted(db.session.scalars(select(Warehouse.code).where(Warehouse.id.in_(ids))))


def _user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, username=user.username, display_name=user.display_name, roles=sorted(user.roles),
        all_warehouses=user.all_warehouses, warehouses=services.warehouse_codes(user) or [], active=user.active,
        has_badge=user.badge_code is not None, has_totp=user.has_totp,
    )


def _acting_user() -> User:
    principal = current_principal()
    user = db.session.get(User, principal.user_id) if principal and principal.user_id else None
    if user is None:
        raise AuthenticationRequired("This operation needs a person, not a machine token.")
    return user


@operation("/me", "GET", summary="Who is calling: the signed-in user or the token, its roles and warehouses",
           tags=["auth"], response=Me, purposes=MACHINE_PURPOSES)
def auth_me() -> Me:
    """Describes the caller: a person (by session or personal token) or a machine token and its purpose."""
    principal = current_principal()
    assert principal is not None  # the operation is not public
    user = db.session.get(User, principal.user_id) if principal.user_id else None
    return Me(
        kind="token" if principal.token_id is not None else "user",
        user_id=user.id if user else None,
        username=user.username if user else None,
        display_name=user.display_name if user else None,
        token_id=principal.token_id,
        purpose=principal.purpose,
        roles=sorted(principal.roles),
        all_warehouses=principal.warehouse_ids is None,
        warehouses=_codes(principal.warehouse_ids),
        second_factor_done=principal.second_factor_done,
    )


@operation("/users", "GET", summary="List users", tags=["auth"], query=UserQuery, response=list[UserOut],
           roles=("admin",))
def users_list(query: UserQuery) -> list[UserOut]:
    """Users whose username or display name contains `q` (admins only)."""
    return [_user_out(u) for u in services.search_users(query.q)]


@operation("/users", "POST", summary="Create a user", tags=["auth"], body=UserCreate, response=UserOut,
           status=201, roles=("admin",), errors=(409, 422))
def users_create(body: UserCreate) -> UserOut:
    """Creates a person with roles, a warehouse scope, a password and optionally a badge + PIN (admins only)."""
    user = services.create_user(
        body.username,
        display_name=body.display_name,
        roles=body.roles,
        warehouses=services.warehouses_by_code(body.warehouses),
        all_warehouses=body.all_warehouses,
        password=body.password,
        badge=body.badge,
        pin=body.pin,
    )
    return _user_out(user)


@operation("/tokens", "POST", summary="Create a personal token for yourself", tags=["auth"], body=TokenCreate,
           response=TokenCreated, status=201, roles=("supervisor", "admin"), errors=(422,))
def tokens_create(body: TokenCreate) -> TokenCreated:
    """A token acting as the caller, with his roles and warehouses; the clear token is returned once."""
    user = _acting_user()
    token, clear = services.create_personal_token(user, body.name, created_by=user,
                                                  expires_in_days=body.expires_in_days)
    return TokenCreated(id=token.id, name=token.name, prefix=token.prefix, purpose=token.purpose,
                        expires_at=token.expires_at, token=clear)


@operation("/tokens/<int:token_id>", "DELETE", summary="Revoke a token", tags=["auth"], status=204,
           errors=(404,))
def tokens_revoke(token_id: int) -> None:
    """Revokes one of your own personal tokens; admins may revoke any token."""
    user = _acting_user()
    services.revoke_token_by_id(token_id, owner_id=None if Role.ADMIN in user.roles else user.id)
