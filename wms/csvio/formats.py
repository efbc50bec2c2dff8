"""The three file types (products, barcodes, stock): their columns and how one row's cells become values.

Pure, no database: everything a row can get wrong by itself is found here (a malformed SKU, a fraction where
units are whole, a GTIN with a wrong check digit); what needs the database (an unknown SKU, a barcode of another
product) is checked by the importers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from wms.catalog import barcodes as codes
from wms.catalog import services as catalog_rules
from wms.catalog.services import SKU_PATTERN
from wms.csvio.reader import Problem, Record
from wms.enums import Symbology, Unit
from wms.errors import InvalidBarcode

INT_MAX = 2_147_483_647  # the database's integer columns
_SKU_RE = re.compile(SKU_PATTERN)
_WHOLE_RE = re.compile(r"^\+?[0-9]+$")
TRUE = {"true", "yes", "y", "1"}
FALSE = {"false", "no", "n", "0"}


class CellError(ValueError):
    """The reason one cell is refused."""


def sku(text: str) -> str:
    text = text.strip()
    if not text:
        raise CellError("a SKU is required")
    if not _SKU_RE.match(text):
        raise CellError("a SKU is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return text


def whole(text: str, *, minimum: int = 0, what: str = "number") -> int:
    """A whole number >= minimum, written with digits only (no sign, decimals or thousands separators)."""
    text = text.strip()
    if not text:
        raise CellError(f"a {what} is required")
    if not _WHOLE_RE.match(text):
        if re.match(r"^-\s*[0-9]", text):
            raise CellError(f"must not be negative (at least {minimum})")
        if re.match(r"^[0-9]+[.,][0-9]+$", text):
            raise CellError(f"must be a whole {what}, not a fraction")
        raise CellError(f"must be a whole {what} written with digits")
    value = int(text)
    if value < minimum:
        raise CellError(f"must be at least {minimum}")
    if value > INT_MAX:
        raise CellError(f"is too large (at most {INT_MAX})")
    return value


def optional_whole(text: str, *, minimum: int = 0, what: str = "number") -> int | None:
    return None if not text.strip() else whole(text, minimum=minimum, what=what)


def text_cell(text: str, *, limit: int, required: str | None = None) -> str | None:
    text = text.strip()
    if not text:
        if required:
            raise CellError(required)
        return None
    if len(text) > limit:
        raise CellError(f"at most {limit} characters (this has {len(text)})")
    return text


def boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise CellError("write true or false")


def unit(text: str) -> Unit:
    value = text.strip().lower()
    if not value:
        return Unit.EACH
    try:
        return Unit(value)
    except ValueError:
        raise CellError("unknown unit; use one of " + ", ".join(u.value for u in Unit)) from None


def description(text: str) -> str | None:
    # Not stripped: the text is kept exactly as written (round trips change nothing).
    return text if text.strip() else None


def _active(text: str) -> bool:
    return True if not text.strip() else boolean(text)


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = False


@dataclass(frozen=True)
class Row:
    """One row that passed the checks a row can do alone: its line, values by column and its duplicate key."""

    line: int
    values: dict[str, Any]
    key: tuple[Any, ...]


@dataclass(frozen=True)
class Format:
    kind: str
    columns: tuple[Column, ...]
    key: Callable[[dict[str, Any]], tuple[Any, ...]]
    describe_key: Callable[[tuple[Any, ...]], str]
    key_column: str
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] = lambda values: []
    key_index: int = 0  # the part of the key that is `key_column`

    def key_value(self, key: tuple[Any, ...]) -> str:
        """The text of the key column in a duplicate key (what the user wrote in that column)."""
        return str(key[self.key_index])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def parse(self, record: Record) -> tuple[Row | None, list[Problem]]:
        """The row's values, or every problem of the row (one per bad cell)."""
        values: dict[str, Any] = {}
        problems = []
        for column in self.columns:
            if column.name not in record.cells:
                continue
            raw = record.cells[column.name]
            try:
                values[column.name] = column.parse(raw)
            except CellError as exc:
                problems.append(Problem(record.line, column.name, str(exc), raw))
        if not problems:
            problems = [Problem(record.line, name, reason, record.cells.get(name, ""))
                        for name, reason in self.check(values)]
        if problems:
            return None, problems
        return Row(record.line, values, self.key(values)), []


def _barcode(text: str) -> codes.ParsedBarcode:
    try:
        return codes.parse(text)
    except InvalidBarcode as exc:
        raise CellError(exc.errors[0]["message"] if exc.errors else exc.detail) from None


def _symbology(text: str) -> Symbology | None:
    value = text.strip().lower()
    if not value:
        return None
    try:
        return Symbology(value)
    except ValueError:
        raise CellError("unknown symbology; use one of " + ", ".join(s.value for s in Symbology)) from None


def _barcode_check(values: dict[str, Any]) -> list[tuple[str, str]]:
    given, parsed = values.get("symbology"), values["barcode"]
    if given is not None and given != parsed.symbology:
        return [("symbology", f"the code {parsed.code} is a {parsed.symbology.value} code, not {given.value}")]
    return []


def _name(text: str) -> str | None:
    return text_cell(text, limit=200, required="a product needs a name")


def _code(limit: int, what: str) -> Callable[[str], str | None]:
    return lambda text: text_cell(text, limit=limit, required=f"a {what} code is required")


def _hs_code(text: str) -> str | None:
    code = catalog_rules.normal_hs_code(text)
    problem = code and catalog_rules.hs_code_problem(code)
    if problem:
        raise CellError(problem)
    return code


def _origin(text: str) -> str | None:
    origin = text.strip().upper() or None
    problem = origin and catalog_rules.origin_problem(origin)
    if problem:
        raise CellError(problem)
    return origin


def _customs_value(text: str) -> Decimal | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise CellError("a customs value is a number such as 12.50 (no currency sign)") from None
    problem = catalog_rules.customs_value_problem(value)
    if problem:
        raise CellError(problem)
    return value.quantize(Decimal("0.01"))


PRODUCTS = Format(
    kind="products",
    columns=(
        Column("sku", sku, required=True),
        Column("name", _name, required=True),
        Column("description", description),
        Column("unit", unit),
        Column("weight_g", lambda t: optional_whole(t, minimum=0, what="number of grams")),
        Column("length_mm", lambda t: optional_whole(t, minimum=1, what="number of millimetres")),
        Column("width_mm", lambda t: optional_whole(t, minimum=1, what="number of millimetres")),
        Column("height_mm", lambda t: optional_whole(t, minimum=1, what="number of millimetres")),
        Column("active", _active),
        Column("hs_code", _hs_code),
        Column("origin_country", _origin),
        Column("customs_value", _customs_value),
    ),
    key=lambda v: (v["sku"],),
    describe_key=lambda k: f"SKU {k[0]}",
    key_column="sku",
)

BARCODES = Format(
    kind="barcodes",
    columns=(
        Column("sku", sku, required=True),
        Column("barcode", _barcode, required=True),
        Column("symbology", _symbology),
        Column("quantity", lambda t: 1 if not t.strip() else whole(t, minimum=1, what="number of units")),
    ),
    key=lambda v: (v["barcode"].normalized,),
    describe_key=lambda k: f"barcode {k[0]}",
    key_column="barcode",
    check=_barcode_check,
)


def stock_format(mode: str) -> Format:
    """Stock rows: a count sets the quantity (0 empties the location), a receipt adds at least one unit."""
    minimum = 1 if mode == "receipt" else 0
    return Format(
        kind="stock",
        columns=(
            Column("warehouse", _code(20, "warehouse"), required=True),
            Column("location", _code(32, "location"), required=True),
            Column("sku", sku, required=True),
            Column("quantity", lambda t: whole(t, minimum=minimum, what="number of units"), required=True),
        ),
        key=lambda v: (v["warehouse"], v["location"], v["sku"]),
        describe_key=lambda k: f"SKU {k[2]} in {k[0]}/{k[1]}",
        key_column="sku",
        key_index=2,
    )


FORMATS = {"products": PRODUCTS, "barcodes": BARCODES}
