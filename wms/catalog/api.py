"""catalog API operations: products, their barcodes, and the scan lookup."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from wms.api.framework import operation
from wms.catalog import services as catalog
from wms.enums import Symbology, Unit

INT_MAX = 2**31 - 1
PEOPLE_WHO_EDIT = ("supervisor",)  # admins pass every supervisor check
READERS = ("channel",)  # machine tokens that may read the catalog; print_site tokens may not

HsCode = Annotated[str, Field(min_length=6, max_length=20, description=(
    "customs tariff (HS) code for the CN23: 6 to 14 digits (spaces and dots as printed are dropped)"))]
Origin = Annotated[str, Field(min_length=2, max_length=2, description="ISO 3166 2-letter country the goods were made in")]
CustomsValue = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2, description=(
    "value of one unit for customs when the order line has no price (order currency, else EUR); 2 decimals"))]


class BarcodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=80, description="EAN-13, EAN-8, UPC-A, GTIN-14 or an internal code")
    quantity: int = Field(1, ge=1, le=1_000_000, description="units one scan of this code counts (packs)")


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(pattern=catalog.SKU_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    unit: Unit = Unit.EACH
    weight_g: int | None = Field(None, gt=0, le=INT_MAX)
    length_mm: int | None = Field(None, gt=0, le=INT_MAX)
    width_mm: int | None = Field(None, gt=0, le=INT_MAX)
    height_mm: int | None = Field(None, gt=0, le=INT_MAX)
    barcodes: list[BarcodeIn] = Field(default_factory=list, max_length=50)
    hs_code: HsCode | None = None
    origin_country: Origin | None = None
    customs_value: CustomsValue | None = None


class ProductPatch(BaseModel):
    """Only the fields sent change; null clears description, weight, dimensions and customs data."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    unit: Unit | None = None
    weight_g: int | None = Field(None, gt=0, le=INT_MAX)
    length_mm: int | None = Field(None, gt=0, le=INT_MAX)
    width_mm: int | None = Field(None, gt=0, le=INT_MAX)
    height_mm: int | None = Field(None, gt=0, le=INT_MAX)
    active: bool | None = None
    hs_code: HsCode | None = None
    origin_country: Origin | None = None
    customs_value: CustomsValue | None = None


class BarcodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    normalized: str
    symbology: Symbology
    quantity: int


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    name: str
    description: str | None
    unit: Unit
    weight_g: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    volume_cm3: float | None
    active: bool
    hs_code: str | None = Field(description="customs tariff (HS) code, 6 to 14 digits")
    origin_country: str | None = Field(description="ISO 3166 2-letter country of origin")
    customs_value: Decimal | None = Field(description="customs value of one unit, 2 decimals")
    created_at: dt.datetime
    barcodes: list[BarcodeOut]


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class ProductQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(None, max_length=200, description="part of the SKU or name, or a barcode")
    active: bool | None = None
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000_000)


class ScanOut(BaseModel):
    product: ProductOut
    quantity: int = Field(description="units this scan counts")
    barcode: BarcodeOut


@operation("/products", "GET", summary="Search products", tags=["catalog"], query=ProductQuery,
           response=ProductPage, purposes=READERS)
def list_products(query: ProductQuery) -> ProductPage:
    """Products ordered by SKU whose SKU or name contains `q`, or that carry the barcode `q`."""
    items, total = catalog.search_products(query.q, active=query.active, limit=query.limit, offset=query.offset)
    return ProductPage.model_validate(
        {"items": items, "total": total, "limit": query.limit, "offset": query.offset}, from_attributes=True
    )


@operation("/products/<sku>", "GET", summary="One product with its barcodes", tags=["catalog"],
           response=ProductOut, purposes=READERS)
def get_product(sku: str):  # type: ignore[no-untyped-def]
    """The product and every barcode that scans as it."""
    return catalog.get_product(sku)


@operation("/products", "POST", summary="Create a product", tags=["catalog"], body=ProductCreate,
           response=ProductOut, status=201, roles=PEOPLE_WHO_EDIT, errors=(409,))
def create_product(body: ProductCreate):  # type: ignore[no-untyped-def]
    """A new product, optionally with its first barcodes; a SKU or barcode already in the catalog is a 409."""
    return catalog.create_product(
        body.sku, body.name, unit=body.unit, description=body.description, weight_g=body.weight_g,
        length_mm=body.length_mm, width_mm=body.width_mm, height_mm=body.height_mm,
        barcodes=[catalog.BarcodeSpec(b.code, b.quantity) for b in body.barcodes], hs_code=body.hs_code,
        origin_country=body.origin_country, customs_value=body.customs_value,
    )


@operation("/products/<sku>", "PATCH", summary="Change or deactivate a product", tags=["catalog"],
           body=ProductPatch, response=ProductOut, roles=PEOPLE_WHO_EDIT)
def update_product(sku: str, body: ProductPatch):  # type: ignore[no-untyped-def]
    """Send only the fields to change; `active: false` deactivates the product."""
    product = catalog.get_product(sku)
    return catalog.update_product(product, **body.model_dump(include=body.model_fields_set))


@operation("/products/<sku>/barcodes", "POST", summary="Add a barcode to a product", tags=["catalog"],
           body=BarcodeIn, response=ProductOut, status=201, roles=PEOPLE_WHO_EDIT, errors=(409,))
def add_product_barcode(sku: str, body: BarcodeIn):  # type: ignore[no-untyped-def]
    """A barcode belongs to one product across the catalog: a code already taken is a 409 naming its owner."""
    product = catalog.get_product(sku)
    catalog.add_barcode(product, body.code, body.quantity)
    return product


@operation("/products/<sku>/barcodes/<path:code>", "DELETE", summary="Remove a barcode from a product",
           tags=["catalog"], status=204, roles=PEOPLE_WHO_EDIT)
def remove_product_barcode(sku: str, code: str) -> None:
    """The code may be given in any equivalent form (UPC-A or its EAN-13/GTIN-14 spelling)."""
    catalog.remove_barcode(catalog.get_product(sku), code)


@operation("/barcodes/<path:code>", "GET", summary="Look up a scanned barcode", tags=["catalog"],
           response=ScanOut, purposes=READERS, errors=(422,))
def scan_barcode(code: str) -> ScanOut:
    """The product a scan belongs to and how many units it counts; a code with a wrong check digit is a 422."""
    barcode = catalog.find_barcode(code)
    return ScanOut.model_validate(
        {"product": barcode.product, "quantity": barcode.quantity, "barcode": barcode}, from_attributes=True
    )
