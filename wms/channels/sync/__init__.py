"""Syncing a connected channel: orders in, stock out, fulfilments back (docs/channels.md).

Each pass is a unit of work of its own, like a request: it commits as it goes (per page of orders, per batch of
stock updates, per fulfilment), so a long pass never holds row locks for long and a failure keeps what was done.
The jobs (wms.channels.jobs), the CLI and `services.sync_now` call these passes; nothing else commits here.
"""

from wms.channels.sync.common import SyncRun, connection_of, connector_for, require_connection
from wms.channels.sync.fulfilments import push_due_fulfilments, push_fulfilment, record_shipped
from wms.channels.sync.orders import PullResult, process_webhook, pull_orders, receive_webhook, take_in
from wms.channels.sync.stock import PushResult, mark_dirty, push_stock

__all__ = ["PullResult", "PushResult", "SyncRun", "connection_of", "connector_for", "mark_dirty",
           "process_webhook", "pull_orders", "push_due_fulfilments", "push_fulfilment", "push_stock",
           "receive_webhook", "record_shipped", "require_connection", "take_in"]
