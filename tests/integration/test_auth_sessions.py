"""Server-side sessions: a cookie saved before a sign-out, a password, PIN or role change, a deactivation or a "sign
out everywhere" is refused when replayed (401 for JSON, the sign-in page for pages), on the full paths and on the
handheld's confirm hot path; a handheld's session is bound to its device id."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.e2e.handheld_support import PIN, PickWorld, build_world
from wms.auth import services
from wms.auth.models import User, UserSession
from wms.db import db
from wms.stock.models import LedgerEntry

COOKIE = "wms_session"
DEVICE = "hh-0f3c-test-device"
EVENTS = ["sign_out", "password_change", "pin_change", "role_change", "deactivation", "admin_sign_out_everywhere",
          "own_sign_out_everywhere"]


@pytest.fixture
def world(app: Flask) -> PickWorld:
    """The picking world, committed; built in its own app context so that every request loads its caller afresh
    (a shared app context would keep Flask-Login's user of the previous request)."""
    with app.app_context():
        w = build_world()
        db.session.commit()
    return w


@pytest.fixture
def admin(app: Flask, make_user: Any, sign_in: Any) -> FlaskClient:
    with app.app_context():
        boss = make_user("boss", roles=("admin",), all_warehouses=True, totp=True)
        db.session.commit()
        client = app.test_client()
        sign_in(client, boss)
    return client


def badge_sign_in(client: FlaskClient, world: PickWorld, device: str = DEVICE) -> str:
    """Sign the picker in through the badge form, as the handheld does; returns the session cookie's value."""
    resp = client.post("/auth/badge", data={"badge": world.picker.badge_code, "pin": PIN, "device_id": device})
    assert resp.status_code == 302 and resp.headers["Location"] == "/hh/", resp.get_data(as_text=True)
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    """Another client holding nothing but the saved cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie, domain="localhost")
    return other


def hh_get(client: FlaskClient, path: str, device: str | None = DEVICE) -> Any:
    return client.get("/hh/api" + path, headers={"X-Device-Id": device} if device else {})


def confirm(client: FlaskClient, op_id: int, line: dict[str, Any], device: str = DEVICE) -> Any:
    return client.post(f"/hh/api/pick/{op_id}/scan", json={"step": "quantity", "quantity": 1, "line_id": line["id"]},
                       headers={"Idempotency-Key": str(uuid.uuid4()), "X-Device-Id": device})


def scan(client: FlaskClient, path: str, body: dict[str, Any]) -> Any:
    return client.post("/hh/api" + path, json=body,
                       headers={"Idempotency-Key": str(uuid.uuid4()), "X-Device-Id": DEVICE})


def at_quantity_step(client: FlaskClient, world: PickWorld) -> tuple[int, dict[str, Any]]:
    """Take an OP and scan location, item and tote of its first line: the next scan is a confirm."""
    sheet = scan(client, "/pick/take", {"zone_id": world.site.zones["A"].id}).json["sheet"]
    op_id, line = sheet["op"]["id"], sheet["lines"][0]
    for body in ({"step": "location", "code": line["location"]}, {"step": "item", "code": line["barcodes"][0]},
                 {"step": "tote", "code": line["tote"]}):
        assert scan(client, f"/pick/{op_id}/scan", {**body, "line_id": line["id"]}).json["outcome"] == "accepted"
    return op_id, line


def end_by(event: str, app: Flask, client: FlaskClient, admin: FlaskClient, world: PickWorld) -> None:
    """End the picker's sessions the way `event` does, through the pages that do it."""
    uid = world.picker.id
    if event == "sign_out":
        assert client.post("/auth/logout").status_code == 302
    elif event == "own_sign_out_everywhere":
        assert client.post("/auth/sign-out-everywhere").status_code == 302
    elif event == "password_change":
        assert admin.post(f"/admin/users/{uid}/password", data={"password": "a-new-password-1"}).status_code == 302
    elif event == "pin_change":
        assert admin.post(f"/admin/users/{uid}/badge",
                          data={"badge": world.picker.badge_code, "pin": "9876"}).status_code == 302
    elif event == "role_change":
        resp = admin.post(f"/admin/users/{uid}", data={"roles": ["picker", "receiver"], "active": "y",
                                                       "display_name": "Picker",
                                                       "warehouses": [world.site.warehouse.code]})
        assert resp.status_code == 302, resp.get_data(as_text=True)
    elif event == "deactivation":
        assert admin.post(f"/admin/users/{uid}/deactivate").status_code == 302
    elif event == "admin_sign_out_everywhere":
        assert admin.post(f"/admin/users/{uid}/sign-out-everywhere").status_code == 302


@pytest.mark.parametrize("event", EVENTS)
def test_a_saved_handheld_cookie_is_refused_after_its_session_ends(app, world, admin, event) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    saved = badge_sign_in(client, world)
    assert hh_get(replay(app, saved), "/session").status_code == 200  # a copy works while the session lives
    end_by(event, app, client, admin, world)
    copy = replay(app, saved)
    assert hh_get(copy, "/session").status_code == 401
    assert hh_get(copy, "/pick/current").status_code == 401
    assert copy.get("/api/v1/me", headers={"X-Device-Id": DEVICE}).status_code == 401
    page = copy.get("/hh/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/badge")


@pytest.mark.parametrize("event", ["sign_out", "password_change", "role_change", "deactivation",
                                   "admin_sign_out_everywhere", "own_sign_out_everywhere"])
def test_a_saved_supervisor_cookie_is_refused_after_its_session_ends(app, admin, make_user, event) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        sam = make_user("sam", roles=("supervisor",), all_warehouses=True, password="sam-password-1", totp=True)
        secret = sam.test_totp_secret
        db.session.commit()
    client = app.test_client()
    assert client.post("/auth/login", data={"username": "sam", "password": "sam-password-1"}).status_code == 302
    import pyotp

    assert client.post("/auth/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    saved = client.get_cookie(COOKIE).value
    assert replay(app, saved).get("/").status_code == 200
    assert replay(app, saved).get("/api/v1/me").status_code == 200
    uid = sam.id
    if event == "sign_out":
        client.post("/auth/logout")
    elif event == "own_sign_out_everywhere":
        client.post("/auth/sign-out-everywhere")
    elif event == "password_change":
        admin.post(f"/admin/users/{uid}/password", data={"password": "a-new-password-1"})
    elif event == "role_change":
        admin.post(f"/admin/users/{uid}", data={"roles": ["supervisor", "receiver"], "active": "y",
                                                "display_name": "Sam", "all_warehouses": "y"})
    elif event == "deactivation":
        admin.post(f"/admin/users/{uid}/deactivate")
    else:
        admin.post(f"/admin/users/{uid}/sign-out-everywhere")
    page = replay(app, saved).get("/")
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login")
    assert replay(app, saved).get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("event", EVENTS)
def test_the_confirm_hot_path_refuses_a_saved_cookie_after_its_session_ends(app, world, admin, event) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    saved = badge_sign_in(client, world)
    op_id, line = at_quantity_step(client, world)
    end_by(event, app, client, admin, world)
    resp = confirm(replay(app, saved), op_id, line)
    assert resp.status_code == 401, resp.json
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.reason == "pick")) == 0


def test_the_confirm_hot_path_takes_a_live_session_on_its_device(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    badge_sign_in(client, world)
    op_id, line = at_quantity_step(client, world)
    resp = confirm(client, op_id, line)
    assert resp.status_code == 200 and resp.json["outcome"] == "applied", resp.json


def test_a_handheld_cookie_replayed_with_another_device_id_is_refused_and_ended(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    saved = badge_sign_in(client, world)
    assert hh_get(client, "/session").status_code == 200
    assert hh_get(replay(app, saved), "/session", device="hh-somewhere-else").status_code == 401
    # The session is over for the device it was bound to as well: the copy was caught, the person signs in again.
    assert hh_get(client, "/session").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession).where(
            UserSession.revoked_at.is_(None))) == 0


def test_a_handheld_cookie_replayed_without_a_device_id_is_refused_on_the_api(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    saved = badge_sign_in(client, world)
    assert hh_get(replay(app, saved), "/pick/current", device=None).status_code == 401
    assert hh_get(client, "/session").status_code == 401


def test_the_confirm_hot_path_refuses_another_device_id(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    saved = badge_sign_in(client, world)
    op_id, line = at_quantity_step(client, world)
    assert confirm(replay(app, saved), op_id, line, device="hh-somewhere-else").status_code == 401
    assert confirm(client, op_id, line).status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.reason == "pick")) == 0


def test_the_handheld_pages_open_without_the_header_on_their_device(app, world) -> None:  # type: ignore[no-untyped-def]
    """Page navigations cannot carry a header: they are not held to the device id (the API is)."""
    client = app.test_client()
    badge_sign_in(client, world)
    assert client.get("/hh/").status_code == 200
    assert hh_get(client, "/session").status_code == 200


def test_signing_in_again_ends_the_session_the_cookie_held(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    first = badge_sign_in(client, world)
    badge_sign_in(client, world)
    assert hh_get(replay(app, first), "/session").status_code == 401
    assert hh_get(client, "/session").status_code == 200


def test_the_admin_page_counts_sessions_and_signs_a_person_out_everywhere(app, world, admin) -> None:  # type: ignore[no-untyped-def]
    phones = [app.test_client() for _ in range(2)]
    for n, phone in enumerate(phones):
        badge_sign_in(phone, world, device=f"hh-{n}")
    page = admin.get(f"/admin/users/{world.picker.id}").get_data(as_text=True)
    assert "2 signed-in session(s)." in page and "Sign out everywhere" in page
    done = admin.post(f"/admin/users/{world.picker.id}/sign-out-everywhere", follow_redirects=True)
    assert "2 session(s) ended" in done.get_data(as_text=True)
    for n, phone in enumerate(phones):
        assert hh_get(phone, "/session", device=f"hh-{n}").status_code == 401


def test_the_database_keeps_only_a_hash_of_the_session_id(app, world) -> None:  # type: ignore[no-untyped-def]
    from wms.auth.sessions import SESSION_KEY, token_hash

    client = app.test_client()
    badge_sign_in(client, world)
    with client.session_transaction() as sess:
        raw = sess[SESSION_KEY]
    with app.app_context():
        stored = db.session.scalars(select(UserSession.token_hash)).all()
        user = db.session.get(User, world.picker.id)
        assert stored == [token_hash(raw)] and raw not in stored
        assert services.sign_out_everywhere(user) == 1


def test_a_saved_cookie_is_refused_after_sign_out_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The embedded default keeps sessions the same way (the device binding and the revocation after a refusal)."""
    from tests.integration.sqlite_world import badge_picker_app

    app = badge_picker_app(tmp_path / "sessions.db", "sqlite-sessions")
    client = app.test_client()

    def sign_in() -> str:
        assert client.post("/auth/badge", data={"badge": "B-0001", "pin": "4711", "device_id": DEVICE}
                           ).status_code == 302
        return client.get_cookie(COOKIE).value

    saved = sign_in()
    assert hh_get(replay(app, saved), "/session").status_code == 200
    client.post("/auth/logout")
    assert hh_get(replay(app, saved), "/session").status_code == 401
    saved = sign_in()
    assert hh_get(replay(app, saved), "/session", device="hh-elsewhere").status_code == 401
    assert hh_get(client, "/session").status_code == 401  # ended for its device too
    db.engine(app).dispose()


def test_the_command_line_signs_a_person_out_everywhere(app, world, runner) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    saved = badge_sign_in(client, world)
    result = runner.invoke(args=["users", "sign-out-everywhere", world.picker.username])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output, result.output
    assert hh_get(replay(app, saved), "/session").status_code == 401
    unknown = runner.invoke(args=["users", "sign-out-everywhere", "ghost"])
    assert unknown.exit_code != 0 and "No user ghost" in unknown.output
