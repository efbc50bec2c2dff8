"""Products and their barcodes. Plain functions over the session: add/flush, never commit."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
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
CUSTOMS = ("hs_code", "origin_country", "customs_value")
EDITABLE = ("name", "description", "unit", *MEASURES, "active", *CUSTOMS)
HS_CODE_PATTERN = r"^[0-9]{6,14}$"
CUSTOMS_VALUE_MAX = Decimal("9999999999.99")


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


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (from the CLDR data Babel ships)."""
    from babel import Locale

    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha())


def hs_code_problem(value: str) -> str | None:
    """Why this is not an HS (tariff) code: 6 to 14 digits (spaces and dots, as printed, are dropped first)."""
    if not re.match(HS_CODE_PATTERN, value):
        return "an HS code is 6 to 14 digits (e.g. 610910 or 6109100010)"
    return None


def normal_hs_code(value: str | None) -> str | None:
    text = re.sub(r"[\s.]", "", value or "")
    return text or None


def origin_problem(value: str) -> str | None:
    if value not in country_codes():
        return "the origin is an ISO 3166 2-letter country code (e.g. FR, PT, CN)"
    return None


def customs_value_problem(value: Decimal) -> str | None:
    if not value.is_finite() or value < 0:
        return "a customs value is 0 or more"
    if value != value.quantize(Decimal("0.01")):
        return "a customs value has at most 2 decimals"
    if value > CUSTOMS_VALUE_MAX:
        return f"a customs value is at most {CUSTOMS_VALUE_MAX}"
    return None


def _check_customs(changes: dict[str, Any]) -> None:
    """Normalise and check the customs fields present in `changes` (None clears one)."""
    if "hs_code" in changes:
        changes["hs_code"] = normal_hs_code(changes["hs_code"])
        problem = changes["hs_code"] and hs_code_problem(changes["hs_code"])
        if problem:
            raise _field_error("hs_code", problem, f"{changes['hs_code']!r}: {problem}.")
    if "origin_country" in changes:
        origin = (changes["origin_country"] or "").strip().upper() or None
        problem = origin and origin_problem(origin)
        if problem:
            raise _field_error("origin_country", problem, f"{origin!r}: {problem}.")
        changes["origin_country"] = origin
    if changes.get("customs_value") is not None:
        try:
            value = Decimal(str(changes["customs_value"]))
        except InvalidOperation:
            raise _field_error("customs_value", "a number such as 12.50") from None
        problem = customs_value_problem(value)
        if problem:
            raise _field_error("customs_value", problem, f"{value}: {problem}.")
        changes["customs_value"] = value.quantize(Decimal("0.01"))


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
    height_mm: int | None = None, barcodes: Iterable[BarcodeSpec] = (), hs_code: str | None = None,
    origin_country: str | None = None, customs_value: Decimal | None = None,
) -> Product:
    """A new active product, with its first barcodes if given, and its customs data (for a CN23) if known."""
    _check_sku(sku)
    customs = {"hs_code": hs_code, "origin_country": origin_country, "customs_value": customs_value}
    _check_customs(customs)
    if db.session.scalar(select(Product.id).where(Product.sku == sku)) is not None:
        raise DuplicateSku(f"A product with SKU {sku!r} already exists.", sku=sku)
    product = Product(sku=sku, name=_check_name(name), unit=Unit(unit), description=description,
                      weight_g=_check_measure("weight_g", weight_g),
                      length_mm=_check_measure("length_mm", length_mm),
                      width_mm=_check_measure("width_mm", width_mm),
                      height_mm=_check_measure("height_mm", height_mm), **customs)
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
    """Change the given fields (name, description, unit, weight and dimensions, active, customs data)."""
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
    _check_customs(changes)
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
