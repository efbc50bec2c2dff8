"""Import purchase orders from CSV: one row per PO line (supplier_code, po_number, sku, quantity, expected_at).

The whole file is checked first with the reader of ``wms.csvio`` (row numbers as a spreadsheet shows them, one
problem per cell); any problem and nothing is written. Rows of one po_number become one PO, in file order.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from wms.catalog.models import Product
from wms.csvio.reader import CsvFile, Problem
from wms.db import db
from wms.errors import DomainError, ValidationFailed
from wms.inbound import services
from wms.inbound.models import PurchaseOrder, Supplier
from wms.layout.models import Warehouse

COLUMNS = ("supplier_code", "po_number", "sku", "quantity", "expected_at")
REQUIRED = ("supplier_code", "po_number", "sku", "quantity")
SHOWN_PROBLEMS = 50


@dataclass
class _Po:
    supplier: str
    expected_at: dt.datetime | None
    line: int
    lines: list[services.LineSpec] = field(default_factory=list)


@dataclass(frozen=True)
class ImportReport:
    created: int
    lines: int


def _expected(raw: str) -> dt.datetime | None:
    if not raw:
        return None
    value = dt.datetime.fromisoformat(raw) if "T" in raw or " " in raw else \
        dt.datetime.combine(dt.date.fromisoformat(raw), dt.time())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def check(stream: BinaryIO) -> tuple[dict[str, _Po], list[Problem]]:
    """The POs a file describes, and every problem found in it (nothing written)."""
    csv_file = CsvFile(stream)
    csv_file.check_header(COLUMNS, REQUIRED)
    problems: list[Problem] = []
    rows = list(csv_file.records(problems.append))
    problems = csv_file.problems + problems
    if csv_file.problems:
        return {}, problems
    suppliers = set(db.session.scalars(select(Supplier.code)))
    skus = set(db.session.scalars(select(Product.sku).where(Product.sku.in_({r.cells.get("sku", "") for r in rows}))))
    taken = set(db.session.scalars(select(PurchaseOrder.number).where(
        PurchaseOrder.number.in_({r.cells.get("po_number", "") for r in rows}))))
    pos: dict[str, _Po] = {}
    for rec in rows:
        c = {k: (v or "").strip() for k, v in rec.cells.items()}
        bad = len(problems)
        number, supplier, sku = c.get("po_number", ""), c.get("supplier_code", ""), c.get("sku", "")
        if not number or len(number) > 40:
            problems.append(Problem(rec.line, "po_number", "1 to 40 characters", number))
        elif number in taken:
            problems.append(Problem(rec.line, "po_number", "a purchase order with this number already exists", number))
        if supplier not in suppliers:
            problems.append(Problem(rec.line, "supplier_code", "no supplier with this code", supplier))
        if sku not in skus:
            problems.append(Problem(rec.line, "sku", "no product with this SKU", sku))
        quantity = c.get("quantity", "")
        if not quantity.isdigit() or not 0 < int(quantity) <= 1_000_000:
            problems.append(Problem(rec.line, "quantity", "a whole number of units, 1 to 1000000", quantity))
        try:
            expected = _expected(c.get("expected_at", ""))
        except ValueError:
            problems.append(Problem(rec.line, "expected_at", "a date (YYYY-MM-DD) or date and time (ISO 8601)",
                                    c.get("expected_at", "")))
            expected = None
        if len(problems) > bad:
            continue
        po = pos.setdefault(number, _Po(supplier, expected, rec.line))
        if po.supplier != supplier:
            problems.append(Problem(rec.line, "supplier_code", f"line {po.line} gives {number} the supplier "
                                                               f"{po.supplier}", supplier))
        elif po.expected_at != expected:
            problems.append(Problem(rec.line, "expected_at", f"line {po.line} gives {number} another date",
                                    c.get("expected_at", "")))
        elif any(ln.sku == sku for ln in po.lines):
            problems.append(Problem(rec.line, "sku", f"{sku} is already on {number}; give it once", sku))
        else:
            po.lines.append(services.LineSpec(sku, int(quantity)))
    if not rows and not problems:
        problems.append(Problem(2, "", "the file has no purchase order line"))
    return pos, problems


def apply(warehouse: Warehouse, pos: dict[str, _Po]) -> ImportReport:
    """Create the checked POs (add/flush; the caller commits)."""
    lines = 0
    for number, po in pos.items():
        services.create_purchase_order(warehouse, po.supplier, number, po.lines, expected_at=po.expected_at)
        lines += len(po.lines)
    return ImportReport(created=len(pos), lines=lines)


def import_purchase_orders_text(warehouse: Warehouse, text: str) -> ImportReport:
    """Check then import a CSV given as text; 422 listing every problem (by line and column) and nothing written."""
    pos, problems = check(io.BytesIO(text.encode("utf-8")))
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the file; nothing was imported.",
                               errors=[{"field": f"line {p.line} ({p.column or 'row'})", "message": p.reason}
                                       for p in problems[:SHOWN_PROBLEMS]])
    return apply(warehouse, pos)


@click.command("purchase-orders")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--warehouse", "warehouse_code", required=True, help="the warehouse the goods are ordered for")
@click.option("--dry-run", is_flag=True, help="check the file, write nothing")
@with_appcontext
def import_purchase_orders_cmd(file: Path, warehouse_code: str, dry_run: bool) -> None:
    """Import purchase orders: supplier_code, po_number, sku, quantity[, expected_at]; all or nothing."""
    from wms.layout.services import get_warehouse

    try:
        warehouse = get_warehouse(warehouse_code)
    except DomainError as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
    with file.open("rb") as stream:
        pos, problems = check(stream)
    if problems:
        click.echo(f"{file}: {len(problems)} problem(s), nothing was written:", err=True)
        for problem in problems[:SHOWN_PROBLEMS]:
            click.echo(str(problem), err=True)
        if len(problems) > SHOWN_PROBLEMS:
            click.echo(f"... and {len(problems) - SHOWN_PROBLEMS} more", err=True)
        sys.exit(2)
    try:
        report = apply(warehouse, pos)
    except DomainError as exc:
        db.session.rollback()
        click.echo(f"{file}: {exc.detail} Nothing was written.", err=True)
        sys.exit(2)
    if dry_run:
        db.session.rollback()
        click.echo(f"{report.created} purchase order(s), {report.lines} line(s) would be created")
        click.echo("dry run: nothing was written")
        return
    db.session.commit()
    click.echo(f"{report.created} purchase order(s), {report.lines} line(s) created")
