"""Waiting on the page's state under the app's Content-Security-Policy.

Playwright's `page.wait_for_function` evaluates its predicate with `eval()` inside the page, which a policy
without 'unsafe-eval' refuses (an EvalError, and a violation the CSP watch of conftest.py reports).
`page.evaluate` goes through the DevTools protocol, which the policy does not govern: polling with it waits the
same way."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Error, Page


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
