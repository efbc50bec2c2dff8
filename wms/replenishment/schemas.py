"""Request and response bodies of the stock levels, alerts, replenishment and purchase suggestion API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from wms.orders.schemas import Code, Sku, Strict
from wms.stock.levels_services import MAX_UNITS

Units = Annotated[int, Field(ge=0, le=MAX_UNITS, description="whole units")]


class LevelIn(Strict):
    sku: Sku
    lane: Code | None = Field(default=None, description="a pick lane code; absent or null: the whole warehouse")
    min_qty: Units
    max_qty: Annotated[int, Field(ge=1, le=MAX_UNITS, description="whole units, at least min_qty")]


class LevelOut(BaseModel):
    sku: str
    product_name: str
    warehouse: str
    lane: str | None = Field(description="null: the level counts the whole warehouse")
    min_qty: int
    max_qty: int


class LevelQuery(Strict):
    sku: Sku | None = None
    lane: Code | None = None


class LevelKey(Strict):
    sku: Sku
    lane: Code | None = Field(default=None, description="absent: the warehouse-wide level")


class ActionOut(BaseModel):
    kind: Literal["replenish", "buy", "underway", "full"] = Field(
        description="replenish from reserve; buy; wait for the replenishment underway; full: no space in the lane")
    quantity: int
    source: str | None = Field(description="reserve location to take from (replenish)")
    short: int = Field(description="units the reserve cannot give (to buy)")


class AlertOut(BaseModel):
    sku: str
    product_name: str
    scope: Literal["lane", "warehouse"]
    lane: str | None
    zone: str | None
    on_hand: int
    reserved: int
    available: int
    backordered: int = Field(description="warehouse levels: units open orders wait for")
    underway: int = Field(description="units of open replenishment tasks")
    min_qty: int
    max_qty: int
    capacity: int | None
    action: ActionOut


class TaskOut(BaseModel):
    id: int
    status: str
    sku: str | None
    lane: str
    source: str | None = Field(description="the reserve location to take from")
    quantity: int | None
    done_quantity: int | None
    assignee: str | None = Field(description="username of the receiver")
    note: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class SkippedOut(BaseModel):
    sku: str
    lane: str
    reason: str


class PlanOut(BaseModel):
    warehouse: str
    created: list[TaskOut]
    skipped: list[SkippedOut]


class TasksQuery(Strict):
    status: Annotated[str, StringConstraints(pattern="^(open|done|all)$")] = "open"
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class CompleteIn(Strict):
    quantity: Units = Field(description="units actually moved from reserve to the lane (fewer = short)")
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    done_by: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        default=None, description="username of the receiver who did it; a receiver calling for themself omits it")


class SuggestionOut(BaseModel):
    sku: str
    product_name: str
    on_hand: int
    reserved: int
    available: int
    backordered: int
    min_qty: int
    max_qty: int
    quantity: int = Field(description="units to buy: max − (on_hand − reserved) + backordered")
    reason: str
