"""Holding an order for a person: it keeps its reservations but no wave takes it until it is released.

Plain functions over ``db.session`` (add/flush, never commit). A hold has a kind (what the supervisor has to do:
`relay_point` choose a valid pick-up point, `carrier` fix the carrier, `manual`, `review`) and a reason written for
people. Holding and releasing tell the order's channel (webhook `order.held` / `order.released`), so a shop can
say "we are checking your order" to its customer. Holding a held order again only updates its reason; a held
order in an active wave or already picked is refused (the wave owns it now).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from wms.db import db, utcnow
from wms.errors import Conflict, ValidationFailed
from wms.orders.models import Channel, Order, OrderStatus
from wms.webhooks import outbox


class HoldKind(StrEnum):
    RELAY_POINT = "relay_point"  # relay delivery without a valid pick-up point
    CARRIER = "carrier"          # no carrier can take it as it is
    MANUAL = "manual"            # a person held it
    REVIEW = "review"            # a rule asks for a look (value, fraud, address)


HOLDABLE = (OrderStatus.ACCEPTED, OrderStatus.BACKORDERED, OrderStatus.ALLOCATED, OrderStatus.PICKED)


class HoldRefused(Conflict):
    slug = "order-hold-refused"
    title = "The order cannot be held now"


def _payload(order: Order) -> dict[str, Any]:
    return {"order_id": order.external_id, "status": order.status.value, "hold": order.hold_kind,
            "reason": order.hold_reason, "relay_point_id": order.relay_point_id}


def hold(order: Order, kind: HoldKind | str, reason: str) -> Order:
    """Hold the order (or update the reason of its hold) and tell its channel."""
    kind = HoldKind(kind)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the order is held.", errors=[{"field": "reason", "message": "required"}])
    if order.status not in HOLDABLE:
        raise HoldRefused(f"Order {order.external_id} is {order.status.value}: it cannot be held now.",
                          order_status=order.status.value)
    same = order.hold_kind == kind.value and order.hold_reason == reason[:500]
    order.hold_kind, order.hold_reason = kind.value, reason[:500]
    if order.held_at is None:
        order.held_at = utcnow()
    db.session.flush()
    if not same:
        outbox.emit(order.channel or db.session.get(Channel, order.channel_id), "order.held", f"order:{order.id}",
                    _payload(order))
        from wms.channels.sync import notes

        notes.tell(order, notes.held_note(order))  # a connected platform with private notes hears it too
    return order


def release(order: Order, *, kind: HoldKind | str | None = None) -> bool:
    """Release the order's hold (only a hold of `kind` when given); False when it was not so held."""
    if order.hold_kind is None or (kind is not None and order.hold_kind != HoldKind(kind).value):
        return False
    order.hold_kind = order.hold_reason = order.held_at = None
    db.session.flush()
    outbox.emit(order.channel or db.session.get(Channel, order.channel_id), "order.released", f"order:{order.id}",
                _payload(order))
    from wms.channels.sync import notes

    notes.tell(order, notes.released_note(order))
    return True
