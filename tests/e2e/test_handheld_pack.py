"""A packer signs in by badge on a 360×640 phone and packs a picked order at pack station PACK-1: tote scanned,
one item not in the order refused with a sound and nothing applied, every unit verified by keyboard-wedge scan,
the suggested box chosen, the weight typed; the carrier label goes through the real print daemon to a fake Zebra,
and the barcodes read back from the printed bytes (zplkit + zxing-cpp) are the SSCC and tracking number stored."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.e2e.browser_support import wait_for_js
from tests.e2e.handheld_support import (
    badge_sign_in,
    ean_for,
    live_app,  # noqa: F401  (fixtures)
    live_server,  # noqa: F401
    phone,  # noqa: F401
    shot,
    wedge,
)
from tests.e2e.printserver_support import DaemonProcess, daemon_env, delivered, wait_until
from tests.fakes.zebra import FakeZebra
from tests.integration.test_packing_services import build_pack_world
from tests.unit.labels.reading import decode_labels
from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import db
from wms.enums import TokenPurpose
from wms.orders.models import Order, OrderStatus
from wms.outbound.models import ParcelLine, Shipment, ShipmentStatus
from wms.picking.models import ScanEvent, ScanOutcome
from wms.printing.models import JobState, Printer, PrintJob

pytestmark = pytest.mark.slow


def step_is(page: Any, step: str) -> None:
    wait_for_js(page, f"document.getElementById('pack').dataset.step === '{step}'", timeout=20_000)


def test_a_packer_packs_a_tote_a_mis_scan_is_refused_and_the_label_prints_with_the_stored_numbers(
        live_app, live_server, phone, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    zebra = FakeZebra().start()
    daemon = None
    try:
        with live_app.app_context():
            world = build_pack_world()
            printer = db.session.scalar(select(Printer).where(Printer.code == "PRN-PACK"))
            printer.connection = f"socket://127.0.0.1:{zebra.port}"
            order = world.order
            units = [(ean_for(ln.product), ln.quantity) for ln in sorted(order.lines, key=lambda x: x.line_no)]
            in_order = {ln.product_id for ln in order.lines}
            stranger = db.session.scalar(select(Product).where(Product.id.not_in(in_order)).order_by(Product.id))
            stranger_ean, stranger_sku = ean_for(stranger), stranger.sku
            tote, order_id = world.tote, order.id
            _token, token = issue_token(name="pack-e2e", purpose=TokenPurpose.PRINT_SITE,
                                        warehouse_id=world.pick.site.warehouse.id)
            db.session.commit()
        daemon = DaemonProcess(tmp_path / "state", daemon_env(live_server.base_url, token, tmp_path / "state")).start()

        page = phone.new_page()
        badge_sign_in(page, "B-PACO")
        page.goto("/hh/pack?station=PACK-1")
        step_is(page, "tote")
        shot(page, "pack-1-tote")
        wedge(page, tote)
        step_is(page, "item")
        expect(page.locator("#lines li")).to_have_count(len(units))
        shot(page, "pack-2-lines")

        wedge(page, stranger_ean)  # not in this order: refused, nothing packed
        expect(page.locator("#message")).to_contain_text(f"{stranger_sku}")
        expect(page.locator("#message")).to_contain_text("not in order")
        expect(page.locator("#message")).to_have_class("hh-message error")
        shot(page, "pack-3-mis-scan-refused")
        with live_app.app_context():
            assert db.session.scalar(select(func.count()).select_from(ParcelLine)) == 0
            refused = db.session.scalars(select(ScanEvent).where(ScanEvent.flow == "pack",
                                                                 ScanEvent.outcome == ScanOutcome.REFUSED)).all()
            assert [(e.step, e.code) for e in refused] == [("item", stranger_ean)]

        for ean, quantity in units:
            for _ in range(quantity):
                wedge(page, ean)
        step_is(page, "box")
        expect(page.locator("#suggestion")).to_contain_text("S")
        shot(page, "pack-4-box")
        page.click("#boxes button[data-box='S']")
        step_is(page, "weight")
        expect(page.locator("#expected")).to_contain_text("700 g")
        shot(page, "pack-5-weight")
        wedge(page, "1500")  # far off the expected 700 g: refused with the figures
        expect(page.locator("#message")).to_contain_text("too heavy")
        step_is(page, "weight")
        wedge(page, "705")
        step_is(page, "done")
        expect(page.locator("#label-printer")).to_have_text("PRN-PACK")
        shown = page.locator("#tracking dd.tracking").first.inner_text()
        shot(page, "pack-6-labelled")

        with live_app.app_context():
            shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order_id))
            assert shipment.status == ShipmentStatus.LABELLED and shipment.tracking_number == shown
            (parcel,) = shipment.parcels
            assert parcel.weight_g == 705 and parcel.box.code == "S"
            assert db.session.get(Order, order_id).status == OrderStatus.PACKED
            job_id, sscc, tracking = parcel.label_print_job_id, parcel.sscc, parcel.tracking_number

        def printed() -> bool:
            with live_app.app_context():
                return db.session.get(PrintJob, job_id).state == JobState.PRINTED
        wait_until(printed, 60, "the carrier label printed")
        with live_app.app_context():
            payload = db.session.get(PrintJob, job_id).payload
        received = delivered(zebra)
        assert received == payload  # byte-exact through the real daemon
        (label,) = decode_labels(received.decode("ascii"))
        found = {(d.text, d.symbology_identifier) for d in label}
        assert (f"(00){sscc}", "]C1") in found  # the SSCC as GS1-128
        assert tracking in {d.text for d in label}  # the tracking number as Code 128
        assert tracking == shown
    finally:
        if daemon is not None:
            if daemon.alive():
                daemon.terminate()
            print(daemon.text())
        zebra.stop()
