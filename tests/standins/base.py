"""What every platform stand-in shares: a real HTTP server on 127.0.0.1, request validation against the
schemas written from the platform's documentation, the platform's rate limit, and faults on demand.

A stand-in is a Flask app (its routes written from the platform's published API) served by werkzeug's threaded
server in a background thread. Tests drive its faults (`fail_next`, `delay_next`, `drop_next_webhooks`) and read
what it received (`calls`). A request that breaks the documented schema is answered the way the platform
answers it and recorded in `violations`; tests assert there are none.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

S = TypeVar("S", bound="StandIn")

SCHEMAS = Path(__file__).parent / "schemas"


def load_schema(platform: str, name: str) -> dict[str, Any]:
    """tests/standins/schemas/<platform>/<name>.json"""
    return json.loads((SCHEMAS / platform / f"{name}.json").read_text())


def schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    """Every way `document` breaks `schema` (empty when it is valid)."""
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(document)]


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    at: float = field(default_factory=time.monotonic)


class Bucket:
    """The platform's limit as the platform applies it: `rate` a second, `burst` at once (thread-safe)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.level = burst
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self, cost: float = 1.0) -> float | None:
        """Take `cost`; None when allowed, else the seconds until it would be."""
        with self.lock:
            now = time.monotonic()
            self.level = min(self.burst, self.level + (now - self.at) * self.rate)
            self.at = now
            if self.level >= cost:
                self.level -= cost
                return None
            return (cost - self.level) / self.rate

    def available(self) -> float:
        with self.lock:
            now = time.monotonic()
            return min(self.burst, self.level + (now - self.at) * self.rate)


class StandIn:
    """Base of a platform stand-in. Subclasses add routes in `routes(app)` and their own state."""

    platform = "standin"

    def __init__(self) -> None:
        self.app = Flask(f"standin-{self.platform}")
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._faults: list[tuple[Callable[[Call], bool], int, float, str | None]] = []
        self._dropped_webhooks = 0
        self.webhooks_sent: list[tuple[str, int | None]] = []
        self.app.before_request(self._before)
        self.app.after_request(self._after)
        self.routes(self.app)
        self._server = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> StandIn:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"standin-{self.platform}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serving(self: S) -> Iterator[S]:
        """For a fixture: `yield from StandInX().serving()` starts it, yields it, and after the test checks that
        no request broke the platform's documented schema, then stops it."""
        self.start()
        try:
            yield self
            assert self.violations == [], self.violations
        finally:
            self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- to override -----------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        raise NotImplementedError

    # --- faults ------------------------------------------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 503, *, path: str | None = None, delay: float = 0.0,
                  body: str | None = None) -> None:
        """The next `count` requests (to paths containing `path`) answer `status` (0: hang `delay` s, then drop)."""
        for _ in range(count):
            self._faults.append((lambda c, p=path: p is None or p in c.path, status, delay, body))

    def delay_next(self, count: int, seconds: float, *, path: str | None = None) -> None:
        """The next `count` requests wait `seconds` before being answered normally (a timeout for the caller)."""
        for _ in range(count):
            self._faults.append((lambda c, p=path: p is None or p in c.path, -1, seconds, None))

    def drop_next_webhooks(self, count: int = 1) -> None:
        """The next `count` webhooks are never sent (the platform lost them)."""
        with self.lock:
            self._dropped_webhooks += count

    def _before(self) -> Response | None:
        call = Call(request.method, request.path, request.args.to_dict(flat=False),
                    {k: v for k, v in request.headers.items()}, request.get_data(cache=True))
        request.environ["standin.call"] = call
        with self.lock:
            self.calls.append(call)
            fault = next((f for f in self._faults if f[0](call)), None)
            if fault is None:
                return None
            self._faults.remove(fault)
        _matches, status, delay, body = fault
        if delay:
            time.sleep(delay)
        if status == -1:
            return None
        if status == 0:
            raise ConnectionAbortedError("stand-in dropped the connection")
        return Response(body if body is not None else json.dumps({"error": "stand-in fault"}), status=status,
                        content_type="application/json")

    def _after(self, resp: Response) -> Response:
        call = request.environ.get("standin.call")
        if call is not None:
            call.status = resp.status_code
        return resp

    # --- helpers for subclasses --------------------------------------------------------------------------------
    def violation(self, what: str) -> None:
        """Record a request that breaks the platform's documented contract."""
        with self.lock:
            self.violations.append(f"{request.method} {request.path}: {what}")

    def check(self, platform_schema: str, document: Any) -> list[str]:
        """Validate against tests/standins/schemas/<platform>/<name>.json; violations are recorded."""
        errors = schema_errors(load_schema(self.platform, platform_schema), document)
        for e in errors:
            self.violation(e)
        return errors

    def send_webhook(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        """POST a webhook as the platform does (unless it is to be dropped); returns the status or None."""
        with self.lock:
            if self._dropped_webhooks:
                self._dropped_webhooks -= 1
                self.webhooks_sent.append((url, None))
                return None
        try:
            status = requests.post(url, data=body, headers=headers, timeout=10).status_code
        except requests.RequestException:
            status = None
        with self.lock:
            self.webhooks_sent.append((url, status))
        return status

    def calls_to(self, fragment: str, method: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if fragment in c.path and (method is None or c.method == method)]
