"""An admin adds a WooCommerce channel in a real browser against the real server and the WooCommerce stand-in,
tests the connection, imports and maps a listing, and sees it all on the sync log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select

from tests.e2e.browser_support import gunicorn_on
from tests.e2e.test_run_command import CHROMIUM_ARGS, _free_port
from tests.factories import PASSWORD
from tests.integration.stock_world import build_world
from tests.standins.woocommerce import WooCommerceStandIn
from wms.catalog.models import Product
from wms.channels.models import ChannelListing
from wms.db import db

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop() -> Iterator[WooCommerceStandIn]:
    yield from WooCommerceStandIn().serving()


@pytest.fixture
def channel_server(app, database_url: str, make_user) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """gunicorn serving the test database: warehouse WH with MUG and TEA, an admin with TOTP."""
    with app.app_context():
        build_world(make_user)
        user = make_user("ada", roles=("admin",), all_warehouses=True, totp=True)
        secret = user.test_totp_secret
        db.session.commit()
    with gunicorn_on(database_url, app.config["SECRET_KEY"], _free_port()) as base:
        yield base, secret


def test_an_admin_adds_a_woocommerce_channel_tests_it_maps_a_listing_and_sees_the_sync_log(  # type: ignore[no-untyped-def]
        app, channel_server, shop, tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, secret = channel_server
    shop.add_item("MUG", 4, title="Mug")
    odd_key = shop.add_item("GREEN-TEA-100G", 3, title="Green tea 100 g")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/channels")
            page.wait_for_url("**/auth/login**")
            page.fill("#username", "ada")
            page.fill("#password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/auth/totp**")
            page.fill("#code", pyotp.TOTP(secret).now())
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/channels")
            expect(page.locator("p.empty")).to_be_visible()

            page.click("#add-channel")
            page.click("#kind-woocommerce")
            page.wait_for_url("**/channels/new?kind=woocommerce")
            page.fill("#code", "WOO")
            page.fill("#name", "Woo shop")
            page.select_option("#warehouse", "WH")
            page.fill("#base_url", shop.url)
            page.fill("#cred_consumer_key", shop.consumer_key)
            page.fill("#cred_consumer_secret", shop.consumer_secret)
            page.fill("#cred_webhook_secret", shop.webhook_secret)
            page.fill("#buffer_units", "1")
            page.click("#save-channel")

            token = page.locator("#channel-token")
            expect(token).to_be_visible()
            assert token.inner_text().startswith("wms_")
            expect(page.locator("#webhook-url")).to_contain_text("/api/v1/channels/WOO/platform-webhooks")
            page.click("#to-detail")
            page.wait_for_url("**/channels/WOO")
            expect(page.locator("#channel-token")).to_have_count(0)

            page.click("#test-connection")
            expect(page.locator(".flash.success")).to_contain_text("Connected. The platform answered:")

            page.click("#import-listings")
            page.wait_for_url("**/channels/WOO/mapping")
            expect(page.locator(".flash.success")).to_contain_text("Mapped to our SKUs: 1; unmapped: 1.")
            row = page.locator(f'tr[data-item="{odd_key}"]')
            expect(row).to_have_class("unmapped")
            row.locator("input[name=sku]").fill("NO-SUCH")
            row.locator("button[value=set]").click()
            expect(page.locator(".flash.error")).to_contain_text("Unknown SKU NO-SUCH: nothing was changed.")
            row = page.locator(f'tr[data-item="{odd_key}"]')
            row.locator("input[name=sku]").fill("TEA")
            row.locator("button[value=set]").click()
            expect(page.locator(".flash.success")).to_contain_text(f"Listing {odd_key} mapped to TEA")
            expect(page.locator("tr.unmapped")).to_have_count(0)

            page.click("#subnav-sync")
            page.wait_for_url("**/channels/WOO")
            log_rows = page.locator("table.sync-log tbody tr")
            expect(log_rows).to_have_count(2)
            expect(log_rows.nth(0)).to_have_attribute("data-direction", "import")  # newest first
            expect(log_rows.nth(1)).to_have_attribute("data-direction", "connect")
            expect(page.locator("table.sync-log .status-ok")).to_have_count(2)
            page.screenshot(path=str(tmp_path / "channel.png"), full_page=True)

            page.click("a[href='/channels']")
            expect(page.locator('tr[data-channel="WOO"]')).to_contain_text("WooCommerce")
        finally:
            browser.close()

    with app.app_context():
        tea = db.session.scalar(select(Product.id).where(Product.sku == "TEA"))
        assert db.session.scalar(select(ChannelListing.product_id).where(ChannelListing.item_key == odd_key)) == tea
