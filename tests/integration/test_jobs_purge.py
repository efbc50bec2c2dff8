"""The nightly retention job, run by a real worker: expired rows go, live ones stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (fixture)
from wms.auth.models import LoginAttempt, LoginThrottle, UserSession
from wms.db import db, utcnow
from wms.idempotency_models import IdempotencyRecord
from wms.jobs import defer
from wms.layout import services as layout
from wms.orders.models import Channel, ChannelKind
from wms.webhooks.models import WebhookDelivery, WebhookEvent

DAY = dt.timedelta(days=1)


def _world(app, make_user) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    lifetime = app.permanent_session_lifetime
    with app.app_context():
        user = make_user("ann")
        sessions = {"live": (now + DAY, None), "expired": (now - dt.timedelta(minutes=1), None),
                    "revoked-just-now": (now + DAY, now - dt.timedelta(minutes=5)),
                    "revoked-long-ago": (now + DAY, now - lifetime - dt.timedelta(minutes=1))}
        for name, (expires, revoked) in sessions.items():
            db.session.add(UserSession(user_id=user.id, token_hash=name.ljust(64, "0"), created_at=now - DAY,
                                       expires_at=expires, revoked_at=revoked))
        window = dt.timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"])
        db.session.add(LoginThrottle(kind="user", subject="in-window", attempts=3,
                                     window_started_at=now - window / 2))
        db.session.add(LoginThrottle(kind="user", subject="window-over", attempts=5,
                                     window_started_at=now - window - dt.timedelta(seconds=1)))
        for subject, age in (("recent", dt.timedelta(minutes=1)), ("89-days", 89 * DAY), ("91-days", 91 * DAY)):
            db.session.add(LoginAttempt(kind="user", subject=subject, ip="10.0.0.1", success=False, at=now - age))
        for key, age in (("fresh", 2 * DAY), ("old", 31 * DAY)):
            db.session.add(IdempotencyRecord(scope="user:1", key=key, request_hash="h", status_code=200,
                                             response_body="{}", created_at=now - age))
        wh = layout.create_warehouse("WH", "Warehouse")
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                          webhook_url="http://127.0.0.1:9/hooks")
        db.session.add(channel)
        db.session.flush()
        for key, delivered_age, created_age in (("delivered-old", 31 * DAY, 32 * DAY),
                                                ("delivered-recent", DAY, DAY),
                                                ("undelivered-old", None, 40 * DAY)):
            event = WebhookEvent(channel_id=channel.id, topic="stock.changed", object_key=key, payload={},
                                 created_at=now - created_age,
                                 delivered_at=now - delivered_age if delivered_age else None)
            db.session.add(event)
            db.session.flush()
            db.session.add(WebhookDelivery(event_id=event.id, at=now - created_age, status_code=500,
                                           duration_ms=3))
        db.session.commit()


def _left(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return {
            "sessions": sorted(h.rstrip("0") for h in db.session.scalars(select(UserSession.token_hash))),
            "throttles": sorted(db.session.scalars(select(LoginThrottle.subject))),
            "attempts": sorted(db.session.scalars(select(LoginAttempt.subject))),
            "keys": sorted(db.session.scalars(select(IdempotencyRecord.key))),
            "events": sorted(db.session.scalars(select(WebhookEvent.object_key))),
            "deliveries": len(db.session.scalars(select(WebhookDelivery.id)).all()),
        }


def test_the_retention_job_removes_expired_rows_and_keeps_live_ones(app, jobs, make_user) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    _world(app, make_user)
    with app.app_context():
        defer("maintenance.purge_retention", timestamp=0)
    drain(app)
    assert job_counts(app) == {("maintenance.purge_retention", "succeeded"): 1}
    expected = {
        "sessions": ["live", "revoked-just-now"],
        "throttles": ["in-window"],
        "attempts": ["89-days", "recent"],
        "keys": ["fresh"],
        "events": ["delivered-recent", "undelivered-old"],
        "deliveries": 2,
    }
    assert _left(app) == expected
    with app.app_context():  # idempotent: a second run (two workers, a late tick) changes nothing
        defer("maintenance.purge_retention", timestamp=1)
    drain(app)
    assert _left(app) == expected


def test_finished_jobs_are_purged_after_their_retention_but_not_waiting_ones(app, jobs) -> None:  # noqa: F811  # type: ignore[no-untyped-def]
    import psycopg

    with app.app_context():
        defer("tests.record_attempt", subject="done-long-ago")
    drain(app)
    with app.app_context():
        defer("tests.record_attempt", subject="waiting")
    with psycopg.connect(jobs, autocommit=True) as conn:
        conn.execute("UPDATE procrastinate_events SET at = at - interval '25 hours'")
    with app.app_context():
        defer("maintenance.purge_finished_jobs", timestamp=0)
    drain(app, queues=["maintenance"])
    assert job_counts(app) == {("tests.record_attempt", "todo"): 1,
                               ("maintenance.purge_finished_jobs", "succeeded"): 1}
