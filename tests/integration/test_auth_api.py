"""auth API: who am I, users (admins only), personal tokens; tokens of the wrong kind or state are refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from tests.factories import sign_in_client as sign_in_as
from wms.auth.models import ApiToken, User
from wms.db import db

GOOD_USER = {"username": "newbie", "roles": ["picker"], "all_warehouses": True, "password": "long enough secret"}


@pytest.fixture
def build(app, make_user, make_warehouse, make_token):  # type: ignore[no-untyped-def]
    """Run a factory and commit, outside any app context the requests could share."""

    def run(factory, *args, **kwargs):  # type: ignore[no-untyped-def]
        with app.app_context():
            made = {"user": make_user, "warehouse": make_warehouse, "token": make_token}[factory](*args, **kwargs)
            db.session.commit()
            return made

    return run




def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin_token(build):  # type: ignore[no-untyped-def]
    admin = build("user", "ada", roles=("admin",), all_warehouses=True)
    return build("token", "user", user=admin)


def test_me_describes_a_personal_token(client, build):  # type: ignore[no-untyped-def]
    wh = build("warehouse", "PAR")
    pia = build("user", "pia", roles=("picker",), warehouses=(wh,))
    token = build("token", "user", user=pia)
    body = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert body["kind"] == "token" and body["purpose"] == "user"
    assert body["username"] == "pia" and body["roles"] == ["picker"]
    assert body["warehouses"] == ["PAR"] and body["all_warehouses"] is False


def test_me_describes_a_print_site_token(client, build):  # type: ignore[no-untyped-def]
    wh = build("warehouse", "LYS")
    token = build("token", "print_site", warehouse=wh)
    body = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert body["purpose"] == "print_site" and body["user_id"] is None and body["warehouses"] == ["LYS"]


def test_me_describes_a_signed_in_admin(app, client, build):  # type: ignore[no-untyped-def]
    ada = build("user", "ada", roles=("admin",), all_warehouses=True, totp=True)
    sign_in_as(app, client, ada)
    body = client.get("/api/v1/me").get_json()
    assert body["kind"] == "user" and body["all_warehouses"] is True and body["second_factor_done"] is True


def test_anonymous_caller_gets_401(client):  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"


def test_supervisor_without_second_factor_cannot_use_supervisor_operations(app, client, build):  # type: ignore[no-untyped-def]
    sam = build("user", "sam", roles=("supervisor",), totp=True)
    sign_in_as(app, client, sam, second_factor=False)
    resp = client.post("/api/v1/tokens", json={"name": "script"})
    assert resp.status_code == 403
    assert resp.get_json()["type"] == "/problems/second-factor-required"
    assert _count(app, ApiToken) == 0


def test_admin_token_lists_and_creates_users(app, client, admin_token):  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/users", json=GOOD_USER, headers=bearer(admin_token))
    assert resp.status_code == 201
    assert resp.get_json()["username"] == "newbie" and resp.get_json()["roles"] == ["picker"]
    listed = client.get("/api/v1/users?q=new", headers=bearer(admin_token)).get_json()
    assert [u["username"] for u in listed] == ["newbie"]


@pytest.mark.parametrize("kind", ["picker", "supervisor", "channel", "print_site"])
def test_non_admin_tokens_cannot_create_users(app, client, build, kind):  # type: ignore[no-untyped-def]
    wh = build("warehouse")
    if kind in ("channel", "print_site"):
        token = build("token", kind, warehouse=wh)
    else:
        token = build("token", "user", user=build("user", roles=(kind,), warehouses=(wh,)))
    before = _count(app, User)
    resp = client.post("/api/v1/users", json=GOOD_USER, headers=bearer(token))
    assert resp.status_code == 403
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 403
    assert _count(app, User) == before


@pytest.mark.parametrize(("change", "status", "slug"), [
    ({"username": "ada"}, 409, "username-taken"),
    ({"badge": "TAKEN", "pin": "1234"}, 409, "badge-taken"),
    ({"roles": []}, 422, "validation-failed"),
    ({"roles": ["overlord"]}, 422, "validation-failed"),
    ({"password": "short"}, 422, "validation-failed"),
    ({"badge": "B-1", "pin": "12"}, 422, "validation-failed"),
    ({"badge": "B-1"}, 422, "invalid-pin"),
    ({"all_warehouses": False}, 422, "user-invalid"),
    ({"all_warehouses": False, "warehouses": ["NOPE"]}, 422, "user-invalid"),
    ({"username": "bad name!"}, 422, "user-invalid"),
    ({"is_root": True}, 422, "validation-failed"),
    ({"all_warehouses": "yes"}, 422, "validation-failed"),
])
def test_bad_user_bodies_get_a_problem_and_write_nothing(app, client, build, admin_token, change, status, slug):  # type: ignore[no-untyped-def]
    build("user", "bob", roles=("picker",), badge="TAKEN", pin="9999")
    before = _count(app, User)
    resp = client.post("/api/v1/users", json={**GOOD_USER, **change}, headers=bearer(admin_token))
    assert resp.status_code == status
    assert resp.get_json()["type"] == f"/problems/{slug}"
    assert _count(app, User) == before


def test_users_list_refuses_unknown_query_parameters(client, admin_token):  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/users?role=admin", headers=bearer(admin_token)).status_code == 422


def test_supervisor_creates_a_personal_token_shown_once(app, client, build):  # type: ignore[no-untyped-def]
    sam = build("user", "sam", roles=("supervisor",), totp=True, all_warehouses=True)
    sign_in_as(app, client, sam)
    resp = client.post("/api/v1/tokens", json={"name": "report script", "expires_in_days": 30})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["purpose"] == "user" and body["token"].startswith(f"wms_{body['prefix']}_")
    me = app.test_client().get("/api/v1/me", headers=bearer(body["token"])).get_json()
    assert me["username"] == "sam"


@pytest.mark.parametrize("body", [{"expires_in_days": 0}, {"name": 5}, {"owner": "ada"}, {"name": "x" * 121}])
def test_bad_token_bodies_get_422_and_write_nothing(app, client, build, body):  # type: ignore[no-untyped-def]
    sam = build("user", "sam", roles=("supervisor",), totp=True)
    sign_in_as(app, client, sam)
    resp = client.post("/api/v1/tokens", json=body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert _count(app, ApiToken) == 0


def test_picker_token_cannot_create_tokens(app, client, build):  # type: ignore[no-untyped-def]
    token = build("token", "user", user=build("user", roles=("picker",)))
    assert client.post("/api/v1/tokens", json={}, headers=bearer(token)).status_code == 403
    assert _count(app, ApiToken) == 1


def test_a_revoked_token_gets_401(client, build):  # type: ignore[no-untyped-def]
    sam = build("user", "sam", roles=("supervisor",))
    token = build("token", "user", user=sam)
    other = build("token", "user", user=sam)
    token_id = client.get("/api/v1/me", headers=bearer(token)).get_json()["token_id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(other)).status_code == 204
    resp = client.get("/api/v1/me", headers=bearer(token))
    assert resp.status_code == 401 and resp.get_json()["type"] == "/problems/authentication-required"


def test_an_expired_token_gets_401(app, client, build):  # type: ignore[no-untyped-def]
    token = build("token", "user", user=build("user", roles=("supervisor",)))
    with app.app_context():
        db.session.execute(update(ApiToken).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_token_of_a_deactivated_user_gets_401(app, client, build):  # type: ignore[no-untyped-def]
    pia = build("user", "pia", roles=("picker",))
    token = build("token", "user", user=pia)
    with app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_nobody_but_an_admin_revokes_someone_elses_token(app, client, build, admin_token):  # type: ignore[no-untyped-def]
    pia_token = build("token", "user", user=build("user", "pia", roles=("picker",)))
    bob_token = build("token", "user", user=build("user", "bob", roles=("picker",)))
    pia_id = client.get("/api/v1/me", headers=bearer(pia_token)).get_json()["token_id"]
    resp = client.delete(f"/api/v1/tokens/{pia_id}", headers=bearer(bob_token))
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    assert client.get("/api/v1/me", headers=bearer(pia_token)).status_code == 200
    assert client.delete(f"/api/v1/tokens/{pia_id}", headers=bearer(admin_token)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(pia_token)).status_code == 401


def test_machine_tokens_cannot_revoke_tokens(client, build):  # type: ignore[no-untyped-def]
    token = build("token", "channel", warehouse=build("warehouse"))
    assert client.delete("/api/v1/tokens/1", headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_auth_operations_are_in_the_openapi_document(client):  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/users"])
    assert "delete" in paths["/api/v1/tokens/{token_id}"]
