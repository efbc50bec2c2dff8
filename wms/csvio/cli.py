"""`wms import products|barcodes|stock FILE` and `wms export products|barcodes|stock`."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from wms.db import db
from wms.errors import DomainError, NotFound, from_integrity_error

SHOWN_PROBLEMS = 50


@click.group("import")
def import_cli() -> None:
    """Import products, barcodes, stock, suppliers, purchase orders or ASNs from a CSV file (docs/csv-formats.md)."""


@click.group("export")
def export_cli() -> None:
    """Export products, barcodes or stock as CSV (the import formats)."""


class _Bars:
    """Progress on stderr: bytes while checking, rows while applying. A bar on a terminal; elsewhere (with
    --progress) one line per tenth, which reads well in a log."""

    def __init__(self, name: str, size: int, mode: str | None) -> None:
        self.name, self.mode = name, mode
        self.bar: Any = None
        self.length = self.done = self.tenths = 0
        self._open(size, f"Checking {name}")

    def _open(self, length: int, label: str) -> None:
        self.length, self.done, self.tenths, self.label = max(length, 1), 0, 0, label
        if self.mode == "bar":
            self.bar = click.progressbar(length=self.length, label=label, file=sys.stderr)
            self.bar.__enter__()

    def _advance(self, steps: int) -> None:
        self.done += steps
        if self.bar is not None:
            self.bar.update(steps)
        elif self.mode == "lines":
            tenths = min(10, self.done * 10 // self.length)
            if tenths > self.tenths:
                self.tenths = tenths
                click.echo(f"{self.label}: {tenths * 10}%", err=True)

    def checked(self, bytes_read: int) -> None:
        if bytes_read - self.done >= 65536:
            self._advance(bytes_read - self.done)

    def applying(self, total_rows: int) -> None:
        self.close()
        self._open(total_rows, f"Importing {self.name}")

    def applied(self, rows: int) -> None:
        self._advance(rows)

    def close(self) -> None:
        if self.done < self.length:
            self._advance(self.length - self.done)
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _write_report(path: Path, problems: list[Any]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["line", "column", "reason", "value"])
        writer.writerows([p.line, p.column, p.reason, p.value] for p in problems)


def _echo_problems(header: str, problems: list[Any], report: Path | None) -> None:
    click.echo(header, err=True)
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(str(problem), err=True)
    if len(problems) > SHOWN_PROBLEMS:
        more = "--report lists them all" if report is None else f"{report} lists them all"
        click.echo(f"... and {len(problems) - SHOWN_PROBLEMS} more ({more})", err=True)


def _run(file: Path, importer: Any, skip_errors: bool, dry_run: bool, report: Path | None, progress: bool) -> None:
    from wms.csvio.importing import run_import

    mode = "bar" if sys.stderr.isatty() else "lines" if progress else None
    bars = _Bars(file.name, file.stat().st_size, mode)
    try:
        with file.open("rb") as stream:
            result = run_import(stream, importer, skip_errors=skip_errors, size=file.stat().st_size,
                                progress=bars)
    except IntegrityError as exc:
        db.session.rollback()
        bars.close()
        click.echo(f"{file}: the database refused the change, nothing was written: "
                   f"{from_integrity_error(exc).detail}", err=True)
        sys.exit(2)
    except DomainError as exc:
        # the database changed under the import (a reservation, a barcode given away): nothing is kept
        db.session.rollback()
        bars.close()
        click.echo(f"{file}: {exc.detail} Nothing was written.", err=True)
        sys.exit(2)
    except BaseException:
        db.session.rollback()
        bars.close()
        raise
    bars.close()
    problems = result.problems
    if report is not None:
        _write_report(report, problems)
    if not result.applied:
        db.session.rollback()
        _echo_problems(f"{file}: {len(problems)} problem(s), nothing was written:", problems, report)
        if result.file_problems:
            click.echo("The file as a whole is refused (--skip-errors cannot skip this).", err=True)
        else:
            click.echo("Correct the rows, or import the good ones with --skip-errors.", err=True)
        click.echo(result.summary().replace("refused", "would refuse"))
        sys.exit(2)
    if problems:
        _echo_problems(f"{file}: {result.refused} row(s) refused (--skip-errors):", problems, report)
    click.echo(result.summary())
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing was written")
    else:
        db.session.commit()


def _import_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--progress", is_flag=True,
                        help="Show progress on stderr (a line per tenth) even when it is not a terminal.")(func)
    func = click.option("--report", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                        help="Write every refused row (line, column, reason, value) to this CSV file.")(func)
    func = click.option("--dry-run", is_flag=True, help="Check and apply, report, then roll back.")(func)
    func = click.option("--skip-errors", is_flag=True,
                        help="Import the good rows and refuse the others (default: a file with errors "
                             "imports nothing).")(func)
    return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(func)


@import_cli.command("products")
@_import_options
@with_appcontext
def import_products(file: Path, skip_errors: bool, dry_run: bool, report: Path | None, progress: bool) -> None:
    """Create or update products by SKU from a CSV FILE."""
    from wms.csvio.catalog import ProductImporter

    _run(file, ProductImporter(), skip_errors, dry_run, report, progress)


@import_cli.command("barcodes")
@_import_options
@with_appcontext
def import_barcodes(file: Path, skip_errors: bool, dry_run: bool, report: Path | None, progress: bool) -> None:
    """Add or update product barcodes from a CSV FILE."""
    from wms.csvio.catalog import BarcodeImporter

    _run(file, BarcodeImporter(), skip_errors, dry_run, report, progress)


@import_cli.command("stock")
@_import_options
@click.option("--mode", type=click.Choice(["count", "receipt"]), default="count", show_default=True,
              help="count: set each location to the quantity; receipt: add the quantity.")
@click.option("--reference", help="Ledger reference (e.g. the delivery note); a receipt is applied once per "
                                  "reference and line key. Default: the file name, and the file's hash for "
                                  "receipts.")
@click.option("--user", "username", help="Record this user as the one who made the changes.")
@with_appcontext
def import_stock(file: Path, skip_errors: bool, dry_run: bool, report: Path | None, progress: bool, mode: str,
                 reference: str | None, username: str | None) -> None:
    """Count or receive stock from a CSV FILE (one ledger row per change)."""
    from sqlalchemy import select

    from wms.auth.models import User
    from wms.csvio.stock import StockImporter

    user = None
    if username is not None:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            click.echo(f"No user {username!r}.", err=True)
            sys.exit(2)
    if reference is not None and not reference.strip():
        click.echo("--reference must not be empty.", err=True)
        sys.exit(2)
    _run(file, StockImporter(mode, user=user, reference=reference, filename=file.name), skip_errors, dry_run,
         report, progress)


def _export_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--bom", is_flag=True, help="Start with a UTF-8 byte-order mark (for Excel).")(func)
    func = click.option("--delimiter", type=click.Choice([",", ";"]), default=",", show_default=True)(func)
    return click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
                        help="File to write (default: standard output).")(func)


def _export(rows: Any, output: Path | None, delimiter: str, bom: bool) -> None:
    from wms.csvio.exporting import write_csv

    if output is None:
        # through click.echo, a chunk at a time: works on any stdout (pipes, terminals, test runners)
        buffer = io.StringIO()
        buffer.write("\ufeff" if bom else "")
        for chunk in _batched(rows, 1000):
            write_csv(iter(chunk), buffer, delimiter=delimiter)
            click.echo(buffer.getvalue(), nl=False)
            buffer.seek(0)
            buffer.truncate()
        return
    with output.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        count = write_csv(rows, out, delimiter=delimiter)
    click.echo(f"wrote {count} rows to {output}", err=True)


def _batched(rows: Any, size: int) -> Any:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@export_cli.command("products")
@_export_options
@with_appcontext
def export_products(output: Path | None, delimiter: str, bom: bool) -> None:
    """Write every product as CSV."""
    from wms.csvio.exporting import product_rows

    _export(product_rows(), output, delimiter, bom)


@export_cli.command("barcodes")
@_export_options
@with_appcontext
def export_barcodes(output: Path | None, delimiter: str, bom: bool) -> None:
    """Write every barcode as CSV."""
    from wms.csvio.exporting import barcode_rows

    _export(barcode_rows(), output, delimiter, bom)


@export_cli.command("stock")
@_export_options
@click.option("--warehouse", "code", help="Only this warehouse (default: all).")
@with_appcontext
def export_stock(output: Path | None, delimiter: str, bom: bool, code: str | None) -> None:
    """Write the units on hand per warehouse, location and SKU as CSV."""
    from wms.csvio.exporting import stock_rows
    from wms.layout.services import get_warehouse

    warehouse = None
    if code is not None:
        try:
            warehouse = get_warehouse(code)
        except NotFound as exc:
            click.echo(exc.detail, err=True)
            sys.exit(2)
    _export(stock_rows(warehouse), output, delimiter, bom)


def _register_area_commands() -> None:
    """Importers that live with their area (purchase orders, suppliers and ASNs in wms/inbound)."""
    from wms.inbound.csvio import import_asns_cmd, import_purchase_orders_cmd, import_suppliers_cmd

    import_cli.add_command(import_purchase_orders_cmd)
    import_cli.add_command(import_suppliers_cmd)
    import_cli.add_command(import_asns_cmd)


_register_area_commands()
