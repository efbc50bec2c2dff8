"""Request and response bodies of the orders and stock API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Qty = Annotated[int, Field(gt=0, le=1_000_000, description="whole units of the product's unit")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
PRICE_DOC = ("the price of one unit as the customer paid it, taxes included, in the order's `currency`: a number "
             "or a decimal string, never negative, at most 2 decimals (12.5 or '12.50')")
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 9999999999.99},
              {"type": "string", "pattern": r"^[0-9]{1,10}(\.[0-9]{1,2})?$"}], "description": PRICE_DOC})]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShipTo(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    line1: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    line2: Annotated[str, StringConstraints(max_length=200)] | None = None
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    city: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166-1 alpha-2")
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None


class OrderLineIn(Strict):
    sku: Sku
    quantity: Qty
    unit_price: Price | None = None


class OrderIn(Strict):
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="the channel's own order id; sending it again returns the same order")
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]
    priority: Annotated[int, Field(ge=-100, le=100)] = 0
    cutoff_at: AwareDatetime | None = Field(default=None, description="when the parcel must leave (carrier cutoff)")
    carrier: Code | None = Field(default=None, description="the carrier code wanted; one not configured here is "
                                 "replaced by the default carrier (see `carrier_used` and `warnings` in the answer)")
    strict_carrier: bool = Field(default=False, description="refuse the order (422 `carrier-not-configured`, "
                                 "nothing written) rather than ship a carrier not configured here with the default")
    ship_to: ShipTo | None = None
    shipping_method: Annotated[str, StringConstraints(max_length=120)] | None = Field(
        default=None, description="the shipping method the customer chose; carrier rules map it to a carrier")
    relay_point_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="the carrier's id of the pick-up point chosen (relay delivery)")
    currency: Currency | None = Field(default=None, description="ISO 4217 code of the line prices (EUR, GBP, ...)")


class OrderLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    allocated: int
    backordered: int
    picked: int
    unit_price: Decimal | None = Field(default=None, description="the unit price sent with the line (null: none)")


class OrderWarning(BaseModel):
    code: str = Field(description="`carrier-not-configured`: the carrier asked for is replaced by the default")
    field: str = Field(description="the request field it is about")
    message: str


class OrderShipmentOut(BaseModel):
    carrier: str = Field(description="the carrier code that ships it")
    service: str = Field(description="the carrier's service it was labelled with")
    status: str = Field(description="labelled, staged, manifested, shipped, delivered or returned")
    tracking_number: str = Field(description="the master tracking number")
    tracking_numbers: list[str] = Field(description="one per parcel, in parcel order")
    tracking_url: str | None = Field(description="where the customer follows it; null when the carrier has none")
    parcel_count: int
    labelled_at: dt.datetime | None
    shipped_at: dt.datetime | None


class OrderHoldOut(BaseModel):
    kind: str = Field(description="what a person has to do: `relay_point` choose a pick-up point, `carrier`, "
                      "`manual`, `review`")
    reason: str
    held_at: dt.datetime | None


class OrderOut(BaseModel):
    external_id: str
    channel: str
    warehouse: str
    status: str
    priority: int
    cutoff_at: dt.datetime | None
    carrier: str | None = Field(description="the carrier the channel asked for (null: none)")
    carrier_used: str = Field(description="the carrier that ships the order: the one asked for when configured "
                              "here, else the one the carrier rules chose, else the default carrier (`warnings` "
                              "says when the one asked for is replaced, `carrier_reason` why)")
    warnings: list[OrderWarning] = Field(description="what was accepted differently from what was asked")
    carrier_service: str | None = Field(default=None, description="the carrier's service chosen (null: its default)")
    carrier_reason: str | None = Field(default=None, description="why this carrier and service were chosen: the "
                                       "channel's carrier, the carrier rule and the facts it matched, or the default")
    hold: OrderHoldOut | None = Field(default=None, description="set while the order waits for a person (no wave "
                                      "takes it): e.g. a relay delivery without a pick-up point")
    currency: str | None = Field(default=None, description="ISO 4217 code of the line prices (null: none sent)")
    lines: list[OrderLineOut]
    shipments: list[OrderShipmentOut] = Field(
        description="the labelled shipments, oldest first (a cancelled label is left out); [] before packing")
    created_at: dt.datetime


class StockOut(BaseModel):
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int


class StockQuery(Strict):
    sku: Annotated[list[Sku], Field(min_length=1, max_length=500)]


class SaleLineIn(Strict):
    sku: Sku
    quantity: Qty


class SaleIn(Strict):
    reference: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="the till's ticket number")
    lines: Annotated[list[SaleLineIn], Field(min_length=1, max_length=200)]


class SaleOut(BaseModel):
    reference: str
    warehouse: str
    lines: list[StockOut]


class AdjustmentIn(Strict):
    sku: Sku
    location: Code
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] | None = Field(
        default=None, description="units to add (positive) or remove (negative)")
    counted: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(
        default=None, description="the units counted in the location (a cycle count); exclusive with delta")
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class AdjustmentOut(BaseModel):
    sku: str
    location: str
    on_hand: int
    reserved: int
    delta: int


class TransferEnd(Strict):
    warehouse: Code
    location: Code


class TransferIn(Strict):
    sku: Sku
    quantity: Qty
    source: TransferEnd = Field(alias="from")
    destination: TransferEnd = Field(alias="to")
    note: Annotated[str, StringConstraints(max_length=500)] | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class TransferOut(BaseModel):
    sku: str
    quantity: int
    source: AdjustmentOut = Field(serialization_alias="from")
    destination: AdjustmentOut = Field(serialization_alias="to")


class ChannelIn(Strict):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    kind: Annotated[str, StringConstraints(pattern="^(web_shop|marketplace|pos)$")]
    warehouse: Code
    webhook_url: Annotated[str, StringConstraints(pattern=r"^https?://", max_length=500)] | None = None


class ChannelOut(BaseModel):
    code: str
    name: str
    kind: str
    warehouse: str
    webhook_url: str | None
    active: bool


class ChannelCreated(ChannelOut):
    webhook_secret: str | None = Field(description="shown once: the HMAC key that signs webhooks")
    token: str = Field(description="shown once: the channel's API token")


class WebhookEventOut(BaseModel):
    id: int
    topic: str
    object_key: str
    created_at: dt.datetime
    attempts: int
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime
    last_error: str | None


class WebhookEventsQuery(Strict):
    status: Annotated[str, StringConstraints(pattern="^(pending|delivered|all)$")] = "all"
    limit: Annotated[int, Field(ge=1, le=500)] = 100
