"""Request and response bodies of the waves and time-slot API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from wms.waves.slots import EARLIEST, LATEST


def _in_range(value: dt.datetime) -> dt.datetime:
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError("must lie between the years 2000 and 2999") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValueError("must lie between the years 2000 and 2999")
    return utc


When = Annotated[AwareDatetime, AfterValidator(_in_range),
                 Field(description="with a time zone, e.g. 2026-11-23T10:00:00Z; years 2000–2999")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Text = Annotated[str, StringConstraints(max_length=120)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderRef(Strict):
    channel: Code
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class WaveFilters(Strict):
    cutoff_before: When | None = Field(default=None, description="orders whose carrier cutoff is before this")
    carrier: Code | None = None
    channel: Code | None = None
    priority_min: Annotated[int, Field(ge=-100, le=100)] | None = None
    limit: Annotated[int, Field(ge=1, le=10_000)] = Field(default=10_000, description="most urgent first")


class PlanParamsIn(Strict):
    cart_items: Annotated[int, Field(ge=1, le=10_000)] | None = Field(default=None, description="items per cart")
    cart_orders: Annotated[int, Field(ge=1, le=200)] | None = Field(default=None, description="totes per cart")
    cart_volume_cm3: Annotated[float, Field(ge=1, le=10_000_000)] | None = None
    cart_weight_g: Annotated[float, Field(ge=1, le=10_000_000)] | None = None
    walk_speed_m_s: Annotated[float, Field(ge=0.1, le=5)] | None = None
    seconds_per_line: Annotated[float, Field(ge=0, le=3600)] | None = None
    seconds_per_unit: Annotated[float, Field(ge=0, le=3600)] | None = None
    setup_seconds: Annotated[float, Field(ge=0, le=3600)] | None = None
    method: Annotated[str, StringConstraints(pattern="^(savings|fcfs)$")] | None = None
    separate_replenishment: bool | None = None
    pick_aisle_spacing_m: Annotated[float, Field(ge=0.5, le=100)] | None = Field(
        default=None, description="walk between neighbouring pick aisles of a zone")

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class WaveIn(Strict):
    orders: Annotated[list[OrderRef], Field(min_length=1, max_length=10_000)] | None = Field(
        default=None, description="explicit orders; exclusive with filters")
    filters: WaveFilters | None = Field(default=None, description="take every eligible order that matches")
    starts_at: When | None = Field(default=None, description="earliest start of the plan (default: now)")
    params: PlanParamsIn | None = None
    plan: bool = Field(default=True, description="plan at once (otherwise the wave stays a draft)")


class PlanIn(Strict):
    starts_at: When | None = None
    params: PlanParamsIn | None = None


class WavesQuery(Strict):
    status: Annotated[str, StringConstraints(pattern="^(draft|planned|released|picking|done|cancelled)$")] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class SlotOut(BaseModel):
    id: int
    resource: str
    resource_kind: str
    zone: str | None
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    label: str
    wave_id: int | None
    wave: str | None
    pick_order: str | None


class PickLineOut(BaseModel):
    seq: int
    location: str
    sku: str
    quantity: int
    picked_quantity: int
    tote: str | None
    order: str
    task_id: int | None


class PickOrderOut(BaseModel):
    id: int
    code: str
    zone: str
    seq: int
    batch_no: int
    status: str
    route_length_m: float
    estimated_seconds: float
    totes: list[str]
    slot: SlotOut | None = Field(description="the OP's pick slot on the first pick aisle it walks")
    slots: list[SlotOut] = Field(default_factory=list,
                                 description="its pick slots: one on every pick aisle it walks, each for its whole time")
    aisles: list[str] = Field(default_factory=list, description="the pick aisle resources it books, e.g. A/P1, A/P3")
    lines: list[PickLineOut]


class IssueOut(BaseModel):
    kind: str
    message: str
    order: str | None = None


class WaveOrderOut(BaseModel):
    channel: str
    external_id: str
    priority: int
    cutoff_at: dt.datetime | None
    carrier: str | None
    batch_no: int | None


class WaveSummaryOut(BaseModel):
    id: int
    code: str
    warehouse: str
    status: str
    starts_at: dt.datetime | None
    created_at: dt.datetime
    planned_at: dt.datetime | None
    released_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    orders: int
    pick_orders: int
    figures: dict[str, Any] = Field(description="distance, baseline distance, saving, estimated time, span")


class WaveOut(WaveSummaryOut):
    params: dict[str, Any]
    issues: list[IssueOut]
    order_list: list[WaveOrderOut]
    pick_order_list: list[PickOrderOut]


class SlotsQuery(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: When | None = Field(default=None, alias="from", description="window start (default: now − 2 h)")
    end: When | None = Field(default=None, alias="to", description="window end (default: start + 24 h)")
    resource: Code | None = None


class SlotIn(Strict):
    resource: Code = Field(description="resource code, e.g. A/R0 (a replenish aisle) or DOCK-1")
    starts_at: When
    ends_at: When
    kind: Annotated[str, StringConstraints(pattern="^(receive|replenish|dock|pack|other)$")]
    label: Text = ""


class SlotMoveIn(Strict):
    starts_at: When
    ends_at: When
