"""The fleet page in a real browser against gunicorn: it redraws itself when a printer's status changes, and a
test label queued from it can be followed to its job page and reprinted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from tests.e2e.browser_support import gunicorn_on, wait_for_js
from tests.e2e.test_run_command import CHROMIUM_ARGS, _free_port
from tests.factories import PASSWORD
from wms.db import db
from wms.layout.importer import import_layout_file
from wms.layout.services import get_warehouse
from wms.printing import jobs
from wms.printing.models import DocumentKind, PrintJob

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "wms" / "demo" / "warehouse.yaml"


@pytest.fixture
def fleet_server(app, database_url: str, make_user) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """gunicorn on the test database holding the demo layout and a supervisor with TOTP."""
    with app.app_context():
        import_layout_file(DEMO)
        user = make_user("chief", roles=("supervisor",), all_warehouses=True, totp=True)
        secret = user.test_totp_secret
        db.session.commit()
    with gunicorn_on(database_url, app.config["SECRET_KEY"], _free_port()) as base:
        yield base, secret


def _set_status(app, code: str, status: str) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        warehouse = get_warehouse("DEMO")
        jobs.record_printer_status(warehouse.id, "test-daemon", [jobs.PrinterStatusReport(code, status)])
        db.session.commit()


def test_the_fleet_page_follows_printer_status_and_a_test_label_can_be_reprinted(app, fleet_server, tmp_path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, secret = fleet_server
    _set_status(app, "PR-A", "ready")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base + "/warehouses/DEMO/printers")
            page.wait_for_url("**/auth/login**")
            page.fill("#username", "chief")
            page.fill("#password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/auth/totp**")
            page.fill("#code", pyotp.TOTP(secret).now())
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/warehouses/DEMO/printers")

            glyph = 'svg g.printer[data-printer="{code}"][data-health="{health}"]'
            expect(page.locator(glyph.format(code="PR-A", health="ok"))).to_have_count(1)
            # The daemon reports paper out: the page redraws the glyph orange without a reload.
            _set_status(app, "PR-A", "paper_out")
            expect(page.locator(glyph.format(code="PR-A", health="warning"))).to_have_count(1, timeout=15_000)
            _set_status(app, "PR-A", "offline")
            expect(page.locator(glyph.format(code="PR-A", health="down"))).to_have_count(1, timeout=15_000)
            page.screenshot(path=str(tmp_path / "fleet.png"), full_page=True)

            page.click('tr[data-printer="PR-B"] button[type=submit]')
            expect(page.locator(".flash.success")).to_contain_text("PR-B")
            expect(page.locator('tr[data-printer="PR-B"] td.num a').first).to_have_text("1", timeout=15_000)

            page.goto(base + "/warehouses/DEMO/print-jobs?printer=PR-B")
            page.click("table.jobs tbody tr td a")
            expect(page.locator("img.label-preview")).to_be_visible()
            # the PNG drawn from the job's own ZPL loaded (a broken image has no natural width)
            wait_for_js(page, "document.querySelector('img.label-preview').naturalWidth > 100")
            page.click("form[action$='/reprint'] button")
            expect(page.locator(".flash.success")).to_contain_text("queued again")
        finally:
            browser.close()

    with app.app_context():
        found = list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))
        assert [j.document_kind for j in found] == [DocumentKind.TEST_PAGE] * 2
        assert found[1].reprint_of_id == found[0].id
