"""On PostgreSQL: a pick order whose walk enters pick aisles A/P1 and A/P3 books both, for its whole time, around
other bookings; the exclusion constraint then keeps anyone else out of either; the plan, its API and its page
show every aisle booked; moving one of its slots moves the other (issue 16)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.wave_data import NOW, add_order, build_site
from wms.auth.tokens import issue_token
from wms.db import db
from wms.enums import TokenPurpose
from wms.errors import SlotClash
from wms.layout.models import Resource
from wms.waves import services, slots
from wms.waves.models import PickOrder, SlotKind, TimeSlot
from wms.waves.params import WaveParams

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def site(app, session):  # type: ignore[no-untyped-def]
    """Zone A: lanes WH-A-00..09 on pick aisle P1 (racks A01, A02), WH-A-10..19 on P3 (racks A03, A04)."""
    built = build_site(orders=0)
    built.orders.append(add_order(built, "both", [("WH-A-00", 1), ("WH-A-15", 1)]))  # walks P1 then P3
    # P1 only, and more urgent: it goes first on P1 (a plan keeps the urgency order on every aisle)
    built.orders.append(add_order(built, "west", [("WH-A-01", 1)], priority=1))
    return built


def _slots_by_op(wave_id: int) -> dict[str, list[tuple[str, dt.datetime, dt.datetime]]]:
    db.session.expire_all()
    rows = db.session.execute(select(PickOrder.code, Resource.code, TimeSlot.starts_at, TimeSlot.ends_at)
                              .join(TimeSlot, TimeSlot.pick_order_id == PickOrder.id)
                              .join(Resource, Resource.id == TimeSlot.resource_id)
                              .where(PickOrder.wave_id == wave_id).order_by(Resource.code)).all()
    out: dict[str, list[tuple[str, dt.datetime, dt.datetime]]] = {}
    for op, res, start, end in rows:
        out.setdefault(op, []).append((res, start, end))
    return out


def _op_of(wave, external_id: str) -> PickOrder:  # type: ignore[no-untyped-def]
    return next(op for op in wave.pick_orders if op.lines[0].order_line.order.external_id == external_id)


def test_a_walk_over_two_pick_aisles_books_both_around_a_booking_and_the_database_keeps_others_out(
        app, client, site, make_user, sign_in) -> None:  # type: ignore[no-untyped-def]
    wh = site.warehouse
    slots.book_slot(slots.get_resource(wh, "A/P3"), NOW, NOW + HOUR, SlotKind.OTHER, "cleaning P3")
    wave = services.create_and_plan(wh, site.orders, starts_at=NOW, params=WaveParams(cart_orders=1))
    both, west = _op_of(wave, "both"), _op_of(wave, "west")
    booked = _slots_by_op(wave.id)
    assert [r for r, _s, _e in booked[both.code]] == ["A/P1", "A/P3"]
    assert len({(s, e) for _r, s, e in booked[both.code]}) == 1, "one time on both aisles: the whole OP"
    (_res, start, end), = {(r, s, e) for r, s, e in booked[both.code] if r == "A/P3"}
    assert start >= NOW + HOUR and end - start >= dt.timedelta(seconds=both.estimated_seconds - 1)
    assert [r for r, _s, _e in booked[west.code]] == ["A/P1"]
    (_r, west_start, west_end), = booked[west.code]
    assert west_start == NOW and (west_end <= start or end <= west_start), "P1 is never shared"

    # Nobody else gets A/P3 while the OP is in it: the service says who holds it, and without the service's
    # check PostgreSQL's exclusion constraint refuses all the same.
    p3 = slots.get_resource(wh, "A/P3")
    with pytest.raises(SlotClash) as err:
        slots.book_slot(p3, start + dt.timedelta(minutes=1), end, SlotKind.OTHER, "inventory")
    assert both.code in err.value.detail
    with pytest.raises(SlotClash) as err:
        slots.book_slot(p3, start, start + dt.timedelta(minutes=1), SlotKind.OTHER, "inventory", check=False)
    assert err.value.extra["constraint"] == "ex_time_slots_no_overlap" and both.code in err.value.detail

    # A second wave schedules around the first's booking on A/P3.
    east_order = add_order(site, "east", [("WH-A-16", 1)])
    later = services.create_and_plan(wh, [east_order], starts_at=NOW)
    (east,) = later.pick_orders
    (res, east_start, east_end), = _slots_by_op(later.id)[east.code]
    assert res == "A/P3" and east_start >= NOW + HOUR and (east_end <= start or end <= east_start)

    # The plan shows every aisle booked: the API, the wave page and its timeline (a bar on each aisle's row).
    from wms.auth.services import create_user

    boss = create_user(f"sup-{uuid.uuid4().hex[:8]}", roles=["supervisor"], password="correct horse battery staple",
                       all_warehouses=True)
    token = issue_token(name="sup", purpose=TokenPurpose.USER, user=boss)[1]
    db.session.commit()
    body = client.get(f"/api/v1/waves/{wave.id}", headers={"Authorization": f"Bearer {token}"}).json
    out = next(op for op in body["pick_order_list"] if op["code"] == both.code)
    assert out["aisles"] == ["A/P1", "A/P3"] and [s["resource"] for s in out["slots"]] == ["A/P1", "A/P3"]
    assert out["slot"]["resource"] == "A/P1"
    user = make_user("boss", roles=("supervisor",), all_warehouses=True, totp=True)
    db.session.commit()
    sign_in(client, user)
    html = client.get(f"/waves/{wave.id}").get_data(as_text=True)
    assert "Pick aisles booked: A/P1, A/P3" in html
    for aisle in ("A/P1", "A/P3"):
        assert f'data-label="{both.code}" data-resource="{aisle}"' in html


def test_moving_one_slot_of_a_pick_order_moves_its_other_aisles_with_it_or_none(site) -> None:  # type: ignore[no-untyped-def]
    wh = site.warehouse
    wave = services.create_and_plan(wh, site.orders[:1], starts_at=NOW)
    (op,) = wave.pick_orders
    own = list(db.session.scalars(select(TimeSlot).where(TimeSlot.pick_order_id == op.id).order_by(TimeSlot.id)))
    assert len(own) == 2
    p1_slot = own[0]
    start, end = p1_slot.starts_at, p1_slot.ends_at
    slots.move_slot(p1_slot, start + 2 * HOUR, end + 2 * HOUR + dt.timedelta(minutes=5))
    moved = {r: (s, e) for r, s, e in _slots_by_op(wave.id)[op.code]}
    assert moved == {"A/P1": (start + 2 * HOUR, end + 2 * HOUR + dt.timedelta(minutes=5)),
                     "A/P3": (start + 2 * HOUR, end + 2 * HOUR + dt.timedelta(minutes=5))}
    # A booking on the other aisle refuses the move, naming itself; both slots stay where they were.
    slots.book_slot(slots.get_resource(wh, "A/P3"), start, start + HOUR, SlotKind.OTHER, "cleaning P3")
    p1_slot = db.session.get(TimeSlot, own[0].id)
    with pytest.raises(SlotClash) as err:
        slots.move_slot(p1_slot, start, end)
    assert "cleaning P3" in err.value.detail and "A/P3" in err.value.detail
    assert {r: (s, e) for r, s, e in _slots_by_op(wave.id)[op.code]} == moved
