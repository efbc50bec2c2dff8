"""One thread per printer: jobs in id order, retries with backoff, failover to the backup, confirmations."""

from __future__ import annotations

import base64
import heapq
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from printserver.backends import ZPL, Backend, Delivery, Health, JobUnprintable, PrinterFault, make_backend

if TYPE_CHECKING:
    from printserver.daemon import Daemon

log = logging.getLogger("printserver.worker")


@dataclass
class Item:
    """One claimed attempt of a job, held by this daemon."""

    job: dict[str, Any]
    lease_expires: float  # monotonic
    possible_duplicate: bool = False
    failed_over: bool = False  # already moved to a backup: never moves again
    recovered_sending: bool = False  # journalled `sending` before a crash: may be on paper already
    dropped: bool = False  # the lease was lost: do not print
    started: bool = False  # bytes may be on their way
    finished: bool = False  # its final report is in the outbox

    @property
    def id(self) -> int:
        return int(self.job["id"])

    @property
    def attempt(self) -> int:
        return int(self.job["attempt"])

    @property
    def key(self) -> tuple[int, int]:
        return self.id, self.attempt

    def payload(self) -> bytes:
        try:
            return base64.b64decode(self.job["payload_b64"], validate=True)
        except (ValueError, TypeError, KeyError) as exc:
            raise JobUnprintable(f"job {self.id}: the payload is not valid base64") from exc


@dataclass
class Awaiting:
    item: Item
    printer_code: str
    handle: str | None


def duplicate_banner(item: Item, printer_code: str) -> bytes:
    """A small label printed before a job that may already have printed, so the picker sees it."""
    reference = "".join(ch for ch in str(item.job.get("reference", "")) if ch.isalnum() or ch in " -_./")[:40]
    return (
        "^XA^CI28^PW812^LL300^FO40,40^A0N,60,60^FDPOSSIBLE DUPLICATE^FS"
        f"^FO40,130^A0N,36,36^FDjob {item.id} attempt {item.attempt}^FS"
        f"^FO40,190^A0N,36,36^FD{reference}^FS"
        "^FO40,250^A0N,28,28^FDmay already have printed: keep one^FS^XZ"
    ).encode()


@dataclass
class PrinterState:
    code: str
    connection: str
    backup: str | None = None
    health: Health = field(default_factory=lambda: Health("unknown", "not contacted yet"))
    failing_since: float | None = None  # monotonic
    failures: int = 0
    blocked_until: float = 0.0
    last_fault: str | None = None


class PrinterWorker:
    def __init__(self, daemon: Daemon, code: str, connection: str, backup: str | None) -> None:
        self.daemon, self.settings = daemon, daemon.settings
        self.state = PrinterState(code, connection, backup)
        self.backend: Backend | None = None
        self.backend_error: str | None = None
        self._heap: list[tuple[int, int, Item]] = []
        self.awaiting: dict[tuple[int, int], Awaiting] = {}
        self._cond = threading.Condition()
        self._last_probe = 0.0
        self.thread = threading.Thread(target=self._run, name=f"printer-{code}", daemon=True)

    @property
    def code(self) -> str:
        return self.state.code

    def configure(self, connection: str, backup: str | None) -> None:
        with self._cond:
            if connection != self.state.connection:
                self.state.connection, self.backend = connection, None
            self.state.backup = backup

    def _backend(self) -> Backend:
        if self.backend is None:
            self.backend = make_backend(self.code, self.state.connection, self.settings)
        return self.backend

    def put(self, item: Item) -> None:
        with self._cond:
            heapq.heappush(self._heap, (item.id, item.attempt, item))
            self._cond.notify()

    def add_awaiting(self, awaiting: Awaiting) -> None:
        with self._cond:
            self.awaiting[awaiting.item.key] = awaiting
            self._cond.notify()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify()

    def queued(self) -> int:
        with self._cond:
            return len(self._heap)

    def take_all(self) -> list[Item]:
        with self._cond:
            items = [entry[2] for entry in sorted(self._heap)]
            self._heap.clear()
            return items

    # -- the loop --------------------------------------------------------------------------------------------

    def _run(self) -> None:
        stopping = self.daemon.stopping
        while not stopping.is_set():
            item = None
            with self._cond:
                if not self._heap:
                    self._cond.wait(timeout=self._idle_wait())
                if self._heap and not stopping.is_set():
                    item = heapq.heappop(self._heap)[2]
            try:
                if item is not None:
                    if not item.dropped:
                        self.process(item)
                    if self.backend is not None and not self.queued():
                        self.backend.release()
                elif not stopping.is_set():
                    self.idle()
            except Exception:  # a bug must not kill the printer's thread
                log.exception("printer %s: unexpected error", self.code)
                if item is not None and not item.dropped:
                    self.daemon.finish(item, "retry", self.code, "printserver error; see the daemon log",
                                       retry_after=self.settings.retry_base_seconds)
                time.sleep(0.5)

    def _idle_wait(self) -> float:
        wait = self.settings.status_interval_seconds
        if self.awaiting:
            wait = min(wait, 1.0)
        return max(0.05, wait - (time.monotonic() - self._last_probe))

    def idle(self) -> None:
        """No job: probe the printer now and then, confirm jobs it still holds."""
        now = time.monotonic()
        interval = 1.0 if self.awaiting else self.settings.status_interval_seconds
        if now - self._last_probe < interval:
            return
        self._last_probe = now
        try:
            backend = self._backend()
        except JobUnprintable as exc:
            self._set_health(Health("error", str(exc)))
            return
        for key, awaiting in list(self.awaiting.items()):
            printed, detail = backend.confirm(awaiting.handle)
            if printed is True:
                self.awaiting.pop(key, None)
                self.daemon.finish(awaiting.item, "printed", awaiting.printer_code, detail)
            elif printed is False:
                self.awaiting.pop(key, None)
                self.daemon.finish(awaiting.item, "retry", awaiting.printer_code, detail,
                                   retry_after=self.settings.retry_base_seconds, possible_duplicate=True)
        health = backend.probe()
        self._set_health(health)
        if health.ready:
            self._recovered()

    def _set_health(self, health: Health) -> None:
        self.state.health = health
        self.daemon.status_changed(self.code, health)

    def _recovered(self) -> None:
        if self.state.failing_since is not None:
            log.info("printer %s is ready again", self.code)
        self.state.failing_since, self.state.failures, self.state.blocked_until = None, 0, 0.0

    # -- one job ---------------------------------------------------------------------------------------------

    def _backoff(self) -> float:
        base = self.settings.retry_base_seconds * 2 ** min(self.state.failures - 1, 20)
        delay = min(self.settings.retry_max_seconds, base)
        delay *= random.uniform(0.8, 1.2)  # jitter: printers that fail together do not retry together
        if self.state.backup and self.state.failing_since is not None:
            until_failover = self.state.failing_since + self.settings.failover_after_seconds - time.monotonic()
            delay = min(delay, max(until_failover, 0.2))
        return max(0.2, delay)

    def _should_fail_over(self, item: Item) -> bool:
        state = self.state
        return (not item.failed_over and state.backup is not None and state.failing_since is not None
                and time.monotonic() - state.failing_since >= self.settings.failover_after_seconds
                and self.daemon.has_printer(state.backup))

    def process(self, item: Item) -> None:
        daemon, state = self.daemon, self.state
        if self._should_fail_over(item):
            item.failed_over = True
            log.info("job %s: %s failing for %.0fs, moving to backup %s", item.id, self.code,
                     time.monotonic() - (state.failing_since or 0), state.backup)
            daemon.route(item, state.backup)  # type: ignore[arg-type]
            return
        now = time.monotonic()
        if now < state.blocked_until:
            self._retry(item, state.last_fault or f"{self.code} is not ready", state.blocked_until - now)
            return
        try:
            backend = self._backend()
            payload = item.payload()
            content_type = str(item.job.get("content_type") or ZPL)
            duplicate = item.possible_duplicate or item.recovered_sending or bool(item.job.get("possible_duplicate"))
            if duplicate and self.settings.duplicate_banner and content_type == ZPL:
                payload = duplicate_banner(item, self.code) + payload
            item.started = True
            delivery = backend.deliver(
                job_id=item.id, attempt=item.attempt, title=str(item.job.get("reference") or f"job {item.id}"),
                payload=payload, content_type=content_type, copies=max(1, int(item.job.get("copies") or 1)),
                on_sending=lambda handle: daemon.journal.mark(item.id, item.attempt, "sending",
                                                              printer_code=self.code, handle=handle))
        except JobUnprintable as exc:
            daemon.finish(item, "failed", self.code, str(exc))
            return
        except PrinterFault as fault:
            self._fault(item, fault)
            return
        self._delivered(item, delivery, duplicate)

    def _delivered(self, item: Item, delivery: Delivery, duplicate: bool) -> None:
        self._recovered()
        detail = delivery.detail + (" (sent again: it may have printed before)" if duplicate else "")
        if delivery.printed:
            self._set_health(Health("ready"))
            self.daemon.finish(item, "printed", self.code, detail, possible_duplicate=duplicate)
        else:
            self.daemon.sent(item, self.code, delivery.handle, detail, possible_duplicate=duplicate)
            self.add_awaiting(Awaiting(item, self.code, delivery.handle))

    def _fault(self, item: Item, fault: PrinterFault) -> None:
        state = self.state
        state.failures += 1
        if state.failing_since is None:
            state.failing_since = time.monotonic()
        state.last_fault = fault.detail
        delay = self._backoff()
        state.blocked_until = time.monotonic() + delay
        self._set_health(Health(fault.status, fault.detail, idle=False))
        log.warning("printer %s: %s (job %s, retry in %.1fs)", self.code, fault.detail, item.id, delay)
        if fault.may_have_printed:
            item.possible_duplicate = True
        if self._should_fail_over(item):
            self.process(item)
            return
        self._retry(item, fault.detail, delay)

    def _retry(self, item: Item, detail: str, delay: float) -> None:
        settings = self.settings
        if settings.fail_after_attempts and item.attempt >= settings.fail_after_attempts:
            self.daemon.finish(item, "failed", self.code,
                               f"gave up after {item.attempt} attempts; last: {detail}",
                               possible_duplicate=item.possible_duplicate)
            return
        self.daemon.finish(item, "retry", self.code, detail, retry_after=round(delay, 1),
                           possible_duplicate=item.possible_duplicate)
