"""Supervisor wave pages: choose orders, preview, timeline, move a slot (refused with the reason), release, cancel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from tests.wave_data import NOW, build_site
from wms.db import db
from wms.printing.models import PrintJob
from wms.tasks.models import Task
from wms.waves import services, slots
from wms.waves.models import SlotKind, TimeSlot, Wave, WaveStatus


@pytest.fixture
def signed_in(app, client, session, make_user, sign_in):  # type: ignore[no-untyped-def]
    site = build_site()
    user = make_user("boss", roles=("supervisor",), all_warehouses=True, totp=True)
    db.session.commit()
    sign_in(client, user)
    return site


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def test_a_supervisor_chooses_orders_plans_sees_the_timeline_and_releases(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/warehouses/WH/waves/new?carrier=DHL")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ids = re.findall(r'name="order_id" value="(\d+)"', html)
    assert len(ids) == 3 and "web-1" in html and "web-0" not in html
    r = client.post("/warehouses/WH/waves", data={"order_id": ids, "cart_items": "45", "cart_orders": "12",
                                                  "method": "savings", "starts_at": _local(NOW)})
    assert r.status_code == 302 and "/waves/" in r.headers["Location"]
    wave = db.session.scalar(select(Wave))
    assert wave.status == WaveStatus.PLANNED
    page = client.get(f"/waves/{wave.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html
    for op in wave.pick_orders:
        assert f'data-label="{op.code}"' in html  # the OP's bar on the timeline
        assert f'id="op-{op.code}"' in html
    r = client.post(f"/waves/{wave.id}/release")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == WaveStatus.RELEASED
    assert db.session.scalar(select(func.count()).select_from(PrintJob)) == len(wave.pick_orders)
    listing = client.get("/warehouses/WH/waves").get_data(as_text=True)
    assert wave.code in listing and "released" in listing


def test_moving_a_slot_onto_another_is_refused_with_the_reason_shown(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    wh = signed_in.warehouse
    door = slots.get_resource(wh, "DOOR-1")
    truck = slots.book_slot(door, NOW, NOW + dt.timedelta(hours=1), SlotKind.DOCK, "truck DHL")
    late = slots.book_slot(door, NOW + dt.timedelta(hours=2), NOW + dt.timedelta(hours=3), SlotKind.DOCK, "truck UPS")
    db.session.commit()
    back = f"/warehouses/WH/timeline?from={_local(NOW)}&hours=6"
    r = client.post(f"/slots/{late.id}/move", data={"starts_at": _local(NOW + dt.timedelta(minutes=30)),
                                                     "ends_at": _local(NOW + dt.timedelta(hours=2)), "next": back},
                    follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Dock door DOOR-1 is booked" in html and "truck DHL" in html
    db.session.expire_all()
    assert db.session.get(TimeSlot, late.id).starts_at == NOW + dt.timedelta(hours=2)
    r = client.post(f"/slots/{late.id}/move", data={"starts_at": _local(NOW + dt.timedelta(hours=1)),
                                                     "ends_at": _local(NOW + dt.timedelta(hours=2)), "next": back})
    assert r.status_code == 302 and r.headers["Location"].endswith(back)
    db.session.expire_all()
    assert db.session.get(TimeSlot, late.id).starts_at == NOW + dt.timedelta(hours=1)
    page = client.get(back).get_data(as_text=True)
    assert f'data-slot-id="{truck.id}"' in page and f'data-slot-id="{late.id}"' in page and "Dock door 1" in page


def test_release_refused_without_a_printer_shows_why_and_writes_nothing(app, client, session, make_user,  # type: ignore[no-untyped-def]
                                                                       sign_in) -> None:
    site = build_site(printers=("A",))
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    user = make_user("boss", roles=("supervisor",), all_warehouses=True, totp=True)
    db.session.commit()
    sign_in(client, user)
    r = client.post(f"/waves/{wave.id}/release", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "zone B" in html
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == WaveStatus.PLANNED
    assert db.session.scalar(select(func.count()).select_from(Task)) == 0
    assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 0


def test_cancel_and_bad_form_input_from_the_pages(client, signed_in) -> None:  # type: ignore[no-untyped-def]
    wave = services.create_and_plan(signed_in.warehouse, signed_in.orders, starts_at=NOW)
    db.session.commit()
    r = client.post(f"/waves/{wave.id}/plan", data={"cart_items": "zero"}, follow_redirects=True)
    assert r.status_code == 200 and "must be a number" in r.get_data(as_text=True)
    r = client.post(f"/waves/{wave.id}/plan", data={"cart_items": "0"}, follow_redirects=True)
    assert "between 1 and 10000" in r.get_data(as_text=True)
    r = client.post("/warehouses/WH/waves", data={}, follow_redirects=True)
    assert "Tick at least one order" in r.get_data(as_text=True)
    r = client.post(f"/waves/{wave.id}/cancel", follow_redirects=True)
    assert r.status_code == 200
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == WaveStatus.CANCELLED
    assert client.get("/waves/999999").status_code == 404
    assert client.get("/warehouses/WH/timeline?from=garbage&hours=x").status_code == 200
