"""Raw TCP 9100 to a ZPL printer: ~HS/~HQES before the job (refuse a printer that cannot print) and after it."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable

from printserver.backends import ZPL, Delivery, Health, JobUnprintable, PrinterFault
from printserver.config import Settings
from printserver.zebra_status import (
    PrinterStatus,
    StatusUnreadable,
    combine,
    parse_extended_status,
    parse_host_status,
)

_FRAME = re.compile(rb"\x02(.*?)\x03", re.DOTALL)
STATUS_QUERY = b"~HS~HQES"
# Between back-to-back jobs on one connection, the "ready" answered after a job stands for the next one's check.
FRESH_STATUS_SECONDS = 0.5


def status_word(status: PrinterStatus) -> str:
    """The contract C status for what the printer said."""
    if status.ready:
        return "ready"
    for name in ("paper_out", "head_open", "ribbon_out", "paused", "buffer_full"):
        if getattr(status, name):
            return name
    return "error"


def _still_open(sock: socket.socket) -> bool:
    """False when the printer closed or reset the kept connection (nothing unread is expected on it)."""
    timeout = sock.gettimeout()
    sock.settimeout(0.0)  # a socket with a timeout would wait for data before answering
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)


class RawBackend:
    def __init__(self, code: str, host: str, port: int, settings: Settings) -> None:
        self.code, self.host, self.port = code, host, port
        self.settings = settings
        # A printer that has answered once and then stays silent is faulty, not "a model without status".
        self.answered_before = False
        self._sock: socket.socket | None = None
        self._ready_at = 0.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.settings.connect_timeout_seconds)
        except ConnectionRefusedError as exc:
            raise PrinterFault("offline", f"connection refused by {self.where}") from exc
        except TimeoutError as exc:
            raise PrinterFault("offline", f"no answer from {self.where} (connect timeout)") from exc
        except OSError as exc:
            raise PrinterFault("offline", f"cannot reach {self.where}: {exc.strerror or exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _query(self, sock: socket.socket) -> PrinterStatus | None:
        """Ask ~HS and ~HQES; None when the printer says nothing in time."""
        sock.settimeout(self.settings.write_timeout_seconds)
        sock.sendall(STATUS_QUERY)
        deadline = time.monotonic() + self.settings.status_timeout_seconds
        answer = b""
        while answer.count(b"\x03") < 4:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                raise ConnectionResetError("the printer closed the connection")
            answer += chunk
        frames = _FRAME.findall(answer)
        extended = [f for f in frames if b"PRINTER STATUS" in f]
        host = b"".join(b"\x02" + f + b"\x03" for f in frames if b"PRINTER STATUS" not in f)
        statuses: list[PrinterStatus] = []
        try:
            if host:
                statuses.append(parse_host_status(host))
        except StatusUnreadable:
            pass
        try:
            if extended:
                statuses.append(parse_extended_status(extended[0]))
        except StatusUnreadable:
            pass
        if not statuses:
            return None
        self.answered_before = True
        if len(statuses) == 2:
            return combine(statuses[0], statuses[1])
        return statuses[0]

    def _silent(self) -> PrinterFault:
        return PrinterFault("offline", f"{self.where} stopped answering status queries (~HS/~HQES)")

    def probe(self) -> Health:
        self.release()
        try:
            with self._connect() as sock:
                status = self._query(sock)
        except PrinterFault as fault:
            return Health(fault.status, fault.detail, idle=False)
        except OSError as exc:
            return Health("offline", f"{self.where}: {exc}", idle=False)
        if status is None:
            if self.answered_before:
                return Health("offline", self._silent().detail, idle=False)
            return Health("unknown", f"{self.where} accepts connections but does not answer ~HS")
        idle = not status.formats_in_buffer
        return Health(status_word(status), None if status.ready else status.describe(), idle=idle)

    def release(self) -> None:
        """Close the connection kept open between back-to-back jobs (a Zebra serves one connection at a time)."""
        sock, self._sock, self._ready_at = self._sock, None, 0.0
        if sock is not None:
            sock.close()

    def _open(self) -> tuple[socket.socket, bool]:
        if self._sock is not None:
            return self._sock, True
        self._sock = self._connect()
        return self._sock, False

    def _status_before(self) -> PrinterStatus | None:
        sock, reused = self._open()
        if reused and not _still_open(sock):
            self.release()
            sock, reused = self._open()
        if reused and time.monotonic() - self._ready_at < FRESH_STATUS_SECONDS:
            return PrinterStatus()  # it said "ready" at the end of the previous job, just now
        try:
            return self._query(sock)
        except OSError as exc:
            self.release()
            if not reused:
                raise PrinterFault("offline", f"{self.where} dropped the status query: {exc}") from exc
        # The kept connection had gone stale (printer restarted, idle timeout): once more on a new one.
        try:
            return self._query(self._open()[0])
        except OSError as exc:
            self.release()
            raise PrinterFault("offline", f"{self.where} dropped the status query: {exc}") from exc

    def deliver(self, *, job_id: int, attempt: int, title: str, payload: bytes, content_type: str,
                copies: int, on_sending: Callable[[str | None], None]) -> Delivery:
        if content_type != ZPL:
            raise JobUnprintable(f"printer {self.code} takes ZPL over raw 9100, not {content_type}")
        try:
            before = self._status_before()
            if before is None and self.answered_before:
                raise self._silent()
            if before is not None and not before.ready:
                raise PrinterFault(status_word(before), f"{self.code}: {before.describe()}")
            sock = self._open()[0]
            on_sending(None)
            try:
                sock.settimeout(self.settings.write_timeout_seconds)
                sock.sendall(payload * copies)
            except OSError as exc:
                raise PrinterFault("offline", f"connection to {self.where} lost while sending: {exc}",
                                   may_have_printed=True) from exc
            try:
                after = self._query(sock)
            except OSError as exc:
                raise PrinterFault("offline", f"connection to {self.where} lost after sending: {exc}",
                                   may_have_printed=True) from exc
        except BaseException:
            self.release()
            raise
        if after is not None and after.ready:
            self._ready_at = time.monotonic()
        else:
            self.release()
        if after is None:
            if before is None:
                return Delivery(True, f"delivered to {self.where}; the printer does not answer status queries")
            return Delivery(False, f"delivered to {self.where}, then it stopped answering status queries")
        if after.ready:
            return Delivery(True, f"delivered to {self.where}; printer ready afterwards (~HS/~HQES)")
        return Delivery(False, f"delivered to {self.where} but held by the printer: {after.describe()}")

    def confirm(self, handle: str | None) -> tuple[bool | None, str]:
        health = self.probe()
        if health.ready and health.idle:
            return True, f"printed after {self.code} became ready again (~HS: no format left in its buffer)"
        return None, health.detail or health.status
