"""Request and response bodies of the returns (RMA) API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from wms.orders.schemas import Code, Qty, Sku, Strict

Reason = Literal["damaged", "defective", "wrong_item", "not_wanted", "other"]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(max_length=500)]
LineNo = Annotated[int, Field(ge=1, le=100_000, description="the order line number")]
RmaStatusName = Literal["authorized", "in_transit", "received", "inspected", "closed", "cancelled"]


class RmaLineIn(Strict):
    line_no: LineNo | None = Field(default=None, description="the order line; or name it by `sku`")
    sku: Sku | None = Field(default=None, description="the product; enough when it is on one order line only")
    quantity: Qty
    reason: Reason


class RmaIn(Strict):
    external_id: ExternalId = Field(description="the channel's own return id; sending it again returns the same return")
    order_id: ExternalId = Field(description="the channel's order id (external_id of the order)")
    reason: Note | None = None
    lines: Annotated[list[RmaLineIn], Field(min_length=1, max_length=500)]


class SupervisorRmaIn(Strict):
    channel: Code
    order_id: ExternalId = Field(description="the channel's order id (external_id of the order)")
    external_id: ExternalId | None = Field(default=None, description="the channel's return id, if it has one")
    reason: Note | None = None
    lines: Annotated[list[RmaLineIn], Field(min_length=1, max_length=500)]


class LineRef(Strict):
    line_no: LineNo | None = Field(default=None, description="the order line; or name it by `sku`")
    sku: Sku | None = Field(default=None, description="the product's SKU or a scanned barcode")
    quantity: Qty


class ReceiveIn(Strict):
    location: Code | None = Field(default=None, description="a returns-zone location; absent: the only one")
    lines: Annotated[list[LineRef], Field(min_length=1, max_length=500)]


class DisposalIn(LineRef):
    disposition: Literal["restock", "quarantine", "scrap"]
    location: Code | None = Field(
        default=None, description="restock: a pick lane (absent: chosen); quarantine: a quarantine location")
    note: Note | None = None


class InspectIn(Strict):
    location: Code | None = Field(default=None, description="the returns-zone location the units are in")
    lines: Annotated[list[DisposalIn], Field(min_length=1, max_length=500)]


class RmaLineOut(BaseModel):
    line_no: int
    sku: str
    product_name: str
    quantity: int = Field(description="units authorised")
    reason: str
    received: int
    restocked: int
    quarantined: int
    scrapped: int
    uninspected: int
    refundable: int = Field(description="units refunded under the rule in docs/returns.md")
    inspection_note: str | None


class ReturnLabelIn(Strict):
    carrier: Code = Field(description="a configured carrier that makes return labels (colissimo, mondial-relay, "
                                      "sendcloud)")
    printer: Code | None = Field(default=None, description="the printer's code; absent: the returns zone's")
    print: bool = Field(default=True, description="false: only store the label (download it)")
    weight_grams: Annotated[int, Field(ge=1, le=30_000)] | None = Field(
        default=None, description="the parcel's declared weight; absent: the products' weights")


class ReturnLabelOut(BaseModel):
    id: int
    carrier: str
    tracking_number: str
    tracking_url: str | None = Field(description="the carrier's public tracking page, where it has one")
    carrier_reference: str | None
    status: Literal["issued", "in_transit", "delivered", "cancelled"]
    tracking_status: str | None = Field(description="the carrier's latest event, mapped (docs/tracking.md)")
    tracking_checked_at: dt.datetime | None
    content_type: str = Field(description="of the document: application/vnd.zebra.zpl or application/pdf")
    document_url: str = Field(description="GET it for the label as the carrier gave it")
    print_job_id: int | None
    emailed_to: str | None
    emailed_at: dt.datetime | None
    created_at: dt.datetime


class RmaOut(BaseModel):
    code: str
    external_id: str | None
    channel: str
    warehouse: str
    order_id: str
    order_status: str
    status: RmaStatusName
    refund_status: Literal["pending", "approved", "partial", "refused", "not_applicable"]
    reason: str | None
    created_at: dt.datetime
    received_at: dt.datetime | None
    closed_at: dt.datetime | None
    lines: list[RmaLineOut]
    return_labels: list[ReturnLabelOut] = Field(description="prepaid return labels, newest first")


class RmaQuery(Strict):
    status: RmaStatusName | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
