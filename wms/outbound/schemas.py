"""Request and response bodies of the packing and boxes API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]
Scan = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Mm = Annotated[int, Field(gt=0, le=10_000, description="millimetres")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackStartIn(Strict):
    station: Code = Field(description="the pack station's resource code, e.g. PS-1")
    tote: Code = Field(description="the tote scanned from the sas")


class PackScanIn(Strict):
    code: Scan = Field(description="any barcode of the item, or its SKU")
    quantity: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=1, description="how many times this scan counts (typed count); a pack barcode counts its units")


class PackBoxIn(Strict):
    box: Code = Field(description="the box code (scanned or chosen)")


class PackWeightIn(Strict):
    weight_g: Annotated[int, Field(ge=1, le=1_000_000)] = Field(description="what the scale shows, in grams")


class PackFinishIn(Strict):
    carrier: Code | None = Field(default=None, description="another configured carrier than the shipment's")


class PackLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    barcodes: list[str]
    to_pack: int
    packed: int


class ParcelItemOut(BaseModel):
    sku: str
    quantity: int


class PackParcelOut(BaseModel):
    seq: int
    box: str | None
    expected_weight_g: int | None
    weight_g: int | None
    sscc: str | None
    tracking_number: str | None
    label_print_job_id: int | None
    items: list[ParcelItemOut]


class BoxSuggestionOut(BaseModel):
    box: str | None
    message: str


class PackShipmentOut(BaseModel):
    id: int
    warehouse: str
    order: str = Field(description="the channel's order id")
    channel: str
    order_status: str
    status: str
    carrier: str
    tracking_number: str | None
    carrier_reference: str | None
    tote: str | None
    pack_station: str | None
    packed_by: str | None
    created_at: dt.datetime
    labelled_at: dt.datetime | None
    lines: list[PackLineOut]
    parcels: list[PackParcelOut]
    open_parcel: int | None = Field(description="seq of the parcel being filled, null when none")
    suggested_box: BoxSuggestionOut | None
    expected_weight_g: int | None = Field(description="of the open parcel: items plus its box")
    complete: bool = Field(description="every picked unit is in a parcel")
    notes: list[str]


class BoxIn(Strict):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
    inner_length_mm: Mm
    inner_width_mm: Mm
    inner_height_mm: Mm
    max_weight_g: Annotated[int, Field(gt=0, le=1_000_000)]
    tare_weight_g: Annotated[int, Field(ge=0, le=1_000_000)] = 0


class BoxPatchIn(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)] | None = None
    inner_length_mm: Mm | None = None
    inner_width_mm: Mm | None = None
    inner_height_mm: Mm | None = None
    max_weight_g: Annotated[int, Field(gt=0, le=1_000_000)] | None = None
    tare_weight_g: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    active: bool | None = None


class BoxOut(BaseModel):
    code: str
    name: str
    inner_length_mm: int
    inner_width_mm: int
    inner_height_mm: int
    max_weight_g: int
    tare_weight_g: int
    active: bool


class BoxesQuery(Strict):
    include_inactive: bool = False
