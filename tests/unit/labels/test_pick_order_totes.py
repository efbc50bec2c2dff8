"""The printed OP says which tote each line goes into: the whole code per line, the part that differs between
the cart's totes in large type, the marks in the header and a tote list after the lines; barcodes still decode."""

from __future__ import annotations

from datetime import datetime

from tests.unit.labels.reading import decode_labels, field_values, texts
from wms.labels.documents import LINES_PER_PAGE, PickLine, PickOrderDocument
from wms.labels.documents.pick_order import tote_marks

START, END = datetime(2026, 12, 4, 9, 0), datetime(2026, 12, 4, 9, 20)


def _op(lines: tuple[PickLine, ...]) -> PickOrderDocument:
    return PickOrderDocument("OP-12-001", "A", "W-00012", START, END, lines)


def test_tote_marks_are_the_part_of_the_codes_that_differs():
    assert tote_marks(["W12-000-01-A", "W12-000-02-A"]) == {"W12-000-01-A": "01", "W12-000-02-A": "02"}
    assert tote_marks(["W7-000-01-A"]) == {}  # one tote: its whole code is enough
    assert tote_marks(["T-1", "T-1-X"]) == {}  # one code starts the other: no part tells them apart
    assert tote_marks(["TOTE9", "TOTE10"]) == {"TOTE9": "9", "TOTE10": "10"}
    assert tote_marks(["A-AAAAAAAAAA", "A-BBBBBBBBBB"]) == {}  # too long to print large: the whole code says it


def test_a_two_tote_batch_op_says_which_tote_each_line_goes_into():
    lines = (PickLine(1, "A01-01-1", "WH-A-00", "Article A00", 2, tote="W12-000-01-A", order="web-0"),
             PickLine(2, "A02-03-1", "WH-A-07", "Article A07", 1, tote="W12-000-02-A", order="web-1"),
             PickLine(3, "A03-02-1", "WH-A-11", "Article A11", 3, tote="W12-000-01-A", order="web-0"))
    job = _op(lines).to_zpl()
    (page,) = decode_labels(job)  # still one label
    assert texts(page, "Code 128") == ["OP-12-001", "A01-01-1", "A02-03-1", "A03-02-1"]
    printed = field_values(job)
    assert "Picker - 2 totes: 01 02" in printed  # the header names the cart's totes
    # Each line, between its location and the next line's, carries its own tote: mark and whole code.
    starts = [printed.index(line.location) for line in lines] + [printed.index("Totes on the cart (2)")]
    for line, mark, begin, end in zip(lines, ("01", "02", "01"), starts[:-1], starts[1:], strict=True):
        mine = printed[begin:end]
        assert line.tote in mine and mark in mine and "TOTE" in mine
        other = "W12-000-02-A" if line.tote == "W12-000-01-A" else "W12-000-01-A"
        assert other not in mine
    # The tote list: one row a tote, with its order, lines and units.
    listed = printed[starts[-1]:]
    one, two = listed.index("W12-000-01-A"), listed.index("W12-000-02-A")
    assert listed[one - 1: one + 4] == ["01", "W12-000-01-A", "web-0", "2", "x5"]
    assert listed[two - 1: two + 4] == ["02", "W12-000-02-A", "web-1", "1", "x1"]


def test_a_full_last_page_puts_the_tote_list_on_a_label_of_its_own_that_names_the_op():
    lines = tuple(PickLine(s, f"A0{s}-01-1", f"SKU-{s}", f"Item {s}", 1, tote=f"W3-000-0{s}-A", order=f"o{s}")
                  for s in range(1, LINES_PER_PAGE + 1))
    document = _op(lines)
    pages = decode_labels(document.to_zpl())
    assert len(pages) == document.page_count == 2
    assert texts(pages[0], "Code 128") == ["OP-12-001"] + [line.location for line in lines]
    assert texts(pages[1], "Code 128") == ["OP-12-001"]  # the list page: the OP barcode only, no tote barcode
    printed = field_values(document.to_zpl())
    assert "Page 2/2" in printed and "Totes on the cart (5)" in printed and "Picker - 5 totes: 01 02 03 04 05" in printed


def test_a_one_tote_op_names_its_tote_in_the_header_and_prints_no_list():
    lines = tuple(PickLine(s, f"A0{s}-01-1", f"SKU-{s}", f"Item {s}", 1, tote="W3-000-01-A") for s in (1, 2))
    document = PickOrderDocument("OP-3-001", "A", "W-00003", START, END, lines, tote="W3-000-01-A")
    printed = field_values(document.to_zpl())
    assert "Picker - Tote W3-000-01-A" in printed and "TOTE" not in printed
    assert not any(f.startswith("Totes on the cart") for f in printed) and document.page_count == 1
