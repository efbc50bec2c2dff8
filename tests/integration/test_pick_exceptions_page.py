"""The supervisor's pick-floor pages: exceptions reported by pickers, and pick orders given to one picker."""

from __future__ import annotations

import uuid

import pytest
from flask import g

from tests.e2e.handheld_support import PickWorld, build_world, person
from wms.db import db
from wms.enums import Role, TaskKind
from wms.layout.models import Location
from wms.picking import services as ps
from wms.picking.context import ScanContext
from wms.picking.models import ScanEvent
from wms.tasks.services import create_task
from wms.waves.models import PickOrder, PickOrderStatus


@pytest.fixture
def world(session) -> PickWorld:  # type: ignore[no-untyped-def]
    w = build_world(orders=4, quarantine=True)
    session.commit()
    return w


@pytest.fixture
def boss(world):  # type: ignore[no-untyped-def]
    user = person("sam", Role.SUPERVISOR, world.site.warehouse.id, "B-SAM")
    db.session.commit()
    return user


def ctx(user) -> ScanContext:  # type: ignore[no-untyped-def]
    return ScanContext(user=user, device_id="tc-21", idempotency_key=str(uuid.uuid4()))


def test_reported_exceptions_are_listed_per_wave_and_zone_with_what_resolves_them(app, client, world, boss,
                                                                                   sign_in) -> None:  # type: ignore[no-untyped-def]
    op, _event = ps.take_next_pick_order(world.picker, world.site.zones["A"], ctx(world.picker))
    line = ps.pick_state(op).line
    damaged = ps.report_exception(op, "damaged", ctx(world.picker), quantity=1, line_id=line.id, note="crushed")
    empty = ps.report_exception(op, "empty", ctx(world.picker), line_id=line.id)
    assert not damaged.refused and not empty.refused
    lane = db.session.get(Location, line.location_id)
    task = create_task(lane, TaskKind.REPLENISH, product_id=line.product_id, quantity=5)
    db.session.commit()
    code = world.site.warehouse.code

    sign_in(client, boss)
    page = client.get(f"/warehouses/{code}/pick-exceptions")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'http-equiv="refresh"' in html
    assert f"Wave {world.wave.code} · zone A" in html and op.code in html and "Pia" in html and "tc-21" in html
    assert "empty lane" in html and "damaged" in html and lane.code in html and "crushed" in html
    assert f"Replenishment task {task.id}" in html and "QT-01" in html
    assert "Stock count" in html and "Stock transfer -1" in html  # the lane counted to 0, the damaged unit moved

    done = client.post(f"/warehouses/{code}/pick-exceptions/{empty.event.id}/resolve")
    assert done.status_code == 302
    html = client.get(f"/warehouses/{code}/pick-exceptions").get_data(as_text=True)
    assert f'id="exception-{empty.event.id}"' not in html and f'id="exception-{damaged.event.id}"' in html
    html = client.get(f"/warehouses/{code}/pick-exceptions?all=1").get_data(as_text=True)
    assert f'id="exception-{empty.event.id}"' in html and "dealt with" in html
    with app.app_context():
        event = db.session.get(ScanEvent, empty.event.id)
        assert event.resolved_by_id == boss.id and event.resolved_at is not None
    assert client.post(f"/warehouses/{code}/pick-exceptions/999999/resolve").status_code == 404


def test_the_pages_are_for_supervisors_of_the_warehouse(app, client, world, sign_in) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.picker)
    assert client.get(f"/warehouses/{world.site.warehouse.code}/pick-exceptions").status_code == 403
    assert client.get(f"/warehouses/{world.site.warehouse.code}/pick-assignments").status_code == 403


def test_an_op_given_to_a_picker_is_theirs_only_and_they_take_only_theirs(app, client, world, boss, sign_in) -> None:  # type: ignore[no-untyped-def]
    paul = person("paul", Role.PICKER, world.site.warehouse.id, "B-PAUL")
    db.session.commit()
    ops_a = [op for op in world.ops() if op.zone_id == world.site.zones["A"].id]
    given = ops_a[-1]
    code = world.site.warehouse.code
    sign_in(client, boss)
    page = client.get(f"/warehouses/{code}/pick-assignments").get_data(as_text=True)
    assert given.code in page and "Paul" in page
    r = client.post(f"/warehouses/{code}/pick-orders/{given.id}/assign", data={"picker_id": str(paul.id)})
    assert r.status_code == 302
    refused = client.post(f"/warehouses/{code}/pick-orders/{given.id}/assign",
                          data={"picker_id": str(world.receiver.id)}, follow_redirects=True)
    assert "is not an active picker" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PickOrder, given.id).picker_id == paul.id

    # Paul sees only the zone of what he was given, and the slot times on his home page.
    assert [(z.code, n) for z, n in ps.zones_with_work(paul)] == [("A", 1)]
    assert [a.op.id for a in ps.assigned_pick_orders(paul)] == [given.id]
    g.pop("_login_user", None)
    paul_client = app.test_client()
    sign_in(paul_client, paul)
    home = paul_client.get("/hh/").get_data(as_text=True)
    assert 'id="assigned-ops"' in home and given.code in home and "<time" in home
    op, event = ps.take_next_pick_order(paul, world.site.zones["B"], ctx(paul))
    assert op is None and "other zones" in event.message
    # Pia never gets it, however often she takes from zone A.
    for _ in ops_a:
        op, _event = ps.take_next_pick_order(world.picker, world.site.zones["A"], ctx(world.picker))
        if op is None:
            break
        assert op.id != given.id
        op.status = PickOrderStatus.DONE  # done with it, next
        db.session.flush()
    op, _event = ps.take_next_pick_order(paul, world.site.zones["A"], ctx(paul))
    assert op is not None and op.id == given.id
    db.session.commit()
    sheet = paul_client.get("/hh/api/pick/current").json["sheet"]
    assert sheet["op"]["id"] == given.id and isinstance(sheet["op"]["slots"], list)

    g.pop("_login_user", None)
    again = client.post(f"/warehouses/{code}/pick-orders/{given.id}/assign", data={"picker_id": ""},
                        follow_redirects=True)
    assert "only a released pick order" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PickOrder, given.id).picker_id == paul.id
