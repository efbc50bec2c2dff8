"""The local journal: what this daemon holds and what it still owes the WMS, safe across `kill -9`.

One SQLite file (WAL, synchronous=FULL: every commit is fsynced before we act on it). Two tables:

- ``jobs``: one row per claimed job attempt with its state ``claimed → sending → sent → done``; the bytes are
  kept so a job held when the WMS is away can still print.
- ``reports``: the outbox. A report is written in the same transaction as the state change that causes it and is
  delivered to the WMS later, in order, with a deterministic Idempotency-Key (job, attempt, outcome), so a replay
  after a crash is harmless.

Recovery after a crash (see ``Daemon.recover``): ``claimed`` rows print normally (nothing left the box);
``sending`` rows may have printed, so they are sent again marked *possible duplicate*; ``sent`` rows wait for
the printer's confirmation as before; undelivered reports are delivered.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'sending', 'sent', 'done')),
    printer_code TEXT,
    handle TEXT,
    job TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
CREATE INDEX IF NOT EXISTS ix_jobs_open ON jobs (state) WHERE state <> 'done';
CREATE TABLE IF NOT EXISTS reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    delivered_at REAL,
    answer TEXT
);
CREATE INDEX IF NOT EXISTS ix_reports_pending ON reports (seq) WHERE delivered_at IS NULL;
"""


@dataclass
class _Write:
    statements: list[tuple[str, tuple]]
    durable: bool
    done: bool = False
    counts: list[int] = field(default_factory=list)
    error: BaseException | None = None


@dataclass(frozen=True)
class JournalJob:
    job_id: int
    attempt: int
    state: str
    printer_code: str | None
    handle: str | None
    job: dict


@dataclass(frozen=True)
class PendingReport:
    seq: int
    key: str
    job_id: int
    attempt: int
    body: dict


def report_key(daemon_id: str, job_id: int, attempt: int, outcome: str) -> str:
    """The Idempotency-Key of a report: the same job, attempt and outcome always give the same key."""
    return f"printserver:{daemon_id}:job-{job_id}:attempt-{attempt}:{outcome}"


class Journal:
    """Thread-safe access to the journal file: one connection, group commit.

    Every state change must be on disk before the daemon acts on it, and an fsync costs milliseconds: so
    concurrent writers (50 printer threads) share commits. A writer queues its statements; whoever holds the
    connection commits everything queued in one transaction (one fsync), each writer's part in a savepoint so
    one failing part fails only its writer.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # the connection
        self._queue_lock = threading.Lock()
        self._queue: list[_Write] = []
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self.changed = threading.Condition()

    def close(self) -> None:
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    def _tx(self, statements: list[tuple[str, tuple]], *, durable: bool = True) -> list[int]:
        """Run the statements atomically and durably (group commit); the row counts of each statement."""
        write = _Write(statements, durable)
        with self._queue_lock:
            self._queue.append(write)
        with self._lock:
            if not write.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if write.error is not None:
            raise write.error
        return write.counts

    def _commit(self, batch: list[_Write]) -> None:
        db = self._db
        # A batch made only of non-durable writes (delivery marks: losing one only replays a report) skips fsync.
        db.execute(f"PRAGMA synchronous={'FULL' if any(w.durable for w in batch) else 'NORMAL'}")
        try:
            db.execute("BEGIN IMMEDIATE")
            for write in batch:
                db.execute("SAVEPOINT part")
                try:
                    write.counts = [db.execute(sql, args).rowcount for sql, args in write.statements]
                except sqlite3.Error as exc:
                    db.execute("ROLLBACK TO part")
                    write.error = exc
                db.execute("RELEASE part")
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            for write in batch:
                write.error = write.error or exc
            raise
        finally:
            for write in batch:
                write.done = True

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    # -- jobs ----------------------------------------------------------------------------------------------

    def record_claimed(self, jobs: list[dict]) -> list[bool]:
        """Journal newly claimed attempts in one commit; False for an attempt already known (a repeated answer)."""
        now = time.time()
        return [count == 1 for count in self._tx([(
            "INSERT OR IGNORE INTO jobs (job_id, attempt, state, job, updated_at) VALUES (?, ?, 'claimed', ?, ?)",
            (job["id"], job["attempt"], json.dumps(job), now)) for job in jobs])]

    def mark(self, job_id: int, attempt: int, state: str, *, printer_code: str | None = None,
             handle: str | None = None, report: tuple[str, dict] | None = None) -> None:
        """Move an attempt to `state`, optionally queueing a report (key, body) in the same transaction."""
        statements: list[tuple[str, tuple]] = [(
            "UPDATE jobs SET state = ?, printer_code = coalesce(?, printer_code), handle = coalesce(?, handle),"
            " updated_at = ? WHERE job_id = ? AND attempt = ?",
            (state, printer_code, handle, time.time(), job_id, attempt),
        )]
        if report is not None:
            key, body = report
            statements.append((
                "INSERT OR IGNORE INTO reports (key, job_id, attempt, body, created_at) VALUES (?, ?, ?, ?, ?)",
                (key, job_id, attempt, json.dumps(body), time.time()),
            ))
        self._tx(statements)
        if report is not None:
            self._notify()

    def open_jobs(self) -> list[JournalJob]:
        """Attempts not finished here, oldest job first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, attempt, state, printer_code, handle, job FROM jobs WHERE state <> 'done'"
                " ORDER BY job_id, attempt"
            ).fetchall()
        return [JournalJob(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def count_open(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM jobs WHERE state <> 'done'").fetchone()[0]

    def forget_done(self, older_than_seconds: float) -> None:
        """Drop finished attempts whose reports were delivered long ago (the file stays small)."""
        cutoff = time.time() - older_than_seconds
        self._tx([
            ("DELETE FROM jobs WHERE state = 'done' AND updated_at < ? AND job_id NOT IN"
             " (SELECT job_id FROM reports WHERE delivered_at IS NULL)", (cutoff,)),
            ("DELETE FROM reports WHERE delivered_at IS NOT NULL AND delivered_at < ?", (cutoff,)),
        ])

    # -- reports -------------------------------------------------------------------------------------------

    def pending_reports(self, limit: int = 100, shard: int = 0, shards: int = 1) -> list[PendingReport]:
        """Undelivered reports in order; `shard` of `shards` splits them by job so each job keeps its order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, key, job_id, attempt, body FROM reports WHERE delivered_at IS NULL AND job_id % ? = ?"
                " ORDER BY seq LIMIT ?",
                (shards, shard, limit),
            ).fetchall()
        return [PendingReport(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def count_pending_reports(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM reports WHERE delivered_at IS NULL").fetchone()[0]

    def delivered(self, seq: int, answer: str) -> None:
        self._tx([("UPDATE reports SET delivered_at = ?, answer = ? WHERE seq = ?", (time.time(), answer, seq))],
                 durable=False)

    def delivered_many(self, answers: list[tuple[int, str]]) -> None:
        """delivered() for many reports (seq, answer) in one transaction."""
        now = time.time()
        self._tx([("UPDATE reports SET delivered_at = ?, answer = ? WHERE seq = ?", (now, answer, seq))
                  for seq, answer in answers], durable=False)
