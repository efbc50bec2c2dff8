"""Replenishment: tasks from reserve to pick lanes on the replenish face, done with the ledger; purchase suggestions."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import _truncate_all, make_test_app
from tests.integration.stock_world import build_world, put
from wms.auth.models import User
from wms.db import Base, db
from wms.enums import Face, StockReason, TaskKind, TaskStatus
from wms.errors import Conflict, Forbidden, ValidationFailed
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.replenishment import services as replenishment
from wms.stock import levels_services as levels
from wms.stock.errors import InsufficientStock
from wms.stock.levels import StockLevel
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import ledger_balance
from wms.tasks.models import Task


@pytest.fixture
def world(session, make_user):  # type: ignore[no-untyped-def]
    w = build_world(make_user)
    session.commit()
    return w


def _quant(product, location) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    q = db.session.scalar(select(Quant).where(Quant.product_id == product.id, Quant.location_id == location.id))
    return (q.on_hand, q.reserved) if q else (0, 0)


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def low_lanes(session, world):  # type: ignore[no-untyped-def]
    """MUG: lane 0 has 3 (min 5, max 20), lane 1 has 0 (min 2, max 10); reserve RES-01 30, RES-02 8.
    TEA: lane 2 empty (min 1, max 6) and no reserve stock."""
    lane0, lane1, lane2 = world.lanes[:3]
    put(world.mug, lane0, 3)
    put(world.mug, world.reserve[0], 30)
    put(world.mug, world.reserve[1], 8)
    levels.set_level(world.warehouse, "MUG", min_qty=5, max_qty=20, lane_code=lane0.code)
    levels.set_level(world.warehouse, "MUG", min_qty=2, max_qty=10, lane_code=lane1.code)
    levels.set_level(world.warehouse, "TEA", min_qty=1, max_qty=6, lane_code=lane2.code)
    session.commit()
    return world


def test_plan_creates_tasks_on_the_replenish_face_from_reserve(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    result = replenishment.plan_replenishment(w.warehouse)
    by_lane = {db.session.get(Location, t.location_id).code: t for t in result.created}
    assert set(by_lane) == {w.lanes[0].code, w.lanes[1].code}
    first, second = by_lane[w.lanes[0].code], by_lane[w.lanes[1].code]
    assert all(t.kind == TaskKind.REPLENISH and t.face == Face.REPLENISH and t.status == TaskStatus.OPEN
               for t in result.created)
    # MUG-lane0 needs 17: RES-01 (30, most free) gives them; lane1 needs 10: RES-01 still has 13 left, more than 8
    assert (first.quantity, first.source_location_id) == (17, w.reserve[0].id)
    assert (second.quantity, second.source_location_id) == (10, w.reserve[0].id)
    lane_face = db.session.get(Location, first.location_id).face(Face.REPLENISH)
    assert first.aisle_id == lane_face.aisle_id
    assert [(s.sku, s.lane) for s in result.skipped] == [("TEA", w.lanes[2].code)]
    assert "buy 6" in result.skipped[0].reason


def test_a_second_plan_adds_nothing(session, low_lanes):  # type: ignore[no-untyped-def]
    first = replenishment.plan_replenishment(low_lanes.warehouse)
    session.commit()
    again = replenishment.plan_replenishment(low_lanes.warehouse)
    assert again.created == []
    assert session.scalar(select(func.count()).select_from(Task)) == len(first.created) == 2
    assert all("already open" in s.reason for s in again.skipped if s.sku == "MUG")


def test_alerts_show_the_replenishment_underway(session, low_lanes):  # type: ignore[no-untyped-def]
    replenishment.plan_replenishment(low_lanes.warehouse)
    alert = next(a for a in levels.below_minimum(low_lanes.warehouse) if a.lane == low_lanes.lanes[0].code)
    assert (alert.underway, alert.action.kind, alert.action.quantity) == (17, "underway", 17)


def test_reserve_claimed_by_open_tasks_is_not_planned_twice(session, world):  # type: ignore[no-untyped-def]
    lane0, lane1 = world.lanes[:2]
    put(world.mug, world.reserve[0], 12)
    levels.set_level(world.warehouse, "MUG", min_qty=5, max_qty=10, lane_code=lane0.code)
    levels.set_level(world.warehouse, "MUG", min_qty=5, max_qty=10, lane_code=lane1.code)
    result = replenishment.plan_replenishment(world.warehouse)
    assert sorted(t.quantity for t in result.created) == [2, 10]


def test_completion_moves_stock_and_the_ledger_balances(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = next(t for t in replenishment.plan_replenishment(w.warehouse).created if t.location_id == w.lanes[0].id)
    session.commit()
    done = replenishment.complete_replenishment(task, w.receiver, 17, idempotency_key="k-1")
    session.commit()
    assert (done.status, done.done_quantity, done.assignee_id) == (TaskStatus.DONE, 17, w.receiver.id)
    assert done.finished_at is not None
    assert _quant(w.mug, w.lanes[0]) == (20, 0) == ledger_balance(w.mug, w.lanes[0])
    assert _quant(w.mug, w.reserve[0]) == (13, 0) == ledger_balance(w.mug, w.reserve[0])
    rows = session.scalars(select(LedgerEntry).where(LedgerEntry.reference == f"replenish task {task.id}")
                           .order_by(LedgerEntry.id)).all()
    assert [(r.location_id, r.delta_on_hand, r.reason, r.actor_user_id, r.idempotency_key) for r in rows] == [
        (w.reserve[0].id, -17, StockReason.TRANSFER, w.receiver.id, "k-1"),
        (w.lanes[0].id, 17, StockReason.TRANSFER, w.receiver.id, "k-1")]
    assert w.lanes[0].code not in {a.lane for a in levels.below_minimum(w.warehouse)}


def test_a_short_completion_is_recorded(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = next(t for t in replenishment.plan_replenishment(w.warehouse).created if t.location_id == w.lanes[1].id)
    done = replenishment.complete_replenishment(task, w.receiver, 6)
    assert (done.done_quantity, done.quantity, done.note) == (6, 10, "short: 6 of 10 moved")
    assert _quant(w.mug, w.lanes[1]) == (6, 0) == ledger_balance(w.mug, w.lanes[1])
    empty = replenishment.plan_replenishment(w.warehouse).created  # lane 1 is above min 2 now; nothing else
    assert empty == []


def test_nothing_moved_closes_the_task_without_ledger_rows(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = replenishment.plan_replenishment(w.warehouse).created[0]
    ledger = session.scalar(select(func.count()).select_from(LedgerEntry))
    done = replenishment.complete_replenishment(task, w.receiver, 0)
    assert (done.status, done.done_quantity) == (TaskStatus.DONE, 0)
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == ledger


@pytest.mark.parametrize("quantity, error", [(18, ValidationFailed), (-1, ValidationFailed),
                                             (2.5, ValidationFailed)])
def test_a_bad_quantity_is_refused(session, low_lanes, quantity, error):  # type: ignore[no-untyped-def]
    task = next(t for t in replenishment.plan_replenishment(low_lanes.warehouse).created
                if t.location_id == low_lanes.lanes[0].id)
    with pytest.raises(error):
        replenishment.complete_replenishment(task, low_lanes.receiver, quantity)


def test_only_a_receiver_completes_and_only_once(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = replenishment.plan_replenishment(w.warehouse).created[0]
    for person in (w.picker, w.supervisor):
        with pytest.raises(Forbidden):
            replenishment.complete_replenishment(task, person, 1)
    replenishment.complete_replenishment(task, w.receiver, 1)
    with pytest.raises(Conflict, match="done"):
        replenishment.complete_replenishment(task, w.receiver, 1)


def test_a_task_assigned_to_another_receiver_is_refused(session, low_lanes, make_user):  # type: ignore[no-untyped-def]
    from wms.tasks.services import assign_task

    w = low_lanes
    task = replenishment.plan_replenishment(w.warehouse).created[0]
    assign_task(task, w.receiver)
    other = make_user("rob", roles=("receiver",), warehouses=(w.warehouse,))
    with pytest.raises(Conflict, match="assigned"):
        replenishment.complete_replenishment(task, other, 1)


def test_the_reserve_is_never_overdrawn(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = next(t for t in replenishment.plan_replenishment(w.warehouse).created if t.location_id == w.lanes[0].id)
    session.commit()
    put(w.mug, w.reserve[0], -25)  # someone took most of the reserve meanwhile: 5 left
    session.commit()
    with pytest.raises(InsufficientStock):
        replenishment.complete_replenishment(task, w.receiver, 17)
    session.rollback()
    assert _quant(w.mug, w.reserve[0]) == (5, 0)
    assert session.get(Task, task.id).status == TaskStatus.OPEN


def test_completion_serves_waiting_backorders(session, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=w.warehouse.id)
    session.add(channel)
    session.flush()
    order = create_order(channel, OrderRequest("o-1", [LineRequest("MUG", 8)])).order
    assert order.lines[0].allocated == 3
    task = next(t for t in replenishment.plan_replenishment(w.warehouse).created if t.location_id == w.lanes[0].id)
    replenishment.complete_replenishment(task, w.receiver, task.quantity)
    session.refresh(order.lines[0])
    assert order.lines[0].allocated == 8


def test_the_database_refuses_a_replenish_task_on_the_pick_face(session, world):  # type: ignore[no-untyped-def]
    lane = world.lanes[0]
    pick_face = lane.face(Face.PICK)
    session.add(Task(warehouse_id=world.warehouse.id, kind=TaskKind.REPLENISH, location_id=lane.id,
                     face=Face.PICK, aisle_id=pick_face.aisle_id, product_id=world.mug.id, quantity=3,
                     source_location_id=world.reserve[0].id))
    with pytest.raises(IntegrityError, match="face"):
        session.flush()
    session.rollback()


def test_purchase_suggestions_reach_the_maximum_with_backorders(session, world):  # type: ignore[no-untyped-def]
    wh = world.warehouse
    put(world.mug, world.lanes[0], 4)
    put(world.mug, world.reserve[0], 6)
    put(world.mug, world.quarantine, 50)
    channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id)
    session.add(channel)
    session.flush()
    create_order(channel, OrderRequest("o-1", [LineRequest("MUG", 7)]))  # 4 reserved, 3 backordered
    levels.set_level(wh, "MUG", min_qty=10, max_qty=40)
    levels.set_level(wh, "TEA", min_qty=0, max_qty=5)          # 0 < 0 is false: no suggestion
    [s] = replenishment.purchase_suggestions(wh)
    assert (s.sku, s.on_hand, s.reserved, s.backordered) == ("MUG", 10, 4, 3)
    assert s.quantity == 40 - (10 - 4) + 3 == 37
    assert "backordered" in s.reason and "37" in s.reason


# --- API ----------------------------------------------------------------------------------------------------------

def _auth(make_token, user, **extra) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {make_token('user', user=user)}", **extra}


def test_api_plan_is_idempotent_and_a_second_plan_adds_nothing(client, low_lanes, make_token, commit):  # type: ignore[no-untyped-def]
    headers = _auth(make_token, low_lanes.supervisor)
    commit()
    r = client.post("/api/v1/warehouses/WH/replenishment/plan", headers={**headers, "Idempotency-Key": "p-1"})
    assert r.status_code == 200, r.json
    assert sorted(t["quantity"] for t in r.json["created"]) == [10, 17]
    assert {t["source"] for t in r.json["created"]} == {"RES-01"}
    replay = client.post("/api/v1/warehouses/WH/replenishment/plan", headers={**headers, "Idempotency-Key": "p-1"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json == r.json
    again = client.post("/api/v1/warehouses/WH/replenishment/plan", headers={**headers, "Idempotency-Key": "p-2"})
    assert again.json["created"] == []
    assert client.post("/api/v1/warehouses/WH/replenishment/plan", headers=headers).status_code == 428
    listed = client.get("/api/v1/warehouses/WH/replenishment/tasks", headers=headers).json
    assert len(listed) == 2 and {t["status"] for t in listed} == {"open"}


def test_api_completion_by_a_receiver_and_by_a_supervisor_for_one(client, low_lanes, make_token, commit):  # type: ignore[no-untyped-def]
    w = low_lanes
    tasks = replenishment.plan_replenishment(w.warehouse).created
    rec, sup = _auth(make_token, w.receiver), _auth(make_token, w.supervisor)
    commit()
    first, second = tasks
    url = f"/api/v1/replenishment/tasks/{first.id}/complete"
    r = client.post(url, json={"quantity": first.quantity}, headers={**rec, "Idempotency-Key": "c-1"})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["done_quantity"], r.json["assignee"]) == ("done", first.quantity, "rita")
    replay = client.post(url, json={"quantity": first.quantity}, headers={**rec, "Idempotency-Key": "c-1"})
    assert replay.json == r.json and replay.headers.get("Idempotent-Replayed") == "true"
    twice = client.post(url, json={"quantity": first.quantity}, headers={**rec, "Idempotency-Key": "c-2"})
    assert twice.status_code == 409 and twice.json["type"].endswith("task-not-open")
    url2 = f"/api/v1/replenishment/tasks/{second.id}/complete"
    r = client.post(url2, json={"quantity": 3}, headers={**sup, "Idempotency-Key": "c-3"})
    assert r.status_code == 403  # a supervisor is not a receiver: name who did it
    r = client.post(url2, json={"quantity": 3, "done_by": "rita", "note": "reserve pallet damaged"},
                    headers={**sup, "Idempotency-Key": "c-4"})
    assert r.status_code == 200, r.json
    assert (r.json["done_quantity"], r.json["assignee"], r.json["note"]) == (3, "rita", "reserve pallet damaged")
    with client.application.app_context():
        for loc in (w.lanes[0], w.lanes[1], w.reserve[0]):
            assert _quant(w.mug, loc) == ledger_balance(w.mug, loc)
        assert _quant(w.mug, w.reserve[0]) == (30 - first.quantity - 3, 0)


@pytest.mark.parametrize("body, status", [
    ({"quantity": 18}, 422), ({"quantity": -1}, 422), ({"quantity": 1.5}, 422), ({"quantity": "3"}, 422),
    ({}, 422), ({"quantity": 1, "done_by": "nobody"}, 422), ({"quantity": 1, "done_by": "pia"}, 403),
])
def test_api_refuses_bad_completions_and_writes_nothing(client, low_lanes, make_token, commit, body, status):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = next(t for t in replenishment.plan_replenishment(w.warehouse).created if t.location_id == w.lanes[0].id)
    caller = w.supervisor if "done_by" in body else w.receiver
    headers = _auth(make_token, caller, **{"Idempotency-Key": str(uuid.uuid4())})
    commit()
    before = _counts()
    db.session.rollback()
    r = client.post(f"/api/v1/replenishment/tasks/{task.id}/complete", json=body, headers=headers)
    assert r.status_code == status, r.json
    assert r.mimetype == "application/problem+json"
    assert _counts() == before


def test_api_refuses_another_warehouse_and_unknown_tasks(client, low_lanes, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    w = low_lanes
    task = replenishment.plan_replenishment(w.warehouse).created[0]
    outsider = make_user("oscar", roles=("receiver", "supervisor"), warehouses=(w.other,), totp=True)
    headers = _auth(make_token, outsider, **{"Idempotency-Key": "x-1"})
    commit()
    before = _counts()
    db.session.rollback()
    r = client.post(f"/api/v1/replenishment/tasks/{task.id}/complete", json={"quantity": 1}, headers=headers)
    assert r.status_code == 403
    r = client.post("/api/v1/warehouses/WH/replenishment/plan", headers={**headers, "Idempotency-Key": "x-2"})
    assert r.status_code == 403
    assert client.get("/api/v1/warehouses/WH/purchase-suggestions", headers=headers).status_code == 403
    r = client.post("/api/v1/replenishment/tasks/999999/complete", json={"quantity": 1},
                    headers={**headers, "Idempotency-Key": "x-3"})
    assert r.status_code == 404
    assert _counts() == before


def test_api_purchase_suggestions(client, world, make_token, commit):  # type: ignore[no-untyped-def]
    put(world.mug, world.reserve[0], 6)
    levels.set_level(world.warehouse, "MUG", min_qty=10, max_qty=40)
    headers = _auth(make_token, world.supervisor)
    commit()
    [s] = client.get("/api/v1/warehouses/WH/purchase-suggestions", headers=headers).json
    assert (s["sku"], s["on_hand"], s["available"], s["backordered"], s["quantity"]) == ("MUG", 6, 6, 0, 34)


# --- concurrency on PostgreSQL --------------------------------------------------------------------------------------

@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 10})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _two_tasks_on_one_reserve(app, make_user_in) -> tuple[list[int], int, int]:  # type: ignore[no-untyped-def]
    """Two open tasks of 8 units each from RES-01, which holds only 10."""
    with app.app_context():
        w = build_world(make_user_in)
        put(w.mug, w.reserve[0], 10)
        from wms.tasks.services import create_task

        ids = []
        for lane in w.lanes[:2]:
            task = create_task(lane, TaskKind.REPLENISH, product_id=w.mug.id, quantity=8)
            task.source_location_id = w.reserve[0].id
            ids.append(task.id)
        db.session.commit()
        return ids, w.receiver.id, w.mug.id


def _make_user_in(username, *, roles, warehouses=(), totp=False):  # type: ignore[no-untyped-def]
    from wms.auth.models import UserRole, UserWarehouse
    from wms.enums import Role

    user = User(username=username, display_name=username.title())
    user.role_rows = [UserRole(role=Role(r)) for r in roles]
    user.warehouse_rows = [UserWarehouse(warehouse_id=w.id) for w in warehouses]
    db.session.add(user)
    db.session.flush()
    return user


def _complete_at_once(app, task_ids: list[int], receiver_id: int) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(task_ids))
    outcomes: list[object] = [None] * len(task_ids)

    def run(i: int, task_id: int) -> None:
        with app.app_context():  # its own session and connection
            try:
                task, user = db.session.get(Task, task_id), db.session.get(User, receiver_id)
                barrier.wait()
                replenishment.complete_replenishment(task, user, 8)
                db.session.commit()
                outcomes[i] = "done"
            except Exception as exc:  # noqa: BLE001  (the outcome is what the test looks at)
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(task_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.parametrize("same_task", [False, True], ids=["two-tasks-one-reserve", "one-task-twice"])
def test_concurrent_completions_never_overdraw_the_reserve(busy_app, same_task):  # type: ignore[no-untyped-def]
    ids, receiver_id, mug_id = _two_tasks_on_one_reserve(busy_app, _make_user_in)
    outcomes = _complete_at_once(busy_app, [ids[0], ids[0]] if same_task else ids, receiver_id)
    assert sorted(o if o == "done" else type(o).__name__ for o in outcomes) == (
        ["TaskNotOpen", "done"] if same_task else ["InsufficientStock", "done"])
    with busy_app.app_context():
        from wms.catalog.models import Product

        mug = db.session.get(Product, mug_id)
        quants = db.session.scalars(select(Quant).where(Quant.product_id == mug_id)).all()
        [done] = db.session.scalars(select(Task).where(Task.status == TaskStatus.DONE)).all()
        lane = db.session.get(Location, done.location_id)
        assert {db.session.get(Location, q.location_id).code: q.on_hand for q in quants if q.on_hand} == {
            "RES-01": 2, lane.code: 8}
        assert min(q.on_hand for q in quants) >= 0 and done.done_quantity == 8
        for q in quants:
            assert ledger_balance(mug, db.session.get(Location, q.location_id)) == (q.on_hand, q.reserved)


def test_two_planners_at_once_create_each_task_once(busy_app):  # type: ignore[no-untyped-def]
    with busy_app.app_context():
        w = build_world(_make_user_in)
        put(w.mug, w.reserve[0], 50)
        for lane in w.lanes[:4]:
            levels.set_level(w.warehouse, "MUG", min_qty=2, max_qty=6, lane_code=lane.code)
        db.session.commit()
        warehouse_id = w.warehouse.id
    barrier = threading.Barrier(2)
    created: list[int] = []

    def plan() -> None:
        from wms.layout.models import Warehouse

        with busy_app.app_context():
            warehouse = db.session.get(Warehouse, warehouse_id)
            barrier.wait()
            result = replenishment.plan_replenishment(warehouse)
            db.session.commit()
            created.append(len(result.created))

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created) == [0, 4]
    with busy_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 4


# --- supervisor pages -----------------------------------------------------------------------------------------------

def test_the_dashboard_shows_alerts_with_a_bar_and_plans_tasks(client, sign_in, low_lanes):  # type: ignore[no-untyped-def]
    w = low_lanes
    sign_in(client, w.supervisor)
    page = client.get("/warehouses/WH/stock-alerts")
    assert page.status_code == 200, page.text
    assert page.text.count('class="level-bar"') == 3
    assert "Replenish 17 from RES-01" in page.text and "Buy 6" in page.text
    assert 'action="/warehouses/WH/stock-alerts/plan"' in page.text and 'name="csrf_token"' in page.text
    assert "No open replenishment task." in page.text
    r = client.post("/warehouses/WH/stock-alerts/plan")
    assert r.status_code == 302 and "created=" in r.headers["Location"]
    shown = client.get(r.headers["Location"])
    assert "Replenishment tasks created: 2." in shown.text and "Tasks just created" in shown.text
    assert "Replenishment of 17 underway" in shown.text
    assert client.post("/warehouses/WH/stock-alerts/plan").status_code == 302
    assert "No new replenishment task" in client.get("/warehouses/WH/stock-alerts").text
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 2


def test_the_dashboard_lists_purchase_suggestions(client, sign_in, world, commit):  # type: ignore[no-untyped-def]
    put(world.tea, world.reserve[0], 2)
    levels.set_level(world.warehouse, "TEA", min_qty=5, max_qty=24)
    commit()
    sign_in(client, world.supervisor)
    page = client.get("/warehouses/WH/stock-alerts").text
    assert "Purchase suggestions" in page and "<strong>22</strong>" in page


def test_the_levels_page_sets_changes_and_removes_levels(client, sign_in, world):  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    lane = world.lanes[0].code
    page = client.get("/warehouses/WH/stock-levels")
    assert page.status_code == 200 and f'<option value="{lane}">' in page.text and "RES-01" not in page.text
    r = client.post("/warehouses/WH/stock-levels", data={"sku": "MUG", "lane": lane, "min_qty": "4", "max_qty": "9"})
    assert r.status_code == 302
    r = client.post("/warehouses/WH/stock-levels", data={"sku": "MUG", "lane": "", "min_qty": "10", "max_qty": "50"})
    assert "Level of MUG in WH set." in client.get(r.headers["Location"]).text
    r = client.post("/warehouses/WH/stock-levels", data={"sku": "MUG", "lane": lane, "min_qty": "5", "max_qty": "9"})
    assert f"Level of MUG in {lane} changed." in client.get(r.headers["Location"]).text
    with client.application.app_context():
        assert sorted((lv.min_qty, lv.max_qty) for lv, _p, _l in levels.list_levels(world.warehouse)) == [
            (5, 9), (10, 50)]
    r = client.post("/warehouses/WH/stock-levels/remove", data={"sku": "MUG", "lane": lane})
    assert r.status_code == 302
    with client.application.app_context():
        assert [ln for _lv, _p, ln in levels.list_levels(world.warehouse)] == [None]


@pytest.mark.parametrize("form, message", [
    ({"sku": "NOPE", "min_qty": "1", "max_qty": "2"}, "No product has the SKU NOPE."),
    ({"sku": "MUG", "min_qty": "3", "max_qty": "2"}, "The minimum (3) is above the maximum (2)."),
    ({"sku": "MUG", "min_qty": "1.5", "max_qty": "2"}, "The minimum is a whole number of units, 0 or more."),
    ({"sku": "MUG", "min_qty": "-1", "max_qty": "2"}, "The minimum is a whole number of units, 0 or more."),
    ({"sku": "MUG", "min_qty": "0", "max_qty": "0"}, "The maximum must be above zero."),
    ({"sku": "MUG", "lane": "RES-01", "min_qty": "1", "max_qty": "2"}, "Location RES-01 is not a pick lane"),
    ({"sku": "MUG", "lane": "O01-01-1", "min_qty": "1", "max_qty": "2"}, "No location O01-01-1 in this warehouse."),
    ({"sku": "", "min_qty": "", "max_qty": ""}, "Enter the SKU of a product."),
])
def test_the_levels_page_explains_bad_input_and_writes_nothing(client, sign_in, world, form, message):  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    before = _counts()
    db.session.rollback()
    r = client.post("/warehouses/WH/stock-levels", data=form)
    assert r.status_code in (404, 422), r.status_code
    assert message in r.text and 'aria-invalid="true"' in r.text
    assert _counts() == before


def test_the_levels_page_shows_every_mistake_at_once(client, sign_in, world):  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    r = client.post("/warehouses/WH/stock-levels", data={"sku": "NOPE", "lane": "RES-01", "min_qty": "3",
                                                          "max_qty": "2"})
    assert r.status_code == 422
    for message in ("No product has the SKU NOPE.", "Location RES-01 is not a pick lane",
                    "The minimum (3) is above the maximum (2)."):
        assert message in r.text
    assert 'value="NOPE"' in r.text  # what was typed stays in the form


def test_the_pages_speak_french(client, sign_in, low_lanes):  # type: ignore[no-untyped-def]
    sign_in(client, low_lanes.supervisor)
    with client.session_transaction() as sess:
        sess["locale"] = "fr"
    page = client.get("/warehouses/WH/stock-alerts").text
    assert "Planifier le réapprovisionnement" in page and "Alertes de stock" in page
    assert "Minimum et maximum" in client.get("/warehouses/WH/stock-levels").text


def test_other_warehouses_and_other_roles_are_refused(client, sign_in, world, make_user, commit):  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    assert client.get("/warehouses/OTHER/stock-alerts").status_code == 403
    assert client.post("/warehouses/OTHER/stock-alerts/plan").status_code == 403
    assert client.post("/warehouses/OTHER/stock-levels", data={"sku": "MUG", "min_qty": "1",
                                                               "max_qty": "2"}).status_code == 403
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(StockLevel)) == 0


def test_a_receiver_does_not_see_the_supervisor_pages(client, sign_in, world):  # type: ignore[no-untyped-def]
    sign_in(client, world.receiver)
    assert client.get("/warehouses/WH/stock-alerts").status_code == 403
    assert client.post("/warehouses/WH/stock-alerts/plan").status_code == 403
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0


def test_the_nav_links_to_the_stock_alerts(client, sign_in, world):  # type: ignore[no-untyped-def]
    sign_in(client, world.supervisor)
    home = client.get("/").text
    assert 'href="/stock-alerts"' in home
    r = client.get("/stock-alerts")  # one warehouse in scope: straight to its dashboard
    assert r.status_code == 302 and r.headers["Location"].endswith("/warehouses/WH/stock-alerts")


def test_the_plan_button_needs_the_pages_csrf_token(app, database_url, world, make_token):  # type: ignore[no-untyped-def]
    import re

    from tests.factories import sign_in_client

    strict = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        client = strict.test_client()
        sign_in_client(strict, client, world.supervisor)
        assert client.post("/warehouses/WH/stock-alerts/plan").status_code == 403
        page = client.get("/warehouses/WH/stock-alerts").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/warehouses/WH/stock-alerts/plan", data={"csrf_token": token}).status_code == 302
    finally:
        db.engine(strict).dispose()


def test_two_products_refilling_one_lane_at_once_never_overfill_it(busy_app):  # type: ignore[no-untyped-def]
    """The lane holds 10; a task brings 8 of one product, another 8 of another: one is done, the other refused."""
    from wms.tasks.services import create_task

    with busy_app.app_context():
        w = build_world(_make_user_in)
        lane = w.lanes[0]
        lane.capacity_units = 10
        ids = []
        for product, reserve in ((w.mug, w.reserve[0]), (w.tea, w.reserve[1])):
            put(product, reserve, 10)
            task = create_task(lane, TaskKind.REPLENISH, product_id=product.id, quantity=8)
            task.source_location_id = reserve.id
            ids.append(task.id)
        db.session.commit()
        lane_id, receiver_id = lane.id, w.receiver.id
    outcomes = _complete_at_once(busy_app, ids, receiver_id)
    assert sorted(o if o == "done" else type(o).__name__ for o in outcomes) == ["Conflict", "done"]
    with busy_app.app_context():
        assert sum(db.session.scalars(select(Quant.on_hand).where(Quant.location_id == lane_id))) == 8
