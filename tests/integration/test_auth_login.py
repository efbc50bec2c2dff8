"""Signing in through the forms: password, second factor (enrolment, codes, recovery), badge + PIN, logout."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import func, select, update

from tests.factories import PASSWORD
from tests.factories import sign_in_client as sign_in_as
from wms.auth.models import LoginAttempt, LoginThrottle, RecoveryCode, User
from wms.db import db


@pytest.fixture
def add_user(app, make_user):  # type: ignore[no-untyped-def]
    """Build and commit a user outside any app context the requests could share."""

    def build(*args, **kwargs):  # type: ignore[no-untyped-def]
        with app.app_context():
            user = make_user(*args, **kwargs)
            db.session.commit()
            return user

    return build




def _read(app, stmt):  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.execute(stmt).all()


def _count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _login(client, username, password=PASSWORD, next_=None):  # type: ignore[no-untyped-def]
    data = {"username": username, "password": password}
    if next_ is not None:
        data["next"] = next_
    return client.post("/auth/login", data=data)


def _secret_from(page: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert match, "the enrolment page shows the base32 secret"
    return match.group(1)


def _session(client) -> dict:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        return dict(sess)


def test_login_page_has_a_form_with_username_and_password(client):  # type: ignore[no-untyped-def]
    resp = client.get("/auth/login")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'name="username"' in page and 'name="password"' in page


def test_picker_signs_in_with_password_and_lands_on_next(client, add_user):  # type: ignore[no-untyped-def]
    pia = add_user("pia", roles=("picker",))
    resp = _login(client, "pia", next_="/some/page?x=1")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/some/page?x=1"
    assert _session(client)["_user_id"] == pia.get_id()


def test_next_pointing_to_another_site_is_ignored(client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",))
    resp = _login(client, "pia", next_="https://evil.example/phish")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/hh/"  # a picker's own start page, never the other site


def test_unknown_user_and_wrong_password_get_the_same_message(client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",))
    wrong = _login(client, "pia", "not the password").get_data(as_text=True)
    unknown = _login(client, "nobody", PASSWORD).get_data(as_text=True)
    message = "Unknown username or wrong password."
    assert message in wrong and message in unknown
    assert "_user_id" not in _session(client)


def test_failed_and_successful_attempts_are_recorded(app, client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",))
    _login(client, "pia", "not the password")
    _login(client, "pia")
    rows = _read(app, select(LoginAttempt.subject, LoginAttempt.success).order_by(LoginAttempt.id))
    assert [tuple(r) for r in rows] == [("pia", False), ("pia", True)]


def test_too_many_failures_answer_429_even_with_the_right_password(app, client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",))
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _login(client, "pia", "not the password").status_code == 200
    resp = _login(client, "pia")
    assert resp.status_code == 429
    assert "Too many failed sign-in attempts" in resp.get_data(as_text=True)
    assert int(resp.headers["Retry-After"]) > 0
    assert "_user_id" not in _session(client)


def test_throttle_ends_when_the_window_has_passed(app, client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",))
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _login(client, "pia", "not the password")
    assert _login(client, "pia").status_code == 429
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    with app.app_context():
        db.session.execute(update(LoginAttempt).values(at=past))
        db.session.execute(update(LoginThrottle).values(window_started_at=past))
        db.session.commit()
    assert _login(client, "pia").status_code == 302


def test_too_many_failures_from_one_address_throttle_every_username(app, database_url):  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    strict = make_test_app(database_url, LOGIN_MAX_FAILURES_PER_IP=3)
    client = strict.test_client()
    for name in ("a", "b", "c"):
        assert client.post("/auth/login", data={"username": name, "password": "wrong-password"}).status_code == 200
    resp = client.post("/auth/login", data={"username": "d", "password": "wrong-password"})
    assert resp.status_code == 429
    db.engine(strict).dispose()


def test_supervisor_enrols_totp_with_the_code_of_the_shown_secret(app, client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",))
    resp = _login(client, "sam", next_="/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/totp/enrol")
    assert client.get("/").status_code == 302  # not past the second factor yet
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "<svg" in page
    secret = _secret_from(page)
    resp = client.post("/auth/totp/enrol", data={"code": pyotp.TOTP(secret).now(), "next": "/"})
    assert resp.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", resp.get_data(as_text=True))
    assert len(codes) == 10
    assert _session(client)["second_factor_done"] is True
    assert client.get("/").status_code == 200
    assert _read(app, select(User.totp_confirmed_at).where(User.username == "sam"))[0][0] is not None
    assert _count(app, RecoveryCode) == 10


def test_enrolment_refuses_a_wrong_code(app, client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",))
    _login(client, "sam")
    secret = _secret_from(client.get("/auth/totp/enrol").get_data(as_text=True))
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    resp = client.post("/auth/totp/enrol", data={"code": wrong})
    assert "This code is wrong" in resp.get_data(as_text=True)
    assert not _session(client).get("second_factor_done")
    assert _count(app, RecoveryCode) == 0


def test_enrolled_supervisor_cannot_re_enrol_with_only_a_password(client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",), totp=True)
    _login(client, "sam")
    resp = client.get("/auth/totp/enrol")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/auth/totp")
    assert "enrol" not in resp.headers["Location"]


def test_full_flow_then_the_same_code_is_refused_on_the_next_sign_in(client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",))
    _login(client, "sam")
    secret = _secret_from(client.get("/auth/totp/enrol").get_data(as_text=True))
    code = pyotp.TOTP(secret).now()
    client.post("/auth/totp/enrol", data={"code": code})
    client.post("/auth/logout")
    assert client.get("/").status_code == 302

    resp = _login(client, "sam", next_="/")
    assert resp.headers["Location"].startswith("/auth/totp")
    replay = client.post("/auth/totp", data={"code": code, "next": "/"})
    assert "already used" in replay.get_data(as_text=True)
    assert client.get("/").status_code == 302

    later = pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30))
    resp = client.post("/auth/totp", data={"code": later, "next": "/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_recovery_code_works_once(client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",))
    _login(client, "sam")
    secret = _secret_from(client.get("/auth/totp/enrol").get_data(as_text=True))
    page = client.post("/auth/totp/enrol", data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True)
    recovery = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", page)[0]
    client.post("/auth/logout")

    _login(client, "sam")
    resp = client.post("/auth/totp", data={"code": recovery, "next": "/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/auth/logout")

    _login(client, "sam")
    again = client.post("/auth/totp", data={"code": recovery, "next": "/"})
    assert "already used" in again.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_wrong_totp_codes_are_throttled(app, client, add_user):  # type: ignore[no-untyped-def]
    sam = add_user("sam", roles=("supervisor",), totp=True)
    _login(client, "sam")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/auth/totp", data={"code": "000000"})
    resp = client.post("/auth/totp", data={"code": pyotp.TOTP(sam.test_totp_secret).now()})
    assert resp.status_code == 429
    assert not _session(client).get("second_factor_done")


def test_regenerating_recovery_codes_needs_a_current_totp_code(app, client, add_user):  # type: ignore[no-untyped-def]
    sam = add_user("sam", roles=("supervisor",), totp=True)
    sign_in_as(app, client, sam)
    assert client.get("/auth/recovery-codes").status_code == 200
    refused = client.post("/auth/recovery-codes", data={"code": "123456-abcdef"})
    assert "wrong" in refused.get_data(as_text=True)
    assert _count(app, RecoveryCode) == 0
    resp = client.post("/auth/recovery-codes", data={"code": pyotp.TOTP(sam.test_totp_secret).now()})
    assert len(re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", resp.get_data(as_text=True))) == 10
    assert _count(app, RecoveryCode) == 10


def test_login_clears_whatever_the_session_held_before(client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",), totp=True)
    with client.session_transaction() as sess:
        sess["second_factor_done"] = True
        sess["planted"] = "by an attacker"
    _login(client, "sam")
    after = _session(client)
    assert "planted" not in after
    assert after["second_factor_done"] is False


def test_logout_needs_post_and_ends_the_session(app, client, add_user):  # type: ignore[no-untyped-def]
    pia = add_user("pia", roles=("picker",))
    sign_in_as(app, client, pia)
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    assert "_user_id" not in _session(client)


def test_picker_signs_in_by_badge_and_pin_and_goes_to_the_handheld(client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",), badge="B-0001", pin="4711")
    page = client.get("/auth/badge").get_data(as_text=True)
    assert re.search(r'name="badge"[^>]*autofocus|autofocus[^>]*name="badge"', page)
    resp = client.post("/auth/badge", data={"badge": "B-0001", "pin": "4711", "device_id": "hh-1"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/hh/"
    assert "_user_id" in _session(client)
    assert 'data-device-id' in page and "js/signin.js" in page  # the handheld's script fills the device id in


def test_badge_sign_in_without_a_device_id_is_refused(client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",), badge="B-0001", pin="4711")
    resp = client.post("/auth/badge", data={"badge": "B-0001", "pin": "4711"})
    assert resp.status_code == 422 and "handheld app" in resp.get_data(as_text=True)
    assert "_user_id" not in _session(client)


def test_wrong_pin_is_refused_and_throttled_by_badge(app, client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",), badge="B-0001", pin="4711")
    wrong = client.post("/auth/badge", data={"badge": "B-0001", "pin": "0000", "device_id": "hh-1"})
    assert "Unknown badge or wrong PIN." in wrong.get_data(as_text=True)
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        client.post("/auth/badge", data={"badge": "B-0001", "pin": "0000", "device_id": "hh-1"})
    resp = client.post("/auth/badge", data={"badge": "B-0001", "pin": "4711", "device_id": "hh-1"})
    assert resp.status_code == 429
    assert "_user_id" not in _session(client)


def test_badge_sign_in_is_refused_for_a_supervisor(client, add_user):  # type: ignore[no-untyped-def]
    add_user("sam", roles=("supervisor",), badge="B-0002", pin="4711", totp=True)
    resp = client.post("/auth/badge", data={"badge": "B-0002", "pin": "4711", "device_id": "hh-1"})
    assert resp.status_code == 403
    assert "second factor" in resp.get_data(as_text=True)
    assert "_user_id" not in _session(client)


def test_deactivated_user_cannot_sign_in(app, client, add_user):  # type: ignore[no-untyped-def]
    pia = add_user("pia", roles=("picker",))
    with app.app_context():
        db.session.execute(update(User).where(User.id == pia.id).values(active=False))
        db.session.commit()
    resp = _login(client, "pia")
    assert "Unknown username or wrong password." in resp.get_data(as_text=True)
    assert "_user_id" not in _session(client)


def test_session_cookie_is_secure_httponly_and_samesite_lax(client, add_user):  # type: ignore[no-untyped-def]
    add_user("pia", roles=("picker",))
    resp = _login(client, "pia")
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("wms_session=")]
    assert cookies, "signing in sets the session cookie"
    flags = {part.strip().lower() for part in cookies[0].split(";")}
    assert "secure" in flags
    assert "httponly" in flags
    assert "samesite=lax" in flags


def test_an_outdated_password_hash_is_upgraded_at_sign_in(app, client, add_user):  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    from wms.auth.passwords import needs_rehash, verify_secret

    pia = add_user("pia", roles=("picker",))
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with app.app_context():
        db.session.execute(update(User).where(User.id == pia.id).values(password_hash=weak))
        db.session.commit()
    assert _login(client, "pia").status_code == 302
    stored = _read(app, select(User.password_hash).where(User.id == pia.id))[0][0]
    assert stored != weak and not needs_rehash(stored) and verify_secret(stored, PASSWORD)
