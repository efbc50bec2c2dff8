"""The shipped gunicorn config (several workers, threads each) serving a given database on a free loopback port,
and clients that hit it all at once: races between real processes, not threads of one test client."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.e2e.test_run_command import _free_port

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4  # several processes whatever the machine's CPU count (the config's default is 2 x CPUs + 1)


def _healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def gunicorn(database_url: str, secret_key: str) -> Iterator[str]:
    """Serve `database_url` with deploy/gunicorn.conf.py; yields the base URL; stops the server on exit."""
    port = _free_port()
    env = {**os.environ, "WMS_DATABASE_URL": database_url, "WMS_SECRET_KEY": secret_key,
           "WMS_BIND": f"127.0.0.1:{port}", "WMS_WORKERS": str(WORKERS), "WMS_ACCESS_LOG": "/dev/null"}
    env.pop("WMS_CONFIG", None)
    env.pop("WMS_THREADS", None)  # the shipped default
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "deploy/gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _all_workers_up(output) or not _healthy(base + "/api/v1/health"):
            assert process.poll() is None, "gunicorn exited:\n" + "".join(output)
            assert time.monotonic() < deadline, "gunicorn never answered:\n" + "".join(output)
            time.sleep(0.2)
        yield base
    except BaseException:
        print("gunicorn said:\n" + "".join(output[-200:]))  # shown by pytest with the failure
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]


def _all_workers_up(output: list[str]) -> bool:
    return sum("Booting worker" in line for line in list(output)) >= WORKERS


def at_once(calls: list[Callable[[requests.Session], requests.Response]]) -> list[requests.Response]:
    """Run every call from its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[requests.Session], requests.Response]) -> requests.Response:
        with requests.Session() as http:
            barrier.wait()
            return call(http)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def channel_headers(token: str, key: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
