"""CUPS queues through pycups. CUPS "completed" means the bytes were handed to the device, not seen on paper:
the report says so in its detail."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from printserver.backends import PDF, ZPL, Delivery, Health, JobUnprintable, PrinterFault
from printserver.config import Settings

try:
    import cups
except ImportError:  # pragma: no cover - the daemon runs without pycups when no CUPS queue is configured
    cups = None

# IPP printer-state and job-state values (RFC 8011).
PRINTER_STOPPED = 5
JOB_PENDING, JOB_HELD, JOB_PROCESSING, JOB_STOPPED, JOB_CANCELED, JOB_ABORTED, JOB_COMPLETED = 3, 4, 5, 6, 7, 8, 9
_REASONS = (
    ("media-empty", "paper_out"), ("media-needed", "paper_out"), ("media-jam", "error"),
    ("door-open", "head_open"), ("cover-open", "head_open"), ("marker-supply-empty", "ribbon_out"),
    ("paused", "paused"), ("offline", "offline"), ("connecting-to-device", "offline"),
)
_FORMATS = {ZPL: "application/vnd.cups-raw", PDF: "application/pdf"}


def _ipp_message(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[1], str):
        return args[1]
    return str(exc) or exc.__class__.__name__


class CupsBackend:
    def __init__(self, code: str, queue: str, server: str, settings: Settings) -> None:
        if cups is None:
            raise JobUnprintable(f"printer {code} is a CUPS queue but pycups is not installed (pip install pycups)")
        self.code, self.queue = code, queue
        host, _, port = server.partition(":")
        self.host = host or cups.getServer()
        self.port = int(port) if port else cups.getPort()
        self.settings = settings

    @property
    def where(self) -> str:
        return f"CUPS queue {self.queue} on {self.host}:{self.port}"

    def _connection(self):  # type: ignore[no-untyped-def]
        # libcups builds job URIs from its default server and port (per-thread globals): set them in this,
        # the printer's own thread, or a queue on a non-default port is "not found" by createJob/printFile.
        cups.setServer(self.host)
        cups.setPort(self.port)
        try:
            return cups.Connection(host=self.host, port=self.port)
        except RuntimeError as exc:
            raise PrinterFault("offline", f"CUPS at {self.host}:{self.port} unreachable: {exc}") from exc

    def _state(self, conn) -> Health:  # type: ignore[no-untyped-def]
        try:
            attrs = conn.getPrinterAttributes(self.queue, requested_attributes=[
                "printer-state", "printer-state-reasons", "printer-state-message", "printer-is-accepting-jobs",
                "queued-job-count"])
        except cups.IPPError as exc:
            return Health("offline", f"{self.where}: {_ipp_message(exc)}", idle=False)
        except RuntimeError as exc:
            return Health("offline", f"{self.where}: {exc}", idle=False)
        reasons = [r for r in attrs.get("printer-state-reasons", []) if r and r != "none"]
        message = attrs.get("printer-state-message") or ""
        idle = not attrs.get("queued-job-count")
        said = "; ".join(x for x in (", ".join(reasons), message) if x)
        if attrs.get("printer-state") == PRINTER_STOPPED:
            return Health("offline", f"{self.where} is stopped" + (f": {said}" if said else ""), idle=idle)
        if not attrs.get("printer-is-accepting-jobs", True):
            return Health("offline", f"{self.where} rejects jobs" + (f": {said}" if said else ""), idle=idle)
        for reason in reasons:
            base, severity = reason, None  # no suffix: only the reasons we know are faults
            if reason.endswith(("-error", "-warning", "-report")):
                base, _, severity = reason.rpartition("-")
            status = next((word for prefix, word in _REASONS if base.startswith(prefix)), None)
            if severity not in (None, "error") or (severity is None and status is None):
                continue
            status = status or "error"
            return Health(status, f"{self.where}: {said}", idle=idle)
        return Health("ready", None, idle=idle)

    def probe(self) -> Health:
        try:
            return self._state(self._connection())
        except PrinterFault as fault:
            return Health(fault.status, fault.detail, idle=False)

    def deliver(self, *, job_id: int, attempt: int, title: str, payload: bytes, content_type: str,
                copies: int, on_sending: Callable[[str | None], None]) -> Delivery:
        fmt = _FORMATS.get(content_type)
        if fmt is None:
            raise JobUnprintable(f"{self.where} cannot print {content_type}")
        conn = self._connection()
        health = self._state(conn)
        if not health.ready:
            raise PrinterFault(health.status, health.detail or health.status)
        # Raw data is repeated by us (raw queues ignore `copies`); CUPS makes PDF copies itself.
        data, options = (payload * copies, {}) if content_type == ZPL else (payload, {"copies": str(copies)})
        try:
            cups_job = conn.createJob(self.queue, f"{title} (job {job_id}/{attempt})", options)
        except (cups.IPPError, RuntimeError) as exc:
            raise PrinterFault("offline", f"{self.where} refused the job: {_ipp_message(exc)}") from exc
        on_sending(str(cups_job))
        try:
            conn.startDocument(self.queue, cups_job, title, fmt, 1)
            conn.writeRequestData(data, len(data))
            conn.finishDocument(self.queue)
        except (cups.IPPError, RuntimeError) as exc:
            with contextlib.suppress(cups.IPPError, RuntimeError):
                conn.cancelJob(cups_job, purge_job=True)
            raise PrinterFault("offline", f"{self.where} lost the job while receiving it: {_ipp_message(exc)}",
                               may_have_printed=True) from exc
        deadline = time.monotonic() + self.settings.cups_confirm_seconds
        while True:
            printed, detail = self._job_state(conn, cups_job)
            if printed is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if printed is False:
            raise PrinterFault("error", detail, may_have_printed=True)
        return Delivery(bool(printed), detail, handle=str(cups_job))

    def _job_state(self, conn, cups_job: int) -> tuple[bool | None, str]:  # type: ignore[no-untyped-def]
        try:
            attrs = conn.getJobAttributes(cups_job, requested_attributes=[
                "job-state", "job-state-reasons", "job-printer-state-message"])
        except cups.IPPError as exc:
            return False, f"CUPS job {cups_job} is gone from {self.where}: {_ipp_message(exc)}"
        state = attrs.get("job-state")
        if state == JOB_COMPLETED:
            return True, f"delivered by CUPS to the device ({self.where}, CUPS job {cups_job}); not seen on paper"
        if state in (JOB_CANCELED, JOB_ABORTED):
            why = attrs.get("job-printer-state-message") or attrs.get("job-state-reasons") or ""
            word = "cancelled" if state == JOB_CANCELED else "aborted"
            return False, f"CUPS {word} job {cups_job} on {self.where}" + (f": {why}" if why else "")
        return None, f"CUPS job {cups_job} waiting in {self.where} (job-state {state})"

    def confirm(self, handle: str | None) -> tuple[bool | None, str]:
        if handle is None:
            return False, f"no CUPS job id was recorded for {self.where}"
        try:
            conn = self._connection()
        except PrinterFault as fault:
            return None, fault.detail
        return self._job_state(conn, int(handle))

    def release(self) -> None:
        """Nothing held open between jobs."""
