"""A released wave for handheld tests: the wave test site, EAN-13 barcodes on every product, a sas drop point,
a picker and a receiver, planned and released by the wave services (one pick task per OP line)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.e2e.browser_support import wait_for_js
from tests.wave_data import NOW, WaveSite, build_site
from wms.auth.models import User, UserRole, UserWarehouse
from wms.auth.passwords import hash_secret
from wms.catalog import services as catalog
from wms.catalog.barcodes import gs1_check_digit
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Role, ZoneKind
from wms.layout import services as layout
from wms.layout.models import Location
from wms.waves import services as waves
from wms.waves.models import PickOrder, Wave

PIN = "4321"


@dataclass
class PickWorld:
    site: WaveSite
    wave: Wave
    picker: User
    receiver: User
    sas: Location

    def ops(self) -> list[PickOrder]:
        return list(db.session.scalars(select(PickOrder).where(PickOrder.wave_id == self.wave.id)
                                       .order_by(PickOrder.zone_id, PickOrder.seq)))


def ean_for(product: Product) -> str:
    body = f"40{product.id:010d}"
    return body + str(gs1_check_digit(body))


def person(username: str, role: Role, warehouse_id: int, badge: str) -> User:
    user = User(username=username, display_name=username.title(), badge_code=badge, pin_hash=hash_secret(PIN))
    user.role_rows = [UserRole(role=role)]
    user.warehouse_rows = [UserWarehouse(warehouse_id=warehouse_id)]
    db.session.add(user)
    db.session.flush()
    return user


def build_world(*, orders: int = 2, quarantine: bool = False) -> PickWorld:
    """Zones A and B with stocked lanes, `orders` orders (2 units in A, 1 in B each), released as one wave."""
    site = build_site(orders=orders)
    for product in db.session.scalars(select(Product).order_by(Product.id)):
        catalog.add_barcode(product, ean_for(product))
    sas_zone = layout.add_zone(site.warehouse, "SAS", ZoneKind.SAS)
    sas = layout.add_floor_location(sas_zone, "SAS-01")
    if quarantine:
        layout.add_floor_location(layout.add_zone(site.warehouse, "QT", ZoneKind.QUARANTINE), "QT-01")
    wave = waves.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    waves.release_wave(wave, None)
    picker = person("pia", Role.PICKER, site.warehouse.id, "B-PIA")
    receiver = person("remi", Role.RECEIVER, site.warehouse.id, "B-REMI")
    return PickWorld(site, wave, picker, receiver, sas)


# --- a live server and a phone-sized browser for the Playwright tests ----------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "handheld"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 360, "height": 640}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The test app served on 127.0.0.1 by a threaded werkzeug server; stop() and start() again on the same port
    make the network really go away and come back."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)


@pytest.fixture
def live_app(database_url: str) -> Iterator[Flask]:
    """The app with CSRF on (as in production), over a fresh database."""
    from tests.conftest import _truncate_all, make_test_app

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True, SESSION_COOKIE_SECURE=False,
                        REMEMBER_COOKIE_SECURE=False)
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def phone(live_server: LiveServer) -> Iterator[Any]:
    """A 360×640 touch browser context."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, has_touch=True, is_mobile=True,
                                          base_url=live_server.base_url, locale="en-GB")
            yield context
            context.close()
        finally:
            browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def badge_sign_in(page: Any, badge: str) -> None:
    page.goto("/auth/badge")
    page.fill("#badge", badge)
    page.fill("#pin", PIN)
    page.keyboard.press("Enter")
    page.wait_for_url("**/hh/")


def wedge(page: Any, code: str) -> None:
    """What a keyboard-wedge scanner does: type into whatever has the focus, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def wait_sent(page: Any, timeout: float = 20_000) -> None:
    wait_for_js(page, "document.getElementById('hh-pending').hidden", timeout=timeout)


def wait_for_shell_cached(page: Any) -> None:
    wait_for_js(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=20_000)
    wait_for_js(page, "caches.match('/hh/pick').then(r => !!r)", timeout=20_000)


def wait_until(check: Any, what: str, timeout: float = 30.0) -> None:
    """Poll `check()` (e.g. the database) until true: the device sends its queue in the background."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def op_done(app: Flask, op_id: int) -> bool:
    from wms.waves.models import PickOrderStatus

    with app.app_context():
        op = db.session.get(PickOrder, op_id)
        done = op is not None and op.status == PickOrderStatus.DONE
        return done
