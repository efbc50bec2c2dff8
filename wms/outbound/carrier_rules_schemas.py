"""Request and response bodies of the carrier rules API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Grams = Annotated[int, Field(ge=0, le=10_000_000, description="grams")]
Amount = Annotated[Decimal, Field(ge=0, lt=Decimal("1e10"), description="in the order's currency")]
Text120 = Annotated[str, StringConstraints(max_length=120)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CarrierRuleFields(Strict):
    priority: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(
        default=None, description="lower is tried first (default 100); rules naming a shipping method are tried "
                                  "before the others")
    active: bool | None = Field(default=None, description="false: the rule is kept but never tried")
    warehouse: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        default=None, description="the warehouse code it applies to (null: every warehouse)")
    channel: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="the channel code it applies to (null: every channel)")
    shipping_method: Text120 | None = Field(
        default=None, description="the channel's shipping method it maps, compared trimmed and without case "
                                  "(null: a generic rule)")
    countries: Annotated[str, StringConstraints(max_length=400)] | None = Field(
        default=None, description="destination ISO country codes, `FR,BE,LU`; `!FR` excludes (null: anywhere)")
    min_weight_g: Grams | None = Field(default=None, description="the order's total weight at least this")
    max_weight_g: Grams | None = Field(default=None, description="the order's total weight at most this")
    max_side_mm: Annotated[int, Field(ge=0, le=10_000_000)] | None = Field(
        default=None, description="the longest side of any unit at most this, in mm")
    min_value: Amount | None = Field(default=None, description="the order's value at least this")
    max_value: Amount | None = Field(default=None, description="the order's value at most this")
    before_time: Annotated[str, StringConstraints(max_length=5)] | None = Field(
        default=None, description="HH:MM in the warehouse's time zone: the rule holds only before it (cutoff)")
    service: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, description="the carrier's service (null: its default); a relay service (A2P, 24R...) "
                                  "means relay delivery")
    relay: bool | None = Field(default=None, description="delivery to a relay point: an order without a pick-up "
                                                         "point is held for a supervisor")


class CarrierRuleIn(CarrierRuleFields):
    name: Text120 = Field(description="shown in the reason on the order, e.g. 'Heavy to GLS'")
    carrier: Annotated[str, StringConstraints(max_length=32)] = Field(description="a carrier configured here")


class CarrierRulePatchIn(CarrierRuleFields):
    """Fields left out stay as they are; a null clears a condition."""

    name: Text120 | None = None
    carrier: Annotated[str, StringConstraints(max_length=32)] | None = None


class CarrierRulesQuery(Strict):
    warehouse: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        default=None, description="only the rules that apply to this warehouse")
    include_inactive: bool = True


class CarrierRuleOut(BaseModel):
    id: int
    name: str
    priority: int
    active: bool
    warehouse: str | None
    channel: str | None
    shipping_method: str | None
    countries: str | None
    min_weight_g: int | None
    max_weight_g: int | None
    max_side_mm: int | None
    min_value: Decimal | None
    max_value: Decimal | None
    before_time: str | None
    carrier: str
    carrier_configured: bool = Field(description="false: the carrier is no longer configured, the rule is skipped")
    service: str | None
    relay: bool
    updated_at: dt.datetime


class CarrierChoiceOut(BaseModel):
    order_id: int
    order: str = Field(description="the channel's order id")
    channel: str
    carrier: str = Field(description="the carrier that would ship it if chosen now")
    service: str | None
    relay: bool
    rule_id: int | None
    reason: str
    stored_carrier: str = Field(description="the carrier chosen at intake (or the shipment's)")
    stored_service: str | None
    stored_reason: str | None
    hold: str | None = Field(description="the order's hold kind, if held")
