"""The CSV reader and row formats, without a database: row numbers as a spreadsheet counts them, every problem named."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from wms.csvio.formats import BARCODES, PRODUCTS, CellError, stock_format, whole
from wms.csvio.importing import ImportResult, run_import
from wms.csvio.reader import CsvFile, Limits, Problem, sniff_delimiter
from wms.enums import Symbology, Unit


def read(data: bytes, limits: Limits | None = None, known=("sku", "name", "description"),  # type: ignore[no-untyped-def]
         required=("sku", "name")):
    source = CsvFile(io.BytesIO(data), limits=limits)
    source.check_header(known, required)
    refused: list[Problem] = []
    records = list(source.records(refused.append))
    return source, records, refused


def test_a_bom_and_semicolons_are_understood():  # type: ignore[no-untyped-def]
    source, records, refused = read("\ufeffSKU;Name\nA-1;Bouteille été\n".encode())
    assert source.delimiter == ";"
    assert source.header == ["sku", "name"]
    assert [(r.line, r.cells) for r in records] == [(2, {"sku": "A-1", "name": "Bouteille été"})]
    assert refused == [] and source.problems == []


def test_rows_are_numbered_as_a_spreadsheet_shows_them():  # type: ignore[no-untyped-def]
    data = b'sku,name,description\r\nA-1,"Cup, big","two\r\nlines"\r\n\r\nA-2,"Say ""hi""",\r\n'
    source, records, refused = read(data)
    assert [r.line for r in records] == [2, 4]
    assert records[0].cells["description"] == "two\r\nlines"
    assert records[0].cells["name"] == "Cup, big"
    assert records[1].cells["name"] == 'Say "hi"'


def test_the_delimiter_is_sniffed_outside_quotes():  # type: ignore[no-untyped-def]
    assert sniff_delimiter('"a;b;c",d,e\n') == ","
    assert sniff_delimiter('sku;"name, long"\n') == ";"
    assert sniff_delimiter("sku\n") is None


@pytest.mark.parametrize(("data", "column", "reason"), [
    (b"", "", "the file is empty"),
    (b"\nsku,name\n", "", "row 1 must be the header"),
    (b"sku\tname\n", "", "no ',' or ';'"),
    (b"sku,name,colour\n", "colour", "unknown column"),
    (b"sku,description\n", "name", "required column is missing"),
    (b"sku,name,sku\n", "sku", "appears twice"),
    (b"sku,name,\n", "#3", "no name"),
    (b"sku,n\xe9me\n", "", "not UTF-8"),
    (b"sku,name\rA-1,Cup\r", "", "bare carriage return"),
])
def test_header_problems_refuse_the_whole_file(data, column, reason):  # type: ignore[no-untyped-def]
    source, records, refused = read(data)
    assert records == []
    assert any(p.line == 1 and p.column == column and reason in p.reason for p in source.problems), source.problems


def test_a_row_with_bytes_that_are_not_utf8_is_refused_alone():  # type: ignore[no-untyped-def]
    source, records, refused = read(b"sku,name\nA-1,Caf\xe9\nA-2,Cup\n")
    assert [r.line for r in records] == [3]
    assert refused == [Problem(2, "", refused[0].reason)]
    assert "byte 0xe9" in refused[0].reason and "UTF-8" in refused[0].reason
    assert source.problems == []


def test_a_row_with_the_wrong_number_of_cells_is_refused():  # type: ignore[no-untyped-def]
    source, records, refused = read(b"sku,name\nA-1,Cup,extra\nA-2\nA-3,Mug\n")
    assert [r.line for r in records] == [4]
    assert [(p.line, p.column) for p in refused] == [(2, ""), (3, "")]
    assert "3 cells, the header has 2" in refused[0].reason


def test_a_quote_never_closed_stops_the_file():  # type: ignore[no-untyped-def]
    source, records, refused = read(b'sku,name\nA-1,Cup\nA-2,"Mug\nA-3,Pot\n')
    assert [r.line for r in records] == [2]
    assert source.problems and source.problems[0].line == 3
    assert "quote" in source.problems[0].reason


def test_size_limits_are_problems_not_crashes():  # type: ignore[no-untyped-def]
    too_big = CsvFile(io.BytesIO(b"sku,name\n"), limits=Limits(max_bytes=5), size=9)
    assert "more than the limit of 5" in too_big.problems[0].reason
    source, records, refused = read(b"sku,name\nA,a\nB,b\nC,c\n", Limits(max_rows=2))
    assert [r.line for r in records] == [2, 3]
    assert source.problems == [Problem(4, "", source.problems[0].reason)]
    assert "more than 2 rows" in source.problems[0].reason
    source, records, refused = read(b"sku,name\nA," + b"x" * 20 + b"\n", Limits(max_cell_chars=10))
    assert refused[0].column == "name" and "longer than 10" in refused[0].reason


@pytest.mark.parametrize(("text", "reason"), [
    ("1.5", "not a fraction"), ("2,0", "not a fraction"), ("-3", "must not be negative"), ("ten", "digits"),
    ("1 000", "digits"), ("", "required"), ("3000000000", "too large"),
])
def test_whole_numbers_are_whole_and_not_negative(text, reason):  # type: ignore[no-untyped-def]
    with pytest.raises(CellError, match=reason):
        whole(text)


def test_whole_numbers_accept_digits_and_surrounding_spaces():  # type: ignore[no-untyped-def]
    assert whole(" 12 ") == 12
    assert whole("0") == 0
    with pytest.raises(CellError, match="at least 1"):
        whole("0", minimum=1)


def _record(line: int, **cells: str):  # type: ignore[no-untyped-def]
    from wms.csvio.reader import Record

    return Record(line, cells)


def test_a_product_row_becomes_typed_values():  # type: ignore[no-untyped-def]
    row, problems = PRODUCTS.parse(_record(7, sku="A-1", name=" Cup ", description=" as is ", unit="G",
                                           weight_g="12", length_mm="", active="no"))
    assert problems == []
    assert row.values == {"sku": "A-1", "name": "Cup", "description": " as is ", "unit": Unit.GRAM,
                          "weight_g": 12, "length_mm": None, "active": False}
    assert row.key == ("A-1",) and row.line == 7


def test_every_bad_cell_of_a_row_is_reported():  # type: ignore[no-untyped-def]
    row, problems = PRODUCTS.parse(_record(3, sku="bad sku", name="", unit="box", height_mm="0", active="maybe"))
    assert row is None
    assert {(p.line, p.column) for p in problems} == {(3, "sku"), (3, "name"), (3, "unit"), (3, "height_mm"),
                                                      (3, "active")}


def test_barcodes_check_their_gtin_digit_and_symbology():  # type: ignore[no-untyped-def]
    row, problems = BARCODES.parse(_record(2, sku="A-1", barcode="4006381333932", symbology=""))
    assert problems == [Problem(2, "barcode", "ean13 check digit should be 1, not 2", "4006381333932")]
    row, problems = BARCODES.parse(_record(2, sku="A-1", barcode="4006381333931", symbology="ean8"))
    assert [(p.column, p.reason) for p in problems] == [
        ("symbology", "the code 4006381333931 is a ean13 code, not ean8")]
    row, problems = BARCODES.parse(_record(2, sku="A-1", barcode="4006381333931", symbology="EAN13"))
    assert row.values["barcode"].symbology == Symbology.EAN13
    assert row.key == ("04006381333931",)


def test_a_receipt_adds_at_least_one_unit_while_a_count_may_be_zero():  # type: ignore[no-untyped-def]
    cells = {"warehouse": "W1", "location": "A01-01-1", "sku": "A-1", "quantity": "0"}
    assert stock_format("count").parse(_record(2, **cells))[1] == []
    assert stock_format("receipt").parse(_record(2, **cells))[1][0].column == "quantity"


class FakeImporter:
    """Applies nothing but remembers which rows it was given; SKU 'GONE' is unknown to its 'database'."""

    format = PRODUCTS

    def __init__(self) -> None:
        self.applied: list[int] = []
        self.finished = False

    def check(self, rows):  # type: ignore[no-untyped-def]
        return [Problem(r.line, "sku", "unknown") for r in rows if r.values["sku"] == "GONE"]

    def apply(self, rows, file_sha256):  # type: ignore[no-untyped-def]
        self.applied += [r.line for r in rows]
        return Counter(created=len(rows))

    def finish(self) -> None:
        self.finished = True


FILE = b"sku,name\nA,a\nB,b\nA,again\nGONE,g\nC,1\nD,d\n"


def _run(skip_errors: bool) -> tuple[FakeImporter, ImportResult]:
    importer = FakeImporter()
    return importer, run_import(io.BytesIO(FILE), importer, skip_errors=skip_errors, batch=2)


def test_a_file_with_errors_applies_nothing():  # type: ignore[no-untyped-def]
    importer, result = _run(skip_errors=False)
    assert importer.applied == [] and not importer.finished and not result.applied
    assert [(p.line, p.column) for p in result.problems] == [(2, "sku"), (4, "sku"), (5, "sku")]
    assert result.refused == 3 and result.rows == 6


def test_skip_errors_applies_exactly_the_good_rows_and_refuses_every_repeat():  # type: ignore[no-untyped-def]
    importer, result = _run(skip_errors=True)
    assert importer.applied == [3, 6, 7] and importer.finished
    assert result.summary() == "products: 6 rows: created 3, updated 0, unchanged 0, refused 3"
    assert "also on line 4" in result.problems[0].reason


def test_file_problems_are_not_skipped():  # type: ignore[no-untyped-def]
    importer = FakeImporter()
    result = run_import(io.BytesIO(b'sku,name\nA,a\nB,"b\n'), importer, skip_errors=True)
    assert result.file_problems and not result.applied and importer.applied == []
