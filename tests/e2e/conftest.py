"""Browser tests share the machine with gunicorn, PostgreSQL, CUPS and the print daemon: on a loaded CI box a
screen may take seconds to follow the server's answer, so Playwright's assertions wait up to 20 s (not 5).

Every page a browser test opens is watched for Content-Security-Policy violations: each context or page made by
`Browser.new_context` / `Browser.new_page` during a test gets a `securitypolicyviolation` listener (an init script
that hands each event to Python through a binding) and a console listener (Chromium logs "Refused to ..." and
"Content Security Policy" lines); a test during which any was seen fails at teardown, naming them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

expect.set_options(timeout=20_000)

CSP_BINDING = "__reportCspViolation"
CSP_LISTENER = """
window.addEventListener("securitypolicyviolation", (e) => {
  const seen = {page: document.location.href, directive: e.effectiveDirective || e.violatedDirective,
                blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample};
  (window.__cspViolations = window.__cspViolations || []).push(seen);
  if (window.BINDING) { window.BINDING(seen); }
}, true);
""".replace("BINDING", CSP_BINDING)
CONSOLE_SIGNS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


def watch_for_csp_violations(target: Any, seen: list[str]) -> None:
    """Record into `seen` every CSP violation a page (or every page of a context) reports."""
    target.expose_binding(CSP_BINDING, lambda _source, event: seen.append(f"securitypolicyviolation {event}"))
    target.add_init_script(CSP_LISTENER)

    def on_console(message: Any) -> None:
        if any(sign in message.text for sign in CONSOLE_SIGNS):
            seen.append(f"console {message.type}: {message.text}")

    target.on("console", on_console)


@pytest.fixture(autouse=True)
def csp_violations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The CSP violations seen by the browsers of this test; the test fails at teardown when there are any."""
    seen: list[str] = []
    new_context, new_page = Browser.new_context, Browser.new_page

    def watched_context(self: Browser, *args: Any, **kwargs: Any) -> Any:
        context = new_context(self, *args, **kwargs)
        watch_for_csp_violations(context, seen)
        return context

    def watched_page(self: Browser, *args: Any, **kwargs: Any) -> Any:
        page = new_page(self, *args, **kwargs)
        watch_for_csp_violations(page, seen)
        return page

    monkeypatch.setattr(Browser, "new_context", watched_context)
    monkeypatch.setattr(Browser, "new_page", watched_page)
    yield seen
    assert not seen, "Content-Security-Policy violations:\n" + "\n".join(seen)
