"""A test double of OUR connector interface (wms.channels.connectors.base), over in-memory state: the core sync
tests drive it without any platform. It is not a stand-in of a platform (those live in tests/standins/).

`install(monkeypatch)` makes the platform kind "woocommerce" build a MemoryConnector, whose state is the
MemoryPlatform registered under the connection's base_url; `Defers` records the jobs deferred after commit,
with procrastinate's queueing-lock rule (a second job with the lock of one still waiting is not queued).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from wms.channels.connectors.base import (
    AuthFailed,
    BadPayload,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    Connector,
    Delivery,
    Fulfilment,
    OrderPage,
    OrderState,
    RateLimit,
    StockResult,
    StockUpdate,
    Unavailable,
    WebhookCall,
    WebhookTopic,
)

KIND = "woocommerce"          # the kind the double answers for in tests (any of the five would do)
SIGNATURE_HEADER = "X-Memory-Signature"
PLATFORMS: dict[str, MemoryPlatform] = {}
T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class MemoryPlatform:
    base_url: str = "https://memory.example"
    items: dict[str, dict[str, Any]] = field(default_factory=dict)      # item_key -> {"sku", "qty"}
    orders: dict[str, ChannelOrder] = field(default_factory=dict)
    page_size: int = 2
    compare_and_set: bool = False
    pushes: list[list[StockUpdate]] = field(default_factory=list)
    fulfilments: list[Fulfilment] = field(default_factory=list)
    accepted: list[tuple[str, bool]] = field(default_factory=list)
    pulls: list[dt.datetime | None] = field(default_factory=list)
    fail_fulfilments: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    fail_deliveries: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)      # (external_id, private note)
    fail_pushes: int = 0
    during_push: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_item(self, item_key: str, sku: str | None, qty: int = 0) -> None:
        self.items[item_key] = {"sku": sku, "qty": qty}

    def qty(self, item_key: str) -> int:
        return self.items[item_key]["qty"]

    def add_order(self, external_id: str, lines: Iterable[tuple[str, int]], *, at: dt.datetime | None = None,
                  state: OrderState = OrderState.OPEN, **extra: Any) -> ChannelOrder:
        at = at or T0
        order = ChannelOrder(
            external_id=external_id, state=state, updated_at=at, placed_at=at,
            lines=tuple(ChannelOrderLine(ref=f"{external_id}-{i}", item_key=key,
                                         sku=self.items.get(key, {}).get("sku"), quantity=q)
                        for i, (key, q) in enumerate(lines, start=1)), **extra)
        self.orders[external_id] = order
        return order

    def update_order(self, external_id: str, at: dt.datetime, **changes: Any) -> ChannelOrder:
        order = replace(self.orders[external_id], updated_at=at, **changes)
        self.orders[external_id] = order
        return order


def webhook(platform: MemoryPlatform, secret: str, topic: WebhookTopic, external_id: str, *,
            delivery: str, carry_order: bool = True) -> tuple[bytes, dict[str, str]]:
    """A signed webhook body and its headers, as the double's platform would send it."""
    from wms.channels.sync.orders import order_to_json

    order = platform.orders.get(external_id)
    body = json.dumps({"topic": topic.value, "delivery": delivery, "order_id": external_id,
                       "order": order_to_json(order) if order is not None and carry_order else None}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}


class MemoryConnector(Connector):
    kind = KIND
    api_version = "memory-1"
    rate_limit = RateLimit(rate=1000.0, burst=100, items_per_call=100, source="test double")
    credential_fields = ("key",)
    has_webhooks = True
    poll_interval_s = 60
    overlap_s = 120

    @property
    def platform(self) -> MemoryPlatform:
        return PLATFORMS[self.config.base_url]

    def test_connection(self) -> str:
        if self.config.credentials.get("key") != "good":
            raise AuthFailed("key refused", status=401)
        return "Memory shop"

    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        p = self.platform
        p.pulls.append(updated_since)
        wanted = sorted((o for o in p.orders.values()
                         if (updated_since is None and o.state in (OrderState.OPEN, OrderState.AWAITING_ACCEPTANCE))
                         or (updated_since is not None and o.updated_at >= updated_since)),
                        key=lambda o: (o.updated_at, o.external_id))
        start = int(cursor or 0)
        page = wanted[start:start + p.page_size]
        more = start + p.page_size < len(wanted)
        return OrderPage(tuple(page), str(start + p.page_size) if more else None)

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        return self.platform.orders.get(external_id)

    def accept_orders(self, orders: Iterable[tuple[ChannelOrder, bool]]) -> None:
        for order, ok in orders:
            self.platform.accepted.append((order.external_id, ok))
            if ok:
                self.platform.orders[order.external_id] = replace(order, state=OrderState.OPEN)

    def list_items(self) -> Iterable[ChannelItem]:
        return [ChannelItem(item_key=k, sku=v["sku"], quantity=v["qty"]) for k, v in self.platform.items.items()]

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        p = self.platform
        if p.during_push is not None:
            hook, p.during_push = p.during_push, None
            hook()
        if p.fail_pushes:
            p.fail_pushes -= 1
            raise Unavailable("503 from the double", status=503)
        p.pushes.append(list(updates))
        results = []
        with p.lock:
            for u in updates:
                item = p.items.get(u.item_key)
                if item is None:
                    results.append(StockResult(u.item_key, False, error="no such listing"))
                elif p.compare_and_set and u.previous is not None and u.previous != item["qty"]:
                    results.append(StockResult(u.item_key, False, error="compare failed",
                                               channel_quantity=item["qty"]))
                else:
                    item["qty"] = u.quantity
                    results.append(StockResult(u.item_key, True))
        return results

    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        p = self.platform
        if p.fail_fulfilments:
            p.fail_fulfilments -= 1
            raise Unavailable("the platform timed out", status=504)
        p.fulfilments.append(fulfilment)

    pushes_delivered = True
    takes_private_notes = True

    def push_delivered(self, delivery: Delivery) -> None:
        p = self.platform
        if p.fail_deliveries:
            p.fail_deliveries -= 1
            raise Unavailable("the platform timed out", status=504)
        p.deliveries.append(delivery)

    def add_private_note(self, external_id: str, note: str) -> None:
        self.platform.notes.append((external_id, note))

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        secret = self.config.credentials.get("webhook_secret") or ""
        given = headers.get(SIGNATURE_HEADER.lower()) or ""
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return bool(secret) and hmac.compare_digest(expected, given)

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookCall:
        from wms.channels.sync.orders import order_from_json

        try:
            data = json.loads(body)
            order = order_from_json(data["order"]) if data.get("order") else None
            return WebhookCall(topic=WebhookTopic(data["topic"]), delivery_id=data.get("delivery"),
                               external_id=data.get("order_id"), order=order)
        except (ValueError, KeyError, TypeError) as err:
            raise BadPayload(f"unreadable: {err}") from err


@dataclass
class Defers:
    """Jobs deferred after commit, with the queueing-lock rule procrastinate applies."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)   # queueing lock -> task name

    def __call__(self, conninfo: Any, name: str, *, queueing_lock: str | None, lock: str | None,
                 schedule_in_s: float | None, priority: int, kwargs: dict[str, Any]) -> int | None:
        if queueing_lock and queueing_lock in self.waiting:
            return None
        if queueing_lock:
            self.waiting[queueing_lock] = name
        self.calls.append((name, dict(kwargs)))
        return len(self.calls)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [kw for n, kw in self.calls if n == name]

    def started(self, queueing_lock: str) -> None:
        """The worker took the job: its queueing lock is free again."""
        self.waiting.pop(queueing_lock, None)


def install(monkeypatch, *, real_jobs: bool = False) -> tuple[MemoryPlatform, Defers]:  # type: ignore[no-untyped-def]
    """The double answers for KIND; after-commit defers are recorded instead of sent (unless `real_jobs`)."""
    import wms.jobs.engine
    from wms.channels import connectors

    monkeypatch.setitem(connectors.KINDS, KIND, "tests.channel_support:MemoryConnector")
    platform = MemoryPlatform()
    PLATFORMS.clear()
    PLATFORMS[platform.base_url] = platform
    defers = Defers()
    if not real_jobs:
        monkeypatch.setattr(wms.jobs.engine, "_defer", defers)
    return platform, defers
