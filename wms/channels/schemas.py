"""Bodies of the channel sync API: a platform's webhook answer, sync status, listings and their mapping."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookReceived(BaseModel):
    received: bool = Field(description="true: stored (or recognised as a replay) and processed in a job")
    detail: str


class SyncLogOut(BaseModel):
    id: int
    direction: str = Field(description="pull, push, fulfilment, webhook, reconcile, accept, connect, import")
    started_at: dt.datetime
    finished_at: dt.datetime | None
    ok: bool | None
    counts: dict[str, int]
    detail: str | None
    error: str | None
    retries: int = Field(description="runs of the channel that had failed in a row before this one")


class SyncStatusOut(BaseModel):
    channel: str
    connected: bool
    kind: str | None
    last_pull_at: dt.datetime | None
    last_push_at: dt.datetime | None
    last_fulfilment_at: dt.datetime | None
    last_reconcile_at: dt.datetime | None
    order_checkpoint: dt.datetime | None
    lag_seconds: float | None = Field(description="age of the oldest stock change not yet pushed (0: none)")
    consecutive_failures: int
    last_error: str | None
    last_error_at: dt.datetime | None
    retries: int = Field(description="failed runs in the last 24 hours")
    pending_fulfilments: int
    failed_fulfilments: int
    unmapped_listings: int
    dirty_listings: int
    held_orders: int
    recent: list[SyncLogOut]


class ResyncIn(Strict):
    orders: bool = True
    stock: bool = True
    fulfilments: bool = True


class ListingOut(BaseModel):
    item_key: str
    channel_sku: str | None
    title: str | None
    sku: str | None = Field(description="our SKU it sells; null: unmapped")
    last_pushed_qty: int | None
    last_pushed_at: dt.datetime | None
    dirty: bool
    push_error: str | None


class MappingIn(Strict):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)] | None = Field(
        description="our SKU; null unmaps the listing")


class HeldOrderOut(BaseModel):
    external_id: str
    reason: str
    detail: str | None
    held_at: dt.datetime
    attempts: int


class AvailableOut(BaseModel):
    sku: str
    available: int = Field(description="what the channel may sell: over its warehouses, after its buffers and cap")
