"""User administration pages: only admins past their second factor; refusals are readable and write nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.factories import sign_in_client as sign_in_as
from wms.auth.models import ApiToken, RecoveryCode, User
from wms.auth.passwords import verify_secret
from wms.db import db

NEW_PASSWORD = "a long enough password"


@pytest.fixture
def build(app, make_user, make_warehouse):  # type: ignore[no-untyped-def]
    """Run a factory and commit, outside any app context the requests could share."""

    def run(factory, *args, **kwargs):  # type: ignore[no-untyped-def]
        with app.app_context():
            made = {"user": make_user, "warehouse": make_warehouse}[factory](*args, **kwargs)
            db.session.commit()
            return made

    return run




def _user(app, username):  # type: ignore[no-untyped-def]
    """A detached snapshot of the user as the database holds it now."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin_client(app, client, build):  # type: ignore[no-untyped-def]
    admin = build("user", "ada", roles=("admin",), totp=True, all_warehouses=True)
    sign_in_as(app, client, admin)
    client.admin = admin  # type: ignore[attr-defined]
    return client


def test_admin_lists_and_searches_users(app, admin_client, build):  # type: ignore[no-untyped-def]
    build("user", "pia.picker", roles=("picker",))
    build("user", "rob.receiver", roles=("receiver",))
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "pia.picker" in page and "rob.receiver" in page
    found = admin_client.get("/admin/users?q=rob").get_data(as_text=True)
    assert "rob.receiver" in found and "pia.picker" not in found


@pytest.mark.parametrize("roles", [("supervisor",), ("picker",)])
def test_non_admins_cannot_open_user_administration(app, client, build, roles):  # type: ignore[no-untyped-def]
    user = build("user", roles=roles, totp=True)
    sign_in_as(app, client, user)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/tokens").status_code == 403


def test_admin_without_second_factor_is_sent_to_it(app, client, build):  # type: ignore[no-untyped-def]
    admin = build("user", roles=("admin",), totp=True)
    sign_in_as(app, client, admin, second_factor=False)
    resp = client.get("/admin/users")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/totp")


def test_supervisor_without_second_factor_cannot_reach_supervisor_pages(app, client, build):  # type: ignore[no-untyped-def]
    sup = build("user", roles=("supervisor",))
    sign_in_as(app, client, sup, second_factor=False)
    resp = client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/totp/enrol")


def test_admin_creates_a_picker_with_warehouses_and_badge(app, admin_client, build):  # type: ignore[no-untyped-def]
    build("warehouse", "PAR")
    build("warehouse", "LYS")
    resp = admin_client.post("/admin/users/new", data={
        "username": "Pia", "display_name": "Pia Picker", "roles": ["picker", "packer"], "warehouses": ["PAR"],
        "password": NEW_PASSWORD, "badge": "B-77", "pin": "123456",
    })
    assert resp.status_code == 302
    pia = _user(app, "pia")
    assert pia.display_name == "Pia Picker"
    assert {r.value for r in pia.roles} == {"picker", "packer"}
    assert len(pia.warehouse_ids) == 1 and not pia.all_warehouses
    assert pia.badge_code == "B-77" and verify_secret(pia.pin_hash, "123456")
    assert verify_secret(pia.password_hash, NEW_PASSWORD)


@pytest.mark.parametrize(("change", "status", "message"), [
    ({"username": "ada"}, 409, "already used"),
    ({"badge": "TAKEN"}, 409, "already belongs"),
    ({"roles": []}, 422, "at least one role"),
    ({"password": "short"}, 422, "at least 10 characters"),
    ({"pin": "12"}, 422, "4 to 8 digits"),
    ({"pin": "12ab"}, 422, "4 to 8 digits"),
    ({"warehouses": [], "all_warehouses": ""}, 422, "warehouse"),
    ({"roles": ["overlord"]}, 422, "not a valid choice"),
])
def test_bad_user_creation_is_refused_readably_and_writes_nothing(app, admin_client, build, change, status,  # type: ignore[no-untyped-def]
                                                                  message):
    build("user", "bob", roles=("picker",), badge="TAKEN", pin="1111")
    data = {"username": "newbie", "roles": ["picker"], "all_warehouses": "y", "password": NEW_PASSWORD,
            "badge": "B-1", "pin": "1234"}
    data.update(change)
    data = {k: v for k, v in data.items() if v != ""}
    before = _count(app, User)
    resp = admin_client.post("/admin/users/new", data=data)
    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert _count(app, User) == before


def test_admin_edits_roles_warehouses_and_active(app, admin_client, build):  # type: ignore[no-untyped-def]
    wh = build("warehouse", "PAR")
    pia = build("user", "pia", roles=("picker",), all_warehouses=True)
    assert admin_client.get(f"/admin/users/{pia.id}").status_code == 200
    resp = admin_client.post(f"/admin/users/{pia.id}", data={
        "display_name": "Pia R.", "roles": ["receiver"], "warehouses": ["PAR"],
    })
    assert resp.status_code == 302
    after = _user(app, "pia")
    assert {r.value for r in after.roles} == {"receiver"}
    assert after.warehouse_ids == frozenset({wh.id})
    assert not after.active
    assert after.session_version == pia.session_version + 1


def test_admin_cannot_remove_his_own_admin_role(app, admin_client):  # type: ignore[no-untyped-def]
    admin = admin_client.admin
    resp = admin_client.post(f"/admin/users/{admin.id}", data={"roles": ["supervisor"], "all_warehouses": "y",
                                                                "active": "y"})
    assert resp.status_code == 409
    assert "own admin role" in resp.get_data(as_text=True)
    assert {r.value for r in _user(app, "ada").roles} == {"admin"}


def test_admin_resets_a_password(app, admin_client, build):  # type: ignore[no-untyped-def]
    pia = build("user", "pia", roles=("picker",))
    assert admin_client.post(f"/admin/users/{pia.id}/password", data={"password": NEW_PASSWORD}).status_code == 302
    assert verify_secret(_user(app, "pia").password_hash, NEW_PASSWORD)
    weak = admin_client.post(f"/admin/users/{pia.id}/password", data={"password": "tiny"})
    assert weak.status_code == 422 and "at least 10 characters" in weak.get_data(as_text=True)
    assert verify_secret(_user(app, "pia").password_hash, NEW_PASSWORD)


def test_admin_sets_and_clears_a_badge(app, admin_client, build):  # type: ignore[no-untyped-def]
    pia = build("user", "pia", roles=("picker",))
    build("user", "bob", roles=("picker",), badge="B-2", pin="2222")
    taken = admin_client.post(f"/admin/users/{pia.id}/badge", data={"badge": "B-2", "pin": "1234"})
    assert taken.status_code == 409 and "already belongs" in taken.get_data(as_text=True)
    bad_pin = admin_client.post(f"/admin/users/{pia.id}/badge", data={"badge": "B-1", "pin": "123456789"})
    assert bad_pin.status_code == 422
    assert _user(app, "pia").badge_code is None
    assert admin_client.post(f"/admin/users/{pia.id}/badge", data={"badge": "B-1", "pin": "1234"}).status_code == 302
    assert _user(app, "pia").badge_code == "B-1"
    assert admin_client.post(f"/admin/users/{pia.id}/badge/clear").status_code == 302
    cleared = _user(app, "pia")
    assert cleared.badge_code is None and cleared.pin_hash is None


def test_supervisor_gets_no_badge(app, admin_client, build):  # type: ignore[no-untyped-def]
    sam = build("user", "sam", roles=("supervisor",))
    resp = admin_client.post(f"/admin/users/{sam.id}/badge", data={"badge": "B-9", "pin": "1234"})
    assert resp.status_code == 403
    assert _user(app, "sam").badge_code is None


def test_resetting_the_second_factor_ends_the_users_sessions(app, admin_client, build):  # type: ignore[no-untyped-def]
    sam = build("user", "sam", roles=("supervisor",), totp=True)
    with app.app_context():
        from wms.auth.totp import new_recovery_codes

        new_recovery_codes(db.session.get(User, sam.id))
        db.session.commit()
    sam_client = app.test_client()
    sign_in_as(app, sam_client, sam)
    assert sam_client.get("/").status_code == 200

    assert admin_client.post(f"/admin/users/{sam.id}/reset-2fa").status_code == 302
    after = _user(app, "sam")
    assert not after.has_totp and after.totp_secret_enc is None
    assert _count(app, RecoveryCode) == 0
    resp = sam_client.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/login")


def test_deactivation_ends_sessions_and_admin_cannot_deactivate_himself(app, admin_client, build):  # type: ignore[no-untyped-def]
    pia = build("user", "pia", roles=("picker",))
    pia_client = app.test_client()
    sign_in_as(app, pia_client, pia)
    assert admin_client.post(f"/admin/users/{pia.id}/deactivate").status_code == 302
    assert not _user(app, "pia").active
    assert pia_client.get("/").status_code == 302
    own = admin_client.post(f"/admin/users/{admin_client.admin.id}/deactivate")
    assert own.status_code == 409
    assert _user(app, "ada").active


def test_unknown_user_page_is_404(admin_client):  # type: ignore[no-untyped-def]
    assert admin_client.get("/admin/users/99999").status_code == 404


def test_machine_token_is_shown_once_then_listed_by_prefix(app, admin_client, build):  # type: ignore[no-untyped-def]
    build("warehouse", "PAR")
    resp = admin_client.post("/admin/tokens", data={"name": "shop", "purpose": "channel", "warehouse": "PAR"})
    assert resp.status_code == 200
    clear = re.search(r'id="clear-token">(wms_[0-9a-f]+_[\w-]+)<', resp.get_data(as_text=True)).group(1)
    listing = admin_client.get("/admin/tokens").get_data(as_text=True)
    prefix = clear.split("_")[1]
    assert f"wms_{prefix}_" in listing and clear not in listing
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"})
    assert me.status_code == 200 and me.get_json()["purpose"] == "channel"
    assert me.get_json()["warehouses"] == ["PAR"]


def test_admin_creates_a_personal_token_and_revokes_it(app, admin_client, build):  # type: ignore[no-untyped-def]
    build("user", "pia", roles=("picker",), all_warehouses=True)
    resp = admin_client.post("/admin/tokens", data={"purpose": "user", "username": "pia"})
    clear = re.search(r'id="clear-token">(wms_[^<]+)<', resp.get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).get_json()["username"] == "pia"
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert admin_client.post(f"/admin/tokens/{token_id}/revoke").status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {clear}"}).status_code == 401


@pytest.mark.parametrize(("data", "message"), [
    ({"purpose": "channel"}, "needs its warehouse"),
    ({"purpose": "print_site", "warehouse": "NOPE"}, "Unknown warehouse"),
    ({"purpose": "user", "username": "ghost"}, "username of its owner"),
    ({"purpose": "root", "warehouse": "PAR"}, "Not a valid choice"),
])
def test_bad_token_requests_are_refused_and_write_nothing(app, admin_client, build, data, message):  # type: ignore[no-untyped-def]
    build("warehouse", "PAR")
    resp = admin_client.post("/admin/tokens", data=data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _count(app, ApiToken) == 0
