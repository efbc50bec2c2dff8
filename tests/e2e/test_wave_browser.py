"""A supervisor plans and releases a wave in a real browser against the real server; the timeline shows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select

from tests.e2e.browser_support import gunicorn_on
from tests.e2e.test_run_command import CHROMIUM_ARGS, _free_port
from tests.factories import PASSWORD
from tests.wave_data import NOW, build_site
from wms.db import db
from wms.printing.models import PrintJob
from wms.waves.models import PickOrder, TimeSlot, Wave, WaveStatus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def wave_server(app, database_url: str, make_user) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """gunicorn serving the test database, which holds the wave site and a supervisor with TOTP."""
    with app.app_context():
        build_site(orders=4)
        user = make_user("chief", roles=("supervisor",), all_warehouses=True, totp=True)
        secret = user.test_totp_secret
        db.session.commit()
    with gunicorn_on(database_url, app.config["SECRET_KEY"], _free_port()) as base:
        yield base, secret


def test_a_supervisor_plans_and_releases_a_wave_and_the_timeline_shows_it(app, wave_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, secret = wave_server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/warehouses/WH/waves/new")
            page.wait_for_url("**/auth/login**")
            page.fill("#username", "chief")
            page.fill("#password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/auth/totp**")
            page.fill("#code", pyotp.TOTP(secret).now())
            page.click("form.form button[type=submit]")
            page.wait_for_url("**/warehouses/WH/waves/new")

            expect(page.locator("input[name=order_id]")).to_have_count(4)
            page.fill("input[name=starts_at]", NOW.strftime("%Y-%m-%dT%H:%M"))
            page.click("form.wave-create button[type=submit]")
            page.wait_for_url("**/waves/*")
            expect(page.locator("h1 .wave-status")).to_have_text("planned")

            with app.app_context():
                wave = db.session.scalar(select(Wave))
                codes = [op.code for op in db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave.id))]
                # one bar per pick aisle the OP walks (it books each for its whole time)
                bars = {code: db.session.scalar(select(func.count()).select_from(TimeSlot)
                                                .where(TimeSlot.label == code)) for code in codes}
            assert codes and all(n >= 1 for n in bars.values())
            for code in codes:
                expect(page.locator(f'svg.timeline g.tl-slot[data-label="{code}"]')).to_have_count(bars[code])

            page.click("#release-wave")
            expect(page.locator("h1 .wave-status")).to_have_text("released")
            expect(page.locator(".flash.success")).to_be_visible()
            for code in codes:
                bar = page.locator(f'svg.timeline g.tl-slot[data-label="{code}"]')
                expect(bar).to_have_count(bars[code])
                expect(bar.locator("rect").first).to_be_visible()
            page.screenshot(path=str(tmp_path / "wave.png"), full_page=True)

            # The timeline of all resources shows the OPs too, on the zones' pick aisles.
            page.goto(base + "/warehouses/WH/timeline?from=" + NOW.strftime("%Y-%m-%dT%H:%M") + "&hours=6")
            for code in codes:
                expect(page.locator(f'svg.timeline g.tl-slot[data-label="{code}"]')).to_have_count(bars[code])
            expect(page.locator('svg.timeline g.tl-row[data-resource="A/P1"]')).to_have_count(1)
            expect(page.locator('svg.timeline g.tl-row[data-resource="DOOR-1"]')).to_have_count(1)

            # Drag the first OP's bar to the right on a one-hour window: the script posts the slot's form.
            page.goto(base + "/warehouses/WH/timeline?from=" + NOW.strftime("%Y-%m-%dT%H:%M") + "&hours=1")
            box = page.locator(f'svg.timeline g.tl-slot[data-label="{codes[0]}"] rect').first.bounding_box()
            assert box is not None
            x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2
            with page.expect_navigation():
                page.mouse.move(x, y)
                page.mouse.down()
                page.mouse.move(x + 40, y, steps=4)
                page.mouse.move(x + 80, y, steps=4)
                page.mouse.up()
            expect(page.locator(".flash.success")).to_contain_text(codes[0])
            page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)
        finally:
            browser.close()

    with app.app_context():
        wave = db.session.scalar(select(Wave))
        assert wave.status == WaveStatus.RELEASED
        jobs = list(db.session.scalars(select(PrintJob)))
        assert sorted(j.reference for j in jobs) == sorted(codes)
        moved = list(db.session.scalars(select(TimeSlot).where(TimeSlot.label == codes[0])))
        assert moved[0].starts_at > NOW and (moved[0].starts_at - NOW).total_seconds() % 300 == 0
        assert len({(m.starts_at, m.ends_at) for m in moved}) == 1, "the OP's other aisles moved with the bar"
