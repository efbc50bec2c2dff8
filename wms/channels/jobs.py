"""The channels' jobs on the job engine (wms.jobs): pulls, stock pushes, webhooks, write-backs, reconciliation,
and the periodic dispatcher that defers what is due. Each job is idempotent (it reads the database for what is
left to do) and holds a lock per channel and direction, so two never race on one channel."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from wms.channels.connectors import connector_class
from wms.channels.connectors.base import ConnectorError
from wms.channels.models import ChannelConnection, ChannelFulfilment, ChannelListing
from wms.channels.sync import fulfilments, notes, orders, stock
from wms.db import db, utcnow
from wms.jobs import defer, periodic, task
from wms.orders.models import Channel

log = logging.getLogger("wms.channels")
QUEUE = "channels"


def _channel(channel_id: int) -> Channel | None:
    channel = db.session.get(Channel, channel_id)
    return channel if channel is not None and channel.active else None


# Pulls, pushes and write-backs are deferred with a queueing lock (after commit and by the dispatcher) and are NOT
# retried by the engine: procrastinate puts a retried job back to `todo`, which violates the queueing lock's unique index when
# another job of that lock was deferred meanwhile (procrastinate issue #1543); the job then stays `doing` for
# ever and its lock (channel:<id>:stock, :orders) blocks the channel's pushes or pulls and webhooks. The
# dispatcher is their retry: every 10 s it defers the pushes of listings still dirty, the pulls due, the
# write-backs due (a fulfilment keeps its own backoff in next_attempt_at).
NO_RETRY = False


def _retry_or_stop(err: ConnectorError) -> None:
    """Transient platform errors are raised (the job fails, logged; the dispatcher defers it again); refusals
    stop here, logged."""
    if err.transient:
        raise err


@task("channels.pull", queue=QUEUE, lock_key="channel:{channel_id}:orders", retry=NO_RETRY)
def pull(channel_id: int) -> None:
    """One pull pass of the channel's orders (all its pages), then its held orders again."""
    channel = _channel(channel_id)
    if channel is None:
        return
    try:
        result = orders.pull_orders(channel)
        while not result.complete and result.pages:
            result = orders.pull_orders(channel)
    except ConnectorError as err:
        _retry_or_stop(err)


@task("channels.process_webhook", queue=QUEUE, lock_key="channel:{channel_id}:orders")
def process_webhook(channel_id: int, document_id: int) -> None:
    """Act on one stored, verified webhook."""
    if _channel(channel_id) is None:
        return
    try:
        orders.process_webhook(document_id)
    except ConnectorError as err:
        _retry_or_stop(err)


@task("channels.push_stock", queue=QUEUE, lock_key="channel:{channel_id}:stock", retry=NO_RETRY)
def push_stock(channel_id: int) -> None:
    """Push the channel's dirty listings (debounced: deferred with a queueing lock per channel)."""
    channel = _channel(channel_id)
    if channel is None:
        return
    try:
        stock.push_stock(channel)
    except ConnectorError as err:
        _retry_or_stop(err)


@task("channels.reconcile", queue=QUEUE, lock_key="channel:{channel_id}:stock", retry=NO_RETRY)
def reconcile(channel_id: int) -> None:
    """Push every mapped listing's stock, whatever was pushed before (nightly and on demand).

    Every mapped listing is marked dirty first (committed): a reconcile that fails part-way leaves the listings it
    did not push dirty, and the dispatcher's pushes finish them. So it needs no engine retry (see NO_RETRY)."""
    channel = _channel(channel_id)
    if channel is None:
        return
    stock.mark_all_dirty(channel.id)
    db.session.commit()
    try:
        stock.push_stock(channel, full=True)
    except ConnectorError as err:
        _retry_or_stop(err)


@task("channels.push_fulfilment", queue=QUEUE, lock_key="fulfilment:{fulfilment_id}", retry=NO_RETRY)
def push_fulfilment(fulfilment_id: int) -> None:
    """Write one shipment back to its channel (retried with backoff while the platform fails)."""
    fulfilments.push_fulfilment(fulfilment_id)


@task(notes.TASK, queue=QUEUE)
def push_note(order_id: int, note: str) -> None:
    """Leave a private note on the order's platform (held, released, relay point changed). No queueing lock,
    so the engine's default retry (exponential backoff) retries a platform that fails."""
    notes.push_note(order_id, note)


def _poll_interval(conn: ChannelConnection) -> int:
    try:
        documented = connector_class(conn.kind).poll_interval_s
    except (KeyError, ImportError):
        return 0
    return int((conn.options or {}).get("poll_interval_s", documented))


def due_work(now: dt.datetime | None = None) -> list[tuple[str, str, dict[str, int]]]:
    """What the dispatcher defers: (task, queueing lock, kwargs) for every due pull, waiting push, due write-back."""
    now = now or utcnow()
    work: list[tuple[str, str, dict[str, int]]] = []
    conns = db.session.scalars(select(ChannelConnection).join(Channel, Channel.id == ChannelConnection.channel_id)
                               .where(Channel.active.is_(True)).order_by(ChannelConnection.channel_id))
    for conn in conns:
        cid = conn.channel_id
        interval = _poll_interval(conn)
        if conn.orders_enabled and interval and (
                conn.last_pull_at is None or conn.order_cursor is not None
                or now - conn.last_pull_at >= dt.timedelta(seconds=interval)):
            work.append(("channels.pull", f"channels.pull:{cid}", {"channel_id": cid}))
        if conn.stock_enabled and db.session.scalar(select(ChannelListing.id).where(
                ChannelListing.channel_id == cid, ChannelListing.dirty.is_(True),
                ChannelListing.product_id.is_not(None)).limit(1)) is not None:
            work.append((stock.PUSH_TASK, stock.push_lock(cid), {"channel_id": cid}))
    due = db.session.scalars(select(ChannelFulfilment.id).where(
        ChannelFulfilment.state != "sent", ChannelFulfilment.next_attempt_at.is_not(None),
        ChannelFulfilment.next_attempt_at <= now, ChannelFulfilment.attempts < fulfilments.MAX_ATTEMPTS))
    work += [(fulfilments.TASK, f"{fulfilments.TASK}:{fid}", {"fulfilment_id": fid}) for fid in due]
    return work


# croniter reads a sixth field as the seconds, at the END: "* * * * * */10" is every 10 s ("*/10 * * * * *" would
# be every second of every tenth minute, and nothing for the nine minutes between).
@periodic("* * * * * */10", "channels.dispatch", queue=QUEUE)
def dispatch() -> None:
    """Every 10 s: defer the pulls that are due, the pushes of listings left dirty, the write-backs due again.

    The queueing locks make this idempotent: a job already waiting for the same channel is not queued twice.
    It is also the sweep that catches up what a failed after-commit defer left behind.
    """
    for name, lock, kwargs in due_work():
        defer(name, queueing_lock=lock, **kwargs)


@periodic("0 3 * * *", "channels.nightly_reconcile", queue=QUEUE)
def nightly_reconcile() -> None:
    """At 03:00: a full stock reconciliation of every connected channel."""
    for cid in db.session.scalars(select(ChannelConnection.channel_id).where(ChannelConnection.stock_enabled)):
        defer("channels.reconcile", queueing_lock=f"channels.reconcile:{cid}", channel_id=cid)
