"""`wms jobs worker` as a real process on the suite's PostgreSQL: a SIGTERM lets the running job finish and the
worker exit 0; a SIGKILL leaves the job `doing` until the stalled-jobs rescue puts it back, and another worker then
completes it, once.

The running job is a real one, a webhook delivery (webhooks.deliver_due), made slow from outside: the channel's
receiver holds each request until the test lets it answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from tests.integration.test_webhooks import SECRET
from tests.jobs_support import jobs  # noqa: F401  (fixture)
from wms.db import db
from wms.layout import services as layout
from wms.orders.models import Channel, ChannelKind
from wms.webhooks import outbox
from wms.webhooks.dispatcher import SIGNATURE_HEADER, verify
from wms.webhooks.jobs import DELIVER_TASK
from wms.webhooks.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "test-secret-key-not-for-production"  # the test app's (tests/conftest.py): it decrypts the channel secret
STALLED_AFTER_S = 3
WAIT_S = 60


class HoldingReceiver:
    """A channel's webhook endpoint on 127.0.0.1 that holds every request until `release` is set."""

    def __init__(self) -> None:
        self.arrived: list[int] = []  # event ids, in the order the requests came
        self.first_arrival = threading.Event()
        self.release = threading.Event()
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not verify(SECRET, self.headers.get(SIGNATURE_HEADER, ""), body):
                    outer.bad_signatures += 1
                outer.arrived.append(json.loads(body)["id"])
                outer.first_arrival.set()
                outer.release.wait(WAIT_S)
                try:
                    self.send_response(204)
                    self.end_headers()
                except OSError:
                    pass  # the worker that asked was killed meanwhile

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HoldingReceiver]:
    r = HoldingReceiver()
    yield r
    r.close()


@pytest.fixture
def event_id(app, jobs, receiver: HoldingReceiver) -> int:  # noqa: F811  # type: ignore[no-untyped-def]
    """One committed stock event for a channel whose receiver is `receiver`: one deliver_due job waits."""
    with app.app_context():
        wh = layout.create_warehouse("WH", "Warehouse")
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=wh.id,
                          webhook_url=receiver.url, webhook_secret=SECRET)
        db.session.add(channel)
        db.session.commit()
        event = outbox.emit(channel, "stock.changed", "stock:WH:MUG", {"sku": "MUG", "available": 3})
        db.session.commit()
        return event.id


class Workers:
    """`wms jobs worker` processes on the test database; every one still running is killed at the end."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("WMS_") and not key.startswith("PRINTSERVER_")}
        env.update(WMS_DATABASE_URL=self.database_url, WMS_SECRET_KEY=SECRET_KEY,
                   WMS_JOBS_STALLED_AFTER_S=str(STALLED_AFTER_S), PYTHONUNBUFFERED="1")
        return env

    def start(self, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "wms"), "jobs", "worker", "--name", name],
                                       cwd=ROOT, env=self.env(), stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT)
        self.started.append(process)
        return process, log

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(ROOT / ".venv" / "bin" / "wms"), *args], cwd=ROOT, env=self.env(),
                              capture_output=True, text=True, timeout=WAIT_S, check=False)

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(database_url, tmp_path)
    yield w
    w.kill_all()


def _until(what: str, check, process: subprocess.Popen[bytes] | None = None, log: Path | None = None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not (result := check()):
        if process is not None and process.poll() is not None:
            pytest.fail(f"the worker exited ({process.returncode}) before {what}:\n{log.read_text() if log else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"never {what}:\n{log.read_text() if log else ''}")
        time.sleep(0.1)
    return result


def _deliver_jobs(database_url: str) -> list[tuple[int, str]]:
    with psycopg.connect(database_url) as conn:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT id, status::text FROM procrastinate_jobs WHERE task_name = %s ORDER BY id", (DELIVER_TASK,))]


def _delivery_state(app, event_id: int) -> tuple[bool, int, list[int | None]]:  # type: ignore[no-untyped-def]
    """(delivered?, attempts, the status code of each recorded delivery) of the event."""
    with app.app_context():
        event = db.session.get(WebhookEvent, event_id)
        codes = list(db.session.scalars(select(WebhookDelivery.status_code).where(
            WebhookDelivery.event_id == event_id).order_by(WebhookDelivery.id)))
        return event.delivered_at is not None, event.attempts, codes


def test_sigterm_lets_the_running_job_finish_and_the_worker_exits_0(app, event_id: int, receiver: HoldingReceiver,  # type: ignore[no-untyped-def]
                                                                     workers: Workers, database_url: str) -> None:
    [(job_id, status)] = _deliver_jobs(database_url)
    assert status == "todo"
    worker, log = workers.start("term-worker")
    _until("the delivery reached the receiver", receiver.first_arrival.is_set, worker, log)
    assert _deliver_jobs(database_url) == [(job_id, "doing")]

    worker.send_signal(signal.SIGTERM)
    _until("the worker took the stop", lambda: "Stop requested" in log.read_text(), worker, log)
    assert worker.poll() is None, log.read_text()  # still waiting for its running job
    assert _delivery_state(app, event_id) == (False, 0, [])

    receiver.release.set()
    assert worker.wait(timeout=WAIT_S) == 0, log.read_text()
    assert "jobs worker stopped" in log.read_text()
    assert _deliver_jobs(database_url) == [(job_id, "succeeded")]
    assert _delivery_state(app, event_id) == (True, 1, [204])
    assert receiver.arrived == [event_id] and receiver.bad_signatures == 0


def test_a_job_of_a_killed_worker_stays_doing_until_rescued_then_another_worker_completes_it_once(  # type: ignore[no-untyped-def]
        app, event_id: int, receiver: HoldingReceiver, workers: Workers, database_url: str) -> None:
    [(job_id, _)] = _deliver_jobs(database_url)
    killed, log = workers.start("killed-worker")
    _until("the delivery reached the receiver", receiver.first_arrival.is_set, killed, log)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=WAIT_S) == -signal.SIGKILL

    # Nobody finishes it: the job stays `doing`, and the half-done delivery was rolled back with the worker.
    assert _deliver_jobs(database_url) == [(job_id, "doing")]
    assert _delivery_state(app, event_id) == (False, 0, [])
    assert "0 stalled job(s)" in workers.cli("jobs", "retry-stalled").stdout  # its heartbeat is still fresh

    def heartbeat_is_stale() -> bool:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT now() - w.last_heartbeat > make_interval(secs => %s) FROM procrastinate_workers w "
                "JOIN procrastinate_jobs j ON j.worker_id = w.id WHERE j.id = %s", (STALLED_AFTER_S, job_id)).fetchone()
        return bool(row and row[0])

    _until("the killed worker's heartbeat went stale", heartbeat_is_stale)
    assert _deliver_jobs(database_url) == [(job_id, "doing")]
    rescued = workers.cli("jobs", "retry-stalled")
    assert rescued.returncode == 0, rescued.stderr
    assert f"1 stalled job(s) queued again: {job_id}" in rescued.stdout
    assert _deliver_jobs(database_url) == [(job_id, "todo")]

    receiver.release.set()  # from now on the receiver answers at once
    survivor, log = workers.start("survivor-worker")
    _until("the rescued job succeeded", lambda: _deliver_jobs(database_url) == [(job_id, "succeeded")], survivor, log)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=WAIT_S) == 0, log.read_text()

    # The receiver saw the event twice (the killed worker's attempt got no answer: at-least-once, same event id);
    # the WMS recorded one delivery, and the job ran to its end once.
    assert receiver.arrived == [event_id, event_id] and receiver.bad_signatures == 0
    assert _delivery_state(app, event_id) == (True, 1, [204])
    with psycopg.connect(database_url) as conn:
        ends = conn.execute("SELECT type::text, count(*) FROM procrastinate_events WHERE job_id = %s "
                            "AND type IN ('started', 'succeeded', 'failed') GROUP BY 1 ORDER BY 1", (job_id,)).fetchall()
    assert ends == [("started", 2), ("succeeded", 1)]

