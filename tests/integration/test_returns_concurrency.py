"""Returns raced on PostgreSQL: units cannot be authorised twice, nor received beyond what was authorised."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from tests.conftest import _truncate_all, make_test_app
from tests.factories import PASSWORD
from tests.integration.test_returns_world import build_world, ledger_balances, on_hand, shipped_order
from wms.auth.models import User, UserRole, UserWarehouse
from wms.auth.passwords import hash_secret
from wms.auth.tokens import issue_token
from wms.db import db
from wms.enums import Role, TokenPurpose
from wms.returns.models import Rma, RmaLine

CLIENTS = 8


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": CLIENTS + 2, "max_overflow": 10})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _user(username: str, role: str, warehouses=()):  # type: ignore[no-untyped-def]
    user = User(username=username, display_name=username, password_hash=hash_secret(PASSWORD))
    user.role_rows = [UserRole(role=Role(role))]
    user.warehouse_rows = [UserWarehouse(warehouse_id=w.id) for w in warehouses]
    db.session.add(user)
    db.session.flush()
    return user


def _hammer(app, calls):  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(calls))

    def run(call):  # type: ignore[no-untyped-def]
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_clients_racing_for_the_same_shipped_units_authorise_them_once(busy_app) -> None:  # type: ignore[no-untyped-def]
    with busy_app.app_context():
        world = build_world(lambda name, roles, warehouses, **kw: _user(name, roles[0], warehouses))
        shipped_order(world, "O-1", [(world.mug, 3)])
        _token, receiver = issue_token(name="rita", purpose=TokenPurpose.USER, user=world.receiver)
        db.session.commit()
        token = world.token

    def authorise(i: int):  # type: ignore[no-untyped-def]
        return lambda client: client.post("/api/v1/channels/SHOP/returns", json={
            "external_id": f"R-{i}", "order_id": "O-1", "lines": [{"sku": "MUG", "quantity": 2, "reason": "other"}]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})

    answers = _hammer(busy_app, [authorise(i) for i in range(CLIENTS)])
    assert sorted(r.status_code for r in answers) == [201] + [409] * (CLIENTS - 1)
    code = next(r.json["code"] for r in answers if r.status_code == 201)

    def receive(client):  # type: ignore[no-untyped-def]
        return client.post(f"/api/v1/warehouses/WH/returns/{code}/receive", json={
            "lines": [{"sku": "MUG", "quantity": 1}]},
            headers={"Authorization": f"Bearer {receiver}", "Idempotency-Key": str(uuid.uuid4())})

    answers = _hammer(busy_app, [receive] * CLIENTS)
    assert sorted(r.status_code for r in answers) == [200, 200] + [409] * (CLIENTS - 2)
    with busy_app.app_context():
        assert [ln.received for ln in db.session.scalars(select(RmaLine))] == [2]
        assert len(list(db.session.scalars(select(Rma)))) == 1
        assert on_hand(world.mug, world.returns) == 2
        ledger_balances()
