"""A picker signs in by badge on a 360×640 phone and picks a released wave by keyboard-wedge typing: every OP
line scanned location → item → tote → quantity, a wrong location refused with a sound and nothing applied, the
totes dropped at the sas; the stock, the orders and the audit trail agree at the end."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.e2e.browser_support import wait_for_js
from tests.e2e.handheld_support import (
    badge_sign_in,
    build_world,
    ean_for,
    live_app,  # noqa: F401  (fixtures)
    live_server,  # noqa: F401
    op_done,
    phone,  # noqa: F401
    shot,
    wait_sent,
    wait_until,
    wedge,
)
from wms.db import db
from wms.enums import StockReason
from wms.orders.models import Order, OrderStatus
from wms.picking.models import ScanEvent, ScanOutcome
from wms.stock.models import LedgerEntry, Quant
from wms.waves.models import PickOrder, PickOrderStatus, Wave, WaveStatus

pytestmark = pytest.mark.slow


def op_lines(op: PickOrder) -> list[dict[str, Any]]:
    return [{"id": ln.id, "location": ln.location.code, "ean": ean_for(ln.product), "tote": ln.tote,
             "quantity": ln.quantity, "product_id": ln.product_id, "location_id": ln.location_id}
            for ln in op.lines]


@pytest.fixture
def wave(live_app):  # type: ignore[no-untyped-def]  # noqa: F811
    with live_app.app_context():
        world = build_world(orders=2)
        plan = {"wave_id": world.wave.id, "zones": {}}
        for op in world.ops():
            plan["zones"][op.zone.code] = {"op_id": op.id, "zone_id": op.zone_id, "lines": op_lines(op)}
        stock = {(q.product_id, q.location_id): q.on_hand for q in db.session.scalars(select(Quant))}
        db.session.commit()
    return plan, stock


def pick_zone(page: Any, app: Any, zone: str, op_id: int, lines: list[dict[str, Any]], screenshots: bool) -> None:
    page.locator(".take-zone", has_text=f"Zone {zone}").click()
    page.wait_for_url("**/hh/pick")
    for n, line in enumerate(lines, start=1):
        wait_for_js(page, "document.getElementById('pick').dataset.step === 'location'")
        assert page.locator("#big").inner_text() == line["location"]
        assert page.locator("#progress").inner_text() == f"Line {n}/{len(lines)}"
        if screenshots and n == 1:
            shot(page, "pick-1-location")
            wedge(page, "R:" + line["location"])  # the replenish-face label: refused at once
            expect(page.locator("#message")).to_contain_text("pick-face")
            shot(page, "pick-2-refused")
        wedge(page, line["location"])
        if screenshots and n == 1:
            shot(page, "pick-3-item")
        wedge(page, line["ean"])
        if screenshots and n == 1:
            shot(page, "pick-4-tote")
        wedge(page, line["tote"])
        wait_for_js(page, "document.getElementById('pick').dataset.step === 'quantity'")
        if screenshots and n == 1:
            shot(page, "pick-5-quantity")
        wedge(page, str(line["quantity"]))
    wait_for_js(page, "document.getElementById('pick').dataset.step === 'drop'")
    if screenshots:
        page.click("#exception-button")
        shot(page, "pick-6-exceptions-menu")
        page.click("#exception-close")
        shot(page, "pick-7-sas-drop")
        # Nothing has the focus when the scanner fires (a panel just closed, a button just tapped): the scan
        # still lands whole in the scan field, not lost on the page.
        page.evaluate("document.activeElement && document.activeElement.blur()")
    wedge(page, "SAS-01")
    # The drop waits behind the scans still queued on the device; on a loaded CI machine that can take a while.
    wait_for_js(page, "document.getElementById('pick').dataset.step === 'done'", timeout=60_000)
    wait_until(lambda: op_done(app, op_id), f"the server has OP {op_id} dropped at the sas")
    wait_sent(page)
    if screenshots:
        shot(page, "pick-8-done")


def test_a_picker_picks_a_released_wave_by_wedge_scans_on_a_phone(live_app, live_server, phone, wave) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    plan, stock_before = wave
    page = phone.new_page()
    page.goto("/auth/badge")
    shot(page, "badge-sign-in")
    badge_sign_in(page, "B-PIA")
    shot(page, "home")
    assert page.locator(".take-zone").count() == 2
    for zone in ("A", "B"):
        pick_zone(page, live_app, zone, plan["zones"][zone]["op_id"], plan["zones"][zone]["lines"],
                  screenshots=zone == "A")
        page.goto("/hh/")
    assert page.locator(".take-zone").count() == 0
    with live_app.app_context():
        assert {op.status for op in db.session.scalars(select(PickOrder))} == {PickOrderStatus.DONE}
        assert db.session.get(Wave, plan["wave_id"]).status == WaveStatus.DONE
        assert {o.status for o in db.session.scalars(select(Order))} == {OrderStatus.PICKED}
        for zone in plan["zones"].values():
            for line in zone["lines"]:
                q = db.session.scalar(select(Quant).where(Quant.product_id == line["product_id"],
                                                          Quant.location_id == line["location_id"]))
                assert q.on_hand == stock_before[(line["product_id"], line["location_id"])] - line["quantity"]
                assert q.reserved == 0
        picked = db.session.scalar(select(func.sum(LedgerEntry.delta_on_hand)).where(
            LedgerEntry.reason == StockReason.PICK))
        assert -picked == sum(ln["quantity"] for z in plan["zones"].values() for ln in z["lines"])
        events = db.session.scalars(select(ScanEvent).order_by(ScanEvent.id)).all()
        refused = [e for e in events if e.outcome == ScanOutcome.REFUSED]
        assert len(refused) == 1 and refused[0].code.startswith("R:")
        assert len({e.device_id for e in events}) == 1 and events[0].device_id.startswith("hh-")
        steps = sum(1 for e in events if e.step in ("location", "item", "tote", "quantity")
                    and e.outcome != ScanOutcome.REFUSED)
        assert steps == 4 * sum(len(z["lines"]) for z in plan["zones"].values())


def test_a_picker_given_an_op_by_the_supervisor_sees_it_with_its_slot_and_takes_only_it(live_app, live_server,  # type: ignore[no-untyped-def]  # noqa: F811
                                                                                      phone) -> None:  # noqa: F811
    from wms.auth.models import User
    from wms.picking import services as ps
    from wms.waves.models import TimeSlot

    with live_app.app_context():
        world = build_world(orders=2)
        given = next(op for op in world.ops() if op.zone.code == "B")
        ps.assign_pick_order(given, world.picker)
        has_slot = db.session.scalar(select(func.count()).select_from(TimeSlot)
                                     .where(TimeSlot.pick_order_id == given.id)) > 0
        code, picker_id = given.code, world.picker.id
        db.session.commit()
    page = phone.new_page()
    badge_sign_in(page, "B-PIA")
    expect(page.locator("#assigned-ops")).to_contain_text(code)
    assert page.locator(".take-zone").count() == 1  # zone A's OPs are not hers while she has one given
    expect(page.locator(".take-zone")).to_contain_text("Zone B")
    shot(page, "home-assigned")
    page.locator(".take-zone").click()
    page.wait_for_url("**/hh/pick")
    wait_for_js(page, "document.getElementById('pick').dataset.step === 'location'")
    assert page.locator("#op-code").inner_text() == code
    if has_slot:
        expect(page.locator("#op-slot")).to_contain_text("–")
    shot(page, "pick-0-assigned-slot")
    with live_app.app_context():
        op = db.session.scalar(select(PickOrder).where(PickOrder.code == code))
        assert op.status == PickOrderStatus.PICKING and op.picker_id == picker_id
        assert db.session.get(User, picker_id) is not None
