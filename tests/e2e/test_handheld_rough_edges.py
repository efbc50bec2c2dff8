"""The handheld's rough edges of a first run, in a real browser (Debian Chromium): a signed-out /hh/ starts on the
badge sign-in; products named with 200 unbroken characters keep the pick and pack screens within a 400 px phone;
the sas drop names the code to scan; the end of a pick order and "no pick order" are one screen with no stale
header; the supervisor's return detail page fits 1,366 px. One server and one browser for the whole module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.e2e.browser_support import wait_for_js
from tests.e2e.handheld_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    PIN,
    LiveServer,
    ean_for,
    wedge,
)
from tests.factories import PASSWORD
from tests.wave_data import NOW, add_order
from wms.auth.models import User, UserRole
from wms.auth.passwords import hash_secret
from wms.db import db
from wms.enums import Role, ZoneKind

pytestmark = pytest.mark.slow

PHONE = {"width": 400, "height": 800}
LAPTOP = {"width": 1366, "height": 768}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def long_name(letter: str) -> str:
    """A 200-character product name without a single break opportunity."""
    return ("Unbreakable" + letter) * 16 + letter * 8


@dataclass
class Site:
    picker_badge: str
    packer_badge: str
    tote: str
    zone_a: int
    rma_code: str
    supervisor_secret: str


def build() -> Site:
    """The packing world (an order picked, a pack station), every product renamed to 200 unbroken characters, a
    second released wave for the picker, a returns zone and a return of the picked order's units, a supervisor."""
    from sqlalchemy import select

    from tests.integration.test_packing_services import build_pack_world
    from tests.integration.test_returns_world import shipped_order
    from wms.auth import totp as totp_service
    from wms.catalog.models import Product
    from wms.layout import services as layout
    from wms.returns import services as returns
    from wms.stock import operations as ops
    from wms.waves import services as waves

    pack = build_pack_world()
    world = pack.pick
    for i, product in enumerate(db.session.scalars(select(Product).order_by(Product.id))):
        product.name = long_name("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 26])
    assert all(len(p.name) == 200 for p in db.session.scalars(select(Product)))
    site = world.site
    sku = next(ln.product.sku for ln in pack.order.lines if ln.product.sku.startswith("WH-A-"))
    later = add_order(site, "web-long", [(sku, 1)], cutoff=NOW + dt.timedelta(hours=8))
    wave = waves.create_and_plan(site.warehouse, [later], starts_at=NOW + dt.timedelta(hours=2))
    waves.release_wave(wave, None)

    layout.add_floor_location(layout.add_zone(site.warehouse, "RET", ZoneKind.RETURNS), "RET-01")
    lines = [(ln.product, ln.quantity) for ln in sorted(pack.order.lines, key=lambda ln: ln.line_no)]
    shipped = shipped_order(world.site, "web-returned", lines)  # type: ignore[arg-type]
    rma, _created = returns.authorize_return(
        shipped, [returns.LineRequest(quantity=q, reason="defective", sku=p.sku) for p, q in lines],
        reason="Customer called: " + long_name("N")[:120])
    first = lines[0][0]
    returns.receive_return(rma, [returns.LineRequest(1, sku=first.sku)], ops.Actor())  # one unit waits inspection

    chief = User(username="chief", display_name="Chief", password_hash=hash_secret(PASSWORD), all_warehouses=True)
    chief.role_rows = [UserRole(role=Role.SUPERVISOR)]
    db.session.add(chief)
    db.session.flush()
    secret = pyotp.random_base32()
    totp_service.store_secret(chief, secret)
    totp_service.mark_confirmed(chief)
    return Site(world.picker.badge_code or "", pack.packer.badge_code or "", pack.tote, site.zones["A"].id,
                rma.code, secret)


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[tuple[Flask, LiveServer, Site]]:
    from tests.conftest import _truncate_all, make_test_app

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SESSION_COOKIE_SECURE=False,
                        REMEMBER_COOKIE_SECURE=False)
    with app.app_context():
        site = build()
        db.session.commit()
    server = LiveServer(app)
    server.start()
    try:
        yield app, server, site
    finally:
        server.stop()
        _truncate_all(app)
        db.engine(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def phone_page(browser: Any, server: LiveServer) -> Any:
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, base_url=server.base_url,
                                  locale="en-GB")
    return context.new_page()


def no_overflow(page: Any, what: str) -> None:
    over = page.evaluate(OVERFLOW)
    page.screenshot(path=str(ARTIFACTS / f"rough-{what}.png"), full_page=True)
    assert over <= 0, f"{what}: the page is {over} px wider than the {page.viewport_size['width']} px viewport"


def badge_in_from_start(page: Any, badge: str) -> None:
    """Open the handheld app as a person would (/hh/) and sign in on the page it lands on."""
    page.goto("/hh/")
    assert page.url.endswith("/auth/badge?next=/hh/"), page.url
    no_overflow(page, "badge-sign-in")
    page.fill("#badge", badge)
    page.fill("#pin", PIN)
    page.keyboard.press("Enter")
    wait_for_js(page, "location.pathname === '/hh/' && document.getElementById('main') !== null")


def step_is(page: Any, flow: str, step: str) -> None:
    wait_for_js(page, f"document.getElementById('{flow}').dataset.step === '{step}'")


def test_the_pick_screen_wraps_long_names_names_the_sas_drop_and_ends_on_one_screen(served, browser) -> None:  # type: ignore[no-untyped-def]
    app, server, site = served
    page = phone_page(browser, server)
    badge_in_from_start(page, site.picker_badge)
    page.click(f"button.take-zone[data-zone='{site.zone_a}']")
    wait_for_js(page, "location.pathname === '/hh/pick'")
    step_is(page, "pick", "location")
    expect(page.locator("#item")).to_contain_text("UnbreakableA")
    no_overflow(page, "pick-400")

    with app.app_context():
        from sqlalchemy import select

        from wms.waves.models import PickOrder, PickOrderStatus

        op = db.session.scalar(select(PickOrder).where(PickOrder.status == PickOrderStatus.PICKING))
        line = op.lines[0]
        scans = [line.location.code, ean_for(line.product), line.tote or op.totes[0], str(line.quantity)]
        op_code, tote = op.code, line.tote or op.totes[0]
    for code in scans:
        wedge(page, code)
    step_is(page, "pick", "drop")
    expect(page.locator("#prompt")).to_have_text("Scan the sas drop point")
    expect(page.locator("#big")).to_have_text("SAS-01")  # the code to scan, not "Sas drop point"
    expect(page.locator("#tote")).to_have_text(tote)
    no_overflow(page, "pick-drop")
    wedge(page, scans[0])  # a lane label is no drop point: refused at once, the message names the code
    expect(page.locator("#message")).to_have_text("Not a sas drop point: scan SAS-01")
    step_is(page, "pick", "drop")

    wedge(page, "SAS-01")
    step_is(page, "pick", "done")
    end = page.locator("#pick-end")
    expect(end).to_be_visible()
    expect(page.locator("#message")).to_have_text(f"Pick order {op_code} dropped at SAS-01.", timeout=30_000)
    after_drop = end.inner_text()
    assert page.locator(".hh-progress").is_hidden() and page.locator("#op-code").inner_text() == ""
    no_overflow(page, "pick-end")

    page.reload()  # now with no pick order in progress: the very same screen
    step_is(page, "pick", "done")
    expect(end).to_be_visible()
    assert end.inner_text() == after_drop
    assert "No pick order in progress." in after_drop and "Pick order done" not in page.content()
    assert page.locator(".hh-progress").is_hidden() and page.locator("#op-code").inner_text() == ""
    page.context.close()


def test_the_pack_screen_wraps_long_names(served, browser) -> None:  # type: ignore[no-untyped-def]
    _app, server, site = served
    page = phone_page(browser, server)
    badge_in_from_start(page, site.packer_badge)
    page.goto("/hh/pack?station=PACK-1")
    step_is(page, "pack", "tote")
    wedge(page, site.tote)
    step_is(page, "pack", "item")
    expect(page.locator("#lines li").first).to_contain_text("Unbreakable")
    no_overflow(page, "pack-400")
    page.context.close()


def test_the_return_detail_page_fits_a_laptop(served, browser) -> None:  # type: ignore[no-untyped-def]
    _app, server, site = served
    context = browser.new_context(viewport=LAPTOP, base_url=server.base_url, locale="en-GB")
    page = context.new_page()
    page.goto(f"/warehouses/WH/returns/{site.rma_code}")
    page.wait_for_url("**/auth/login**")
    page.fill("#username", "chief")
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/auth/totp**")
    page.fill("#code", pyotp.TOTP(site.supervisor_secret).now())
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"**/returns/{site.rma_code}")
    expect(page.locator("h1")).to_contain_text(site.rma_code)
    no_overflow(page, "return-detail-1366")
    context.close()
