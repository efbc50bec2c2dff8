"""The sign-in throttle under a race (PostgreSQL): 25 wrong secrets sent at once for one subject get at most the
limit checked (each checked attempt leaves one row in login_attempts), the rest 429 with Retry-After, and the right
secret is refused until the window has passed."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.factories import PASSWORD
from wms.auth.models import LoginAttempt, LoginThrottle
from wms.db import db

RACERS = 25


@pytest.fixture
def people(app: Flask, make_user: Any) -> dict[str, Any]:
    with app.app_context():
        pia = make_user("pia", roles=("picker",), badge="B-0001", pin="4711")
        sam = make_user("sam", roles=("supervisor",), all_warehouses=True, totp=True)
        db.session.commit()
    return {"pia": pia, "sam": sam}


def _attempt(flow: str, right: bool, people: dict[str, Any]) -> tuple[str, dict[str, str]]:
    if flow == "pin":
        return "/auth/badge", {"badge": "B-0001", "pin": "4711" if right else "0000", "device_id": "hh-1"}
    if flow == "password":
        return "/auth/login", {"username": "pia", "password": PASSWORD if right else "not-the-password"}
    secret = people["sam"].test_totp_secret
    wrong = "".join(str((int(c) + 5) % 10) for c in pyotp.TOTP(secret).now())
    code = pyotp.TOTP(secret).now() if right else (wrong if flow == "totp" else "AAAA-BBBB-CCCC")
    return "/auth/totp", {"code": code}


def _clients(app: Flask, flow: str, people: dict[str, Any], sign_in: Any, n: int) -> list[FlaskClient]:
    clients = [app.test_client() for _ in range(n)]
    if flow in ("totp", "recovery_code"):  # the second factor is asked of a person signed in with a password
        for c in clients:
            sign_in(c, people["sam"], second_factor=False)
    return clients


def _at_once(clients: list[FlaskClient], path: str, data: dict[str, str]) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = clients[i].post(path, data=data)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _checked(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LoginAttempt)) or 0


@pytest.mark.parametrize("flow", ["pin", "password", "totp", "recovery_code"])
def test_concurrent_wrong_secrets_never_check_more_than_the_limit(app, people, sign_in, flow) -> None:  # type: ignore[no-untyped-def]
    limit = app.config["LOGIN_MAX_FAILURES"]
    path, wrong = _attempt(flow, False, people)
    answers = _at_once(_clients(app, flow, people, sign_in, RACERS), path, wrong)
    refused = [a for a in answers if a.status_code == 429]
    assert _checked(app) <= limit
    assert len(refused) == RACERS - _checked(app) and len(refused) >= RACERS - limit
    assert all(int(a.headers["Retry-After"]) > 0 for a in refused)
    path, right = _attempt(flow, True, people)
    client = _clients(app, flow, people, sign_in, 1)[0]
    late = client.post(path, data=right)
    assert late.status_code == 429 and int(late.headers["Retry-After"]) > 0
    assert _checked(app) <= limit  # the right secret was not even checked


def test_the_right_pin_is_taken_once_the_window_has_passed(app, people) -> None:  # type: ignore[no-untyped-def]
    limit = app.config["LOGIN_MAX_FAILURES"]
    path, wrong = _attempt("pin", False, people)
    _at_once([app.test_client() for _ in range(RACERS)], path, wrong)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)
    with app.app_context():
        db.session.execute(update(LoginThrottle).values(window_started_at=past))
        db.session.execute(update(LoginAttempt).values(at=past))
        db.session.commit()
    path, right = _attempt("pin", True, people)
    assert app.test_client().post(path, data=right).status_code == 302
    with app.app_context():  # the success gave the badge its attempts back
        assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
    assert _checked(app) <= limit + 1


def test_concurrent_wrong_pins_never_check_more_than_the_limit_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The embedded default: the claim is the same upsert, each transaction holding SQLite's write lock."""
    from tests.integration.sqlite_world import badge_picker_app

    app = badge_picker_app(tmp_path / "throttle.db", "sqlite-throttle")
    racers = 12
    answers = _at_once([app.test_client() for _ in range(racers)], "/auth/badge",
                       {"badge": "B-0001", "pin": "0000", "device_id": "hh-1"})
    limit = app.config["LOGIN_MAX_FAILURES"]
    assert _checked(app) == limit
    assert sorted(a.status_code for a in answers) == [200] * limit + [429] * (racers - limit)
    right = app.test_client().post("/auth/badge", data={"badge": "B-0001", "pin": "4711", "device_id": "hh-1"})
    assert right.status_code == 429 and _checked(app) == limit
    db.engine(app).dispose()
