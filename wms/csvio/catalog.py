"""Import products (upsert by SKU) and barcodes (upsert by code) in batches of bulk statements.

A column missing from the file leaves that field alone; an empty cell clears it (or sets its default).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Table, bindparam, select

from wms.catalog.models import Barcode, Product
from wms.csvio.formats import BARCODES, PRODUCTS, Format, Row
from wms.csvio.reader import Problem
from wms.db import db
from wms.errors import DuplicateBarcode

PRODUCT_FIELDS = ("name", "description", "unit", "weight_g", "length_mm", "width_mm", "height_mm", "active",
                  "hs_code", "origin_country", "customs_value")


def _same(old: Any, new: Any) -> bool:
    # An empty text and no text are the same thing to a spreadsheet.
    return (old or None) == (new or None) if isinstance(old, str | None) and isinstance(new, str | None) \
        else old == new


def bulk_insert(table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT (Core: the ORM's bulk path splits batches whenever a value is None)."""
    if rows:
        db.session.execute(table.insert(), rows)


def bulk_update(table: Table, rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE by primary key; every dict has `id` and the same other keys."""
    if rows:
        fields = [k for k in rows[0] if k != "id"]
        stmt = table.update().where(table.c.id == bindparam("_id")).values(
            {f: bindparam(f"_{f}") for f in fields})
        db.session.execute(stmt, [{f"_{k}": v for k, v in row.items()} for row in rows])


def products_by_sku(skus: set[str]) -> dict[str, int]:
    """Product ids of the given SKUs that exist."""
    if not skus:
        return {}
    return {sku: id_ for sku, id_ in db.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus)))}


class ProductImporter:
    format: Format = PRODUCTS

    def check(self, rows: list[Row]) -> list[Problem]:
        return []  # every product row stands alone: new SKUs are created, known ones updated

    def apply(self, rows: list[Row], file_sha256: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        fields = [f for f in PRODUCT_FIELDS if f in rows[0].values]
        columns = [getattr(Product, f) for f in fields]
        existing = {r.sku: r for r in db.session.execute(
            select(Product.id, Product.sku, *columns).where(Product.sku.in_([r.values["sku"] for r in rows])))}
        creates, updates = [], []
        for row in rows:
            old = existing.get(row.values["sku"])
            if old is None:
                creates.append(row.values)
            elif all(_same(getattr(old, f), row.values[f]) for f in fields):
                counts["unchanged"] += 1
            else:
                updates.append({"id": old.id, **{f: row.values[f] for f in fields}})
        bulk_insert(Product.__table__, creates)
        bulk_update(Product.__table__, updates)
        counts["created"] += len(creates)
        counts["updated"] += len(updates)
        return counts

    def finish(self) -> None:
        pass


class BarcodeImporter:
    format: Format = BARCODES

    def check(self, rows: list[Row]) -> list[Problem]:
        known = products_by_sku({r.values["sku"] for r in rows})
        owners = {code: sku for code, sku in db.session.execute(
            select(Barcode.normalized, Product.sku).join(Product, Product.id == Barcode.product_id)
            .where(Barcode.normalized.in_([r.values["barcode"].normalized for r in rows])))}
        problems = []
        for row in rows:
            sku, code = row.values["sku"], row.values["barcode"]
            if sku not in known:
                problems.append(Problem(row.line, "sku", f"no product has SKU {sku}; import it first", sku))
            owner = owners.get(code.normalized)
            if owner is not None and owner != sku:
                problems.append(Problem(row.line, "barcode", f"barcode {code.code} already belongs to product "
                                                             f"{owner}; remove it there first", code.code))
        return problems

    def apply(self, rows: list[Row], file_sha256: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        product_ids = products_by_sku({r.values["sku"] for r in rows})
        existing = {b.normalized: b for b in db.session.execute(
            select(Barcode.id, Barcode.product_id, Barcode.code, Barcode.normalized, Barcode.symbology,
                   Barcode.quantity)
            .where(Barcode.normalized.in_([r.values["barcode"].normalized for r in rows])))}
        creates, updates = [], []
        for row in rows:
            code, product_id = row.values["barcode"], product_ids[row.values["sku"]]
            wanted = {"code": code.code, "symbology": code.symbology}
            if "quantity" in row.values:
                wanted["quantity"] = row.values["quantity"]
            old = existing.get(code.normalized)
            if old is None:
                creates.append({"product_id": product_id, "normalized": code.normalized, "quantity": 1, **wanted})
            elif old.product_id != product_id:
                # checked before; another session gave it away since
                raise DuplicateBarcode(f"Barcode {code.code} was given to another product during the import "
                                       f"(line {row.line}).", code=code.code)
            elif all(getattr(old, k) == v for k, v in wanted.items()):
                counts["unchanged"] += 1
            else:
                updates.append({"id": old.id, **wanted})
        bulk_insert(Barcode.__table__, creates)
        bulk_update(Barcode.__table__, updates)
        counts["created"] += len(creates)
        counts["updated"] += len(updates)
        return counts

    def finish(self) -> None:
        pass
