"""The README's run command really serves the demo: a supervisor signs in, enrols TOTP and reaches home; its job
worker runs jobs on the demo's private PostgreSQL, and Ctrl-C stops it, then that database."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
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
    jobs_pg_dir: Path
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


@contextlib.contextmanager
def _demo(tmp_path: Path, held: socket.socket | None = None) -> Iterator[DemoServer]:
    """scripts/demo on a fresh SQLite file, ready once it says how to stop and answers.

    With `held`, a listening socket that never answers holds the demo's port until gunicorn has failed to bind it
    three times: a web app that is slow to come up, whose clients connect but get no answer."""
    port = held.getsockname()[1] if held is not None else _free_port()
    # The private jobs cluster's folder: outside tmp_path, which the server's user (postgres, when the tests run as
    # root) cannot enter; a short path too (its unix socket lives there).
    jobs_root = Path(tempfile.mkdtemp(prefix="wms-demo-jobs-"))
    jobs_root.chmod(0o755)
    env = {**os.environ, "WMS_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db",
           "WMS_SECRET_KEY": secrets.token_urlsafe(32), "WMS_WORKERS": "2",
           "PRINTSERVER_STATE_DIR": str(tmp_path / "printserver"),
           "WMS_DEMO_TILL_TOKEN_FILE": str(tmp_path / "till-token"), "WMS_JOBS_PG_DIR": str(jobs_root / "jobs-pg")}
    env.pop("WMS_CONFIG", None)
    env.pop("WMS_JOBS_DATABASE_URL", None)
    # Its own session, as a terminal's foreground job: Ctrl-C is a SIGINT to the whole process group.
    process = subprocess.Popen([str(ROOT / "scripts" / "demo"), "--port", str(port)], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    server = DemoServer(process=process, base_url=f"http://127.0.0.1:{port}", print_dir=tmp_path / "printserver",
                        jobs_pg_dir=jobs_root / "jobs-pg")
    reader = threading.Thread(target=lambda: server.output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        # Ready when it says so: the banner comes once the web app answers and the workers are started.
        while "Stop with Ctrl-C." not in server.text or not _healthy(server.base_url + "/api/v1/health"):
            if held is not None and server.text.count("Connection in use") >= 3:
                held.close()
                held = None
            assert process.poll() is None, f"scripts/demo exited with {process.returncode}:\n{server.text}"
            assert time.monotonic() < deadline, f"the demo never answered /api/v1/health:\n{server.text}"
            time.sleep(0.2 if held is not None else 0.5)
        yield server
    finally:
        if held is not None:
            held.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        process.stdout.close()
        subprocess.run([str(ROOT / "scripts" / "jobs-pg"), "stop"], env=env, check=False, capture_output=True)
        shutil.rmtree(jobs_root, ignore_errors=True)


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    with _demo(tmp_path) as server:
        yield server


@pytest.fixture
def slow_demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(64)
    with _demo(tmp_path, held) as server:
        yield server


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
    assert f"{base}/api/v1/warehouses/SHOP/sales" in banner and f"Its token is in {demo_server.print_dir.parent}/till-token" in banner


def test_the_workers_start_once_the_web_app_answers_and_the_label_folder_comes_before_stop(
        slow_demo_server: DemoServer) -> None:
    assert "Connection in use" in slow_demo_server.text  # the web app really was slow to come up
    log = slow_demo_server.print_dir / "daemon.log"
    deadline = time.monotonic() + 60
    while "printserver demo-daemon started" not in (log.read_text() if log.exists() else ""):
        assert slow_demo_server.process.poll() is None, slow_demo_server.text
        assert time.monotonic() < deadline, f"the print daemon never started:\n{log.read_text()}"
        time.sleep(0.2)
    said = log.read_text()
    assert "WMS unreachable" not in said and "cannot fetch the printers" not in said, said
    assert "started: 0 printer(s)" not in said, said
    text = slow_demo_server.text
    labels = text.index(f"Print daemon: labels land in {slow_demo_server.print_dir}/labels/")
    assert text.index("Rack-zone WMS demo is running") < labels < text.index("Stop with Ctrl-C.")
    assert text.count("Stop with Ctrl-C.") == 1


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


def _succeeded_jobs(url: str) -> dict[str, int]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return dict(conn.execute("SELECT task_name, count(*) FROM procrastinate_jobs WHERE status = 'succeeded' "
                                 "GROUP BY 1").fetchall())


def test_the_demo_runs_a_job_worker_and_ctrl_c_stops_it_then_its_database(demo_server: DemoServer) -> None:
    text = demo_server.text
    jobs_log = demo_server.print_dir / "jobs.log"
    assert f"Job worker: log in {jobs_log}" in text
    assert f"(private cluster in {demo_server.jobs_pg_dir}, stopped at exit)" in text
    assert text.index("Job worker: log in") < text.index("Stop with Ctrl-C.")
    url = re.search(r"jobs database (postgresql://\S+)", text).group(1)  # type: ignore[union-attr]

    # The worker runs what is due: the periodic sweeps (webhooks every 5 s, channels every 10 s).
    deadline = time.monotonic() + 60
    while not {"webhooks.sweep", "channels.dispatch"} <= _succeeded_jobs(url).keys():
        assert demo_server.process.poll() is None, demo_server.text
        assert time.monotonic() < deadline, f"no job succeeded: {_succeeded_jobs(url)}\n{jobs_log.read_text()}"
        time.sleep(0.5)
    status = subprocess.run([str(ROOT / ".venv" / "bin" / "wms"), "jobs", "status"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "WMS_JOBS_DATABASE_URL": url,
                                                        "WMS_DATABASE_URL": f"sqlite:///{demo_server.print_dir.parent}/demo.db"})
    assert status.returncode == 0, status.stdout + status.stderr
    assert "workers: 1 alive" in status.stdout, status.stdout
    assert re.search(r"webhooks\s+webhooks.sweep\s+\d+\s+\d+\s+0\s+[1-9]", status.stdout), status.stdout

    os.killpg(demo_server.process.pid, signal.SIGINT)  # Ctrl-C in the demo's terminal
    assert demo_server.process.wait(timeout=120) == 0, demo_server.text
    said = jobs_log.read_text()
    assert "Stop requested" in said and said.rstrip().endswith("jobs worker stopped"), said
    assert "Traceback" not in said, said
    assert not (demo_server.jobs_pg_dir / "data" / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=5).close()
