"""A virtual printer for demos and tests: each job becomes a file `<dir>/<printer>/<job>-<attempt>.zpl`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from printserver.backends import PDF, ZPL, Delivery, Health, JobUnprintable

_EXTENSIONS = {ZPL: ".zpl", PDF: ".pdf"}


class VirtualBackend:
    def __init__(self, code: str, root: Path) -> None:
        self.code = code
        self.directory = root / code

    def probe(self) -> Health:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return Health("error", f"cannot create {self.directory}: {exc.strerror}")
        if not os.access(self.directory, os.W_OK):
            return Health("error", f"{self.directory} is not writable")
        return Health("ready")

    def deliver(self, *, job_id: int, attempt: int, title: str, payload: bytes, content_type: str,
                copies: int, on_sending: Callable[[str | None], None]) -> Delivery:
        extension = _EXTENSIONS.get(content_type)
        if extension is None:
            raise JobUnprintable(f"the virtual printer {self.code} stores ZPL or PDF, not {content_type}")
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{job_id}-{attempt}{extension}"
        partial = target.with_suffix(extension + ".part")
        on_sending(None)
        with open(partial, "wb") as fh:
            fh.write(payload * (copies if content_type == ZPL else 1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, target)
        return Delivery(True, f"written to {target}")

    def confirm(self, handle: str | None) -> tuple[bool | None, str]:
        return True, f"stored in {self.directory}"

    def release(self) -> None:
        """Nothing held open between jobs."""
