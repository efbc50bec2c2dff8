"""Base class of adapters for carrier HTTP APIs: base URL from configuration, JSON in and out, timeouts,
and carrier failures turned into domain errors.

Uses the standard library's `urllib.request`: neither httpx nor urllib3 is a declared dependency of the
WMS, and a few JSON calls per parcel do not need one. Label and manifest downloads are only fetched from
the configured API origin (or hosts listed in `download_hosts`), so a carrier response cannot make the
WMS fetch arbitrary URLs.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wms.retry import note_outside_effect
from wms.shipping.carriers import Carrier
from wms.shipping.errors import CarrierResponseInvalid, CarrierUnavailable, ShippingInputInvalid

MAX_BODY_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CarrierResponseInvalid(
                f"The carrier answered HTTP {self.status} with a body that is not JSON"
            ) from exc


class HttpCarrier(Carrier, ABC):
    """A carrier reached over HTTP(S). Subclasses build requests with `request()` and read `HttpResponse`."""

    #: configuration keys read by `from_config`, after the adapter's prefix (e.g. SHIPENGINE_BASE_URL)
    CONFIG_KEYS = ("BASE_URL", "API_KEY", "TIMEOUT")

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float = 15.0,
        headers: Mapping[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
        download_hosts: tuple[str, ...] = (),
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url or "")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ShippingInputInvalid(f"The carrier base URL {base_url!r} is not an http(s) URL")
        if not 0 < timeout <= 300:
            raise ShippingInputInvalid("The carrier timeout is between 0 and 300 seconds")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = dict(headers or {})
        self._origin = (parsed.scheme, parsed.netloc)
        self._download_hosts = tuple(h.lower() for h in download_hosts)
        # proxies=None: the environment's proxy settings, as any HTTP client; {}: no proxy at all.
        handlers = [] if proxies is None else [urllib.request.ProxyHandler(dict(proxies))]
        self._opener = urllib.request.build_opener(*handlers)

    @staticmethod
    def config_values(config: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        """`{prefix}_BASE_URL`, `{prefix}_API_KEY`, `{prefix}_TIMEOUT` from a Flask-style config mapping."""
        base_url = config.get(f"{prefix}_BASE_URL")
        if not base_url:
            raise ShippingInputInvalid(f"{prefix}_BASE_URL is not configured")
        values: dict[str, Any] = {"base_url": base_url, "api_key": config.get(f"{prefix}_API_KEY") or ""}
        if config.get(f"{prefix}_TIMEOUT"):
            values["timeout"] = float(config[f"{prefix}_TIMEOUT"])
        return values

    def url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = self.base_url + "/" + path.lstrip("/")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        json_body: Any = None,
        query: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> HttpResponse:
        """Send one request; any HTTP status comes back as a response, transport failures and 5xx raise."""
        url = path_or_url if "://" in path_or_url else self.url(path_or_url, query)
        headers = {"Accept": accept, **self._headers}
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        note_outside_effect()  # a carrier may have acted on it: this request's transaction is not run twice
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                response = HttpResponse(resp.status, dict(resp.headers), resp.read(MAX_BODY_BYTES + 1))
        except urllib.error.HTTPError as exc:
            with exc:
                response = HttpResponse(exc.code, dict(exc.headers or {}), exc.read(MAX_BODY_BYTES + 1))
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, broken replies
            reason = getattr(exc, "reason", exc)
            raise CarrierUnavailable(f"{self.name} did not answer at {self.base_url}: {reason}") from exc
        if len(response.body) > MAX_BODY_BYTES:
            raise CarrierResponseInvalid(f"{self.name} answered more than {MAX_BODY_BYTES} bytes")
        if response.status >= 500:
            raise CarrierUnavailable(f"{self.name} answered HTTP {response.status}; try again later")
        if response.status in (401, 403):
            raise CarrierUnavailable(
                f"{self.name} refused our credentials (HTTP {response.status}); check the API key"
            )
        return response

    def download(self, url: str, *, accept: str = "*/*") -> bytes:
        """Fetch a document the carrier pointed to, only from the API origin or an allowed download host."""
        parsed = urllib.parse.urlsplit(url)
        same_origin = (parsed.scheme, parsed.netloc) == self._origin
        allowed_host = parsed.scheme == "https" and (parsed.hostname or "").lower() in self._download_hosts
        if not (same_origin or allowed_host):
            raise CarrierResponseInvalid(f"{self.name} pointed to a download outside its API: {url}")
        response = self.request("GET", url, accept=accept)
        if response.status != 200 or not response.body:
            raise CarrierResponseInvalid(f"{self.name} download answered HTTP {response.status}")
        return response.body
