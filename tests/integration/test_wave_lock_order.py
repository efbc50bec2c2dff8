"""One lock order for a wave and its pick orders: the wave first, then its OPs, in the cancel and in a picker's take."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.handheld_support import PickWorld, build_world, person
from wms.auth.tokens import issue_token
from wms.db import db
from wms.enums import Role, TokenPurpose
from wms.tasks.models import Task
from wms.waves.models import PickOrder, PickOrderStatus, Wave, WaveStatus

PICKERS = 4


@pytest.fixture(autouse=True)
def _no_server_retry(app):  # type: ignore[no-untyped-def]
    """A deadlock must show as the 503 it would be: the server's retry of a broken-off transaction would hide it."""
    app.config["TRANSACTION_ATTEMPTS"] = 1


def _supervisor_token() -> str:
    from wms.auth.services import create_user

    user = create_user(f"sup-{uuid.uuid4().hex[:8]}", roles=["supervisor"], password="correct horse battery staple",
                       all_warehouses=True)
    return issue_token(name="sup", purpose=TokenPurpose.USER, user=user)[1]


def _post_take(client: Any, zone_id: int, device: str) -> tuple[int, Any]:
    r = client.post("/hh/api/pick/take", json={"zone_id": zone_id},
                    headers={"Idempotency-Key": str(uuid.uuid4()), "X-Device-Id": device})
    return r.status_code, r.json


def _post_cancel(client: Any, wave_id: int, token: str) -> tuple[int, Any]:
    r = client.post(f"/api/v1/waves/{wave_id}/cancel",
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
    return r.status_code, r.json


def _waiting(database_url: str, n: int) -> None:
    """Until `n` sessions of this database wait on a lock."""
    import psycopg

    for _ in range(600):
        with psycopg.connect(database_url, autocommit=True) as watch:
            if watch.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                             "AND wait_event_type = 'Lock'").fetchone()[0] >= n:
                return
        time.sleep(0.05)
    raise AssertionError(f"{n} requests never waited on a lock")


def test_a_take_caught_midway_by_a_wave_cancel_makes_the_cancel_wait_not_deadlock(  # type: ignore[no-untyped-def]
        app, session, sign_in, database_url) -> None:
    """The picker's take is held up after it chose its OP (another session holds the wave's pick tasks) while the
    supervisor cancels the wave. The take holds the wave, so the cancel waits for it and is then refused (409,
    the wave is being picked); taking the OP before its wave would have deadlocked the two (a 503)."""
    import psycopg

    world: PickWorld = build_world(orders=2)
    token = _supervisor_token()
    zone_id, wave_id = world.site.zones["A"].id, world.wave.id
    session.commit()
    picker_client, supervisor_client = app.test_client(), app.test_client()
    sign_in(picker_client, world.picker)
    answers: dict[str, Any] = {}

    def take() -> None:
        answers["take"] = _post_take(picker_client, zone_id, "dev-1")

    def cancel() -> None:
        answers["cancel"] = _post_cancel(supervisor_client, wave_id, token)

    with psycopg.connect(database_url) as blocker:
        blocker.execute("SELECT id FROM tasks FOR UPDATE")
        first = threading.Thread(target=take)
        first.start()
        _waiting(database_url, 1)  # the take has its OP and waits for the OP's tasks
        second = threading.Thread(target=cancel)
        second.start()
        _waiting(database_url, 2)
        blocker.rollback()
    first.join()
    second.join()
    assert answers["take"][0] == 200 and answers["take"][1]["outcome"] == "accepted", answers
    assert answers["cancel"][0] == 409 and answers["cancel"][1]["type"].endswith("wave-state"), answers
    db.session.expire_all()
    assert db.session.get(Wave, wave_id).status == WaveStatus.PICKING
    assert {t.status.value for t in db.session.scalars(select(Task))} == {"open", "assigned"}


@pytest.mark.parametrize("round_no", range(3))
def test_cancelling_a_released_wave_while_pickers_take_its_ops_never_answers_503(  # type: ignore[no-untyped-def]
        app, session, sign_in, round_no) -> None:
    """A supervisor cancels a released wave at the moment four pickers take its OPs: either the cancel comes first
    (it answers 200 and every take finds nothing to take) or a take does (the cancel is refused with 409, the
    wave is being picked); never a deadlock answered 503."""
    world = build_world(orders=4)
    pickers = [person(f"picker{n}", Role.PICKER, world.site.warehouse.id, f"B-P{n}") for n in range(PICKERS)]
    token = _supervisor_token()
    zones = [world.site.zones["A" if n % 2 == 0 else "B"].id for n in range(PICKERS)]
    wave_id = world.wave.id
    session.commit()
    clients = [app.test_client() for _ in range(PICKERS + 1)]
    for client, picker in zip(clients, pickers, strict=False):
        sign_in(client, picker)
    barrier = threading.Barrier(PICKERS + 1)
    answers: list[Any] = [None] * (PICKERS + 1)

    def take(n: int) -> None:
        barrier.wait()
        answers[n] = _post_take(clients[n], zones[n], f"dev-{n}")

    def cancel() -> None:
        barrier.wait()
        answers[PICKERS] = _post_cancel(clients[PICKERS], wave_id, token)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(PICKERS)]
    threads.append(threading.Thread(target=cancel))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    *takes, (cancel_status, cancel_body) = answers
    assert [status for status, _ in takes] == [200] * PICKERS, takes
    assert cancel_status in (200, 409), cancel_body
    db.session.expire_all()
    wave = db.session.get(Wave, wave_id)
    ops = list(db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave_id)))
    taken = [body for _, body in takes if body["outcome"] == "accepted"]
    if cancel_status == 200:
        assert wave.status == WaveStatus.CANCELLED
        assert taken == [] and {op.status for op in ops} == {PickOrderStatus.CANCELLED}
    else:
        assert cancel_body["type"].endswith("wave-state")
        assert wave.status == WaveStatus.PICKING and taken
        mine = {op.id: op.picker_id for op in ops if op.status == PickOrderStatus.PICKING}
        assert sorted(body["sheet"]["op"]["id"] for body in taken) == sorted(mine)
        assert len(set(mine.values())) == len(mine)  # one OP per picker
