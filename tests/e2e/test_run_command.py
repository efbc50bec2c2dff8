"""The README's run command really serves the demo: a supervisor signs in, enrols TOTP and reaches home."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest

from wms.demo.users import DEMO_USERS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DemoServer:
    process: subprocess.Popen[str]
    base_url: str
    print_dir: Path
    output: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.output)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    port = _free_port()
    env = {**os.environ, "WMS_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
           "WMS_SECRET_KEY": secrets.token_urlsafe(32), "WMS_WORKERS": "2",
           "PRINTSERVER_STATE_DIR": str(tmp_path / "printserver")}
    env.pop("WMS_CONFIG", None)
    process = subprocess.Popen([str(ROOT / "scripts" / "demo"), "--port", str(port)], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    server = DemoServer(process=process, base_url=f"http://127.0.0.1:{port}", print_dir=tmp_path / "printserver")
    reader = threading.Thread(target=lambda: server.output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        # Ready when it says so: the banner comes once the web app answers and the workers are started.
        while "Stop with Ctrl-C." not in server.text or not _healthy(server.base_url + "/api/v1/health"):
            assert process.poll() is None, f"scripts/demo exited with {process.returncode}:\n{server.text}"
            assert time.monotonic() < deadline, f"the demo never answered /api/v1/health:\n{server.text}"
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        process.stdout.close()


def test_run_command_prints_the_addresses_and_the_demo_sign_ins(demo_server: DemoServer) -> None:
    banner = demo_server.text
    base = demo_server.base_url
    for url in (f"{base}/ ", f"{base}/hh/", f"{base}/api/v1/openapi.json"):
        assert url.strip() in banner
    for user in DEMO_USERS:
        assert user.username in banner and user.password in banner
        if user.badge:
            assert f"badge {user.badge} PIN {user.pin}" in banner
    assert "Secure cookies" in banner
    assert "print daemon runs with virtual printers" in banner
    assert f"{base}/warehouses/DEMO/printers" in banner


def test_the_label_folder_is_named_before_the_demo_says_how_to_stop(demo_server: DemoServer) -> None:
    text = demo_server.text
    labels = text.index(f"Print daemon: labels land in {demo_server.print_dir}/labels/")
    assert text.index("Rack-zone WMS demo is running") < labels < text.index("Stop with Ctrl-C.")
    assert text.count("Stop with Ctrl-C.") == 1


def test_the_print_daemon_starts_once_the_web_app_answers(demo_server: DemoServer) -> None:
    log = demo_server.print_dir / "daemon.log"
    deadline = time.monotonic() + 60
    while "printserver demo-daemon started" not in (log.read_text() if log.exists() else ""):
        assert demo_server.process.poll() is None, demo_server.text
        assert time.monotonic() < deadline, f"the print daemon never started:\n{log.read_text()}"
        time.sleep(0.2)
    text = log.read_text()
    assert "WMS unreachable" not in text and "cannot fetch the printers" not in text, text
    assert "started: 0 printer(s)" not in text, text


def test_demo_supervisor_signs_in_enrols_totp_and_reaches_home(demo_server: DemoServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    supervisor = next(u for u in DEMO_USERS if u.username == "supervisor")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(demo_server.base_url + "/")
            page.wait_for_url("**/auth/login**")
            page.fill("#username", supervisor.username)
            page.fill("#password", supervisor.password)
            page.click("form.form button[type=submit]")

            page.wait_for_url("**/auth/totp/enrol**")
            secret = page.locator("#totp-secret").inner_text().strip()
            page.fill("#code", pyotp.TOTP(secret).now())
            page.click("form.form button[type=submit]")

            continue_link = page.locator("a.button.primary")
            expect(page.locator("ol.recovery-codes li")).not_to_have_count(0)
            continue_link.click()
            page.wait_for_url(demo_server.base_url + "/")
            expect(page.locator("header .who")).to_have_text(supervisor.display_name)
        finally:
            browser.close()

    demo_server.process.send_signal(signal.SIGTERM)
    assert demo_server.process.wait(timeout=60) == 0
