"""Product and lane labels over the JSON API: print one or a batch to a chosen printer or the routed one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from wms.api.framework import caller as _principal
from wms.api.framework import operation
from wms.api.framework import warehouse_in_scope as _warehouse
from wms.auth.models import User
from wms.db import db
from wms.idempotency import request_key
from wms.printing import item_labels
from wms.printing.models import PrintJob
from wms.printing.schemas import Code, Strict

TAGS = ["printing"]
SUPERVISORS = ("supervisor",)
Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"\S")]
LocationCode = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"\S")]
ZoneCode = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"\S")]


class ProductLabelsIn(Strict):
    skus: list[Sku] = Field(min_length=1, max_length=item_labels.MAX_ITEMS, description="products to label")
    copies: int = Field(default=1, ge=1, le=100, description="copies of each product's label")
    printer: Code | None = Field(default=None, description="printer code; absent: the route for product labels")
    zone: ZoneCode | None = Field(default=None, description="without `printer`: print at this zone's printer "
                                  "(its route for product labels, else a rack zone's head printer)")


class LocationLabelsIn(Strict):
    locations: list[LocationCode] | None = Field(default=None, min_length=1, max_length=item_labels.MAX_ITEMS,
                                                 description="lane codes; or give `zone` (and `aisle`)")
    zone: ZoneCode | None = Field(default=None, description="every active lane of this zone")
    aisle: ZoneCode | None = Field(default=None, description="with `zone`: only the lanes this aisle serves")
    face: Literal["pick", "replenish", "both"] = Field(
        default="both", description="which face labels; each carries its own scan code (replenish: R:<code>)")
    printer: Code | None = Field(default=None, description="printer code; absent: the zone's route for lane labels")


class LabelJobOut(BaseModel):
    id: int
    printer: str
    reference: str
    copies: int
    state: str


def _user() -> User | None:
    p = _principal()
    return db.session.get(User, p.user_id) if p.user_id else None


def _out(jobs: list[PrintJob]) -> list[LabelJobOut]:
    return [LabelJobOut(id=j.id, printer=j.printer.code, reference=j.reference, copies=j.copies,
                        state=j.state.value) for j in jobs]


@operation("/warehouses/<code>/product-labels", "POST", summary="Print product labels", tags=TAGS,
           body=ProductLabelsIn, response=list[LabelJobOut], status=201, roles=SUPERVISORS, idempotent=True)
def print_product_labels(code: str, body: ProductLabelsIn) -> list[LabelJobOut]:
    """One job per product (SKU, name, its main barcode in its own symbology), `copies` each, at `printer` or the
    printer routed for `product_label` (at `zone` when given, e.g. the receiving dock). 422 names unknown SKUs or
    zone; 409 `no-printer` when none is routed; 404 for an unknown printer."""
    warehouse = _warehouse(code)
    return _out(item_labels.print_product_labels(warehouse, body.skus, _user(), key=request_key(),
                                                 copies=body.copies, printer_code=body.printer,
                                                 zone=body.zone))


@operation("/warehouses/<code>/location-labels", "POST", summary="Print lane labels", tags=TAGS,
           body=LocationLabelsIn, response=list[LabelJobOut], status=201, roles=SUPERVISORS, idempotent=True)
def print_location_labels(code: str, body: LocationLabelsIn) -> list[LabelJobOut]:
    """One job per lane holding one label per face asked: the pick-face label scans as the bare code, the
    replenish-face label as `R:` + code. Lanes by list (a face a listed lane lacks is a 422), or every lane of a
    `zone` or of one `aisle` of it (lanes print the faces they have). At `printer` or the printer routed for
    `location_label` in each lane's zone; 409 `no-printer` when none is."""
    warehouse = _warehouse(code)
    return _out(item_labels.print_location_labels(warehouse, _user(), key=request_key(), codes=body.locations,
                                                  zone=body.zone, aisle=body.aisle, face=body.face,
                                                  printer_code=body.printer))
