"""The site daemon: claim jobs from the WMS, hand them to one worker per printer, report outcomes reliably."""

from __future__ import annotations

import logging
import queue
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from printserver.backends import Health, JobUnprintable
from printserver.client import WmsClient, WmsRejected, WmsUnreachable
from printserver.config import Settings
from printserver.journal import Journal, PendingReport, report_key
from printserver.worker import Awaiting, Item, PrinterWorker

log = logging.getLogger("printserver")
REPORTER_SHARDS = 2  # parallel report senders; a job's reports always go through the same one, in order
REPORT_BATCH = 200  # reports per call
OLD_CLAIM_LIMIT = 100  # jobs per claim a WMS before the set-based claims takes
REPORT_LINGER_SECONDS = 0.05  # a sender with less than a full batch waits this long for more (fewer calls)


class Daemon:
    def __init__(self, settings: Settings, client: WmsClient | None = None) -> None:
        self.settings = settings
        self.client = client or WmsClient(settings)
        self.journal = Journal(settings.journal_path)
        self.stopping = threading.Event()
        self.workers: dict[str, PrinterWorker] = {}
        self.printers: dict[str, dict[str, Any]] = {}
        self.held: dict[tuple[int, int], Item] = {}
        self._lock = threading.RLock()
        self.lease_seconds = 60
        self.wms_online = True
        self._status_dirty: dict[str, Health] = {}
        self._status_cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._claimer: threading.Thread | None = None
        # Claimed batches wait here to be journalled and handed to the workers, so the next claim is already on
        # its way while the journal commits this one; the batches are taken in order, one at a time.
        self._claimed: queue.Queue[tuple[list[dict[str, Any]], int] | None] = queue.Queue()
        self._accepting = 0  # jobs claimed and not journalled yet (they count as held)
        self._acceptor: threading.Thread | None = None
        self._last_printers_fetch = 0.0
        self._flushed = threading.Event()  # stop(): nothing more will be queued, reporters may end when empty
        self._batch_reports = True  # cleared when the WMS answers 404 to /print/reports (an older WMS)
        self._claim_cap = settings.claim_batch  # 100 when the WMS refuses larger claims (an older WMS)
        self._stop_deadline: float | None = None

    # -- printers and workers ----------------------------------------------------------------------------

    def _printer_seen(self, printer: dict[str, Any], backup: str | None) -> None:
        code = str(printer["code"])
        with self._lock:
            self.printers[code] = {**printer, "backup": backup}
            worker = self.workers.get(code)
            if worker is None:
                worker = PrinterWorker(self, code, str(printer["connection"]), backup)
                self.workers[code] = worker
                if self._threads:  # already running
                    worker.thread.start()
            else:
                worker.configure(str(printer["connection"]), backup)

    def has_printer(self, code: str) -> bool:
        with self._lock:
            info = self.printers.get(code)
        return info is not None and info.get("enabled", True) is not False

    def refresh_printers(self) -> None:
        """Learn the site's printers (and their backups) from the WMS."""
        for printer in self.client.printers():
            if printer.get("enabled", True):
                self._printer_seen(printer, printer.get("backup"))
        self._last_printers_fetch = time.monotonic()

    def route(self, item: Item, code: str) -> None:
        with self._lock:
            worker = self.workers.get(code)
        if worker is None:
            self.finish(item, "retry", code, f"printer {code} is unknown to this daemon",
                        retry_after=self.settings.retry_base_seconds)
            return
        worker.put(item)

    # -- journal + outbox ---------------------------------------------------------------------------------

    def _report(self, item: Item, outcome: str, printer_code: str, detail: str | None,
                retry_after: float | None = None, possible_duplicate: bool = False) -> tuple[str, dict]:
        body = {"daemon_id": self.settings.daemon_id, "outcome": outcome, "printer_code": printer_code,
                "detail": (detail or None) and detail[:2000], "retry_after_seconds": retry_after,
                "possible_duplicate": bool(possible_duplicate)}
        return report_key(self.settings.daemon_id, item.id, item.attempt, outcome), body

    def finish(self, item: Item, outcome: str, printer_code: str, detail: str | None, *,
               retry_after: float | None = None, possible_duplicate: bool = False) -> None:
        """This attempt is over here: journal it and queue its report in one transaction."""
        report = self._report(item, outcome, printer_code, detail, retry_after, possible_duplicate)
        item.finished = True  # still held (its lease renewed) until the WMS has the report
        self.journal.mark(item.id, item.attempt, "done", printer_code=printer_code, report=report)

    def sent(self, item: Item, printer_code: str, handle: str | None, detail: str, *,
             possible_duplicate: bool) -> None:
        report = self._report(item, "sent", printer_code, detail, None, possible_duplicate)
        self.journal.mark(item.id, item.attempt, "sent", printer_code=printer_code, handle=handle, report=report)

    def status_changed(self, code: str, health: Health) -> None:
        with self._status_cond:
            self._status_dirty[code] = health
            self._status_cond.notify()

    # -- claims --------------------------------------------------------------------------------------------

    def accept(self, jobs: list[dict[str, Any]], lease_seconds: int) -> None:
        """Journal claimed jobs (one commit) and give each to its printer's worker."""
        readable = []
        for job in jobs:
            if isinstance(job, dict) and isinstance(job.get("id"), int) and isinstance(job.get("attempt"), int):
                readable.append(job)
            else:
                log.error("a claimed job could not be read: %r", job)
        for job, new in zip(readable, self.journal.record_claimed(readable), strict=True):
            if new:
                self._take(job, lease_seconds)
            else:
                log.warning("job %s attempt %s was claimed twice; ignoring the repeat", job["id"], job["attempt"])

    def _take(self, job: dict[str, Any], lease_seconds: int) -> None:
        item = Item(job=job, lease_expires=time.monotonic() + lease_seconds,
                    possible_duplicate=bool(job.get("possible_duplicate")))
        printer = job.get("printer") or {}
        backup = job.get("backup") or None
        with self._lock:
            self.held[item.key] = item
        if not isinstance(printer, dict) or not printer.get("code") or not printer.get("connection"):
            self.finish(item, "failed", str(printer.get("code") or "?") if isinstance(printer, dict) else "?",
                        "the job names no printer")
            return
        if isinstance(backup, dict) and backup.get("code"):
            self._printer_seen(backup, None)
        else:
            backup = None
        self._printer_seen(printer, backup["code"] if backup else self.printers.get(
            printer["code"], {}).get("backup"))
        self.route(item, str(printer["code"]))

    def _guarded(self, name: str, loop: Callable[[], None]) -> Callable[[], None]:
        """Run a loop again after an unexpected error (logged) until the daemon stops."""

        def run() -> None:
            while not self.stopping.is_set():
                try:
                    loop()
                    return
                except Exception:
                    log.exception("%s: unexpected error; restarting it", name)
                    self.stopping.wait(1.0)

        return run

    def _claim_loop(self) -> None:
        settings, backoff = self.settings, 0.0
        retry: tuple[str, int] | None = None  # a claim whose answer was lost: asked again identically
        while not self.stopping.is_set():
            with self._lock:
                # A job counts until the WMS has its report: fewer jobs in flight when a crash comes (each one
                # re-offered as a possible duplicate) and no lease renewals for a long report backlog.
                room = settings.max_local_jobs - len(self.held) - self._accepting
            if room <= 0 and retry is None:
                self.stopping.wait(0.05)
                continue
            key, count = retry or (f"printserver:{settings.daemon_id}:claim:{uuid.uuid4()}",
                                   min(room, self._claim_cap))
            try:
                if time.monotonic() - self._last_printers_fetch > 300:
                    self.refresh_printers()
                retry = (key, count)
                lease, jobs = self.client.claim(count, settings.long_poll_seconds, key)
                retry = None
            except WmsUnreachable as exc:
                backoff = self._offline(exc, backoff)
                continue
            except WmsRejected as exc:
                retry = None
                if exc.status == 422 and count > OLD_CLAIM_LIMIT:
                    log.info("the WMS takes at most %d jobs per claim", OLD_CLAIM_LIMIT)
                    self._claim_cap = OLD_CLAIM_LIMIT
                    continue
                log.error("the WMS refused the claim: %s", exc)
                backoff = self._offline(exc, backoff)
                continue
            backoff = 0.0
            self._online()
            self.lease_seconds = lease
            if jobs:
                with self._lock:
                    self._accepting += len(jobs)
                self._claimed.put((jobs, lease))
            if self.stopping.is_set():
                break

    def _accept_loop(self) -> None:
        """Journal and dispatch claimed batches in the order they were claimed, until stop() sends None."""
        while (batch := self._claimed.get()) is not None:
            jobs, lease = batch
            try:
                self.accept(jobs, lease)
            except Exception:  # not journalled: the WMS offers them again when their lease expires
                log.exception("%d claimed job(s) could not be journalled", len(jobs))
            finally:
                with self._lock:
                    self._accepting -= len(jobs)

    def _offline(self, exc: Exception, backoff: float) -> float:
        if self.wms_online:
            log.warning("WMS unreachable, keeps printing what it holds: %s", exc)
        self.wms_online = False
        backoff = min(self.settings.wms_backoff_max_seconds, max(0.5, backoff * 2))
        self.stopping.wait(backoff * random.uniform(0.8, 1.2))
        return backoff

    def _online(self) -> None:
        if not self.wms_online:
            log.info("WMS reachable again; re-syncing reports")
            self.wms_online = True
            with self.journal.changed:
                self.journal.changed.notify_all()

    # -- reports ---------------------------------------------------------------------------------------------

    def _reporter_loop(self, shard: int) -> None:
        backoff = 0.0
        while True:
            try:
                pending = self.journal.pending_reports(REPORT_BATCH, shard, REPORTER_SHARDS)
                if pending and len(pending) < REPORT_BATCH and not self._flushed.is_set():
                    # A busy site finishes many jobs a second: one call for what a short wait gathers costs the
                    # WMS far less than one call per report.
                    time.sleep(REPORT_LINGER_SECONDS)
                    pending = self.journal.pending_reports(REPORT_BATCH, shard, REPORTER_SHARDS)
            except sqlite3.ProgrammingError:
                return  # the journal was closed: the stop ran out of time, the rest waits for the next start
            if not pending:
                if self._flushed.is_set():
                    return
                with self.journal.changed:
                    self.journal.changed.wait(timeout=0.5)
                continue
            try:
                self._deliver_many(_latest_per_attempt(pending, self.journal))
                backoff = 0.0
            except WmsUnreachable as exc:
                if self._flushed.is_set() and time.monotonic() > (self._stop_deadline or 0):
                    return
                (log.warning if self.wms_online else log.debug)("reports wait for the WMS: %s", exc)
                self.wms_online = False
                backoff = min(self.settings.wms_backoff_max_seconds, max(0.5, backoff * 2))
                time.sleep(backoff * random.uniform(0.8, 1.2))
            except sqlite3.ProgrammingError:
                return  # the journal was closed: the stop ran out of time, the rest waits for the next start
            except Exception:  # a bug must not stop the reports for good
                log.exception("report sender %d: unexpected error", shard)
                time.sleep(1.0)

    def _deliver_many(self, reports: list[PendingReport]) -> None:
        """One call for up to 200 reports; a WMS without the batch endpoint gets them one by one."""
        if not reports:
            return
        if len(reports) == 1 or not self._batch_reports:
            for report in reports:
                self._deliver(report)
            return
        try:
            results = self.client.report_many([(r.job_id, r.key, r.body) for r in reports])
        except WmsRejected as exc:
            if exc.status in (404, 405):
                log.info("the WMS has no batch report endpoint; reporting job by job")
                self._batch_reports = False
            else:
                log.warning("a batch of %d reports was refused (%s); reporting job by job", len(reports), exc)
            for report in reports:
                self._deliver(report)
            return
        answers = []
        for report, result in zip(reports, results, strict=True):
            status = result.get("status")
            if status == 200:
                answers.append((report.seq, f"200 {result.get('state', '')}"))
            else:
                # 409: the lease is not ours any more; 404: the job is gone. Resending cannot succeed.
                log.warning("report %s refused: %s %s", report.key, status, result.get("detail"))
                answers.append((report.seq, f"{status} {result.get('detail', '')}"))
        self.journal.delivered_many(answers)
        with self._lock:
            for report in reports:
                self.held.pop((report.job_id, report.attempt), None)

    def _deliver(self, report: PendingReport) -> None:
        try:
            answer = self.client.report(report.job_id, report.body, report.key)
            self.journal.delivered(report.seq, f"200 {answer.get('state', '')}")
        except WmsRejected as exc:
            # 409: the lease is not ours any more (the WMS re-offers the job marked possible duplicate);
            # 404: the job is gone. Either way resending cannot succeed.
            log.warning("report %s refused: %s", report.key, exc)
            self.journal.delivered(report.seq, f"{exc.status} {exc}")
        # Delivered: the WMS knows; a `sent` job is not claimable by anyone, so no lease to keep either.
        with self._lock:
            self.held.pop((report.job_id, report.attempt), None)

    # -- leases ------------------------------------------------------------------------------------------------

    def _lease_loop(self) -> None:
        last_cleanup = time.monotonic()
        while not self.stopping.wait(1.0):
            if time.monotonic() - last_cleanup > 3600:
                last_cleanup = time.monotonic()
                self.journal.forget_done(older_than_seconds=86400)  # the file stays small on a busy site
            margin = max(5.0, self.lease_seconds / 3)
            with self._lock:
                due = sorted((i for i in self.held.values()
                              if not i.dropped and i.lease_expires - time.monotonic() < margin),
                             key=lambda i: i.lease_expires)
            for item in due:
                if self.stopping.is_set():
                    return
                try:
                    self.client.renew(item.id)
                    item.lease_expires = time.monotonic() + self.lease_seconds
                except WmsUnreachable:
                    break  # keep printing; reports will tell whether the lease held
                except WmsRejected as exc:
                    if item.started or item.finished:
                        item.lease_expires = float("inf")  # its report will say what the WMS thinks
                        continue
                    log.warning("job %s: lease lost (%s); not printing it", item.id, exc)
                    item.dropped = True
                    self.journal.mark(item.id, item.attempt, "done")
                    with self._lock:
                        self.held.pop(item.key, None)

    # -- printer status ----------------------------------------------------------------------------------------

    def _status_loop(self) -> None:
        last_sent: dict[str, Health] = {}
        last_all = 0.0
        while not self.stopping.is_set():
            with self._status_cond:
                if not self._status_dirty:  # a change noted while the last report was on its way goes out now
                    self._status_cond.wait(timeout=1.0)
                dirty, self._status_dirty = self._status_dirty, {}
            changed = {code: h for code, h in dirty.items()
                       if (last_sent.get(code) or Health("?")).status != h.status
                       or last_sent[code].detail != h.detail}
            heartbeat = time.monotonic() - last_all >= self.settings.status_heartbeat_seconds
            if heartbeat:
                with self._lock:
                    changed = {c: w.state.health for c, w in self.workers.items()} | changed
            if not changed:
                continue
            rows = [{"code": code, "status": h.status, "detail": (h.detail or None) and h.detail[:500]}
                    for code, h in sorted(changed.items())]
            try:
                self.client.report_status(rows, key=f"printserver:{self.settings.daemon_id}:status:{uuid.uuid4()}")
            except WmsUnreachable:
                with self._status_cond:  # send them again once the WMS is back
                    self._status_dirty = changed | self._status_dirty
                self.stopping.wait(2.0)
                continue
            except WmsRejected as exc:
                log.error("the WMS refused a printer status report: %s", exc)
            last_sent.update(changed)
            if heartbeat:
                last_all = time.monotonic()

    # -- life cycle --------------------------------------------------------------------------------------------

    def recover(self) -> None:
        """Take back what the journal holds after a stop or a crash (see printserver.journal)."""
        for row in self.journal.open_jobs():
            job = row.job
            item = Item(job=job, lease_expires=time.monotonic() + self.lease_seconds,
                        possible_duplicate=bool(job.get("possible_duplicate")))
            printer = job.get("printer") or {}
            backup = job.get("backup") or None
            if backup:
                self._printer_seen(backup, None)
            if printer.get("code"):
                self._printer_seen(printer, backup.get("code") if backup else None)
            code = row.printer_code or printer.get("code")
            with self._lock:
                worker = self.workers.get(code) if code else None
            if row.state == "sent" and worker is not None:
                worker.add_awaiting(Awaiting(item, code, row.handle))
                log.info("job %s: sent before the restart; waiting for %s to confirm", item.id, code)
                continue
            if row.state == "sending" and worker is not None and row.handle is not None:
                try:
                    printed, detail = worker._backend().confirm(row.handle)
                except JobUnprintable:
                    printed, detail = False, "backend unavailable"
                if printed is True:
                    self.finish(item, "printed", code, detail)
                    continue
                if printed is None:
                    self.sent(item, code, row.handle, detail, possible_duplicate=False)
                    worker.add_awaiting(Awaiting(item, code, row.handle))
                    continue
            if row.state == "sending":
                item.recovered_sending = item.possible_duplicate = True
                log.warning("job %s: the daemon stopped while sending it; sending again marked possible duplicate",
                            item.id)
            try:
                self.client.renew(item.id)
            except WmsRejected as exc:
                log.info("job %s: not ours any more after the restart (%s)", item.id, exc)
                self.journal.mark(item.id, item.attempt, "done")
                continue
            except WmsUnreachable as exc:
                # Kept and printed anyway: no job waits for the WMS; its report goes out when the WMS is back.
                log.info("job %s: lease not renewed after the restart (%s); printing it anyway", item.id, exc)
            with self._lock:
                self.held[item.key] = item
            if worker is None:
                self.finish(item, "retry", str(code or "?"), "printer unknown after restart", retry_after=1.0)
            else:
                item.failed_over = bool(row.printer_code and row.printer_code != printer.get("code"))
                worker.put(item)

    def start(self) -> None:
        self.settings.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.refresh_printers()
        except (WmsUnreachable, WmsRejected) as exc:
            log.warning("cannot fetch the printers yet (%s); using the journal and claimed jobs", exc)
        self.recover()
        threads = [threading.Thread(target=self._reporter_loop, args=(i,), name=f"reporter-{i}", daemon=True)
                   for i in range(REPORTER_SHARDS)]
        threads += [threading.Thread(target=self._guarded("leases", self._lease_loop), name="leases", daemon=True),
                    threading.Thread(target=self._guarded("status", self._status_loop), name="status", daemon=True)]
        self._threads = threads
        with self._lock:
            workers = list(self.workers.values())
        for worker in workers:
            worker.thread.start()
        for thread in threads:
            thread.start()
        self._claimer = threading.Thread(target=self._guarded("claims", self._claim_loop), name="claimer",
                                         daemon=True)
        self._acceptor = threading.Thread(target=self._accept_loop, name="acceptor", daemon=True)
        self._acceptor.start()
        self._claimer.start()
        log.info("printserver %s started: %d printer(s), WMS %s", self.settings.daemon_id, len(workers),
                 self.settings.wms_url)

    def stop(self) -> None:
        """Graceful stop: finish the current writes, release jobs not started, deliver the reports."""
        deadline = time.monotonic() + self.settings.stop_timeout_seconds
        self._stop_deadline = deadline
        self.stopping.set()
        with self._lock:
            workers = list(self.workers.values())
        for worker in workers:
            worker.wake()
        for worker in workers:
            worker.thread.join(timeout=max(0.1, deadline - time.monotonic()))
        if self._claimer is not None:
            self._claimer.join(timeout=max(0.1, deadline - time.monotonic()))
        if self._acceptor is not None:  # what was claimed is journalled, then released below with the rest
            self._claimed.put(None)
            self._acceptor.join(timeout=max(0.1, deadline - time.monotonic()))
        with self._lock:
            workers = list(self.workers.values())  # with any printer first seen in the last claimed batch
        for worker in workers:
            for item in worker.take_all():
                if not item.dropped:
                    self.finish(item, "retry", worker.code, "printserver stopped before printing it; released",
                                retry_after=0, possible_duplicate=item.possible_duplicate)
        self._flushed.set()
        with self.journal.changed:
            self.journal.changed.notify_all()
        for thread in self._threads:
            if thread.name.startswith("reporter"):
                thread.join(timeout=max(0.1, deadline - time.monotonic()))
        pending = self.journal.count_pending_reports()
        if pending:
            log.warning("%d report(s) stay in the journal for the next start", pending)
        self.journal.forget_done(older_than_seconds=86400)
        self.journal.close()
        self.client.close()
        log.info("printserver stopped")


def _latest_per_attempt(pending: list[PendingReport], journal: Journal) -> list[PendingReport]:
    """Skip a `sent` report when the same attempt's final report is already waiting behind it."""
    last: dict[tuple[int, str], int] = {}
    for report in pending:
        attempt = report.key.rsplit(":", 1)[0]
        last[(report.job_id, attempt)] = report.seq
    keep = []
    for report in pending:
        attempt = report.key.rsplit(":", 1)[0]
        if report.body.get("outcome") == "sent" and last[(report.job_id, attempt)] != report.seq:
            journal.delivered(report.seq, "superseded by the final report")
            continue
        keep.append(report)
    return keep
