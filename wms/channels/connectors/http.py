"""The HTTP client every connector uses: paced within the platform's limit, errors turned into ConnectorErrors.

Pacing is a token bucket per (platform, base URL) shared by the threads of one process, so one worker never
hammers a platform into 429s; a 429 (or the platform's own "slow down") still raises RateLimited with the
platform's Retry-After, and the job that met it is retried after that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import requests

from wms.channels.connectors.base import (
    AuthFailed,
    ConnectorError,
    RateLimit,
    RateLimited,
    Rejected,
    Unavailable,
)
from wms.retry import note_outside_effect


class TokenBucket:
    """`rate` tokens a second up to `burst`; `take()` waits for one (thread-safe)."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic, sleep=time.sleep) -> None:  # type: ignore[no-untyped-def]
        self.rate, self.burst = rate, max(1, burst)
        self.tokens = float(self.burst)
        self.clock, self.sleep = clock, sleep
        self.at = clock()
        self.lock = threading.Lock()

    def take(self, cost: float = 1.0) -> float:
        """Wait until `cost` tokens are there, take them; returns the seconds waited."""
        waited = 0.0
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= cost:
                    self.tokens -= cost
                    return waited
                pause = (cost - self.tokens) / self.rate
            self.sleep(pause)
            waited += pause

    def drain_for(self, seconds: float) -> None:
        """The platform asked for a pause: no call leaves before it ends."""
        with self.lock:
            self.tokens = min(self.tokens, -seconds * self.rate)
            self.at = self.clock()


_buckets: dict[tuple[str, str], TokenBucket] = {}
_buckets_lock = threading.Lock()


def bucket_for(kind: str, base_url: str, limit: RateLimit) -> TokenBucket:
    """The process-wide bucket of one platform account."""
    with _buckets_lock:
        key = (kind, base_url)
        if key not in _buckets:
            _buckets[key] = TokenBucket(limit.rate, limit.burst)
        return _buckets[key]


def retry_after_s(value: str | None, default: float = 2.0) -> float:
    """Seconds from a Retry-After header (delta-seconds; an HTTP date or garbage gives the default)."""
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


class PlatformHttp:
    """A requests session for one channel's platform, paced by its bucket."""

    def __init__(self, kind: str, base_url: str, limit: RateLimit, *, timeout: float = 15.0,
                 headers: Mapping[str, str] | None = None, auth: Any = None) -> None:
        self.kind = kind
        self.base_url = base_url.rstrip("/")
        self.bucket = bucket_for(kind, self.base_url, limit)
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": "rackzone-wms/0.1", **(headers or {})})
        if auth is not None:
            self.session.auth = auth

    def request(self, method: str, path: str, *, cost: float = 1.0, ok: tuple[int, ...] = (),
                **kwargs: Any) -> requests.Response:
        """One paced call; 2xx (and the statuses in `ok`) are returned, anything else raises a ConnectorError."""
        self.bucket.take(cost)
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        if method.upper() != "GET":
            note_outside_effect()
        try:
            resp = self.session.request(method, url, timeout=kwargs.pop("timeout", self.timeout), **kwargs)
        except requests.Timeout as exc:
            raise Unavailable(f"{self.kind}: no answer within {self.timeout:g} s ({method} {path})") from exc
        except requests.RequestException as exc:
            raise Unavailable(f"{self.kind}: cannot reach {self.base_url} ({exc.__class__.__name__})") from exc
        if 200 <= resp.status_code < 300 or resp.status_code in ok:
            return resp
        raise error_for(self.kind, method, path, resp, self.bucket)


def error_for(kind: str, method: str, path: str, resp: requests.Response, bucket: TokenBucket | None = None
              ) -> ConnectorError:
    """The ConnectorError a non-2xx answer means."""
    body = resp.text[:2000]
    where = f"{kind}: {method} {path} answered {resp.status_code}"
    if resp.status_code == 429:
        wait = retry_after_s(resp.headers.get("Retry-After"))
        if bucket is not None:
            bucket.drain_for(wait)
        return RateLimited(f"{where} (rate limited, retry in {wait:g} s)", status=429, retry_after=wait, body=body)
    if resp.status_code in (401, 403):
        return AuthFailed(f"{where}: the credentials were refused", status=resp.status_code, body=body)
    if resp.status_code >= 500 or resp.status_code in (408, 425):
        return Unavailable(f"{where}", status=resp.status_code,
                           retry_after=retry_after_s(resp.headers.get("Retry-After"), 5.0), body=body)
    return Rejected(f"{where}: {body[:300]}", status=resp.status_code, body=body)
