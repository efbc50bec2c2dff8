"""Browser tests' shared parts: gunicorn serving the test database, and waiting on the page's state under the
app's Content-Security-Policy.

Playwright's `page.wait_for_function` evaluates its predicate with `eval()` inside the page, which a policy
without 'unsafe-eval' refuses (an EvalError, and a violation the CSP watch of conftest.py reports).
`page.evaluate` goes through the DevTools protocol, which the policy does not govern: polling with it waits the
same way."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Error, Page

ROOT = Path(__file__).resolve().parents[2]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def gunicorn_on(database_url: str, secret_key: str, port: int) -> Iterator[str]:
    """gunicorn (deploy/gunicorn.conf.py, 1 worker x 4 threads) serving the test database over plain HTTP on
    127.0.0.1:`port`; yields its base URL once it answers. The test app's secret key: the TOTP secrets and
    credentials the test stored are encrypted with it."""
    env = {**os.environ, "WMS_DATABASE_URL": database_url, "WMS_SECRET_KEY": secret_key,
           "WMS_BIND": f"127.0.0.1:{port}", "WMS_WORKERS": "1", "WMS_THREADS": "4",
           "WMS_SESSION_COOKIE_SECURE": "false", "WMS_REMEMBER_COOKIE_SECURE": "false"}
    env.pop("WMS_CONFIG", None)
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "deploy/gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: output.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not healthy(base + "/api/v1/health"):
            assert process.poll() is None, "gunicorn exited:\n" + "".join(output)
            assert time.monotonic() < deadline, "gunicorn never answered:\n" + "".join(output)
            time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()


def wait_for_js(page: Page, expression: str, timeout: float = 20_000) -> Any:
    """Poll `expression` (a JavaScript expression, promises awaited) until it is truthy; its value."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            value = page.evaluate(expression)
        except Error as exc:  # a navigation replaced the document between two polls: ask the new one
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} ms waiting for {expression}"
        page.wait_for_timeout(50)
