"""The Content-Security-Policy every response carries, and the endpoint browsers report violations to.

The policy allows scripts, styles, fonts, frames' parents and forms only from the app's own origin, and no inline
code at all: templates hold no <script> blocks (JSON data blocks excepted: they are never executed), no on*=
handlers, no style= attributes and no <style> elements; scripts and styles live in static files. Images may also
be data: and blob: URLs (previews drawn in the page), media blob: URLs (ZXing's camera fallback for browsers
without ``srcObject``). The camera itself (getUserMedia) needs no source."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request

from wms.errors import problem_response

log = logging.getLogger("wms.csp")

REPORT_PATH = "/csp-report"
REPORT_GROUP = "csp"
MAX_REPORT_BYTES = 8 * 1024
REPORTS_PER_MINUTE = 60

POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "worker-src 'self'",
    "manifest-src 'self'",
    f"report-uri {REPORT_PATH}",
    f"report-to {REPORT_GROUP}",
])

bp = Blueprint("csp", __name__)


def set_headers(response: Response) -> None:
    """Put the policy (and where its reports go) on a response that has none of its own."""
    response.headers.setdefault("Content-Security-Policy", POLICY)
    response.headers.setdefault("Reporting-Endpoints", f'{REPORT_GROUP}="{REPORT_PATH}"')


class _Budget:
    """At most `per_minute` reports logged per process and minute: a page in a loop cannot flood the log."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._minute = 0
        self._used = 0

    def take(self) -> bool:
        minute = int(self.clock() // 60)
        with self._lock:
            if minute != self._minute:
                self._minute, self._used = minute, 0
            if self._used >= self.per_minute:
                return False
            self._used += 1
            return True


def _budget() -> _Budget:
    per_minute = int(current_app.config.get("CSP_REPORTS_PER_MINUTE", REPORTS_PER_MINUTE))
    return current_app.extensions.setdefault("csp_report_budget", _Budget(per_minute))


def _problem(status: int, slug: str, title: str, detail: str) -> Response:
    return problem_response({"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail})


def _violations(body: object) -> list[dict]:
    """The violations of a report-uri body ({"csp-report": {...}}) or a Reporting API batch ([{type, body}])."""
    if isinstance(body, dict) and isinstance(body.get("csp-report"), dict):
        return [body["csp-report"]]
    if isinstance(body, list):
        return [item["body"] for item in body if isinstance(item, dict) and isinstance(item.get("body"), dict)
                and item.get("type") == "csp-violation"]
    return []


FIELDS = ("document-uri", "documentURL", "violated-directive", "effectiveDirective", "effective-directive",
          "blocked-uri", "blockedURL", "source-file", "sourceFile", "line-number", "lineNumber", "sample")


@bp.post(REPORT_PATH)
def report():  # type: ignore[no-untyped-def]
    """Log the violations a browser reports (no sign-in: the browser sends no cookie-bound token); 204."""
    length = request.content_length
    if length is None:
        return _problem(411, "length-required", "Length Required", "A violation report carries a Content-Length.")
    if length > MAX_REPORT_BYTES:
        resp = _problem(413, "payload-too-large", "Payload Too Large",
                        f"A violation report is at most {MAX_REPORT_BYTES} bytes.")
        resp.headers["Connection"] = "close"
        return resp
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "malformed-request", "Bad Request", "A violation report is a JSON document.")
    violations = _violations(body)
    if not violations:
        return _problem(400, "malformed-request", "Bad Request", "No CSP violation in this report.")
    if not _budget().take():
        resp = _problem(429, "too-many-attempts", "Too Many Requests", "Too many violation reports; try later.")
        resp.headers["Retry-After"] = "60"
        return resp
    for violation in violations[:10]:
        fields = {k: str(violation[k])[:300] for k in FIELDS if violation.get(k) not in (None, "")}
        log.warning("CSP violation %s", json.dumps(fields, sort_keys=True))
    return current_app.response_class(status=204)
