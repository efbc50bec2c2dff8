"""With CSRF protection on (as in production), forms without the page's token are refused and change nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import make_test_app
from tests.factories import PASSWORD
from wms.auth.models import LoginAttempt, User
from wms.db import db


@pytest.fixture
def csrf_app(app, database_url):  # type: ignore[no-untyped-def]
    """A second app on the same database with CSRF on; `app` truncates the tables afterwards."""
    strict = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    yield strict
    db.engine(strict).dispose()


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1) or match.group(2)


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_login_without_the_csrf_token_is_refused(csrf_app, make_user):  # type: ignore[no-untyped-def]
    with csrf_app.app_context():
        make_user("pia", roles=("picker",))
        db.session.commit()
    client = csrf_app.test_client()
    resp = client.post("/auth/login", data={"username": "pia", "password": PASSWORD})
    assert resp.status_code == 403
    assert "security token" in resp.get_data(as_text=True)
    assert _count(csrf_app, LoginAttempt) == 0
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_login_with_the_pages_csrf_token_works(csrf_app, make_user):  # type: ignore[no-untyped-def]
    with csrf_app.app_context():
        make_user("pia", roles=("picker",))
        db.session.commit()
    client = csrf_app.test_client()
    token = _token(client.get("/auth/login").get_data(as_text=True))
    resp = client.post("/auth/login", data={"username": "pia", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302


def test_badge_form_without_the_csrf_token_is_refused(csrf_app, make_user):  # type: ignore[no-untyped-def]
    with csrf_app.app_context():
        make_user("pia", roles=("picker",), badge="B-1", pin="1234")
        db.session.commit()
    client = csrf_app.test_client()
    assert client.post("/auth/badge", data={"badge": "B-1", "pin": "1234"}).status_code == 403


def test_admin_form_without_the_csrf_token_creates_nobody(csrf_app, make_user):  # type: ignore[no-untyped-def]
    with csrf_app.app_context():
        admin = make_user("ada", roles=("admin",), all_warehouses=True, totp=True)
        db.session.commit()
    client = csrf_app.test_client()
    token = _token(client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token})
    with client.session_transaction() as sess:
        sess["second_factor_done"] = True
    assert client.get("/admin/users/new").status_code == 200
    resp = client.post("/admin/users/new", data={"username": "newbie", "roles": ["picker"], "all_warehouses": "y",
                                                 "password": "long enough secret"})
    assert resp.status_code == 403
    assert _count(csrf_app, User) == 1
    assert admin.username == "ada"
