"""What a channel may sell: the one place its available-to-promise is computed (docs/channels.md).

    free      = sum over the channel's warehouses of (on_hand - reserved)   (wms.stock.availability)
    buffered  = free - buffer_units - ceil(free * buffer_percent / 100)
    capped    = min(buffered, floor(on_hand * cap_percent / 100))           (when cap_percent is set)
    available = max(capped, 0)

Every rounding goes the channel's way down, so it never gets a unit more than the settings allow.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from wms.db import db
from wms.stock.availability import availability


def channel_warehouse_ids(channel) -> list[int]:  # type: ignore[no-untyped-def]
    """The warehouses the channel sells from: those listed for it, else its own."""
    from wms.channels.models import ChannelWarehouse

    ids = list(db.session.scalars(select(ChannelWarehouse.warehouse_id)
                                  .where(ChannelWarehouse.channel_id == channel.id)
                                  .order_by(ChannelWarehouse.warehouse_id)))
    return ids or [channel.warehouse_id]


def promise(on_hand: int, reserved: int, *, buffer_units: int = 0, buffer_percent: int = 0,
            cap_percent: int | None = None) -> int:
    """The units a channel may sell out of on-hand and reserved stock with these settings (never negative)."""
    free = on_hand - reserved
    percent_held = -(-max(free, 0) * buffer_percent // 100)  # ceil: the buffer rounds up
    units = free - buffer_units - percent_held
    if cap_percent is not None:
        units = min(units, max(on_hand, 0) * cap_percent // 100)
    return max(units, 0)


def channel_available(channel, product_ids: Iterable[int]) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Available to promise on the channel, per product (0 for a product without stock)."""
    from wms.channels.models import ChannelConnection

    ids = sorted(set(product_ids))
    on_hand = dict.fromkeys(ids, 0)
    reserved = dict.fromkeys(ids, 0)
    if not ids:
        return {}
    for warehouse_id in channel_warehouse_ids(channel):
        for pid, avail in availability(ids, warehouse_id).items():
            on_hand[pid] += avail.on_hand
            reserved[pid] += avail.reserved
    conn = db.session.scalar(select(ChannelConnection).where(ChannelConnection.channel_id == channel.id))
    settings = {} if conn is None else {"buffer_units": conn.buffer_units, "buffer_percent": conn.buffer_percent,
                                        "cap_percent": conn.cap_percent}
    return {pid: promise(on_hand[pid], reserved[pid], **settings) for pid in ids}
