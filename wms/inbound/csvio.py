"""Import purchase orders, suppliers and advance shipping notices (ASNs) from CSV.

Purchase orders: one row per PO line (supplier_code, po_number, sku, quantity, expected_at); rows of one po_number
become one PO, in file order. Suppliers: one row per supplier, upserted by code. ASNs: one row per ASN line; rows
of one (po_number, asn_number) become one ASN, created through the services (the API's rules).

The whole file is checked first with the reader of ``wms.csvio`` (row numbers as a spreadsheet shows them, one
problem per cell); any problem and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wms.catalog.models import Product
from wms.csvio import formats
from wms.csvio.formats import Row
from wms.csvio.importing import BATCH, DEFAULT_LIMITS, run_import
from wms.csvio.reader import CsvFile, Problem
from wms.db import db
from wms.errors import DomainError, ValidationFailed
from wms.inbound import services
from wms.inbound.models import Asn, AsnLine, PurchaseOrder, PurchaseOrderLine, Supplier
from wms.layout.models import Warehouse
from wms.shipping import sscc
from wms.shipping.errors import SsccInvalid

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


# --- suppliers and ASNs: the reader, formats and runner of wms.csvio (all or nothing) ------------------------


def _percent(text: str) -> int:
    value = 0 if not text.strip() else formats.whole(text, what="percent")
    if value > 100:
        raise formats.CellError("an over-receipt tolerance is 0 to 100 percent")
    return value


def _email(text: str) -> str | None:
    value = formats.text_cell(text, limit=254)
    if value is not None and (len(value) < 3 or "@" not in value):
        raise formats.CellError("an e-mail address (name@domain)")
    return value


SUPPLIERS = formats.Format(
    kind="suppliers",
    columns=(
        formats.Column("code", lambda t: formats.text_cell(t, limit=32, required="a supplier code is required"),
                       required=True),
        formats.Column("name", lambda t: formats.text_cell(t, limit=200, required="a supplier needs a name"),
                       required=True),
        formats.Column("email", _email),
        formats.Column("over_receipt_tolerance_pct", _percent),
    ),
    key=lambda v: (v["code"],),
    describe_key=lambda k: f"supplier {k[0]}",
    key_column="code",
)
SUPPLIER_FIELDS = ("name", "email", "over_receipt_tolerance_pct")


class SupplierImporter:
    """Upsert by code: a new code creates the supplier, a known one gets the columns the file has."""

    format = SUPPLIERS

    def check(self, rows: list[Row]) -> list[Problem]:
        return []  # every row stands alone

    def apply(self, rows: list[Row], file_sha256: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        existing = {s.code: s for s in db.session.scalars(
            select(Supplier).where(Supplier.code.in_([r.values["code"] for r in rows])).with_for_update()
            .execution_options(populate_existing=True))}
        for row in rows:
            values = row.values
            supplier = existing.get(values["code"])
            if supplier is None:
                services.create_supplier(values["code"], values["name"], email=values.get("email"),
                                         over_receipt_tolerance_pct=values.get("over_receipt_tolerance_pct", 0))
                counts["created"] += 1
                continue
            changes = {f: values[f] for f in SUPPLIER_FIELDS if f in values and getattr(supplier, f) != values[f]}
            for name, value in changes.items():
                setattr(supplier, name, value)
            counts["updated" if changes else "unchanged"] += 1
        db.session.flush()
        return counts

    def finish(self) -> None:
        pass

    def summary(self, counts: Counter[str]) -> str:
        return (f"{counts['created']} supplier(s) created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged")


def _date(text: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise formats.CellError("a date written YYYY-MM-DD") from None


def _expected_cell(text: str) -> dt.datetime | None:
    try:
        return _expected(text.strip())
    except ValueError:
        raise formats.CellError("a date (YYYY-MM-DD) or date and time (ISO 8601)") from None


def _sscc(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        return sscc.validate(text.strip())
    except SsccInvalid as exc:
        raise formats.CellError(str(exc)) from None


def _number(what: str) -> Callable[[str], str | None]:
    return lambda t: formats.text_cell(t, limit=40, required=f"{what} number is required")


ASNS = formats.Format(
    kind="asns",
    columns=(
        formats.Column("po_number", _number("a purchase order"), required=True),
        formats.Column("asn_number", _number("an ASN"), required=True),
        formats.Column("sku", formats.sku, required=True),
        formats.Column("quantity", lambda t: _units(t), required=True),
        formats.Column("lot_code", lambda t: formats.text_cell(t, limit=40)),
        formats.Column("best_before", _date),
        formats.Column("sscc", _sscc),
        formats.Column("expected_at", _expected_cell),
    ),
    # the same line given twice is a mistake; the same SKU in two lots, dates or pallets is not
    key=lambda v: (v["po_number"], v["asn_number"], v["sku"], v.get("lot_code"), v.get("best_before"),
                   v.get("sscc")),
    describe_key=lambda k: f"SKU {k[2]} of ASN {k[1]} (same lot, date and SSCC)",
    key_column="sku",
    key_index=2,
)
ASN_MAX_LINES = 500  # as the API


def _units(text: str) -> int:
    value = formats.whole(text, minimum=1, what="number of units")
    if value > 1_000_000:
        raise formats.CellError("at most 1000000 units")
    return value


def _line_key(spec: services.AsnLineSpec) -> tuple[Any, ...]:
    return spec.sku, spec.quantity, spec.lot_code, spec.best_before, spec.sscc


@dataclass
class _Asn:
    po: PurchaseOrder
    number: str
    expected_at: dt.datetime | None
    line: int
    rows: list[int] = field(default_factory=list)
    lines: list[services.AsnLineSpec] = field(default_factory=list)
    unchanged: bool = False


class AsnImporter:
    """Rows of one (po_number, asn_number) make one ASN, created by `services.create_asn` (the API's rules).

    The check needs the whole file (an ASN already there is skipped only when the file gives it identically), so
    this importer is run with one batch."""

    format = ASNS

    def __init__(self) -> None:
        self.asns: dict[tuple[str, str], _Asn] = {}
        self.by_supplier: dict[tuple[int, str], _Asn] = {}

    def check(self, rows: list[Row]) -> list[Problem]:
        problems: list[Problem] = []
        pos = {po.number: po for po in db.session.scalars(
            select(PurchaseOrder).where(PurchaseOrder.number.in_({r.values["po_number"] for r in rows}))
            .options(selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.product),
                     selectinload(PurchaseOrder.supplier))
            .execution_options(populate_existing=True))}  # what the database says now, not a stale copy
        for row in rows:
            v = row.values
            po = pos.get(v["po_number"])
            if po is None:
                problems.append(Problem(row.line, "po_number", "no purchase order with this number", v["po_number"]))
                continue
            if v["sku"] not in {ln.product.sku for ln in po.lines}:
                problems.append(Problem(row.line, "sku", f"SKU {v['sku']} is not on purchase order {po.number}",
                                        v["sku"]))
                continue
            expected = v.get("expected_at")
            group = self.asns.get((po.number, v["asn_number"]))
            if group is None:
                group = _Asn(po, v["asn_number"], expected, row.line)
                other = self.by_supplier.setdefault((po.supplier_id, group.number), group)
                if other is not group:
                    problems.append(Problem(row.line, "asn_number", f"line {other.line} gives ASN {group.number} of "
                                            f"supplier {po.supplier.code} to purchase order {other.po.number}",
                                            group.number))
                    continue
                self.asns[(po.number, group.number)] = group
            elif group.expected_at != expected:
                problems.append(Problem(row.line, "expected_at", f"line {group.line} gives ASN {group.number} "
                                                                 "another expected_at", str(expected or "")))
                continue
            group.rows.append(row.line)
            group.lines.append(services.AsnLineSpec(v["sku"], v["quantity"], v.get("lot_code"),
                                                    v.get("best_before"), v.get("sscc")))
        for group in self.asns.values():
            problems.extend(self._check_group(group))
        return problems

    def _check_group(self, group: _Asn) -> list[Problem]:
        po, first = group.po, group.line
        if len(group.lines) > ASN_MAX_LINES:
            return [Problem(first, "asn_number", f"ASN {group.number} has {len(group.lines)} lines; at most "
                                                 f"{ASN_MAX_LINES}", group.number)]
        old = db.session.scalar(select(Asn).where(Asn.supplier_id == po.supplier_id, Asn.number == group.number)
                                .options(selectinload(Asn.lines).selectinload(AsnLine.purchase_order_line)
                                         .selectinload(PurchaseOrderLine.product)))
        if old is not None:
            same = old.purchase_order_id == po.id and old.expected_at == group.expected_at and sorted(
                [(ln.purchase_order_line.product.sku, ln.quantity, ln.lot_code, ln.best_before, ln.sscc)
                 for ln in old.lines], key=repr) == sorted(map(_line_key, group.lines), key=repr)
            if same:
                group.unchanged = True
                return []
            return [Problem(first, "asn_number", f"already imported: supplier {po.supplier.code} already sent ASN "
                                                 f"{group.number}, with other lines", group.number)]
        if po.status not in services.RECEIVABLE:
            return [Problem(first, "po_number", f"purchase order {po.number} is {po.status.value}; it expects no "
                                                "more goods", po.number)]
        return []

    def apply(self, rows: list[Row], file_sha256: str) -> Counter[str]:
        counts: Counter[str] = Counter()
        for group in self.asns.values():
            if group.unchanged:
                counts["unchanged"] += len(group.lines)
                continue
            services.create_asn(group.po, group.number, group.lines, expected_at=group.expected_at)
            counts["created"] += len(group.lines)
        return counts

    def finish(self) -> None:
        pass

    def summary(self, counts: Counter[str]) -> str:
        created = sum(1 for g in self.asns.values() if not g.unchanged)
        return f"{created} ASN(s) created, {len(self.asns) - created} already there (unchanged)"


def _run_all_or_nothing(file: Path, importer: Any, *, dry_run: bool, report: Path | None, progress: bool,
                        batch: int = BATCH) -> None:
    """Check the whole file, then write all of it or nothing (exit status 2 listing every problem)."""
    from sqlalchemy.exc import IntegrityError

    from wms.csvio.cli import _Bars, _echo_problems, _write_report
    from wms.errors import from_integrity_error

    mode = "bar" if sys.stderr.isatty() else "lines" if progress else None
    size = file.stat().st_size
    bars = _Bars(file.name, size, mode)
    try:
        with file.open("rb") as stream:
            result = run_import(stream, importer, size=size, progress=bars, batch=batch)
    except (IntegrityError, DomainError) as exc:
        db.session.rollback()
        bars.close()
        detail = from_integrity_error(exc).detail if isinstance(exc, IntegrityError) else exc.detail
        click.echo(f"{file}: {detail} Nothing was written.", err=True)
        sys.exit(2)
    except BaseException:
        db.session.rollback()
        bars.close()
        raise
    bars.close()
    if report is not None:
        _write_report(report, result.problems)
    if not result.applied:
        db.session.rollback()
        _echo_problems(f"{file}: {len(result.problems)} problem(s), nothing was written:", result.problems, report)
        sys.exit(2)
    click.echo(result.summary())
    click.echo(importer.summary(result.counts))
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing was written")
    else:
        db.session.commit()


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--progress", is_flag=True,
                        help="Show progress on stderr (a line per tenth) even when it is not a terminal.")(func)
    func = click.option("--report", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                        help="Write every problem (line, column, reason, value) to this CSV file.")(func)
    func = click.option("--dry-run", is_flag=True, help="Check and apply, report, then roll back.")(func)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(func)


@click.command("suppliers")
@_options
@with_appcontext
def import_suppliers_cmd(file: Path, dry_run: bool, report: Path | None, progress: bool) -> None:
    """Create or update suppliers by code: code, name[, email, over_receipt_tolerance_pct]; all or nothing."""
    _run_all_or_nothing(file, SupplierImporter(), dry_run=dry_run, report=report, progress=progress)


@click.command("asns")
@_options
@with_appcontext
def import_asns_cmd(file: Path, dry_run: bool, report: Path | None, progress: bool) -> None:
    """Import ASNs: po_number, asn_number, sku, quantity[, lot_code, best_before, sscc, expected_at]; all or
    nothing. Rows of one (po_number, asn_number) make one ASN; an ASN already there is skipped when identical."""
    _run_all_or_nothing(file, AsnImporter(), dry_run=dry_run, report=report, progress=progress,
                        batch=DEFAULT_LIMITS.max_rows + 1)
