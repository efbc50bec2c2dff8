"""A receiver on a 360×640 phone receives a purchase order — an item not on it refused, the lot and best-before
asked for a tracked product — then puts the units away: the lane's pick-face label is refused, its replenish-face
label (R:code) accepted; the stock moves dock → lane once, with the ledger."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.e2e.handheld_support import (
    badge_sign_in,
    build_world,
    ean_for,
    live_app,  # noqa: F401  (fixtures)
    live_server,  # noqa: F401
    phone,  # noqa: F401
    shot,
    wait_sent,
    wait_until,
    wedge,
)
from wms.catalog.models import Product
from wms.db import db
from wms.enums import StockReason, TaskKind, TaskStatus, ZoneKind
from wms.inbound import services as inbound
from wms.inbound.models import PurchaseOrder, PurchaseOrderStatus, ReceiptLine
from wms.layout import services as layout
from wms.layout.models import Location
from wms.picking.models import ScanEvent, ScanOutcome
from wms.stock.models import LedgerEntry, Quant
from wms.tasks.models import Task

pytestmark = pytest.mark.slow

SKU = "WH-A-03"


@pytest.fixture
def po(live_app):  # type: ignore[no-untyped-def]  # noqa: F811
    with live_app.app_context():
        world = build_world(orders=1)
        dock = layout.add_floor_location(layout.add_zone(world.site.warehouse, "RCV", ZoneKind.RECEIVING_DOCK),
                                         "RCV-01")
        product = db.session.scalar(select(Product).where(Product.sku == SKU))
        product.lot_tracked = product.expiry_tracked = True
        lane = db.session.scalar(select(Location).join(Quant, Quant.location_id == Location.id)
                                 .where(Quant.product_id == product.id))
        lane.capacity_units = 60
        inbound.create_supplier("FRESH", "Fresh Farms")
        inbound.create_purchase_order(world.site.warehouse, "FRESH", "PO-E2E", [inbound.LineSpec(SKU, 5)])
        info = {"ean": ean_for(product), "product_id": product.id, "dock_id": dock.id, "lane": lane.code,
                "lane_id": lane.id}
        db.session.commit()
    return info


def _on_hand(app, location_id: int, product_id: int) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(Quant.on_hand).where(Quant.location_id == location_id,
                                                             Quant.product_id == product_id)) or 0


def test_a_receiver_receives_a_po_and_puts_it_away_from_the_replenish_face_only(  # type: ignore[no-untyped-def]
        live_app, live_server, phone, po) -> None:  # noqa: F811
    page = phone.new_page()
    badge_sign_in(page, "B-REMI")
    page.goto("/hh/receive")
    flow = page.locator("#receive")
    button = page.locator("[data-po='PO-E2E']").first
    expect(button).to_be_visible()
    shot(page, "receive-1-orders")
    button.click()
    expect(flow).to_have_attribute("data-step", "item")
    wedge(page, "4000000000000")  # an item that is not on the PO
    expect(page.locator("#message")).to_contain_text("unknown item")
    expect(flow).to_have_attribute("data-step", "item")
    shot(page, "receive-2-unknown-item-refused")
    wedge(page, po["ean"])
    expect(flow).to_have_attribute("data-step", "quantity")
    wedge(page, "5")
    expect(flow).to_have_attribute("data-step", "lot")
    wedge(page, "L-77")
    expect(flow).to_have_attribute("data-step", "bbd")
    shot(page, "receive-3-best-before")
    wedge(page, "2027-05-31")
    expect(flow).to_have_attribute("data-step", "item")
    wait_sent(page)
    expect(page.locator(f"#po-lines tr[data-sku='{SKU}'] td").nth(1)).to_have_text("5")
    shot(page, "receive-4-received")
    with live_app.app_context():
        [line] = db.session.scalars(select(ReceiptLine)).all()
        assert (line.quantity, line.lot_code, line.best_before.isoformat()) == (5, "L-77", "2027-05-31")
        assert db.session.scalar(select(PurchaseOrder.status)) == PurchaseOrderStatus.RECEIVED
        refused = db.session.scalars(select(ScanEvent).where(ScanEvent.flow == "receive",
                                                             ScanEvent.outcome == ScanOutcome.REFUSED)).all()
        assert [e.code for e in refused] == ["4000000000000"]
    assert _on_hand(live_app, po["dock_id"], po["product_id"]) == 5
    lane_before = _on_hand(live_app, po["lane_id"], po["product_id"])

    page.click("#finish")
    expect(flow).to_have_attribute("data-step", "finished")
    expect(page.locator("#finished-tasks")).to_contain_text(po["lane"])
    shot(page, "receive-5-finished")
    page.click("#go-putaway")
    page.wait_for_url("**/hh/putaway")
    with live_app.app_context():
        task_id = db.session.scalar(select(Task.id).where(Task.kind == TaskKind.PUTAWAY))
    page.locator(f"[data-task='{task_id}']").click()
    putaway = page.locator("#putaway")
    expect(putaway).to_have_attribute("data-step", "lane")
    wedge(page, po["lane"])  # the pick-face label, read from the wrong aisle
    expect(page.locator("#message")).to_contain_text("REPLENISH FACE")
    expect(putaway).to_have_attribute("data-step", "lane")
    shot(page, "putaway-1-pick-face-refused")
    wedge(page, "R:" + po["lane"])
    expect(putaway).to_have_attribute("data-step", "item")
    wedge(page, po["ean"])
    expect(putaway).to_have_attribute("data-step", "quantity")
    wedge(page, "5")
    expect(putaway).to_have_attribute("data-step", "done")

    def task_done() -> bool:
        with live_app.app_context():
            return db.session.get(Task, task_id).status == TaskStatus.DONE

    wait_until(task_done, "the server has the put-away done")
    wait_sent(page)
    shot(page, "putaway-2-done")
    assert _on_hand(live_app, po["lane_id"], po["product_id"]) == lane_before + 5
    assert _on_hand(live_app, po["dock_id"], po["product_id"]) == 0
    with live_app.app_context():
        events = db.session.scalars(select(ScanEvent).where(ScanEvent.task_id == task_id)
                                    .order_by(ScanEvent.id)).all()
        assert [(e.step, e.code, e.outcome) for e in events] == [
            ("lane", po["lane"], ScanOutcome.REFUSED), ("lane", "R:" + po["lane"], ScanOutcome.ACCEPTED),
            ("item", po["ean"], ScanOutcome.ACCEPTED), ("quantity", "5", ScanOutcome.APPLIED)]
        moves = db.session.scalars(select(LedgerEntry.delta_on_hand).where(
            LedgerEntry.reason == StockReason.PUTAWAY).order_by(LedgerEntry.id)).all()
        assert moves == [-5, 5]
        assert db.session.scalar(select(ReceiptLine.put_away)) == 5
