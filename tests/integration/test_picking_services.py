"""Picking on the handheld: services and the /hh/api calls, on PostgreSQL with a wave released by the wave services."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from flask import g
from sqlalchemy import func, select

from tests.e2e.handheld_support import PickWorld, build_world, ean_for
from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason, TaskKind, TaskStatus, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.orders.models import Order, OrderLine, OrderStatus, Reservation
from wms.picking import replenish as rs
from wms.picking import services as ps
from wms.picking.context import ScanContext
from wms.picking.faces import replenish_face_code
from wms.picking.models import ScanEvent, ScanOutcome
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock, ledger_balance
from wms.tasks.models import Task
from wms.tasks.services import create_task
from wms.waves.models import PickOrder, PickOrderLine, PickOrderStatus, WaveStatus


@pytest.fixture
def world(session) -> PickWorld:  # type: ignore[no-untyped-def]
    w = build_world()
    session.commit()
    return w


def ctx(world: PickWorld, key: str | None = None) -> ScanContext:
    return ScanContext(user=world.picker, device_id="dev-1", idempotency_key=key or str(uuid.uuid4()))


def take(world: PickWorld, zone: str = "A") -> PickOrder:
    op, event = ps.take_next_pick_order(world.picker, world.site.zones[zone], ctx(world))
    assert op is not None, event.message
    return op


def quant(line: PickOrderLine) -> tuple[int, int]:
    q = db.session.scalar(select(Quant).where(Quant.product_id == line.product_id,
                                              Quant.location_id == line.location_id))
    return (q.on_hand, q.reserved) if q else (0, 0)


def pick_line(world: PickWorld, op: PickOrder, line: PickOrderLine, quantity: int | None = None) -> None:
    c = ctx(world)
    for result in (ps.scan_location(op, line.location.code, c, line_id=line.id),
                   ps.scan_item(op, ean_for(line.product), c, line_id=line.id),
                   ps.scan_tote(op, line.tote or "", c, line_id=line.id),
                   ps.confirm_quantity(op, quantity or line.quantity, c, line_id=line.id)):
        assert not result.refused, result.message


def ledger_matches_quants() -> None:
    for q in db.session.scalars(select(Quant)):
        product, location = db.session.get(Product, q.product_id), db.session.get(Location, q.location_id)
        assert ledger_balance(product, location) == (q.on_hand, q.reserved), location.code


def applied_counts() -> dict[str, int]:
    rows = db.session.execute(select(ScanEvent.outcome, func.count()).group_by(ScanEvent.outcome)).all()
    return {outcome.value: n for outcome, n in rows}


def test_a_picker_takes_the_next_op_of_the_zone_and_keeps_it_until_done(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    assert op.status == PickOrderStatus.PICKING and op.picker_id == world.picker.id
    assert db.session.get(type(world.wave), world.wave.id).status == WaveStatus.PICKING
    tasks = db.session.scalars(select(Task).where(Task.id.in_([ln.task_id for ln in op.lines]))).all()
    assert {t.assignee_id for t in tasks} == {world.picker.id} and {t.status for t in tasks} == {TaskStatus.ASSIGNED}
    again, event = ps.take_next_pick_order(world.picker, world.site.zones["B"], ctx(world))
    assert again.id == op.id and "already picking" in event.message
    orders = {ln.order_line.order.status for ln in op.lines}
    assert orders == {OrderStatus.PICKING}


def test_a_full_pick_consumes_reservations_with_pick_ledger_rows_and_marks_orders_picked(world) -> None:  # type: ignore[no-untyped-def]
    before: dict[int, tuple[int, int]] = {}
    for zone in ("A", "B"):
        op = take(world, zone)
        for line in op.lines:
            before[line.id] = quant(line)
        while (state := ps.pick_state(op)).line is not None:
            assert state.step == "location"
            pick_line(world, op, state.line)
        assert ps.pick_state(op).step == "drop"
        result = ps.drop_at_sas(op, "SAS-01", ctx(world))
        assert result.outcome == ScanOutcome.APPLIED and op.status == PickOrderStatus.DONE
        for line in op.lines:
            on_hand, reserved = before[line.id]
            assert quant(line) == (on_hand - line.quantity, reserved - line.quantity)
            assert line.picked_quantity == line.quantity and line.task.status == TaskStatus.DONE
    db.session.commit()
    assert {o.status for o in db.session.scalars(select(Order))} == {OrderStatus.PICKED}
    assert all(ln.picked == ln.quantity for ln in db.session.scalars(select(OrderLine)))
    assert db.session.scalar(select(func.count()).select_from(Reservation)) == 0
    assert db.session.get(type(world.wave), world.wave.id).status == WaveStatus.DONE
    picks = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.PICK)).all()
    assert sum(-e.delta_on_hand for e in picks) == sum(ln.quantity for ln in db.session.scalars(select(OrderLine)))
    assert all(e.delta_on_hand == e.delta_reserved and e.actor_user_id == world.picker.id for e in picks)
    ledger_matches_quants()
    assert applied_counts().get("refused", 0) == 0


@pytest.mark.parametrize("scan", ["other_lane", "replenish_face", "other_zone", "unknown"])
def test_a_wrong_location_is_refused_with_a_clear_message_and_nothing_applied(world, scan) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    line = ps.pick_state(op).line
    other_zone_lane = world.ops()[-1].lines[0].location.code
    lane_other = db.session.scalar(select(Location.code).where(Location.zone_id == op.zone_id,
                                                               Location.id != line.location_id).limit(1))
    code = {"other_lane": lane_other, "replenish_face": replenish_face_code(line.location.code),
            "other_zone": other_zone_lane, "unknown": "NOPE-1"}[scan]
    result = ps.scan_location(op, code, ctx(world), line_id=line.id)
    assert result.outcome == ScanOutcome.REFUSED and line.location.code in result.message
    expected = {"other_lane": "Wrong lane", "replenish_face": "replenish-face label", "other_zone": "zone B",
                "unknown": "not a location label"}[scan]
    assert expected in result.message
    assert ps.pick_state(op).step == "location"
    event = db.session.scalar(select(ScanEvent).order_by(ScanEvent.id.desc()).limit(1))
    assert (event.outcome, event.step, event.code, event.device_id, event.user_id) == (
        ScanOutcome.REFUSED, "location", code, "dev-1", world.picker.id)


def test_a_wrong_item_or_tote_or_an_early_quantity_is_refused_and_changes_no_stock(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    line = ps.pick_state(op).line
    stock = quant(line)
    c = ctx(world)
    early = ps.confirm_quantity(op, 1, c, line_id=line.id)
    assert early.refused and "location first" in early.message
    ps.scan_location(op, line.location.code, c, line_id=line.id)
    other = db.session.scalar(select(Product).where(Product.id != line.product_id).limit(1))
    wrong = ps.scan_item(op, ean_for(other), c, line_id=line.id)
    assert wrong.refused and other.sku in wrong.message and line.product.sku in wrong.message
    assert ps.scan_item(op, "4000000000000", c, line_id=line.id).refused  # not even a valid GTIN
    assert not ps.scan_item(op, ean_for(line.product), c, line_id=line.id).refused
    assert ps.scan_tote(op, "999-99-Z", c, line_id=line.id).refused
    assert not ps.scan_tote(op, line.tote, c, line_id=line.id).refused
    over = ps.confirm_quantity(op, line.quantity + 1, c, line_id=line.id)
    assert over.refused and f"between 1 and {line.quantity}" in over.message
    assert quant(line) == stock and line.picked_quantity == 0
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.reason == StockReason.PICK)) == 0


def test_a_partial_quantity_keeps_the_line_open_and_the_rest_can_be_confirmed(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    line = next(ln for ln in op.lines if ln.quantity >= 2)
    while ps.pick_state(op).line.id != line.id:
        pick_line(world, op, ps.pick_state(op).line)
    c = ctx(world)
    for r in (ps.scan_location(op, line.location.code, c), ps.scan_item(op, ean_for(line.product), c),
              ps.scan_tote(op, line.tote, c), ps.confirm_quantity(op, 1, c)):
        assert not r.refused, r.message
    assert ps.pick_state(op).step == "quantity" and line.picked_quantity == 1
    assert not ps.confirm_quantity(op, line.quantity - 1, c).refused
    assert line.task.status == TaskStatus.DONE and line.task.done_quantity == line.quantity


def test_a_short_pick_takes_what_is_there_counts_the_lane_empty_and_reallocates_the_rest(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    line = next(ln for ln in op.lines if ln.quantity >= 2)
    while ps.pick_state(op).line.id != line.id:
        pick_line(world, op, ps.pick_state(op).line)
    # A second lane holds the product, so the rest of the line can be allocated again.
    spare = db.session.scalar(select(Location).where(Location.zone_id == op.zone_id, Location.level == 2)
                              .order_by(Location.code).limit(1))
    adjust_stock(line.product, spare, 5, reason=StockReason.RECEIPT)
    c = ctx(world)
    ps.scan_location(op, line.location.code, c)
    result = ps.report_exception(op, "short", c, quantity=1, note="only one left")
    assert result.outcome == ScanOutcome.EXCEPTION and "counted empty" in result.message
    assert quant(line) == (0, 0) and line.picked_quantity == 1
    assert line.task.status == TaskStatus.DONE and line.task.done_quantity == 1 and "short" in line.task.note
    count = db.session.scalar(select(LedgerEntry).where(LedgerEntry.reason == StockReason.COUNT))
    assert count.location_id == line.location_id and count.delta_on_hand < 0
    order_line = db.session.get(OrderLine, line.order_line_id)
    assert order_line.picked == 1 and order_line.allocated == order_line.quantity  # the rest: from the spare lane
    assert db.session.scalar(select(Quant.reserved).where(Quant.location_id == spare.id)) == line.quantity - 1
    event = db.session.get(ScanEvent, result.event.id)
    assert event.data["kind"] == "short" and event.data["missing"] == line.quantity - 1 and event.resolved_at is None
    ledger_matches_quants()


def test_an_empty_lane_and_a_wrong_item_in_the_lane_close_the_line_and_send_the_order_back_to_allocation(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    first = ps.pick_state(op).line
    r1 = ps.report_exception(op, "empty", ctx(world), line_id=first.id)
    assert r1.outcome == ScanOutcome.EXCEPTION and quant(first) == (0, 0)
    second = ps.pick_state(op).line
    assert second.id != first.id
    other = db.session.scalar(select(Product).where(Product.id != second.product_id).limit(1))
    r2 = ps.report_exception(op, "wrong_item", ctx(world), code=ean_for(other), line_id=second.id)
    assert r2.outcome == ScanOutcome.EXCEPTION and db.session.get(ScanEvent, r2.event.id).data["lane_holds"]
    assert ps.pick_state(op).step == "drop"
    assert not ps.drop_at_sas(op, "SAS-01", ctx(world)).refused
    op_b = take(world, "B")
    while (st := ps.pick_state(op_b)).line is not None:
        pick_line(world, op_b, st.line)
    ps.drop_at_sas(op_b, "SAS-01", ctx(world))
    statuses = {o.status for o in db.session.scalars(select(Order))}
    assert statuses <= {OrderStatus.BACKORDERED, OrderStatus.ALLOCATED} and statuses
    ledger_matches_quants()


def test_damaged_units_leave_pickable_stock_for_the_quarantine(session) -> None:  # type: ignore[no-untyped-def]
    world = build_world(quarantine=True)
    op = take(world)
    line = ps.pick_state(op).line
    on_hand, reserved = quant(line)
    result = ps.report_exception(op, "damaged", ctx(world), quantity=3, line_id=line.id)
    assert result.outcome == ScanOutcome.EXCEPTION and "QT-01" in result.message
    assert quant(line) == (on_hand - 3, reserved)  # the free units went first: the reservation holds
    qt = db.session.scalar(select(Location).where(Location.code == "QT-01"))
    assert db.session.scalar(select(Quant.on_hand).where(Quant.location_id == qt.id)) == 3
    assert ps.pick_state(op).line.id == line.id  # the line can still be picked
    too_many = ps.report_exception(op, "damaged", ctx(world), quantity=on_hand, line_id=line.id)
    assert too_many.refused
    ledger_matches_quants()


def test_the_sas_drop_needs_every_line_closed_and_a_sas_location(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    assert ps.drop_at_sas(op, "SAS-01", ctx(world)).refused
    while (st := ps.pick_state(op)).line is not None:
        pick_line(world, op, st.line)
    lane = op.lines[0].location.code
    refused = ps.drop_at_sas(op, lane, ctx(world))
    assert refused.refused and "not a sas drop point" in refused.message and op.status == PickOrderStatus.PICKING
    assert ps.drop_at_sas(op, "SAS-01", ctx(world)).outcome == ScanOutcome.APPLIED


def test_a_scan_for_a_line_already_done_is_refused_as_a_conflict(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    first = ps.pick_state(op).line
    pick_line(world, op, first)
    late = ps.scan_location(op, first.location.code, ctx(world), line_id=first.id)
    assert late.refused and "already done" in late.message
    assert db.session.get(ScanEvent, late.event.id).data["conflict"] == "line_done"


def test_stock_taken_meanwhile_is_refused_with_the_reason(world) -> None:  # type: ignore[no-untyped-def]
    op = take(world)
    line = ps.pick_state(op).line
    c = ctx(world)
    for r in (ps.scan_location(op, line.location.code, c), ps.scan_item(op, ean_for(line.product), c),
              ps.scan_tote(op, line.tote, c)):
        assert not r.refused
    reservation = db.session.get(Reservation, line.reservation_id)
    reservation.quantity = 1  # a supervisor gave a unit away meanwhile
    db.session.get(Quant, reservation.quant_id).reserved -= line.quantity - 1
    db.session.flush()
    result = ps.confirm_quantity(op, line.quantity, c)
    assert result.refused and "taken meanwhile" in result.message and line.picked_quantity == 0


# --- replenishment from the replenish face --------------------------------------------------------------------------


def replenish_task(world: PickWorld) -> Task:
    reserve = layout.add_floor_location(layout.add_zone(world.site.warehouse, "RS", ZoneKind.RESERVE), "RS-01")
    lane = world.ops()[0].lines[0].location
    product = world.ops()[0].lines[0].product
    adjust_stock(product, reserve, 20, reason=StockReason.RECEIPT)
    task = create_task(lane, TaskKind.REPLENISH, product_id=product.id, quantity=6)
    task.source_location_id = reserve.id
    db.session.flush()
    return task


def test_a_receiver_must_scan_the_lane_from_the_replenish_face(world) -> None:  # type: ignore[no-untyped-def]
    task = replenish_task(world)
    lane = db.session.get(Location, task.location_id)
    c = ScanContext(user=world.receiver, device_id="dev-r")
    assert [t.id for t in rs.my_tasks(world.receiver)] == [task.id]
    assert rs.scan_task(task, "lane", c, code=replenish_face_code(lane.code)).outcome == ScanOutcome.REFUSED
    assert rs.scan_task(task, "source", c, code="RS-01").outcome == ScanOutcome.ACCEPTED
    refused = rs.scan_task(task, "lane", c, code=lane.code)
    assert refused.outcome == ScanOutcome.REFUSED and "pick-face label" in refused.message
    assert rs.task_step(task) == "lane"
    assert rs.scan_task(task, "lane", c, code=replenish_face_code(lane.code)).outcome == ScanOutcome.ACCEPTED
    before = db.session.scalar(select(Quant.on_hand).where(Quant.location_id == lane.id,
                                                           Quant.product_id == task.product_id))
    done = rs.scan_task(task, "quantity", c, quantity=6)
    assert done.outcome == ScanOutcome.APPLIED and task.status == TaskStatus.DONE and done.step == "done"
    assert db.session.scalar(select(Quant.on_hand).where(Quant.location_id == lane.id,
                                                         Quant.product_id == task.product_id)) == before + 6
    ledger_matches_quants()


# --- the JSON calls --------------------------------------------------------------------------------------------------


class Device:
    """A handheld talking to /hh/api with its idempotency keys."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key or str(uuid.uuid4()), "X-Device-Id": "dev-api"}
        return self.client.post("/hh/api" + path, json=body, headers=headers)


@pytest.fixture
def device(app, client, world, sign_in) -> Device:  # type: ignore[no-untyped-def]
    sign_in(client, world.picker)
    return Device(client)


def test_the_api_drives_a_full_pick_and_returns_the_sheet(app, device, world) -> None:  # type: ignore[no-untyped-def]
    zones = device.client.get("/hh/api/pick/zones").json
    assert {z["code"] for z in zones["zones"]} == {"A", "B"} and zones["current"] is None
    taken = device.post("/pick/take", {"zone_id": world.site.zones["A"].id})
    assert taken.status_code == 200 and taken.json["outcome"] == "accepted"
    sheet = taken.json["sheet"]
    op_id = sheet["op"]["id"]
    assert sheet["state"] == {"step": "location", "line_id": sheet["lines"][0]["id"], "done_lines": 0,
                              "total_lines": len(sheet["lines"])}
    for line in sheet["lines"]:
        assert len(line["barcodes"]) == 1 and len(line["barcodes"][0]) == 14
        for body in ({"step": "location", "code": line["location"]}, {"step": "item", "code": line["barcodes"][0][1:]},
                     {"step": "tote", "code": line["tote"]}, {"step": "quantity", "quantity": line["quantity"]}):
            r = device.post(f"/pick/{op_id}/scan", {**body, "line_id": line["id"]})
            assert r.status_code == 200 and r.json["outcome"] in ("accepted", "applied"), r.json
    done = device.post(f"/pick/{op_id}/scan", {"step": "drop", "code": "SAS-01"})
    assert done.json["outcome"] == "applied" and done.json["state"]["step"] == "done"
    assert device.client.get("/hh/api/pick/current").json == {"sheet": None}
    with app.app_context():
        assert db.session.get(PickOrder, op_id).status == PickOrderStatus.DONE
        events = db.session.scalars(select(ScanEvent).where(ScanEvent.pick_order_id == op_id)).all()
        assert {e.device_id for e in events} == {"dev-api"} and all(e.idempotency_key for e in events)
        ledger_matches_quants()


def test_a_replayed_scan_is_applied_once_and_answered_the_same(app, device, world) -> None:  # type: ignore[no-untyped-def]
    sheet = device.post("/pick/take", {"zone_id": world.site.zones["A"].id}).json["sheet"]
    op_id, line = sheet["op"]["id"], sheet["lines"][0]
    for body in ({"step": "location", "code": line["location"]}, {"step": "item", "code": line["barcodes"][0]},
                 {"step": "tote", "code": line["tote"]}):
        device.post(f"/pick/{op_id}/scan", {**body, "line_id": line["id"]})
    body = {"step": "quantity", "quantity": 1, "line_id": line["id"]}
    first = device.post(f"/pick/{op_id}/scan", body, key="k-qty-1")
    replay = device.post(f"/pick/{op_id}/scan", body, key="k-qty-1")
    assert first.json == replay.json and replay.headers["Idempotent-Replayed"] == "true"
    reused = device.post(f"/pick/{op_id}/scan", {**body, "quantity": 2}, key="k-qty-1")
    assert reused.status_code == 409
    with app.app_context():
        assert db.session.get(PickOrderLine, line["id"]).picked_quantity == 1
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.reason == StockReason.PICK)) == 1
        assert db.session.scalar(select(func.count()).select_from(ScanEvent).where(
            ScanEvent.idempotency_key == "k-qty-1")) == 1


def test_a_refused_scan_is_answered_200_refused_and_kept_in_the_audit_trail(app, device, world) -> None:  # type: ignore[no-untyped-def]
    sheet = device.post("/pick/take", {"zone_id": world.site.zones["A"].id}).json["sheet"]
    r = device.post(f"/pick/{sheet['op']['id']}/scan", {"step": "location", "code": "R:" + sheet["lines"][0]["location"]})
    assert r.status_code == 200 and r.json["outcome"] == "refused" and "replenish-face" in r.json["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScanEvent).where(
            ScanEvent.outcome == ScanOutcome.REFUSED)) == 1


@pytest.mark.parametrize(("path", "body", "headers", "status"), [
    ("/pick/take", {"zone_id": 1}, {}, 428),
    ("/pick/take", {"zone_id": "A"}, {"Idempotency-Key": "x1"}, 422),
    ("/pick/take", {"zone_id": 1, "extra": 1}, {"Idempotency-Key": "x2"}, 422),
    ("/pick/take", {"zone_id": 999999}, {"Idempotency-Key": "x3"}, 404),
    ("/pick/999999/scan", {"step": "location", "code": "A"}, {"Idempotency-Key": "x4"}, 404),
    ("/pick/1/scan", {"step": "fly", "code": "A"}, {"Idempotency-Key": "x5"}, 422),
    ("/pick/1/scan", {"step": "location", "code": "A\u0000"}, {"Idempotency-Key": "x6"}, 422),
])
def test_bad_handheld_calls_get_a_problem_and_change_nothing(app, device, path, body, headers, status) -> None:  # type: ignore[no-untyped-def]
    r = device.client.post("/hh/api" + path, json=body, headers=headers)
    assert r.status_code == status and r.mimetype == "application/problem+json", r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 0


def test_a_receiver_cannot_pick_and_a_stranger_must_sign_in(app, client, world, sign_in) -> None:  # type: ignore[no-untyped-def]
    stranger = app.test_client()
    r = stranger.post("/hh/api/pick/take", json={"zone_id": 1}, headers={"Idempotency-Key": "a"})
    assert r.status_code == 401
    g.pop("_login_user", None)  # the test's app context outlives the request: forget its anonymous user
    sign_in(client, world.receiver)
    r = client.post("/hh/api/pick/take", json={"zone_id": 1}, headers={"Idempotency-Key": "b"})
    assert r.status_code == 403, r.get_data(as_text=True)
    assert client.get("/hh/api/tasks").status_code == 200


def test_the_handheld_calls_need_the_csrf_token_of_the_session(database_url, world) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app
    from tests.factories import sign_in_client

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    sign_in_client(app, client, world.picker)
    body = {"zone_id": world.site.zones["A"].id}
    refused = client.post("/hh/api/pick/take", json=body, headers={"Idempotency-Key": "c1", "Accept": "application/json"})
    assert refused.status_code == 403 and "csrf" in refused.json["type"]
    token = client.get("/hh/api/session").json["csrf_token"]
    ok = client.post("/hh/api/pick/take", json=body, headers={"Idempotency-Key": "c2", "X-CSRFToken": token})
    assert ok.status_code == 200 and ok.json["sheet"] is not None
    db.engine(app).dispose()


def test_the_pages_render_in_french_with_the_pwa_manifest_and_service_worker(app, device, world) -> None:  # type: ignore[no-untyped-def]
    device.client.post("/auth/language", data={"locale": "fr", "next": "/hh/"})
    home = device.client.get("/hh/").get_data(as_text=True)
    assert "Zone A" in home and "Préparation" in home and 'rel="manifest"' in home
    pick = device.client.get("/hh/pick").get_data(as_text=True)
    assert 'id="scan"' in pick and 'id="camera-button"' in pick and "zxing" in pick
    manifest = device.client.get("/hh/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json" and manifest.json["start_url"] == "/hh/"
    sw = device.client.get("/hh/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.mimetype and "/hh/static/js/pick.js" in sw.get_data(as_text=True)
    for path in ("/hh/static/js/pick.js", "/hh/static/vendor/zxing/LICENSE", "/hh/static/hh.css"):
        with device.client.get(path) as r:
            assert r.status_code == 200, path


def _ready_for_quantity(app, client, world, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, world.picker)
    device = Device(client)
    sheet = device.post("/pick/take", {"zone_id": world.site.zones["A"].id}).json["sheet"]
    op_id, line = sheet["op"]["id"], sheet["lines"][0]
    for body in ({"step": "location", "code": line["location"]}, {"step": "item", "code": line["barcodes"][0]},
                 {"step": "tote", "code": line["tote"]}):
        assert device.post(f"/pick/{op_id}/scan", {**body, "line_id": line["id"]}).json["outcome"] == "accepted"
    return op_id, line


def _at_once(app, world, sign_in, calls):  # type: ignore[no-untyped-def]
    """Each call (path, body, key) from its own signed-in client, released together."""
    clients = [app.test_client() for _ in calls]
    for c in clients:
        sign_in(c, world.picker)
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        path, body, key = calls[i]
        barrier.wait()
        r = clients[i].post("/hh/api" + path, json=body, headers={"Idempotency-Key": key})
        answers[i] = (r.status_code, r.json)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def test_the_same_scan_sent_twice_at_once_is_applied_once(app, client, world, sign_in) -> None:  # type: ignore[no-untyped-def]
    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    g.pop("_login_user", None)
    body = {"step": "quantity", "quantity": line["quantity"], "line_id": line["id"]}
    answers = _at_once(app, world, sign_in, [(f"/pick/{op_id}/scan", body, "same-key")] * 2)
    assert [a[0] for a in answers] == [200, 200] and answers[0][1] == answers[1][1]
    assert answers[0][1]["outcome"] == "applied"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.reason == StockReason.PICK)) == 1
        assert db.session.get(PickOrderLine, line["id"]).picked_quantity == line["quantity"]


def test_two_devices_confirming_the_same_line_at_once_pick_it_once(app, client, world, sign_in) -> None:  # type: ignore[no-untyped-def]
    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    g.pop("_login_user", None)
    body = {"step": "quantity", "quantity": line["quantity"], "line_id": line["id"]}
    answers = _at_once(app, world, sign_in, [(f"/pick/{op_id}/scan", body, "key-a"), (f"/pick/{op_id}/scan", body,
                                                                                          "key-b")])
    outcomes = sorted(a[1]["outcome"] for a in answers)
    assert outcomes == ["applied", "refused"]
    refused = next(a[1] for a in answers if a[1]["outcome"] == "refused")
    assert "already done" in refused["message"]
    with app.app_context():
        picks = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.PICK)).all()
        assert [-e.delta_on_hand for e in picks] == [line["quantity"]]
        ledger_matches_quants()


def test_a_confirm_that_waited_for_the_op_reads_the_lines_as_the_first_left_them(  # type: ignore[no-untyped-def]
        app, client, world, sign_in, database_url) -> None:
    """Two devices confirm a unit of one line at once: the second waits for the OP's lock, then must read the lines
    as the first left them (not as they were when it started waiting), so both units land, each once."""
    import time

    import psycopg

    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    g.pop("_login_user", None)
    with app.app_context():
        first_line = db.session.get(PickOrderLine, line["id"])
        before = quant(first_line)
        quant_id = db.session.scalar(select(Quant.id).where(Quant.product_id == first_line.product_id,
                                                            Quant.location_id == first_line.location_id))
    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        sign_in(c, world.picker)
    answers: dict[str, Any] = {}

    def confirm(c: Any, key: str) -> None:
        r = c.post(f"/hh/api/pick/{op_id}/scan", json={"step": "quantity", "quantity": 1, "line_id": line["id"]},
                   headers={"Idempotency-Key": key})
        answers[key] = (r.status_code, r.json)

    def waiting(n: int) -> None:  # sessions of this database waiting on a row lock
        for _ in range(600):
            with psycopg.connect(database_url, autocommit=True) as watch:
                if watch.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'").fetchone()[0] >= n:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{n} requests never waited on a lock")

    with psycopg.connect(database_url) as blocker:  # holds the lane's quant: the first confirm stops there
        blocker.execute("SELECT id FROM quants WHERE id = %s FOR UPDATE", (quant_id,))
        first = threading.Thread(target=confirm, args=(clients[0], "first"))
        first.start()
        waiting(1)  # the first holds the OP and waits for the quant
        second = threading.Thread(target=confirm, args=(clients[1], "second"))
        second.start()
        waiting(2)  # the second waits for the OP
        blocker.rollback()
    first.join()
    second.join()
    assert answers["first"][0] == 200 and answers["first"][1]["line"]["picked"] == 1, answers
    assert answers["second"][0] == 200 and answers["second"][1]["line"]["picked"] == 2, answers
    with app.app_context():
        assert db.session.get(PickOrderLine, line["id"]).picked_quantity == 2
        assert quant(db.session.get(PickOrderLine, line["id"])) == (before[0] - 2, before[1] - 2)
        ledger_matches_quants()


def test_an_api_confirm_writes_what_the_full_path_writes(app, client, world, sign_in) -> None:  # type: ignore[no-untyped-def]
    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    device = Device(client)
    assert line["quantity"] >= 2, "the world's first line takes at least two units"
    part = device.post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": 1, "line_id": line["id"]}, key="q-1")
    assert part.json["outcome"] == "applied" and part.json["line"] == {"id": line["id"], "picked": 1}
    assert part.json["state"]["step"] == "quantity" and part.json["state"]["line_id"] == line["id"]
    over = device.post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": line["quantity"], "line_id": line["id"]})
    assert over.json["outcome"] == "refused" and "between 1 and" in over.json["message"]
    rest = line["quantity"] - 1
    full = device.post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": rest, "line_id": line["id"]}, key="q-2")
    assert full.json["outcome"] == "applied" and full.json["line"]["picked"] == line["quantity"]
    assert full.json["state"] == device.client.get("/hh/api/pick/current").json["sheet"]["state"]
    assert full.json["state"]["step"] == "location" and full.json["state"]["done_lines"] == 1
    with app.app_context():
        pol = db.session.get(PickOrderLine, line["id"])
        task = db.session.get(Task, pol.task_id)
        assert pol.picked_quantity == line["quantity"] and pol.reservation_id is None
        assert task.status == TaskStatus.DONE and task.done_quantity == line["quantity"] and task.finished_at
        assert db.session.get(OrderLine, pol.order_line_id).picked == line["quantity"]
        picks = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.PICK)
                                   .order_by(LedgerEntry.id)).all()
        assert [(e.delta_on_hand, e.delta_reserved, e.idempotency_key, e.actor_user_id) for e in picks] == [
            (-1, -1, "q-1", world.picker.id), (-rest, -rest, "q-2", world.picker.id)]
        events = db.session.scalars(select(ScanEvent).where(ScanEvent.step == "quantity",
                                                            ScanEvent.outcome == ScanOutcome.APPLIED)
                                    .order_by(ScanEvent.id)).all()
        assert [(e.code, e.data, e.device_id, e.task_id) for e in events] == [
            ("1", {"quantity": 1, "line_id": line["id"]}, "dev-api", pol.task_id),
            (str(rest), {"quantity": rest, "line_id": line["id"]}, "dev-api", pol.task_id)]
        ledger_matches_quants()


def test_an_api_confirm_of_stock_taken_meanwhile_is_refused_and_changes_nothing(app, client, world, sign_in) -> None:  # type: ignore[no-untyped-def]
    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    with app.app_context():
        pol = db.session.get(PickOrderLine, line["id"])
        reservation = db.session.get(Reservation, pol.reservation_id)
        reservation.quantity = 1  # someone's correction left one unit held for this line
        q = db.session.get(Quant, reservation.quant_id)
        q.reserved -= line["quantity"] - 1
        db.session.commit()
        before = quant(pol)
    r = Device(client).post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": line["quantity"],
                                                    "line_id": line["id"]})
    assert r.json["outcome"] == "refused" and "stock was taken meanwhile" in r.json["message"]
    with app.app_context():
        assert quant(db.session.get(PickOrderLine, line["id"])) == before
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.reason == StockReason.PICK)) == 0


class _RoundTrips:
    """Counts what psycopg sends: statements inside and outside pipelines, pipelines (one round trip each)."""

    def __init__(self, monkeypatch) -> None:  # type: ignore[no-untyped-def]
        import contextlib

        import psycopg

        self.inside: list[str] = []
        self.outside: list[str] = []
        self.pipelines = 0
        depth = [0]
        execute, pipeline = psycopg.Cursor.execute, psycopg.Connection.pipeline

        def counted_execute(cur, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            (self.inside if depth[0] else self.outside).append(" ".join(str(query).split())[:120])
            return execute(cur, query, *args, **kwargs)

        @contextlib.contextmanager
        def counted_pipeline(conn):  # type: ignore[no-untyped-def]
            self.pipelines += 1
            depth[0] += 1
            try:
                with pipeline(conn) as p:
                    yield p
            finally:
                depth[0] -= 1

        monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
        monkeypatch.setattr(psycopg.Connection, "pipeline", counted_pipeline)


def test_a_confirm_costs_three_round_trips(app, client, world, sign_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The hot path of a shift: person, idempotency key, the OP's lock, its lines and the line's locks pipelined in
    one round trip; the writes with the stored answer in one statement; then the commit."""
    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    with app.app_context():
        before = quant(db.session.get(PickOrderLine, line["id"]))
    trips = _RoundTrips(monkeypatch)
    key = str(uuid.uuid4())
    r = Device(client).post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": 1, "line_id": line["id"]},
                            key=key)
    monkeypatch.undo()
    assert r.json["outcome"] == "applied" and r.json["line"]["picked"] == 1, r.json
    assert trips.pipelines == 1 and len(trips.inside) == 5, trips.inside
    assert len(trips.outside) == 1 and trips.outside[0].startswith("WITH q AS"), trips.outside
    with app.app_context():
        assert quant(db.session.get(PickOrderLine, line["id"])) == (before[0] - 1, before[1] - 1)
        event = db.session.get(ScanEvent, r.json["event_id"])
        assert event is not None and event.step == "quantity" and event.idempotency_key == key
        ledger_matches_quants()
    # the stored answer is the one given: a replay gets it back byte for byte, and applies nothing
    again = Device(client).post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": 1, "line_id": line["id"]},
                                key=key)
    assert again.data == r.data and again.headers.get("Idempotent-Replayed") == "true"
    with app.app_context():
        assert quant(db.session.get(PickOrderLine, line["id"])) == (before[0] - 1, before[1] - 1)


def test_the_hot_path_answers_in_the_pickers_language(app, client, world, sign_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The person's language comes with them from the pipelined read: no ORM user is loaded for it."""
    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    world.picker.locale = "fr"
    db.session.commit()
    for cached in ("_login_user", "_flask_babel"):  # per-request caches, on the app context the requests share here
        g.pop(cached, None)
    trips = _RoundTrips(monkeypatch)
    r = Device(client).post(f"/pick/{op_id}/scan", {"step": "quantity", "quantity": 1, "line_id": line["id"]})
    monkeypatch.undo()
    assert r.json["outcome"] == "applied" and r.json["message"].endswith("prélevés."), r.json
    assert len(trips.outside) == 1, trips.outside  # the write only: nothing loaded the user the ORM way


@pytest.mark.parametrize("case", ["other_picker", "signed_out_everywhere", "deactivated", "wrong_line",
                                  "not_at_quantity", "too_many", "no_role"])
def test_the_hot_path_leaves_every_other_case_to_the_full_path(app, client, world, sign_in, case) -> None:  # type: ignore[no-untyped-def]
    """Whatever the hot path does not accept, it rolls back (no key row, no lock, no write) and the full path
    answers as it always did."""
    from tests.e2e.handheld_support import person
    from wms.enums import Role
    from wms.idempotency_models import IdempotencyRecord

    op_id, line = _ready_for_quantity(app, client, world, sign_in)
    body: dict[str, Any] = {"step": "quantity", "quantity": 1, "line_id": line["id"]}
    caller = client
    with app.app_context():
        before = quant(db.session.get(PickOrderLine, line["id"]))
    # Through the test's own session (its app context is the one the test client's requests run in).
    if case == "signed_out_everywhere":
        world.picker.session_version += 1
    elif case == "deactivated":
        world.picker.active = False
    elif case in ("other_picker", "no_role"):
        caller = app.test_client()
        if case == "other_picker":
            other = person("picker2", Role.PICKER, world.site.warehouse.id, "BADGE-P2")
            db.session.add(other)
        sign_in(caller, other if case == "other_picker" else world.receiver)
    elif case == "wrong_line":
        body["line_id"] = line["id"] + 1000
    elif case == "too_many":
        body["quantity"] = line["quantity"] + 1
    elif case == "not_at_quantity":  # a lane exception put the line back at the item step
        db.session.add(ScanEvent(warehouse_id=world.site.warehouse.id, user_id=world.picker.id, flow="pick",
                                 step="exception", outcome=ScanOutcome.EXCEPTION, message="test",
                                 pick_order_id=op_id, task_id=db.session.get(PickOrderLine, line["id"]).task_id))
    db.session.commit()
    g.pop("_login_user", None)  # Flask-Login's per-request cache, on the app context the requests share here
    r = Device(caller).post(f"/pick/{op_id}/scan", body)
    expected = {"other_picker": 403, "signed_out_everywhere": 401, "deactivated": 401, "no_role": 403}
    if case in expected:
        assert r.status_code == expected[case], r.json
    else:
        assert r.status_code == 200 and r.json["outcome"] == "refused", r.json
    with app.app_context():
        assert quant(db.session.get(PickOrderLine, line["id"])) == before
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.reason == StockReason.PICK)) == 0
        # a refusal keeps its key (the full path stores the refusal), a 4xx keeps none
        keys = db.session.scalar(select(func.count()).select_from(IdempotencyRecord))
        assert keys == (0 if case in expected else 1) + 4  # the take and the three scans before the quantity
