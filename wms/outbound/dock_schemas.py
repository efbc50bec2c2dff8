"""Request and response bodies of the shipping dock API: staging, pick-ups, manifests, departure, delivery."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from wms.waves.schemas import When

Code = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Scan = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StagingIn(Strict):
    parcel: Scan = Field(description="the parcel's SSCC as scanned (`]C100…`, `(00)…`, 18 digits) or its tracking "
                                     "number")
    location: Code = Field(description="a location of a shipping dock or sas zone, e.g. SHIP-01")


class ParcelOut(BaseModel):
    seq: int
    sscc: str | None
    tracking_number: str | None
    weight_g: int | None
    staged_location: str | None
    staged_at: dt.datetime | None


class ShipmentOut(BaseModel):
    id: int
    order: str = Field(description="the channel's order id")
    channel: str
    carrier: str
    status: str
    tracking_number: str | None
    pickup_id: int | None
    manifest_id: int | None
    shipped_at: dt.datetime | None
    delivered_at: dt.datetime | None
    parcels: list[ParcelOut]


class StagingOut(BaseModel):
    parcel: ParcelOut
    shipment: ShipmentOut
    location: str
    moved: bool = Field(description="false when the parcel was already there (a repeated scan)")
    shipment_staged: bool = Field(description="every parcel of the shipment is in a shipping sas")
    message: str


class StagedQuery(Strict):
    carrier: Code | None = None


class PickupIn(Strict):
    carrier: Code = Field(description="a configured carrier: own-fleet, gs1, shipengine")
    door: Code = Field(description="a dock door of a shipping dock zone, e.g. DOOR-2")
    starts_at: When
    ends_at: When


class PickupOut(BaseModel):
    id: int
    carrier: str
    door: str
    status: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    slot_id: int | None
    label: str | None
    manifest_id: int | None
    departed_at: dt.datetime | None
    created_at: dt.datetime


class PickupsQuery(Strict):
    day: dt.date | None = Field(default=None, description="the warehouse's local day (today by default)")


class ManifestIn(Strict):
    carrier: Code
    day: dt.date | None = Field(default=None, description="the manifest's day (today in the warehouse by default)")
    pickup_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = Field(
        default=None, description="the pick-up that takes these parcels")


class ManifestOut(BaseModel):
    id: int
    reference: str
    carrier: str
    day: dt.date
    parcel_count: int
    total_weight_g: int
    print_job_id: int | None
    printed: bool = Field(description="a print job was queued by this call")
    print_message: str
    tracking_numbers: list[str]
    created_at: dt.datetime


class ManifestsQuery(Strict):
    day: dt.date | None = None
    carrier: Code | None = None


class DepartureOut(BaseModel):
    pickup: PickupOut
    shipments: list[ShipmentOut]
    departed_now: bool


class DeliveredIn(Strict):
    tracking_number: Scan
    carrier: Code | None = Field(default=None, description="only needed when two carriers use the same number")
    delivered_at: When | None = Field(default=None, description="when the carrier delivered (now by default)")
