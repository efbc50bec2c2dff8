"""Printer backends: raw TCP 9100 (ZPL with ~HS/~HQES), CUPS queues through pycups, virtual (files).

A backend is used by one worker thread only (the printer's), so it may keep state without locks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from printserver.config import Settings

ZPL = "application/vnd.zebra.zpl"
PDF = "application/pdf"
# The status words of contract C.
STATUSES = ("ready", "paper_out", "head_open", "ribbon_out", "paused", "buffer_full", "offline", "error", "unknown")


class PrinterFault(Exception):
    """The printer cannot take the job now (offline, paper out, ...): retry later or fail over.

    `may_have_printed` is True when bytes of the job may already have reached the printer.
    """

    def __init__(self, status: str, detail: str, *, may_have_printed: bool = False) -> None:
        super().__init__(detail)
        self.status, self.detail, self.may_have_printed = status, detail, may_have_printed


class JobUnprintable(Exception):
    """This job can never print on this printer (wrong document type, bad bytes): report it failed."""


@dataclass(frozen=True)
class Health:
    status: str
    detail: str | None = None
    idle: bool = True  # nothing of ours waiting inside the printer (held labels, CUPS jobs)

    @property
    def ready(self) -> bool:
        return self.status == "ready"


@dataclass(frozen=True)
class Delivery:
    printed: bool  # confirmed as far as this backend can know; else `sent` and confirmed later
    detail: str
    handle: str | None = None  # what `confirm` needs later (a CUPS job id)


class Backend(Protocol):
    code: str

    def probe(self) -> Health: ...

    def deliver(self, *, job_id: int, attempt: int, title: str, payload: bytes, content_type: str,
                copies: int, on_sending: Callable[[str | None], None]) -> Delivery: ...

    def confirm(self, handle: str | None) -> tuple[bool | None, str]:
        """(True, detail) printed; (False, detail) lost, send again; (None, detail) not known yet."""
        ...

    def release(self) -> None:
        """No more jobs queued for now: let go of any open connection."""
        ...


def make_backend(code: str, connection: str, settings: Settings) -> Backend:
    """The backend for a printer's connection string: socket://host:port, cups://[host[:port]/]QUEUE, virtual://."""
    url = urlsplit(connection)
    if url.scheme == "socket":
        from printserver.backends.raw import RawBackend

        if not url.hostname:
            raise JobUnprintable(f"printer {code}: {connection!r} names no host")
        return RawBackend(code, url.hostname, url.port or 9100, settings)
    if url.scheme == "cups":
        from printserver.backends.cups import CupsBackend

        if url.path.strip("/"):
            server, queue = url.netloc, url.path.strip("/")
        else:
            server, queue = settings.cups_server or "", url.netloc
        if not queue:
            raise JobUnprintable(f"printer {code}: {connection!r} names no CUPS queue")
        return CupsBackend(code, queue, server, settings)
    if url.scheme == "virtual":
        from printserver.backends.virtual import VirtualBackend

        assert settings.virtual_dir is not None
        return VirtualBackend(code, settings.virtual_dir)
    raise JobUnprintable(f"printer {code}: unknown connection {connection!r}")
