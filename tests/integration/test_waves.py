"""Waves: plan into pick orders per zone with slots, replan, release (tasks + print jobs at once), cancel, API."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from tests.wave_data import NOW, add_order, build_site
from wms.auth.tokens import issue_token
from wms.db import Base, db
from wms.enums import Face, TaskKind, TaskStatus, TokenPurpose
from wms.layout.models import LocationFace, Resource
from wms.printing.models import JobState, PrintJob
from wms.tasks.models import Task
from wms.waves import services, slots
from wms.waves.models import PickOrder, PickOrderStatus, SlotKind, TimeSlot, Wave, WaveOrder, WaveStatus
from wms.waves.params import WaveParams


def _token(all_warehouses: bool = True, warehouses: tuple = ()) -> str:  # type: ignore[type-arg]
    from wms.auth.services import create_user

    user = create_user(f"sup-{uuid.uuid4().hex[:8]}", roles=["supervisor"], password="correct horse battery staple",
                       all_warehouses=all_warehouses, warehouses=warehouses)
    return issue_token(name="sup", purpose=TokenPurpose.USER, user=user)[1]


def _h(token: str, key: bool = True) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def _slots(wave: Wave) -> list[TimeSlot]:
    return list(db.session.scalars(select(TimeSlot).where(TimeSlot.wave_id == wave.id).order_by(TimeSlot.starts_at)))


def _no_overlap(slot_list: list[TimeSlot]) -> bool:
    by_res: dict[int, list[TimeSlot]] = {}
    for s in slot_list:
        by_res.setdefault(s.resource_id, []).append(s)
    return all(a.ends_at <= b.starts_at for ss in by_res.values()
               for a, b in zip(sorted(ss, key=lambda s: s.starts_at), sorted(ss, key=lambda s: s.starts_at)[1:],
                               strict=False))


def _pick_aisle_resource(location_id: int) -> int:
    """The resource of the pick aisle a lane is picked from."""
    face = db.session.get(LocationFace, (location_id, Face.PICK))
    return db.session.scalar(select(Resource.id).where(Resource.aisle_id == face.aisle_id))


@pytest.fixture
def site(app, session):  # type: ignore[no-untyped-def]
    return build_site()


def test_a_planned_wave_has_one_pick_order_per_batch_and_zone_with_lines_in_route_order_and_a_slot(site) -> None:  # type: ignore[no-untyped-def]
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    assert wave.status == WaveStatus.PLANNED and wave.code == f"W-{wave.id:05d}"
    ops = wave.pick_orders
    assert {db.session.get(Resource, s.resource_id).code for s in _slots(wave)} <= {"A/P1", "A/P3", "B/P1", "B/P3"}
    assert sum(len(op.lines) for op in ops) == 12  # six orders, one line in each zone
    assert {(op.zone_id, op.batch_no) for op in ops} == {(op.zone_id, op.batch_no) for op in ops}
    assert len({(op.zone_id, op.batch_no) for op in ops}) == len(ops)
    for op in ops:
        assert op.code.startswith(f"OP-{wave.id}-") and op.route_length_m > 0 and op.estimated_seconds > 0
        assert [ln.seq for ln in op.lines] == list(range(len(op.lines)))
        assert all(ln.location.zone_id == op.zone_id and ln.tote for ln in op.lines)
        # one pick slot on every pick aisle the OP's lanes are on, all for the OP's whole time
        own = [s for s in _slots(wave) if s.pick_order_id == op.id]
        assert {s.resource_id for s in own} == {_pick_aisle_resource(ln.location_id) for ln in op.lines}
        assert len(own) == len({s.resource_id for s in own}) and len({(s.starts_at, s.ends_at) for s in own}) == 1
        slot = own[0]
        assert slot.kind == SlotKind.PICK and slot.label == op.code and slot.starts_at >= NOW
        assert slot.ends_at - slot.starts_at >= dt.timedelta(seconds=op.estimated_seconds - 1)
    assert _no_overlap(_slots(wave))
    assert all(wo.batch_no is not None for wo in wave.orders)
    summary = wave.summary
    assert summary["orders"] == 6 and summary["lines"] == 12 and summary["pick_orders"] == len(ops)
    assert summary["distance_m"] > 0 and summary["baseline_distance_m"] >= summary["distance_m"] - 1e-6


def test_lines_of_a_pick_order_follow_the_walk_from_the_zone_head(site) -> None:  # type: ignore[no-untyped-def]
    """One pick aisle's lanes on the way in are picked nearest the head first (a single-aisle walk is out and back,
    so the first stops of the route are in the first aisle, ordered by position)."""
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW,
                                    params=WaveParams(cart_orders=12, cart_items=100))
    for op in wave.pick_orders:
        places = [(ln.location.aisle_index, ln.location.position_m) for ln in op.lines]
        first_aisle = [p for p in places if p[0] == places[0][0]]
        run = places[:len(first_aisle)]
        assert run == sorted(run, key=lambda p: p[1]) or run == sorted(run, key=lambda p: -p[1])


def test_replanning_replaces_the_pick_orders_and_their_slots(site) -> None:  # type: ignore[no-untyped-def]
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    old_ids = {op.id for op in wave.pick_orders}
    services.plan_wave(wave, WaveParams(cart_orders=2))
    db.session.expire_all()
    new_ops = list(db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave.id)))
    assert not old_ids & {op.id for op in new_ops}
    batches = [wo.batch_no for wo in wave.orders]
    assert max(batches.count(b) for b in batches) <= 2  # a cart takes two totes now
    assert len(new_ops) == 2 * len(set(batches)) >= 6  # every cart picks in both zones
    assert {s.pick_order_id for s in _slots(wave)} == {op.id for op in new_ops} and _no_overlap(_slots(wave))
    assert db.session.scalar(select(func.count()).select_from(PickOrder)) == len(new_ops)


def test_the_plan_avoids_replenishment_and_other_bookings_on_the_zones_aisles(site) -> None:  # type: ignore[no-untyped-def]
    wh = site.warehouse
    slots.book_slot(slots.get_resource(wh, "A/R2"), NOW, NOW + dt.timedelta(hours=2), SlotKind.REPLENISH, "refill")
    slots.book_slot(slots.get_resource(wh, "A/P3"), NOW + dt.timedelta(hours=2), NOW + dt.timedelta(hours=3),
                    SlotKind.OTHER, "cleaning")
    wave = services.create_and_plan(wh, site.orders, starts_at=NOW)
    zone_a = site.zones["A"].id
    a_slots = [s for s in _slots(wave) if db.session.get(PickOrder, s.pick_order_id).zone_id == zone_a]
    assert a_slots and min(s.starts_at for s in a_slots) >= NOW + dt.timedelta(hours=3)
    b_slots = [s for s in _slots(wave) if s not in a_slots]
    assert min(s.starts_at for s in b_slots) == NOW


def test_an_order_already_in_an_active_wave_is_refused_until_that_wave_is_cancelled(site) -> None:  # type: ignore[no-untyped-def]
    first = services.create_and_plan(site.warehouse, site.orders[:3], starts_at=NOW)
    with pytest.raises(services.OrderInAnotherWave) as err:
        services.orders_by_ids(site.warehouse, [site.orders[2].id, site.orders[3].id])
    assert first.code in err.value.detail and "web-2" in err.value.detail
    eligible = services.eligible_orders(site.warehouse, services.OrderFilters())
    assert {o.external_id for o in eligible} == {"web-3", "web-4", "web-5"}
    # Even past the check, the partial unique index refuses a second active wave for the order.
    with pytest.raises(services.OrderInAnotherWave):
        services.create_wave(site.warehouse, [site.orders[2]])
    services.cancel_wave(first)
    again = services.create_and_plan(site.warehouse, site.orders[2:4], starts_at=NOW)
    assert again.status == WaveStatus.PLANNED


def test_a_cutoff_the_plan_cannot_meet_is_explained(site) -> None:  # type: ignore[no-untyped-def]
    late = add_order(site, "urgent", [(site.orders[0].lines[0].product.sku, 1)], priority=5,
                     cutoff=NOW + dt.timedelta(seconds=30))
    wave = services.create_and_plan(site.warehouse, [late], starts_at=NOW)
    issues = wave.summary["issues"]
    assert any(i["kind"] == "cutoff" and i["order"] == "urgent" for i in issues), issues


def test_release_creates_pick_tasks_and_one_print_job_per_op_in_one_transaction(app, client, site) -> None:  # type: ignore[no-untyped-def]
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    token = _token()
    db.session.commit()
    r = client.post(f"/api/v1/waves/{wave.id}/release", headers=_h(token))
    assert r.status_code == 200, r.json
    assert r.json["status"] == "released"
    db.session.expire_all()
    ops = list(db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave.id)))
    lines = [ln for op in ops for ln in op.lines]
    tasks = {t.id: t for t in db.session.scalars(select(Task))}
    assert len(tasks) == len(lines) == 12
    for ln in lines:
        task = tasks[ln.task_id]
        pick_face = db.session.get(LocationFace, (ln.location_id, Face.PICK))
        assert (task.kind, task.face, task.status) == (TaskKind.PICK, Face.PICK, TaskStatus.OPEN)
        assert (task.location_id, task.aisle_id, task.quantity, task.assignee_id) == \
            (ln.location_id, pick_face.aisle_id, ln.quantity, None)
    jobs = list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))
    assert len(jobs) == len(ops)
    for op in ops:
        (job,) = [j for j in jobs if j.pick_order_id == op.id]
        assert job.idempotency_key == f"wave-{wave.id}-op-{op.id}" and job.state == JobState.QUEUED
        assert job.printer.zone_id == op.zone_id and job.content_type == "application/vnd.zebra.zpl"
        assert job.payload.startswith(b"^XA") and op.code.encode() in job.payload
        assert op.status == PickOrderStatus.RELEASED
    # A second release is an illegal transition.
    again = client.post(f"/api/v1/waves/{wave.id}/release", headers=_h(token))
    assert again.status_code == 409 and again.json["type"].endswith("/wave-state")


def test_release_sends_a_pdf_of_the_op_to_a_document_printer_at_the_zone_head(app, site) -> None:  # type: ignore[no-untyped-def]
    from wms.enums import PrinterLanguage
    from wms.printing.models import Printer

    # the printer at the head of the last zone becomes an office printer reached through CUPS
    zone_b_printer = db.session.scalar(select(Printer).where(Printer.zone_id.is_not(None))
                                       .order_by(Printer.code.desc()).limit(1))
    zone_b_printer.language = PrinterLanguage.PDF
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    services.release_wave(wave, None)
    db.session.flush()
    jobs = list(db.session.scalars(select(PrintJob).where(PrintJob.wave_id == wave.id)))
    by_printer = {j.printer_id: j for j in jobs}
    pdf_job = by_printer[zone_b_printer.id]
    assert pdf_job.content_type == "application/pdf" and pdf_job.payload.startswith(b"%PDF")
    others = [j for j in jobs if j.printer_id != zone_b_printer.id]
    assert others and all(j.content_type == "application/vnd.zebra.zpl" for j in others)


def test_release_without_a_printer_in_one_zone_is_refused_and_writes_nothing(app, client) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        site = build_site(printers=("A",))
        wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
        wave_id = wave.id
        token = _token()
        db.session.commit()
        before = _counts()
    r = client.post(f"/api/v1/waves/{wave_id}/release", headers=_h(token))
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert r.json["type"].endswith("/no-printer") and "zone B" in r.json["detail"]
    with app.app_context():
        after = _counts()
        assert after["tasks"] == 0 and after["print_jobs"] == 0
        assert after == before
        assert db.session.get(Wave, wave_id).status == WaveStatus.PLANNED


def test_cancel_frees_slots_and_orders_and_cancels_open_tasks_and_queued_jobs(app, client, site) -> None:  # type: ignore[no-untyped-def]
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    services.release_wave(wave, None)
    token = _token()
    db.session.commit()
    r = client.post(f"/api/v1/waves/{wave.id}/cancel", headers=_h(token))
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    db.session.expire_all()
    assert _slots(wave) == []
    assert {t.status for t in db.session.scalars(select(Task))} == {TaskStatus.CANCELLED}
    assert {j.state for j in db.session.scalars(select(PrintJob))} == {JobState.CANCELLED}
    assert not any(wo.active for wo in db.session.scalars(select(WaveOrder)))
    assert len(services.eligible_orders(site.warehouse, services.OrderFilters())) == 6
    r = client.post(f"/api/v1/waves/{wave.id}/cancel", headers=_h(token))
    assert r.status_code == 409


def test_a_wave_being_picked_cannot_be_cancelled(site) -> None:  # type: ignore[no-untyped-def]
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    services.release_wave(wave, None)
    wave.pick_orders[0].lines[0].picked_quantity = 1
    with pytest.raises(services.WaveStateConflict):
        services.cancel_wave(wave)
    services.mark_picking(wave)
    with pytest.raises(services.WaveStateConflict):
        services.plan_wave(wave)
    services.mark_done(wave)
    assert wave.status == WaveStatus.DONE and not any(wo.active for wo in wave.orders)


def test_the_api_creates_a_wave_from_filters_and_reads_its_plan(app, client, site) -> None:  # type: ignore[no-untyped-def]
    token = _token()
    db.session.commit()
    r = client.post("/api/v1/warehouses/WH/waves", headers=_h(token), json={
        "filters": {"carrier": "DHL"}, "starts_at": NOW.isoformat(), "params": {"cart_orders": 2}})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["status"] == "planned" and {o["external_id"] for o in body["order_list"]} == {"web-1", "web-3",
                                                                                               "web-5"}
    assert body["params"]["cart_orders"] == 2 and body["figures"]["pick_orders"] == len(body["pick_order_list"])
    op = body["pick_order_list"][0]
    assert op["slot"]["kind"] == "pick" and op["slot"]["pick_order"] == op["code"] and op["lines"]
    read = client.get(f"/api/v1/waves/{body['id']}", headers=_h(token, key=False))
    assert read.status_code == 200 and read.json["pick_order_list"] == body["pick_order_list"]
    listed = client.get("/api/v1/warehouses/WH/waves?status=planned", headers=_h(token, key=False))
    assert [w["code"] for w in listed.json] == [body["code"]]
    explicit = client.post("/api/v1/warehouses/WH/waves", headers=_h(token), json={
        "orders": [{"channel": "WH-SHOP", "external_id": "web-0"}], "plan": False})
    assert explicit.status_code == 201 and explicit.json["status"] == "draft"
    replan = client.post(f"/api/v1/waves/{explicit.json['id']}/plan", headers=_h(token),
                         json={"starts_at": NOW.isoformat(), "params": {"method": "fcfs"}})
    assert replan.status_code == 200 and replan.json["status"] == "planned"
    assert replan.json["params"]["method"] == "fcfs"
    taken = client.post("/api/v1/warehouses/WH/waves", headers=_h(token), json={
        "orders": [{"channel": "WH-SHOP", "external_id": "web-0"}]})
    assert taken.status_code == 409 and explicit.json["code"] in taken.json["detail"]


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/v1/warehouses/WH/waves", {"orders": [{"channel": "WH-SHOP", "external_id": "web-0"}],
                                     "filters": {"carrier": "DHL"}}, 422),
    ("/api/v1/warehouses/WH/waves", {"orders": [{"channel": "WH-SHOP", "external_id": "nope"}]}, 404),
    ("/api/v1/warehouses/WH/waves", {"orders": []}, 422),
    ("/api/v1/warehouses/WH/waves", {"filters": {"carrier": "NOBODY"}}, 422),
    ("/api/v1/warehouses/WH/waves", {"params": {"cart_items": 0}}, 422),
    ("/api/v1/warehouses/WH/waves", {"params": {"method": "magic"}}, 422),
    ("/api/v1/warehouses/WH/waves", {"starts_at": "2026-11-23T10:00:00"}, 422),
    ("/api/v1/warehouses/WH/waves", {"colour": "blue"}, 422),
    ("/api/v1/warehouses/NOWHERE/waves", {}, 404),
    ("/api/v1/waves/999999/release", None, 404),
    ("/api/v1/waves/999999/plan", {}, 404),
])
def test_bad_wave_requests_get_a_problem_and_change_nothing(app, client, site, path, body, status) -> None:  # type: ignore[no-untyped-def]
    token = _token()
    db.session.commit()
    before = _counts()
    r = client.post(path, headers=_h(token), json=body) if body is not None else client.post(path, headers=_h(token))
    assert r.status_code == status, r.json
    assert r.mimetype == "application/problem+json"
    after = _counts()
    assert after == before


def test_a_supervisor_of_another_warehouse_cannot_see_or_touch_the_wave(app, client, site) -> None:  # type: ignore[no-untyped-def]
    from wms.layout import services as layout

    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    other = layout.create_warehouse("OTHER", "Other")
    token = _token(all_warehouses=False, warehouses=(other,))
    db.session.commit()
    assert client.get(f"/api/v1/waves/{wave.id}", headers=_h(token, key=False)).status_code == 404
    assert client.post(f"/api/v1/waves/{wave.id}/cancel", headers=_h(token)).status_code == 404
    assert client.get("/api/v1/warehouses/WH/waves", headers=_h(token, key=False)).status_code == 403


def test_a_second_wave_is_planned_around_the_first_on_the_same_aisles(site) -> None:  # type: ignore[no-untyped-def]
    first = services.create_and_plan(site.warehouse, site.orders[:3], starts_at=NOW)
    second = services.create_and_plan(site.warehouse, site.orders[3:], starts_at=NOW)
    assert _slots(first) and _slots(second)
    assert _no_overlap(_slots(first) + _slots(second))


def test_an_order_planned_in_an_active_wave_cannot_be_cancelled_until_the_wave_lets_go(app, site) -> None:  # type: ignore[no-untyped-def]
    from wms.orders.services import OrderNotCancellable, cancel_order

    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    order = site.orders[0]
    with pytest.raises(OrderNotCancellable) as refused:
        cancel_order(order)
    assert wave.code in refused.value.detail
    assert order.status != "cancelled"
    services.cancel_wave(wave, None)
    assert cancel_order(order).status == "cancelled"
