"""`wms db purge-keys`: stored answers older than the retention go, in batches; younger ones stay answerable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from wms.db import db, utcnow
from wms.idempotency import purge
from wms.idempotency_models import IdempotencyRecord


def _keys(ages_days: list[float]) -> None:
    now = utcnow()
    for n, age in enumerate(ages_days):
        db.session.add(IdempotencyRecord(scope="user:1", key=f"k{n}", request_hash="h", status_code=200,
                                         response_body="{}", created_at=now - dt.timedelta(days=age)))
    db.session.commit()


def _left() -> list[str]:
    return sorted(db.session.scalars(select(IdempotencyRecord.key)))


def test_purge_deletes_only_keys_past_the_retention_in_batches(session) -> None:  # type: ignore[no-untyped-def]
    _keys([40, 31, 35, 29, 1, 0, 45])
    seen: list[int] = []
    assert purge(dt.timedelta(days=30), batch=2, progress=seen.append) == 4
    assert seen == [2, 4]  # two full batches, then an empty one ends it
    assert _left() == ["k3", "k4", "k5"]
    assert purge(dt.timedelta(days=30)) == 0


def test_the_command_reports_and_refuses_a_retention_too_short_for_offline_devices(app, session, runner) -> None:  # type: ignore[no-untyped-def]
    _keys([10, 3])
    result = runner.invoke(args=["db", "purge-keys", "--older-than-days", "1"])
    assert result.exit_code == 2 and "--older-than-days" in result.output
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2
    result = runner.invoke(args=["db", "purge-keys", "--older-than-days", "7"])
    assert result.exit_code == 0, result.output
    assert "1 idempotency keys older than 7 days deleted" in result.output
    assert _left() == ["k1"]
