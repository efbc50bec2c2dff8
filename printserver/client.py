"""The WMS print-site API (contract C) over HTTPS with the site token; one keep-alive session per thread."""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any

import requests

from printserver.config import Settings


class WmsUnreachable(Exception):
    """No answer we can act on (network down, TLS failure, timeout, 5xx, 429): try again later."""


class WmsRejected(Exception):
    """The WMS answered 4xx: the request itself will not succeed as it is."""

    def __init__(self, status: int, problem: dict[str, Any] | None, text: str) -> None:
        self.status, self.problem = status, problem or {}
        detail = self.problem.get("detail") or self.problem.get("title") or text[:200]
        super().__init__(f"WMS answered {status}: {detail}")


def _item_key(key: str) -> str:
    """A report key as the batch endpoint takes it (at most 180 characters; long ones are hashed, stably)."""
    return key if len(key) <= 180 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class WmsClient:
    def __init__(self, settings: Settings) -> None:
        self.base = settings.wms_url + "/api/v1"
        self.daemon_id = settings.daemon_id
        self.timeout = settings.http_timeout_seconds
        self.verify: str | bool = str(settings.ca_file) if settings.ca_file else True
        self._headers = {"Authorization": f"Bearer {settings.token}", "Accept": "application/json",
                         "User-Agent": f"wms-printserver/{settings.daemon_id}"}
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self._headers)
            session.verify = self.verify
            self._local.session = session
        return session

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()

    def _call(self, method: str, path: str, *, body: dict | None = None, key: str | None = None,
              timeout: float | None = None) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        try:
            resp = self._session().request(method, self.base + path, json=body, headers=headers, verify=self.verify,
                                           timeout=(min(self.timeout, 10.0), timeout or self.timeout))
        except requests.RequestException as exc:
            raise WmsUnreachable(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise WmsUnreachable(f"{method} {path}: WMS answered {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 400:
            raise WmsRejected(resp.status_code, data if isinstance(data, dict) else None, resp.text)
        if not isinstance(data, dict):
            raise WmsUnreachable(f"{method} {path}: the answer is not a JSON object")
        return data

    def claim(self, max_jobs: int, wait_seconds: float, key: str) -> tuple[int, list[dict[str, Any]]]:
        """Claim up to `max_jobs` jobs, long-polling up to `wait_seconds` when none is claimable.

        Retry a claim whose answer was lost with the same key and arguments: the WMS answers the same jobs."""
        wait = max(0, min(30, int(wait_seconds)))
        data = self._call("POST", "/print/claim",
                          body={"daemon_id": self.daemon_id, "max_jobs": max_jobs, "wait_seconds": wait},
                          key=key, timeout=wait + self.timeout)
        return int(data.get("lease_seconds") or 60), list(data.get("jobs") or [])

    def renew(self, job_id: int) -> dict[str, Any]:
        """Renew the lease on a job; WmsRejected(409) when the lease is not ours any more."""
        return self._call("POST", f"/print/jobs/{job_id}/lease", body={"daemon_id": self.daemon_id},
                          # Each renewal is a new act (a replayed key would answer the old lease).
                          key=f"printserver:{self.daemon_id}:lease:{job_id}:{uuid.uuid4().hex}")

    def report(self, job_id: int, body: dict[str, Any], key: str) -> dict[str, Any]:
        return self._call("POST", f"/print/jobs/{job_id}/report", body=body, key=key)

    def report_many(self, reports: list[tuple[int, str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Deliver many reports, (job id, report key, report body), in one call, in order.

        Returns one result per report: {"status": 200, "state": ...} or {"status": 404/409, "detail": ...}.
        Each report keeps its own key, so a report that reaches the WMS twice (in a batch, a retried batch or a
        single call) is applied once."""
        items = []
        for job_id, key, body in reports:
            items.append({"job_id": job_id, "key": _item_key(key),
                          **{k: v for k, v in body.items() if k != "daemon_id"}})
        batch_key = "printserver-batch:" + hashlib.sha256(
            "\n".join(i["key"] for i in items).encode()).hexdigest()
        data = self._call("POST", "/print/reports", body={"daemon_id": self.daemon_id, "reports": items},
                          key=batch_key)
        results = data.get("results")
        if not isinstance(results, list) or len(results) != len(items):
            raise WmsUnreachable("POST /print/reports: the answer does not match the reports sent")
        return results

    def report_status(self, printers: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return self._call("POST", "/print/printers/status",
                          body={"daemon_id": self.daemon_id, "printers": printers}, key=key)

    def printers(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/print/printers").get("printers") or [])
