"""Write products, barcodes and stock as CSV in the import formats, so an export imports back to no change."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import select

from wms.catalog.models import Barcode, Product
from wms.csvio.catalog import PRODUCT_FIELDS
from wms.db import db
from wms.layout.models import Location, Warehouse
from wms.stock.models import Quant

CHUNK = 1000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def product_rows() -> Iterator[list[str]]:
    """Header, then every product by SKU."""
    yield ["sku", *PRODUCT_FIELDS]
    columns = [getattr(Product, f) for f in PRODUCT_FIELDS]
    for row in db.session.execute(select(Product.sku, *columns).order_by(Product.sku)
                                  .execution_options(yield_per=CHUNK)):
        yield [_cell(v) for v in row]


def barcode_rows() -> Iterator[list[str]]:
    """Header, then every barcode by SKU and in the order it was added."""
    yield ["sku", "barcode", "symbology", "quantity"]
    stmt = (select(Product.sku, Barcode.code, Barcode.symbology, Barcode.quantity)
            .join(Product, Product.id == Barcode.product_id).order_by(Product.sku, Barcode.id))
    for row in db.session.execute(stmt.execution_options(yield_per=CHUNK)):
        yield [_cell(v) for v in row]


def stock_rows(warehouse: Warehouse | None = None) -> Iterator[list[str]]:
    """Header, then the units on hand per warehouse, location and SKU (locations holding none are left out)."""
    yield ["warehouse", "location", "sku", "quantity"]
    stmt = (select(Warehouse.code, Location.code, Product.sku, Quant.on_hand)
            .join(Location, Location.id == Quant.location_id)
            .join(Warehouse, Warehouse.id == Location.warehouse_id)
            .join(Product, Product.id == Quant.product_id)
            .where(Quant.on_hand > 0)
            .order_by(Warehouse.code, Location.code, Product.sku))
    if warehouse is not None:
        stmt = stmt.where(Location.warehouse_id == warehouse.id)
    for row in db.session.execute(stmt.execution_options(yield_per=CHUNK)):
        yield [_cell(v) for v in row]


def write_csv(rows: Iterator[list[str]], out: TextIO, *, delimiter: str = ",") -> int:
    """Write the rows (header first); returns the number of data rows."""
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)
