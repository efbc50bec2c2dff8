"""A receiver replenishes a lane on a 360×640 phone: the reserve location, then the lane — its pick-face label is
refused with the reason, its replenish-face label (R:code) accepted — then the units; the stock moves once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.handheld_support import (
    badge_sign_in,
    build_world,
    live_app,  # noqa: F401  (fixtures)
    live_server,  # noqa: F401
    phone,  # noqa: F401
    shot,
    wait_sent,
    wait_until,
    wedge,
)
from wms.db import db
from wms.enums import StockReason, TaskKind, TaskStatus, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.picking.models import ScanEvent, ScanOutcome
from wms.stock.models import Quant
from wms.stock.services import adjust_stock
from wms.tasks.models import Task
from wms.tasks.services import create_task

pytestmark = pytest.mark.slow


@pytest.fixture
def task(live_app):  # type: ignore[no-untyped-def]  # noqa: F811
    with live_app.app_context():
        world = build_world(orders=1)
        reserve = layout.add_floor_location(layout.add_zone(world.site.warehouse, "RS", ZoneKind.RESERVE), "RS-01")
        line = world.ops()[0].lines[0]
        adjust_stock(line.product, reserve, 30, reason=StockReason.RECEIPT)
        task = create_task(line.location, TaskKind.REPLENISH, product_id=line.product_id, quantity=8)
        task.source_location_id = reserve.id
        info = {"id": task.id, "lane": line.location.code, "lane_id": line.location_id, "reserve_id": reserve.id,
                "product_id": line.product_id,
                "lane_before": db.session.scalar(select(Quant.on_hand).where(
                    Quant.location_id == line.location_id, Quant.product_id == line.product_id))}
        db.session.commit()
    return info


def test_a_receiver_is_refused_the_pick_face_and_fills_the_lane_from_the_replenish_face(  # type: ignore[no-untyped-def]
        live_app, live_server, phone, task) -> None:  # noqa: F811
    page = phone.new_page()
    badge_sign_in(page, "B-REMI")
    page.click("text=Replenish lanes")
    page.wait_for_url("**/hh/replenish")
    button = page.locator(f"[data-task='{task['id']}']")
    expect(button).to_contain_text(task["lane"])
    shot(page, "replenish-1-tasks")
    button.click()
    expect(page.locator("#replenish")).to_have_attribute("data-step", "source")
    assert page.locator("#camera-button").is_visible()  # the camera itself cannot be tested headless
    wedge(page, "RS-01")
    expect(page.locator("#replenish")).to_have_attribute("data-step", "lane")
    shot(page, "replenish-2-lane")
    wedge(page, task["lane"])  # the pick-face label, read from the wrong aisle
    expect(page.locator("#message")).to_contain_text("REPLENISH FACE")
    expect(page.locator("#replenish")).to_have_attribute("data-step", "lane")
    shot(page, "replenish-3-pick-face-refused")
    wedge(page, "R:" + task["lane"])
    expect(page.locator("#replenish")).to_have_attribute("data-step", "quantity")
    wedge(page, "8")
    expect(page.locator("#replenish")).to_have_attribute("data-step", "done")

    def task_done() -> bool:
        with live_app.app_context():
            status = db.session.get(Task, task["id"]).status
            return status == TaskStatus.DONE

    wait_until(task_done, "the server has the task done")
    wait_sent(page)
    shot(page, "replenish-4-done")
    with live_app.app_context():
        done = db.session.get(Task, task["id"])
        assert done.status == TaskStatus.DONE and done.done_quantity == 8
        lane = db.session.scalar(select(Quant.on_hand).where(Quant.location_id == task["lane_id"],
                                                             Quant.product_id == task["product_id"]))
        reserve = db.session.scalar(select(Quant.on_hand).where(Quant.location_id == task["reserve_id"]))
        assert (lane, reserve) == (task["lane_before"] + 8, 22)
        events = db.session.scalars(select(ScanEvent).where(ScanEvent.task_id == task["id"])
                                    .order_by(ScanEvent.id)).all()
        assert [(e.step, e.code, e.outcome) for e in events] == [
            ("source", "RS-01", ScanOutcome.ACCEPTED), ("lane", task["lane"], ScanOutcome.REFUSED),
            ("lane", "R:" + task["lane"], ScanOutcome.ACCEPTED), ("quantity", "8", ScanOutcome.APPLIED)]
        assert db.session.get(Location, task["lane_id"]).code == task["lane"]
