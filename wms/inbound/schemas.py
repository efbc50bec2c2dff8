"""Request and response bodies of the inbound API: suppliers, purchase orders, ASNs, receipts, put-away."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from wms.orders.schemas import Code, Sku, Strict

Units = Annotated[int, Field(gt=0, le=1_000_000, description="whole units")]
Number = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
Lot = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]
Scan = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Percent = Annotated[int, Field(ge=0, le=100, description="units above the ordered quantity accepted, in percent")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class SupplierIn(Strict):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)] | None = None
    over_receipt_tolerance_pct: Percent = 0


class SupplierOut(BaseModel):
    code: str
    name: str
    email: str | None
    over_receipt_tolerance_pct: int
    active: bool


class PoLineIn(Strict):
    sku: Sku
    quantity: Units


class PurchaseOrderIn(Strict):
    number: Number
    supplier: Code = Field(description="the supplier's code")
    expected_at: dt.datetime | None = None
    over_receipt_tolerance_pct: Percent | None = Field(default=None, description="overrides the supplier's")
    note: Text | None = None
    lines: list[PoLineIn] = Field(min_length=1, max_length=500)


class PoLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int
    received: int
    allowed: int = Field(description="most units this line accepts (ordered plus the tolerance)")


class PurchaseOrderOut(BaseModel):
    number: str
    supplier: str
    warehouse: str
    status: Literal["open", "partially_received", "received", "closed", "cancelled"]
    expected_at: dt.datetime | None
    over_receipt_tolerance_pct: int = Field(description="the tolerance in force (the PO's, else the supplier's)")
    note: str | None
    created_at: dt.datetime
    closed_at: dt.datetime | None
    lines: list[PoLineOut]


class PurchaseOrderQuery(Strict):
    status: Literal["open", "partially_received", "received", "closed", "cancelled", "receivable"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class AsnLineIn(Strict):
    sku: Sku
    quantity: Units
    lot_code: Lot | None = None
    best_before: dt.date | None = None
    sscc: Annotated[str, StringConstraints(pattern=r"^[0-9]{18}$")] | None = Field(
        default=None, description="the supplier's SSCC-18 (check digit verified)")


class AsnIn(Strict):
    number: Number
    expected_at: dt.datetime | None = None
    lines: list[AsnLineIn] = Field(min_length=1, max_length=500)


class AsnLineOut(BaseModel):
    sku: str
    quantity: int
    lot_code: str | None
    best_before: dt.date | None
    sscc: str | None


class AsnOut(BaseModel):
    number: str
    purchase_order: str
    status: Literal["expected", "receiving", "received", "cancelled"]
    expected_at: dt.datetime | None
    lines: list[AsnLineOut]


class ReceiptIn(Strict):
    dock: Code | None = Field(default=None, description="a receiving-dock location code; absent: the first dock")
    asn: Number | None = Field(default=None, description="the ASN number received against")


class ReceiveIn(Strict):
    code: Scan = Field(description="the SKU or any barcode of the product (GTINs normalised)")
    quantity: Units
    lot_code: Lot | None = Field(default=None, description="required when the product is lot-tracked")
    best_before: dt.date | None = Field(default=None, description="required when the product is expiry-tracked")
    hold_reason: Text | None = Field(default=None, description="quality hold: why (needs `quarantine`)")
    quarantine: Code | None = Field(default=None, description="quality hold: the quarantine location code")


class ReceiptLineOut(BaseModel):
    id: int
    sku: str
    name: str
    quantity: int
    lot_code: str | None
    best_before: dt.date | None
    location: str
    on_hold: bool
    hold_reason: str | None
    put_away: int
    scrapped: int
    remaining: int
    planned: int = Field(description="units promised to open put-away tasks")


class ReceiptOut(BaseModel):
    code: str
    purchase_order: str
    purchase_order_status: str
    asn: str | None
    warehouse: str
    dock: str
    status: Literal["open", "closed"]
    created_at: dt.datetime
    closed_at: dt.datetime | None
    lines: list[ReceiptLineOut]


class ReceiptQuery(Strict):
    status: Literal["open", "closed"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class ReceiptScrapIn(Strict):
    quantity: Units
    reason: Text


class PutawaySuggestionOut(BaseModel):
    lane: str
    zone: str
    quantity: int
    holds_product: bool = Field(description="the lane already holds (or is promised) this product")
    free: int | None = Field(description="free units in the lane; null when the lane has no capacity set")


class PutawaySuggestionsOut(BaseModel):
    receipt_line: int
    units: int = Field(description="units of the line not yet put away nor planned")
    suggestions: list[PutawaySuggestionOut]
    unplaced: int = Field(description="units no lane of the right zone has room for")


class PutawayTaskOut(BaseModel):
    id: int
    status: str
    receipt: str | None
    receipt_line: int | None
    sku: str | None
    lane: str
    lane_scan: str = Field(description="what the lane's replenish-face label reads (R:<code>)")
    source: str | None = Field(description="where the goods wait (dock)")
    quantity: int | None
    done_quantity: int | None
    assignee: str | None
    note: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None


class PutawayPlanOut(BaseModel):
    tasks: list[PutawayTaskOut]
    unplaced: int = Field(description="units no lane had room for (plan again once space frees up)")


class PutawayQuery(Strict):
    status: Literal["open", "done", "all"] = "open"
    receipt: Number | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class PutawayCompleteIn(Strict):
    lane: Scan = Field(description="the lane scan: its replenish-face label R:<code>; the pick-face label is refused")
    item: Scan = Field(description="the product scan: SKU or any barcode")
    quantity: Annotated[int, Field(ge=0, le=1_000_000)]
    note: Text | None = None


class ReceiptLabelsIn(Strict):
    line_ids: list[Id] | None = Field(default=None, max_length=500, description="absent: every line")


class ReceiptLabelJobOut(BaseModel):
    id: int
    printer: str
    reference: str
    state: str
