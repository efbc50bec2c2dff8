"""Products and their barcodes. Plain functions over the session: add/flush, never commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from wms.catalog import barcodes as codes
from wms.catalog.models import Barcode, Product
from wms.db import db
from wms.enums import Unit
from wms.errors import Conflict, DuplicateBarcode, InvalidBarcode, NotFound, ValidationFailed

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_SKU_RE = re.compile(SKU_PATTERN)
MEASURES = ("weight_g", "length_mm", "width_mm", "height_mm")
EDITABLE = ("name", "description", "unit", *MEASURES, "active")


class DuplicateSku(Conflict):
    slug = "duplicate-sku"
    title = "This SKU already exists"


@dataclass(frozen=True)
class BarcodeSpec:
    code: str
    quantity: int = 1


def _field_error(field: str, message: str, detail: str | None = None) -> ValidationFailed:
    return ValidationFailed(detail or f"{field}: {message}.", errors=[{"field": field, "message": message}])


def _check_sku(sku: str) -> str:
    if not _SKU_RE.match(sku):
        raise _field_error("sku", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                           f"SKU {sku!r} is not valid: use 1-64 letters, digits, '.', '_' or '-'.")
    return sku


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise _field_error("name", "required", "A product needs a name.")
    if len(name) > 200:
        raise _field_error("name", "at most 200 characters")
    return name


def _check_measure(field: str, value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise _field_error(field, "must be positive", f"{field} must be a positive number, not {value}.")
    return value


def get_product(sku: str) -> Product:
    """The product with this SKU, or NotFound."""
    product = db.session.scalar(
        select(Product).where(Product.sku == sku).options(selectinload(Product.barcodes))
    )
    if product is None:
        raise NotFound(f"No product with SKU {sku!r}.")
    return product


def create_product(
    sku: str, name: str, *, unit: Unit = Unit.EACH, description: str | None = None,
    weight_g: int | None = None, length_mm: int | None = None, width_mm: int | None = None,
    height_mm: int | None = None, barcodes: Iterable[BarcodeSpec] = (),
) -> Product:
    """A new active product, with its first barcodes if given."""
    _check_sku(sku)
    if db.session.scalar(select(Product.id).where(Product.sku == sku)) is not None:
        raise DuplicateSku(f"A product with SKU {sku!r} already exists.", sku=sku)
    product = Product(sku=sku, name=_check_name(name), unit=Unit(unit), description=description,
                      weight_g=_check_measure("weight_g", weight_g),
                      length_mm=_check_measure("length_mm", length_mm),
                      width_mm=_check_measure("width_mm", width_mm),
                      height_mm=_check_measure("height_mm", height_mm))
    db.session.add(product)
    db.session.flush()
    seen: set[str] = set()
    for spec in barcodes:
        parsed = codes.parse(spec.code)
        if parsed.normalized in seen:
            raise DuplicateBarcode(f"Barcode {spec.code!r} is given twice.", code=spec.code)
        seen.add(parsed.normalized)
        add_barcode(product, spec.code, spec.quantity)
    return product


def update_product(product: Product, **changes: Any) -> Product:
    """Change the given fields (name, description, unit, weight and dimensions, active)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("These product fields cannot be changed: " + ", ".join(sorted(unknown)) + ".")
    if "name" in changes:
        changes["name"] = _check_name(changes["name"] or "")
    if "unit" in changes:
        if changes["unit"] is None:
            raise _field_error("unit", "required")
        changes["unit"] = Unit(changes["unit"])
    if "active" in changes and changes["active"] is None:
        raise _field_error("active", "must be true or false")
    for field in MEASURES:
        if field in changes:
            _check_measure(field, changes[field])
    for field, value in changes.items():
        setattr(product, field, value)
    db.session.flush()
    return product


def deactivate_product(product: Product) -> Product:
    """Hide a product from new work; its history and barcodes stay."""
    product.active = False
    db.session.flush()
    return product


def _owner_of(normalized: str) -> Barcode | None:
    return db.session.scalar(select(Barcode).where(Barcode.normalized == normalized))


def add_barcode(product: Product, code: str, quantity: int = 1) -> Barcode:
    """Give the product one more barcode; a code already in the catalog is refused, naming its owner."""
    parsed = codes.parse(code)
    if quantity < 1:
        raise _field_error("quantity", "must be at least 1", f"A scan counts at least one unit, not {quantity}.")
    owner = _owner_of(parsed.normalized)
    if owner is not None:
        whose = "this product" if owner.product_id == product.id else f"product {owner.product.sku}"
        raise DuplicateBarcode(f"Barcode {parsed.code} (GTIN/code {parsed.normalized}) already belongs to {whose}.",
                               code=parsed.code, owner_sku=owner.product.sku)
    barcode = Barcode(product=product, code=parsed.code, normalized=parsed.normalized,
                      symbology=parsed.symbology, quantity=quantity)
    db.session.add(barcode)
    db.session.flush()
    return barcode


def remove_barcode(product: Product, code: str) -> None:
    """Take a barcode away from the product (given in any of its equivalent forms)."""
    try:
        normalized = codes.normalize(code)
    except InvalidBarcode:
        normalized = code.strip()
    barcode = next((b for b in product.barcodes if b.normalized == normalized), None)
    if barcode is None:
        raise NotFound(f"Product {product.sku} has no barcode {code!r}.")
    product.barcodes.remove(barcode)
    db.session.flush()


def find_by_scan(code: str) -> tuple[Product, int]:
    """The product a scanned code belongs to and how many units that scan counts."""
    barcode = find_barcode(code)
    return barcode.product, barcode.quantity


def find_barcode(code: str) -> Barcode:
    """The catalog barcode a scanned code matches (with its product), or NotFound."""
    parsed = codes.parse(code)
    barcode = _owner_of(parsed.normalized)
    if barcode is None:
        raise NotFound(f"No product has barcode {parsed.code}.", code=parsed.code)
    return barcode


def search_products(q: str | None = None, *, active: bool | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[list[Product], int]:
    """Products whose SKU or name contains `q`, or that carry the barcode `q`; with the total count."""
    stmt = select(Product)
    if q and q.strip():
        term = q.strip()
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions = [Product.sku.ilike(pattern, escape="\\"), Product.name.ilike(pattern, escape="\\")]
        if codes.is_valid(term):
            conditions.append(Product.id.in_(
                select(Barcode.product_id).where(Barcode.normalized == codes.normalize(term))))
        stmt = stmt.where(or_(*conditions))
    if active is not None:
        stmt = stmt.where(Product.active.is_(active))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = db.session.scalars(
        stmt.options(selectinload(Product.barcodes)).order_by(Product.sku).limit(limit).offset(offset)
    ).all()
    return list(items), total
