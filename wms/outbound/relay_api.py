"""Relay points API: the orders held for a relay point, the carrier's points near a postcode for one order, and
the supervisor's choice (checked with the carrier, the hold released, the channel told)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import select

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.db import db
from wms.errors import NotFound
from wms.orders.models import Channel, Order
from wms.outbound import relay_points as rp
from wms.shipping.carrier_features import RelayPoint

ROLES = ("supervisor",)
TAGS = ["relay points"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RelayHoursOut(BaseModel):
    weekday: int = Field(description="ISO weekday: 1 Monday ... 7 Sunday")
    opens: str = Field(description="local time HH:MM")
    closes: str = Field(description="local time HH:MM")


class RelayAddressOut(BaseModel):
    name: str
    street: list[str]
    postcode: str
    city: str
    country: str


class RelayPointOut(BaseModel):
    carrier: str
    id: str = Field(description="the carrier's id of the point, as the label needs it")
    name: str
    address: RelayAddressOut
    opening_hours: list[RelayHoursOut] = Field(description="opening spans; a weekday without any is closed")
    distance_m: int | None = Field(description="from the searched postcode, when the carrier says")
    max_weight_grams: int | None = Field(description="heaviest parcel it takes (null: the carrier's standard)")
    closed_from: dt.date | None = Field(description="announced closure (holidays), inclusive")
    closed_until: dt.date | None
    latitude: float | None = None
    longitude: float | None = None
    refusal: str | None = Field(default=None, description="why it cannot take this order's parcel in the coming "
                                "days (closed, too heavy...); null: it can be chosen")


class RelayHoldOut(BaseModel):
    order: str = Field(description="the channel's order id")
    channel: str
    warehouse: str
    status: str
    carrier: str = Field(description="the carrier that ships the order")
    relay_point_id: str | None = Field(description="the point the order asked for (null: none)")
    reason: str | None = Field(description="what is wrong, for people")
    held_at: dt.datetime | None
    customer: str | None
    ship_to: dict[str, Any]


class RelaySearchQuery(Strict):
    postcode: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = Field(
        default=None, description="default: the order's delivery postcode")
    country: Country | None = Field(default=None, description="ISO 3166-1 alpha-2; default: the delivery country")
    city: Annotated[str, StringConstraints(max_length=80)] | None = Field(
        default=None, description="default: the delivery city (some carriers search by postcode and city)")


class RelaySearchOut(BaseModel):
    order: str
    channel: str
    carrier: str
    postcode: str
    country: str
    city: str
    weight_grams: int = Field(description="the parcel's expected weight (sum of the products' weights)")
    points: list[RelayPointOut] = Field(description="nearest first; [] when the carrier has none there")


class RelayChoiceIn(Strict):
    point_id: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
    country: Country | None = Field(default=None, description="the point's country; default: the delivery country")


class RelayChoiceOut(BaseModel):
    order: str
    channel: str
    status: str
    relay_point_id: str
    relay_point: RelayPointOut
    relay_checked_at: dt.datetime | None
    held: bool = Field(description="still held (for another reason than its relay point)")


def point_out(point: RelayPoint | dict[str, Any], refusal: str | None = None) -> RelayPointOut:
    data = rp.point_json(point) if isinstance(point, RelayPoint) else dict(point)
    return RelayPointOut.model_validate({**data, "refusal": refusal})


def _order(channel_code: str, external_id: str) -> Order:
    channel = db.session.scalar(select(Channel).where(Channel.code == channel_code))
    if channel is None:
        raise NotFound(f"No channel {channel_code!r}.")
    _principal().require_warehouse(channel.warehouse_id)
    order = db.session.scalar(select(Order).where(Order.channel_id == channel.id, Order.external_id == external_id))
    if order is None:
        raise NotFound(f"No order {external_id!r} in channel {channel_code}.")
    return order


@operation("/relay-holds", "GET", summary="Orders waiting for a relay point", tags=TAGS,
           response=list[RelayHoldOut], roles=ROLES)
def list_relay_holds() -> list[RelayHoldOut]:
    """Orders of the caller's warehouses held because their relay point is missing, unknown to the carrier,
    closed in the coming days or cannot take the parcel; oldest hold first."""
    out = []
    for order in rp.held_orders(_principal().warehouse_ids):
        to = order.ship_to or {}
        out.append(RelayHoldOut(order=order.external_id, channel=order.channel.code,
                                warehouse=order.channel.warehouse.code, status=order.status.value,
                                carrier=rp.carrier_code_of(order), relay_point_id=order.relay_point_id,
                                reason=order.hold_reason, held_at=order.held_at,
                                customer=to.get("name") or order.customer_email, ship_to=to))
    return out


@operation("/channels/<channel_code>/orders/<external_id>/relay-points", "GET",
           summary="Relay points near a postcode for an order", tags=TAGS, query=RelaySearchQuery,
           response=RelaySearchOut, roles=ROLES, errors=(502, 503))
def search_relay_points(channel_code: str, external_id: str, query: RelaySearchQuery) -> RelaySearchOut:
    """Asks the order's carrier (default: the delivery postcode, city and country). Each point says why it cannot
    take the parcel in the coming days (`refusal`). A carrier without relay points or refusing the postcode: 422;
    the carrier away: 503 (502 for an answer it could not use)."""
    order = _order(channel_code, external_id)
    to = order.ship_to or {}
    postcode = query.postcode if query.postcode is not None else str(to.get("postcode") or "")
    country = query.country or rp.ship_country(order)
    city = query.city if query.city is not None else str(to.get("city") or "")
    found = rp.search_points(order, postcode, country, city)
    return RelaySearchOut(order=order.external_id, channel=channel_code, carrier=rp.carrier_code_of(order),
                          postcode=postcode.strip(), country=country, city=city.strip(),
                          weight_grams=rp.order_weight_grams(order),
                          points=[point_out(f.point, f.refusal) for f in found])


@operation("/channels/<channel_code>/orders/<external_id>/relay-point", "POST",
           summary="Choose the relay point of an order", tags=TAGS, body=RelayChoiceIn, response=RelayChoiceOut,
           roles=ROLES, idempotent=True, errors=(409, 502, 503))
def choose_relay_point(channel_code: str, external_id: str, body: RelayChoiceIn) -> RelayChoiceOut:
    """The point is checked with the carrier (exists, open in the coming days, takes the parcel's weight: 422
    `relay-point-invalid` otherwise), stored with the order, its relay hold released; the channel gets
    `order.relay_point_changed` (with the point) then `order.released`. An order in a wave or packed: 409. The
    carrier away: 503, nothing changed."""
    order = rp.choose_point(_order(channel_code, external_id), body.point_id, body.country)
    return RelayChoiceOut(order=order.external_id, channel=channel_code, status=order.status.value,
                          relay_point_id=order.relay_point_id or "", relay_point=point_out(order.relay_point or {}),
                          relay_checked_at=order.relay_checked_at, held=order.held)
