"""Callable factory fixtures (Indico style): each returns a function that builds what a test needs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from wms.auth.models import User, UserRole, UserWarehouse
from wms.auth.passwords import hash_secret
from wms.db import db
from wms.enums import Face, Role, ZoneKind
from wms.layout import services as layout

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def make_warehouse(app: Flask) -> Callable[..., Any]:
    def build(code: str | None = None, name: str | None = None):  # type: ignore[no-untyped-def]
        code = code or f"WH{next(_seq)}"
        return layout.create_warehouse(code, name or f"Warehouse {code}")

    return build


@pytest.fixture
def make_rack_zone(app: Flask) -> Callable[..., Any]:
    """A rack zone of `racks` rack lines; rack i stands between pick aisle and replenish aisle neighbours."""

    def build(warehouse, code: str = "A", *, racks: int = 2, bays: int = 4, levels: int = 2,  # type: ignore[no-untyped-def]
              bay_width_m: float = 1.0, aisle_length_m: float | None = None):
        zone = layout.add_zone(warehouse, code, ZoneKind.RACK, aisle_length_m=aisle_length_m or bays * bay_width_m)
        # Layout across the zone: R0 | rack | P1 | rack | R2 | rack | P3 ...
        aisles = [
            layout.add_aisle(zone, f"{code}{'P' if i % 2 else 'R'}{i}", Face.PICK if i % 2 else Face.REPLENISH, i)
            for i in range(racks + 1)
        ]
        for r in range(racks):
            left, right = aisles[r], aisles[r + 1]
            pick, rep = (right, left) if right.face == Face.PICK else (left, right)
            layout.add_rack(zone, f"{code}{r + 1:02d}", pick, rep, bays=bays, levels=levels, bay_width_m=bay_width_m)
        return zone

    return build


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    def build(username: str | None = None, *, roles: tuple[str, ...] = ("picker",), password: str | None = PASSWORD,
              badge: str | None = None, pin: str | None = None, warehouses: tuple[Any, ...] = (),
              all_warehouses: bool = False, totp: bool = False) -> User:
        username = username or f"user{next(_seq)}"
        user = User(username=username, display_name=username.title(),
                    password_hash=hash_secret(password) if password else None,
                    badge_code=badge, pin_hash=hash_secret(pin) if pin else None, all_warehouses=all_warehouses)
        user.role_rows = [UserRole(role=Role(r)) for r in roles]
        user.warehouse_rows = [UserWarehouse(warehouse_id=w.id) for w in warehouses]
        db.session.add(user)
        db.session.flush()
        if totp:
            from wms.auth import totp as totp_service

            secret = pyotp.random_base32()
            totp_service.store_secret(user, secret)
            totp_service.mark_confirmed(user)
            user.test_totp_secret = secret  # type: ignore[attr-defined]
        return user

    return build


def open_test_session(app: Flask, user: User, *, device_id: str | None = None) -> str:
    """A committed server-side session for `user`; returns the id its cookie carries. Through the current app
    context's session when there is one (the test's own, where `user` may not be committed yet), else a new one."""
    from flask import has_app_context

    from wms.auth import sessions

    if has_app_context():
        raw = sessions.open_session(user, device_id=device_id)
        db.session.commit()
        return raw
    with app.app_context():
        raw = sessions.open_session(db.session.get(User, user.id), device_id=device_id)  # type: ignore[arg-type]
        db.session.commit()
    return raw


def sign_in_client(app: Flask, client: FlaskClient, user: User, *, second_factor: bool = True,
                   device_id: str | None = None) -> None:
    """Put a user's session into a client (skipping the forms, which have their own tests)."""
    from flask_login.utils import _create_identifier

    from wms.auth.sessions import SESSION_KEY

    # Flask-Login's strong protection compares this identifier with the client's own address and agent.
    with app.test_request_context(base_url="https://localhost", environ_base=client.environ_base):
        ident = _create_identifier()
    raw = open_test_session(app, user, device_id=device_id)
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
        sess["_id"] = ident
        sess["second_factor_done"] = second_factor
        sess[SESSION_KEY] = raw


@pytest.fixture
def sign_in(app: Flask) -> Callable[..., None]:
    """`sign_in(client, user, second_factor=True, device_id=None)`."""

    def do(client: FlaskClient, user: User, *, second_factor: bool = True, device_id: str | None = None) -> None:
        sign_in_client(app, client, user, second_factor=second_factor, device_id=device_id)

    return do


@pytest.fixture
def make_token(app: Flask) -> Callable[..., str]:
    def build(purpose: str, *, warehouse=None, user: User | None = None, name: str = "test") -> str:  # type: ignore[no-untyped-def]
        from wms.auth.tokens import issue_token
        from wms.enums import TokenPurpose

        _token, raw = issue_token(name=name, purpose=TokenPurpose(purpose),
                                  warehouse_id=warehouse.id if warehouse else None, user=user)
        return raw

    return build


@pytest.fixture
def commit(app: Flask) -> Callable[[], None]:
    """Commit what the factories built, so requests (other sessions) see it."""

    def do() -> None:
        db.session.commit()

    return do
