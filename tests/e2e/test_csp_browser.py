"""The CSP watch of tests/e2e/conftest.py sees what Chromium refuses: a page served with the app's policy and an
inline script, an inline style and a style attribute yields violations (which this test then clears), while the
same policy over a page with its script and style in files yields none."""

from __future__ import annotations

from tests.e2e.browser_support import wait_for_js
from tests.e2e.handheld_support import CHROMIUM_ARGS
from wms.csp import POLICY

ORIGIN = "http://csp.test"
FILES = {
    "/app.js": ("text/javascript", 'document.body.dataset.ran = "yes";'),
    "/app.css": ("text/css", "p { color: rgb(1, 2, 3); }"),
    "/clean": ("text/html", '<!doctype html><link rel="stylesheet" href="/app.css"><p>ok</p>'
                            '<script type="application/json" id="data">{"a": 1}</script>'
                            '<script src="/app.js"></script>'),
    "/dirty": ("text/html", '<!doctype html><style>p { color: red; }</style><p style="color: blue">x</p>'
                            '<script>document.body.dataset.ran = "inline";</script>'),
}


def serve(route) -> None:  # type: ignore[no-untyped-def]
    path = route.request.url.removeprefix(ORIGIN)
    if path not in FILES:
        route.fulfill(status=204, body="")  # the report endpoint, and anything else
        return
    content_type, body = FILES[path]
    route.fulfill(status=200, body=body, headers={"Content-Type": content_type, "Content-Security-Policy": POLICY})


def test_the_watch_reports_inline_code_refused_by_the_policy_and_nothing_for_files(csp_violations):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route(f"{ORIGIN}/**", serve)
            page.goto(f"{ORIGIN}/clean")
            wait_for_js(page, "document.body.dataset.ran === 'yes'")
            assert page.evaluate("getComputedStyle(document.querySelector('p')).color") == "rgb(1, 2, 3)"
            page.wait_for_timeout(300)  # an event would arrive within this
            assert csp_violations == []

            page.goto(f"{ORIGIN}/dirty")
            wait_for_js(page, "(window.__cspViolations || []).length >= 3")
            assert page.evaluate("document.body.dataset.ran") is None
            page.wait_for_timeout(300)
        finally:
            browser.close()
    seen = "\n".join(csp_violations)
    assert "style-src-elem" in seen and "style-src-attr" in seen and "script-src-elem" in seen
    assert "console" in seen  # Chromium's own "Refused to ..." lines are caught too
    csp_violations.clear()  # expected here: the watch's teardown must not fail this test
