"""Private notes out: an order held for a supervisor, released, or given another relay point is told to a
connected platform that keeps staff-only notes on an order (WooCommerce: a private order note). Webhook channels
get order.held / order.released / order.relay_point_changed from the outbox whatever the platform.

A note is a job (`channels.push_note`) deferred after the change commits. It has no queueing lock, so the job
engine's own retry (wms.jobs DEFAULT_RETRY, exponential backoff) retries a platform that fails; every attempt is a
channel sync log row (direction `fulfilment`, detail "note on order ..."), so a failing note shows on the
channel's page with the write-backs. A platform without private notes (PrestaShop, see its connector; Shopify,
Mirakl, Amazon) gets no job.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from wms.channels.connectors import connector_class
from wms.channels.connectors.base import ConnectorError
from wms.channels.sync.common import SyncRun, connection_of, connector_for, describe
from wms.db import db
from wms.orders.models import Order

TASK = "channels.push_note"


def _takes_notes(kind: str) -> bool:
    try:
        return bool(connector_class(kind).takes_private_notes)
    except (KeyError, ImportError):
        return False


# The notes are for the shop's staff, written in the WMS's default language (BABEL_DEFAULT_LOCALE) whoever made
# the change and wherever (a page, the API, a job without a request).
def _shop_language() -> str:
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE") or "en")


def held_note(order: Order) -> str:
    with force_locale(_shop_language()):
        return _("Held in the warehouse (%(kind)s): %(reason)s", kind=order.hold_kind or "-",
                 reason=order.hold_reason or "-")


def released_note(order: Order) -> str:
    with force_locale(_shop_language()):
        return _("Released in the warehouse: its preparation goes on.")


def relay_point_note(order: Order, previous: str | None) -> str:
    with force_locale(_shop_language()):
        return _("Relay point changed to %(point)s (was %(previous)s).", point=order.relay_point_id or "-",
                 previous=previous or "-")


def tell(order: Order, note: str) -> bool:
    """Queue a private note on the order's platform when it takes one (in the caller's transaction)."""
    conn = connection_of(order.channel_id)
    if conn is None or not conn.fulfilments_enabled or not _takes_notes(conn.kind) or not order.external_id:
        return False
    from wms.jobs import defer_after_commit

    defer_after_commit(TASK, order_id=order.id, note=note)
    return True


def push_note(order_id: int, note: str) -> bool:
    """Write the note; a transient failure is logged then raised (the job engine retries it)."""
    order = db.session.get(Order, order_id)
    conn = connection_of(order.channel_id) if order is not None else None
    if order is None or conn is None or not _takes_notes(conn.kind):
        return False
    connector = connector_for(conn)
    external_id, channel_id = order.external_id, order.channel_id
    failure: ConnectorError | None = None
    with SyncRun(channel_id, "fulfilment", detail=f"note on order {external_id}") as run:
        try:
            connector.add_private_note(external_id, note)
        except ConnectorError as err:
            failure = err
            run.error(f"order {external_id} note: {describe(err)}")
            run.add("notes_failed")
        else:
            run.add("notes_sent")
    if failure is not None and failure.transient:
        raise failure
    return failure is None
