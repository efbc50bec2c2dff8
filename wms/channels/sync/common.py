"""What every sync pass shares: the channel's connection, its connector, and the sync log of a run."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any

from sqlalchemy import select

from wms.channels.connectors import make_connector
from wms.channels.connectors.base import Connector, ConnectorConfig, ConnectorError
from wms.channels.models import ChannelConnection, ChannelSyncLog
from wms.db import db, utcnow
from wms.errors import Conflict
from wms.orders.models import Channel

log = logging.getLogger("wms.channels")


class ChannelNotConnected(Conflict):
    slug = "channel-not-connected"
    title = "The channel is not connected to a platform"


def connection_of(channel: Channel | int) -> ChannelConnection | None:
    """The channel's platform connection, or None for a channel that uses the API itself."""
    channel_id = channel if isinstance(channel, int) else channel.id
    return db.session.scalar(select(ChannelConnection).where(ChannelConnection.channel_id == channel_id))


def require_connection(channel: Channel | int) -> ChannelConnection:
    conn = connection_of(channel)
    if conn is None:
        code = channel.code if isinstance(channel, Channel) else channel
        raise ChannelNotConnected(f"Channel {code} is not connected to a platform (wms channels add ... --kind).")
    return conn


def connector_for(conn: ChannelConnection) -> Connector:
    """The connector of the connection's platform, with its credentials decrypted in memory (a webhook secret
    set apart is among them as `webhook_secret`)."""
    credentials = dict(conn.credentials)
    if conn.webhook_secret and not credentials.get("webhook_secret"):
        credentials["webhook_secret"] = conn.webhook_secret
    return make_connector(conn.kind, ConnectorConfig(base_url=conn.base_url, credentials=credentials,
                                                     options=dict(conn.options or {})))


class Headers(Mapping[str, str]):
    """Request headers looked up whatever their case (`headers["x-shopify-hmac-sha256"]`), kept as sent."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = dict(items or {})
        self._lower = {k.lower(): v for k, v in self._items.items()}

    def __getitem__(self, key: str) -> str:
        return self._lower[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lower

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, ConnectorError) and err.status:
        text += f" (HTTP {err.status})"
    return text[:2000]


def failing_in_a_row(channel_id: int, *, window: int = 500) -> dict[str, int]:
    """For each direction, how many of the channel's latest finished runs failed in a row (0: the last was ok),
    over its last `window` runs."""
    rows = db.session.execute(select(ChannelSyncLog.direction, ChannelSyncLog.ok).where(
        ChannelSyncLog.channel_id == channel_id, ChannelSyncLog.finished_at.is_not(None))
        .order_by(ChannelSyncLog.started_at.desc(), ChannelSyncLog.id.desc()).limit(window)).all()
    streak: dict[str, int] = {}
    done: set[str] = set()
    for direction, ok in rows:
        if direction in done:
            continue
        if ok:
            done.add(direction)
            streak.setdefault(direction, 0)
        else:
            streak[direction] = streak.get(direction, 0) + 1
    return streak


class SyncRun:
    """One run with a channel, logged in channel_sync_logs whatever happens.

    The log row is committed when the run starts (a run that dies still shows); when the run raises, its
    uncommitted work is rolled back, the error is written on the log and the connection, and the error goes on.
    `retries` on the log is how many runs of the channel in the same direction had failed in a row before this
    one; the connection's `consecutive_failures` is the longest such streak over its directions.
    """

    def __init__(self, channel_id: int, direction: str, *, detail: str | None = None) -> None:
        self.channel_id = channel_id
        self.direction = direction
        self.counts: dict[str, Any] = {}
        self.errors: list[str] = []
        self.notes: list[str] = [detail] if detail else []
        self.log_id: int | None = None

    def __enter__(self) -> SyncRun:
        row = ChannelSyncLog(channel_id=self.channel_id, direction=self.direction, started_at=utcnow(),
                             retries=failing_in_a_row(self.channel_id).get(self.direction, 0), counts={})
        db.session.add(row)
        db.session.commit()
        self.log_id = row.id
        return self

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def note(self, text: str) -> None:
        if len(self.notes) < 50:
            self.notes.append(text)

    def error(self, text: str) -> None:
        """A failure of one item that does not end the run (it is listed, the run is not ok)."""
        if len(self.errors) < 50:
            self.errors.append(text)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            db.session.rollback()
            self.error(describe(exc))
        row = db.session.get(ChannelSyncLog, self.log_id)
        ok = exc is None and not self.errors
        if row is not None:
            row.finished_at = utcnow()
            row.ok = ok
            row.counts = dict(self.counts)
            row.detail = "\n".join(self.notes)[:4000] or None
            row.error = "\n".join(self.errors)[:4000] or None
        conn = connection_of(self.channel_id)
        if conn is not None:
            if exc is not None:
                conn.last_error, conn.last_error_at = describe(exc), utcnow()
            elif self.errors:
                conn.last_error, conn.last_error_at = self.errors[0][:2000], utcnow()
            db.session.flush()
            # The worst direction: a pull failing for an hour is not hidden by the pushes that succeed meanwhile.
            conn.consecutive_failures = max(failing_in_a_row(self.channel_id).values(), default=0)
        db.session.commit()
        if exc is not None:
            log.warning("channel %s %s failed: %s", self.channel_id, self.direction, describe(exc))
