"""Offline mid-pick: the phone loses the network (browser offline and the server really gone), ten more scans are
made and queued in IndexedDB, the page is reloaded from the service worker's shell, the network comes back — each
scan is applied exactly once, in order, and the stock matches."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

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
    wait_for_shell_cached,
    wait_sent,
    wait_until,
    wedge,
)
from wms.db import db
from wms.enums import StockReason
from wms.picking.models import ScanEvent, ScanOutcome
from wms.stock.models import LedgerEntry, Quant
from wms.waves.models import PickOrderLine

pytestmark = pytest.mark.slow


def scan_events(app: Any) -> int:
    with app.app_context():
        return db.session.query(ScanEvent).count()


def step_is(page: Any, step: str) -> None:
    wait_for_js(page, f"document.getElementById('pick').dataset.step === '{step}'", timeout=20_000)


@pytest.fixture
def zone_a(live_app):  # type: ignore[no-untyped-def]  # noqa: F811
    with live_app.app_context():
        world = build_world(orders=4)
        op = next(op for op in world.ops() if op.zone.code == "A")
        lines = [{"id": ln.id, "location": ln.location.code, "ean": ean_for(ln.product), "tote": ln.tote,
                  "quantity": ln.quantity, "product_id": ln.product_id, "location_id": ln.location_id}
                 for ln in op.lines]
        stock = {(q.product_id, q.location_id): q.on_hand for q in db.session.scalars(select(Quant))}
        db.session.commit()
    assert len(lines) >= 4, "the test needs four lines in zone A"
    return lines, stock


def scans_for(line: dict[str, Any]) -> list[str]:
    return [line["location"], line["ean"], line["tote"], str(line["quantity"])]


def test_scans_made_offline_are_applied_once_in_order_after_a_reload_and_the_return_of_the_network(  # type: ignore[no-untyped-def]
        live_app, live_server, phone, zone_a) -> None:  # noqa: F811
    lines, stock_before = zone_a
    page = phone.new_page()
    badge_sign_in(page, "B-PIA")
    wait_for_shell_cached(page)
    page.locator(".take-zone", has_text="Zone A").click()
    page.wait_for_url("**/hh/pick")
    step_is(page, "location")
    all_scans = [code for line in lines for code in scans_for(line)]
    online_first, offline_ten = all_scans[:2], all_scans[2:12]
    for code in online_first:
        wedge(page, code)
    step_is(page, "tote")  # judged on the device; now wait until the server has both scans too
    deadline = time.monotonic() + 20
    while scan_events(live_app) < 3:  # take + the two scans
        assert time.monotonic() < deadline, "the two online scans never reached the server"
        time.sleep(0.1)
    wait_sent(page)

    phone.set_offline(True)
    live_server.stop()  # not only the browser's emulation: nothing answers on the port any more
    for code in offline_ten:
        wedge(page, code)
    expect(page.locator("#hh-pending")).to_have_text("10")
    expect(page.locator("#hh-net")).to_have_attribute("data-state", "offline")
    step_is(page, "location")
    assert page.locator("#big").inner_text() == lines[3]["location"]  # the device walked on by itself
    shot(page, "offline-1-pending")

    page.reload()  # offline: the shell comes from the service worker, the state from IndexedDB
    step_is(page, "location")
    expect(page.locator("#hh-pending")).to_have_text("10")
    assert page.locator("#big").inner_text() == lines[3]["location"]
    page.click("#hh-pending")
    expect(page.locator("#hh-pending-list li")).to_have_count(10)
    shot(page, "offline-2-reloaded")
    page.click("#hh-pending")
    assert scan_events(live_app) == 3  # nothing more reached the server

    live_server.start()
    phone.set_offline(False)
    wait_sent(page, timeout=40_000)
    expect(page.locator("#hh-net")).to_have_attribute("data-state", "online")
    shot(page, "offline-3-synced")

    with live_app.app_context():
        events = db.session.scalars(select(ScanEvent).where(ScanEvent.step != "take").order_by(ScanEvent.id)).all()
        assert [e.code for e in events] == online_first + offline_ten
        assert all(e.outcome in (ScanOutcome.ACCEPTED, ScanOutcome.APPLIED) for e in events), [
            (e.code, e.message) for e in events if e.outcome == ScanOutcome.REFUSED]
        assert len({e.idempotency_key for e in events}) == 12
        offline_events = events[2:]
        assert all(e.scanned_at is not None and e.scanned_at < e.at for e in offline_events)
        picked = {ln.id: ln.picked_quantity for ln in db.session.scalars(select(PickOrderLine))}
        for line in lines[:3]:
            assert picked[line["id"]] == line["quantity"]
            q = db.session.scalar(select(Quant).where(Quant.product_id == line["product_id"],
                                                      Quant.location_id == line["location_id"]))
            assert q.on_hand == stock_before[(line["product_id"], line["location_id"])] - line["quantity"]
        assert picked[lines[3]["id"]] == 0
        picks = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.PICK)).all()
        assert sorted(-e.delta_on_hand for e in picks) == sorted(ln["quantity"] for ln in lines[:3])

    # The rest of the OP online, from where the device is.
    for line in lines[3:]:
        for code in scans_for(line):
            wedge(page, code)
    step_is(page, "drop")
    wedge(page, "SAS-01")
    step_is(page, "done")
    with live_app.app_context():
        op_id = db.session.get(PickOrderLine, lines[0]["id"]).pick_order_id
    wait_until(lambda: op_done(live_app, op_id), "the server has the OP dropped at the sas")
    wait_sent(page)
