"""Time slots never overlap on one resource: the service names the clash, the database is the guarantee."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from sqlalchemy import func, select

from tests.conftest import _truncate_all, make_test_app
from wms.auth.tokens import issue_token
from wms.db import db
from wms.dbcli import alembic_config
from wms.enums import Face, ResourceKind, TokenPurpose, ZoneKind
from wms.errors import LaneOnWrongFace, SlotClash, ValidationFailed
from wms.layout import services as layout
from wms.waves import slots
from wms.waves.models import SlotKind, TimeSlot

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _site() -> dict[str, object]:
    """A warehouse with a rack zone (aisles A/R0 replenish, A/P1 pick) and a dock door."""
    wh = layout.create_warehouse("WH", "Warehouse")
    zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=10)
    rep, pick = layout.add_aisle(zone, "R0", Face.REPLENISH, 0), layout.add_aisle(zone, "P1", Face.PICK, 1)
    layout.add_rack(zone, "A01", pick, rep, bays=5, levels=1, bay_width_m=2.0)
    dock = layout.add_zone(wh, "DK", ZoneKind.SHIP_DOCK)
    door = layout.add_resource(dock, "DOOR-1", ResourceKind.DOCK_DOOR, "Dock door 1")
    aisle = slots.get_resource(wh, "A/P1")
    return {"warehouse": wh, "aisle": aisle, "replenish": slots.get_resource(wh, "A/R0"), "door": door}


@pytest.fixture
def site(app, session):  # type: ignore[no-untyped-def]
    return _site()


def _supervisor_token() -> str:
    from wms.auth.services import create_user

    user = create_user(f"sup-{uuid.uuid4().hex[:8]}", roles=["supervisor"], password="correct horse battery staple",
                       all_warehouses=True)
    _token, raw = issue_token(name="sup", purpose=TokenPurpose.USER, user=user)
    return raw


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


def test_back_to_back_slots_on_one_resource_are_allowed(site) -> None:  # type: ignore[no-untyped-def]
    first = slots.book_slot(site["aisle"], _at(0), _at(30), SlotKind.PICK, "OP-1")
    second = slots.book_slot(site["aisle"], _at(30), _at(60), SlotKind.PICK, "OP-2")
    before = slots.book_slot(site["aisle"], _at(-15), _at(0), SlotKind.OTHER, "clean")
    assert {first.id, second.id, before.id} == {s.id for s in slots.slots_between(site["warehouse"], _at(-60),
                                                                                  _at(120))}


def test_an_overlapping_booking_is_refused_naming_the_slot_that_holds_the_time(site) -> None:  # type: ignore[no-untyped-def]
    holder = slots.book_slot(site["aisle"], _at(0), _at(30), SlotKind.OTHER, "cleaning A01")
    with pytest.raises(SlotClash) as err:
        slots.book_slot(site["aisle"], _at(29), _at(45), SlotKind.PICK, "OP-9")
    assert "Aisle A/P1 is booked 10:00–10:30" in err.value.detail and "cleaning A01" in err.value.detail
    assert err.value.extra["clash_slot_id"] == holder.id
    # Another resource at the same time is free.
    slots.book_slot(site["replenish"], _at(0), _at(30), SlotKind.REPLENISH, "refill A01")


def test_an_aisle_is_booked_only_for_the_work_of_its_face(site) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaneOnWrongFace):
        slots.book_slot(site["aisle"], _at(0), _at(30), SlotKind.REPLENISH, "refill from the pick aisle")
    with pytest.raises(LaneOnWrongFace):
        slots.book_slot(site["replenish"], _at(0), _at(30), SlotKind.PICK, "pick from the back")
    slots.book_slot(site["replenish"], _at(0), _at(30), SlotKind.RECEIVE, "put away")


def test_the_database_refuses_an_overlap_the_service_did_not_check(site) -> None:  # type: ignore[no-untyped-def]
    holder = slots.book_slot(site["door"], _at(0), _at(60), SlotKind.DOCK, "truck 1")
    with pytest.raises(SlotClash) as err:
        slots.book_slot(site["door"], _at(10), _at(20), SlotKind.DOCK, "truck 2", check=False)
    assert err.value.extra["constraint"] == "ex_time_slots_no_overlap"
    assert err.value.extra["clash_slot_id"] == holder.id and "truck 1" in err.value.detail
    # The SAVEPOINT kept the transaction usable.
    assert db.session.scalar(select(func.count()).select_from(TimeSlot)) == 1
    slots.book_slot(site["door"], _at(60), _at(70), SlotKind.DOCK, "truck 2")


def test_moving_a_slot_onto_another_is_refused_and_it_stays_where_it_was(site) -> None:  # type: ignore[no-untyped-def]
    a = slots.book_slot(site["aisle"], _at(0), _at(30), SlotKind.PICK, "OP-1")
    b = slots.book_slot(site["aisle"], _at(40), _at(50), SlotKind.PICK, "OP-2")
    with pytest.raises(SlotClash) as err:
        slots.move_slot(b, _at(20), _at(35))
    assert err.value.extra["clash_slot_id"] == a.id
    db.session.refresh(b)
    assert (b.starts_at, b.ends_at) == (_at(40), _at(50))
    slots.move_slot(b, _at(30), _at(60))  # resize onto the end of a: back to back
    assert (b.starts_at, b.ends_at) == (_at(30), _at(60))


@pytest.mark.parametrize(("start", "end", "field"), [
    (dt.datetime(2026, 11, 23, 10, 0), _at(30), "starts_at"),
    (_at(0), dt.datetime(2026, 11, 23, 10, 30), "ends_at"),
    (_at(30), _at(30), "ends_at"),
    (_at(30), _at(0), "ends_at"),
    (_at(0), _at(60 * 24 * 40), "ends_at"),
])
def test_naive_or_empty_ranges_are_refused(site, start, end, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as err:
        slots.book_slot(site["aisle"], start, end, SlotKind.PICK, "x")
    assert err.value.status == 422 and err.value.errors[0]["field"] == field


def test_slots_through_the_api_book_move_list_and_free(app, client, site) -> None:  # type: ignore[no-untyped-def]
    token = _supervisor_token()
    db.session.commit()
    r = client.post("/api/v1/warehouses/WH/slots", headers=_headers(token), json={
        "resource": "DOOR-1", "starts_at": "2026-11-23T10:00:00Z", "ends_at": "2026-11-23T11:00:00+00:00",
        "kind": "dock", "label": "truck DHL"})
    assert r.status_code == 201, r.json
    first = r.json
    assert (first["resource"], first["kind"], first["zone"]) == ("DOOR-1", "dock", "DK")
    r = client.post("/api/v1/warehouses/WH/slots", headers=_headers(token), json={
        "resource": "DOOR-1", "starts_at": "2026-11-23T11:30:00+01:00", "ends_at": "2026-11-23T12:00:00Z",
        "kind": "dock", "label": "truck UPS"})
    assert r.status_code == 409 and r.mimetype == "application/problem+json"
    assert r.json["type"].endswith("/slot-clash") and r.json["clash_slot_id"] == first["id"]
    assert "Dock door DOOR-1 is booked 10:00–11:00" in r.json["detail"] and "truck DHL" in r.json["detail"]
    r = client.post("/api/v1/warehouses/WH/slots", headers=_headers(token), json={
        "resource": "DOOR-1", "starts_at": "2026-11-23T11:00:00Z", "ends_at": "2026-11-23T11:30:00Z",
        "kind": "dock", "label": "truck UPS"})
    assert r.status_code == 201
    second = r.json
    r = client.patch(f"/api/v1/slots/{second['id']}", headers=_headers(token),
                     json={"starts_at": "2026-11-23T10:45:00Z", "ends_at": "2026-11-23T11:30:00Z"})
    assert r.status_code == 409 and r.json["clash_slot_id"] == first["id"]
    r = client.patch(f"/api/v1/slots/{first['id']}", headers=_headers(token),
                     json={"starts_at": "2026-11-23T09:00:00Z", "ends_at": "2026-11-23T10:15:00Z"})
    assert r.status_code == 200 and r.json["ends_at"].startswith("2026-11-23T10:15:00")
    listed = client.get("/api/v1/warehouses/WH/slots?from=2026-11-23T08:00:00Z&to=2026-11-23T12:00:00Z",
                        headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and [s["label"] for s in listed.json] == ["truck DHL", "truck UPS"]
    assert client.delete(f"/api/v1/slots/{first['id']}", headers=_headers(token)).status_code == 204
    assert client.delete(f"/api/v1/slots/{first['id']}", headers=_headers(token)).status_code == 404


@pytest.mark.parametrize(("body", "status"), [
    ({"resource": "DOOR-1", "starts_at": "2026-11-23T10:00:00", "ends_at": "2026-11-23T11:00:00Z",
      "kind": "dock"}, 422),
    ({"resource": "DOOR-1", "starts_at": "2026-11-23T11:00:00Z", "ends_at": "2026-11-23T10:00:00Z",
      "kind": "dock"}, 422),
    ({"resource": "DOOR-1", "starts_at": "0001-01-01T00:00:00+14:00", "ends_at": "2026-11-23T10:00:00Z",
      "kind": "dock"}, 422),
    ({"resource": "DOOR-1", "starts_at": "2026-11-23T10:00:00Z", "ends_at": "2026-11-23T11:00:00Z",
      "kind": "pick"}, 422),
    ({"resource": "NOPE", "starts_at": "2026-11-23T10:00:00Z", "ends_at": "2026-11-23T11:00:00Z",
      "kind": "dock"}, 404),
    ({"resource": "DOOR-1", "starts_at": "2026-11-23T10:00:00Z", "ends_at": "2026-11-23T11:00:00Z",
      "kind": "dock", "colour": "red"}, 422),
])
def test_bad_bookings_are_refused_with_a_problem_and_write_nothing(app, client, site, body, status) -> None:  # type: ignore[no-untyped-def]
    token = _supervisor_token()
    db.session.commit()
    r = client.post("/api/v1/warehouses/WH/slots", headers=_headers(token), json=body)
    assert r.status_code == status and r.mimetype == "application/problem+json"
    assert db.session.scalar(select(func.count()).select_from(TimeSlot)) == 0


def test_a_picker_cannot_book_slots(app, client, site) -> None:  # type: ignore[no-untyped-def]
    from wms.auth.services import create_user

    picker = create_user("pick1", roles=["picker"], password="correct horse battery staple", all_warehouses=True)
    _t, raw = issue_token(name="p", purpose=TokenPurpose.USER, user=picker)
    db.session.commit()
    r = client.post("/api/v1/warehouses/WH/slots", headers=_headers(raw), json={
        "resource": "DOOR-1", "starts_at": "2026-11-23T10:00:00Z", "ends_at": "2026-11-23T11:00:00Z", "kind": "dock"})
    assert r.status_code == 403


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 5})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def test_two_concurrent_overlapping_bookings_exactly_one_wins_on_the_databases_word(busy_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with busy_app.app_context():
        _site()
        # One token each: a shared token's last_used_at row would serialise the two requests before the check.
        tokens = [_supervisor_token(), _supervisor_token()]
        db.session.commit()

    # Both requests pass the application's check before either inserts: only the database can refuse one.
    barrier = threading.Barrier(2, timeout=30)
    real_find = slots.find_clash
    checked = threading.local()

    def find_then_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real_find(*args, **kwargs)
        if not getattr(checked, "done", False):
            checked.done = True
            assert found is None
            barrier.wait()
        return found

    monkeypatch.setattr(slots, "find_clash", find_then_wait)

    def book(token: str, label: str, start: str, end: str):  # type: ignore[no-untyped-def]
        client = busy_app.test_client()
        return client.post("/api/v1/warehouses/WH/slots", headers=_headers(token), json={
            "resource": "A/R0", "starts_at": start, "ends_at": end, "kind": "replenish", "label": label})

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(book, tokens[0], "refill one", "2026-11-23T10:00:00Z", "2026-11-23T10:30:00Z"),
                   pool.submit(book, tokens[1], "refill two", "2026-11-23T10:15:00Z", "2026-11-23T10:45:00Z")]
        responses = [f.result(timeout=60) for f in futures]

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.json for r in responses]
    won = next(r for r in responses if r.status_code == 201).json
    lost = next(r for r in responses if r.status_code == 409)
    assert lost.mimetype == "application/problem+json" and lost.json["type"].endswith("/slot-clash")
    assert lost.json["constraint"] == "ex_time_slots_no_overlap"
    assert lost.json["clash_slot_id"] == won["id"] and won["label"] in lost.json["detail"]
    assert "Aisle A/R0 is booked" in lost.json["detail"]
    with busy_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TimeSlot)) == 1


def test_sqlite_triggers_refuse_overlaps_and_allow_back_to_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/slots.db"
    command.upgrade(alembic_config(url), "head")
    app = make_test_app(url)
    try:
        with app.app_context():
            site = _site()
            holder = slots.book_slot(site["aisle"], _at(0), _at(30), SlotKind.PICK, "OP-1")
            slots.book_slot(site["aisle"], _at(30), _at(60), SlotKind.PICK, "OP-2")
            with pytest.raises(SlotClash) as err:
                slots.book_slot(site["aisle"], _at(10), _at(20), SlotKind.PICK, "OP-3", check=False)
            assert err.value.extra["constraint"] == "ex_time_slots_no_overlap"
            assert err.value.extra["clash_slot_id"] == holder.id
            other = slots.book_slot(site["aisle"], _at(90), _at(100), SlotKind.PICK, "OP-4")
            with pytest.raises(SlotClash):
                slots._flush_guarded(other, other.resource_id, _at(50), _at(100), other.id)
            db.session.refresh(other)
            assert other.starts_at == _at(90)
            db.session.commit()
            assert db.session.scalar(select(func.count()).select_from(TimeSlot)) == 3
    finally:
        db.engine(app).dispose()


def test_booking_many_slots_names_the_clash_and_books_none(site) -> None:  # type: ignore[no-untyped-def]
    holder = slots.book_slot(site["door"], _at(60), _at(90), SlotKind.DOCK, "truck 1")
    resources = {site["aisle"].id: site["aisle"], site["door"].id: site["door"]}

    def new(resource, start, end, label):  # type: ignore[no-untyped-def]
        return TimeSlot(warehouse_id=resource.warehouse_id, resource_id=resource.id, kind=SlotKind.PICK
                        if resource is site["aisle"] else SlotKind.DOCK, starts_at=start, ends_at=end, label=label)

    with pytest.raises(SlotClash) as err:
        slots.book_many([new(site["aisle"], _at(0), _at(30), "OP-1"), new(site["door"], _at(80), _at(100), "OP-2")],
                        resources)
    assert err.value.extra["clash_slot_id"] == holder.id
    with pytest.raises(SlotClash) as err:
        slots.book_many([new(site["aisle"], _at(0), _at(30), "OP-1"), new(site["aisle"], _at(20), _at(40), "OP-2")],
                        resources)
    assert "OP-1 and OP-2 would overlap" in err.value.detail
    assert db.session.scalar(select(func.count()).select_from(TimeSlot)) == 1
    slots.book_many([new(site["aisle"], _at(0), _at(30), "OP-1"), new(site["aisle"], _at(30), _at(40), "OP-2")],
                    resources)
    assert db.session.scalar(select(func.count()).select_from(TimeSlot)) == 3
