"""The zone pick order (OP) printed at the head of a rack zone: header, then lines in route order, then the
totes on the cart when there are several.

A long OP continues over several labels; each is a complete label with the header and OP barcode, so a
picker holding page 2 alone still knows which OP, zone, wave and slot it belongs to.

Totes: a tote code names its wave, batch, cart position and zone (W12-000-01-A), so the totes of one OP differ
in a part of the code only. Each line prints its tote's whole code and, beside the step number, that part in
large type (its "mark", 01, 02...); the header names the marks, and the tote list after the last line gives
each tote's code, order, lines and units. The list carries no barcode: the picker scans the tote itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from wms.labels.documents.base import LabelDocument
from wms.labels.errors import LabelDataInvalid
from wms.labels.layout import CHAR_WIDTH, FOUR_BY_SIX, Box, Code128, Element, Label, LabelSize, block

LINES_PER_PAGE = 5
MARK_MAX_CHARS = 6  # a longer distinguishing part is not printed large (the whole code still is)

# Vertical layout, in mm from the top of the label.
_LINES_TOP = 36.0
_LINE_HEIGHT = 21.5
_BOTTOM = 145.0  # the footer line starts at 146.5
_LIST_TITLE = 8.5  # the list's title and its column captions
_LIST_ROW = 5.5


@dataclass(frozen=True)
class PickLine:
    """One line to pick; `barcode` defaults to the location code (what the picker scans first)."""

    seq: int
    location: str
    sku: str
    description: str
    quantity: int
    tote: str = ""
    barcode: str | None = None
    order: str = ""  # the order the tote is for (its reference), printed in the tote list

    @property
    def barcode_value(self) -> str:
        return self.barcode if self.barcode is not None else self.location


@dataclass(frozen=True)
class ToteRow:
    """One tote of the cart, as listed after the lines."""

    code: str
    mark: str
    order: str
    lines: int
    units: int


def tote_marks(codes: Iterable[str]) -> dict[str, str]:
    """What tells each tote code from the others of the OP: the dash-separated parts that differ between them
    (W1-000-01-A, W1-000-02-A: 01, 02), else what is left once the common start and end are cut off. Empty
    with fewer than two totes, or when a mark would be longer than MARK_MAX_CHARS (the whole code says it)."""
    distinct = sorted({c for c in codes if c})
    if len(distinct) < 2:
        return {}
    parts = [c.split("-") for c in distinct]
    marks: dict[str, str] = {}
    if len({len(p) for p in parts}) == 1 and len(parts[0]) > 1:
        differing = [i for i in range(len(parts[0])) if len({p[i] for p in parts}) > 1]
        if len(differing) < len(parts[0]):
            marks = {c: "-".join(p[i] for i in differing) for c, p in zip(distinct, parts, strict=True)}
    if not marks:
        shortest = min(len(c) for c in distinct)
        start = 0
        while start < shortest and len({c[start] for c in distinct}) == 1:
            start += 1
        end = 0
        while end < shortest - start and len({c[-1 - end] for c in distinct}) == 1:
            end += 1
        marks = {c: c[start:len(c) - end] for c in distinct}
    if any(not m or len(m) > MARK_MAX_CHARS for m in marks.values()) or len(set(marks.values())) < len(marks):
        return {}
    return marks


@dataclass(frozen=True)
class _Page:
    lines: list[PickLine]
    totes: list[ToteRow]
    list_top: float  # mm where the tote list starts on this page
    list_starts: bool  # this page shows the list's title


@dataclass(frozen=True)
class PickOrderDocument(LabelDocument):
    """A zone pick order: OP number, zone, wave, slot, picker/tote and its lines."""

    op_number: str
    zone: str
    wave: str
    slot_start: datetime
    slot_end: datetime
    lines: tuple[PickLine, ...]
    picker: str = ""
    tote: str = ""
    size: LabelSize = field(default=FOUR_BY_SIX)

    def __post_init__(self) -> None:
        if not self.lines:
            raise LabelDataInvalid(f"Pick order {self.op_number} has no lines to print")
        if self.slot_end < self.slot_start:
            raise LabelDataInvalid("The slot ends before it starts")
        if any(line.quantity <= 0 for line in self.lines):
            raise LabelDataInvalid("Every pick line needs a positive quantity")

    @property
    def route(self) -> list[PickLine]:
        return sorted(self.lines, key=lambda line: line.seq)

    @property
    def marks(self) -> dict[str, str]:
        """Tote code -> the part that tells it from the OP's other totes (empty with one tote)."""
        return tote_marks(line.tote for line in self.lines)

    @property
    def totes(self) -> list[ToteRow]:
        """The OP's totes in code order (cart position order), when there are at least two."""
        codes = sorted({line.tote for line in self.lines if line.tote})
        if len(codes) < 2:
            return []
        marks = self.marks
        rows = []
        for code in codes:
            mine = [line for line in self.lines if line.tote == code]
            orders = list(dict.fromkeys(line.order for line in mine if line.order))
            rows.append(ToteRow(code, marks.get(code, ""), ", ".join(orders), len(mine),
                                sum(line.quantity for line in mine)))
        return rows

    @property
    def page_count(self) -> int:
        return len(self._pages())

    def labels(self) -> list[Label]:
        pages = self._pages()
        return [self._page(number, len(pages), page) for number, page in enumerate(pages, start=1)]

    def _pages(self) -> list[_Page]:
        """Lines LINES_PER_PAGE a label; the tote list under the last line if it fits there, else on labels of its
        own."""
        route = self.route
        chunks = [route[i : i + LINES_PER_PAGE] for i in range(0, len(route), LINES_PER_PAGE)]
        rows = self.totes
        pages = [_Page(chunk, [], 0.0, False) for chunk in chunks]
        if not rows:
            return pages
        top = _LINES_TOP + len(chunks[-1]) * _LINE_HEIGHT + 1.5
        fits = int((_BOTTOM - top - _LIST_TITLE) // _LIST_ROW)
        first = True
        if fits >= len(rows):  # the whole list under the last line; else on labels of its own, kept together
            pages[-1] = _Page(chunks[-1], rows, top, True)
            rows = []
        per_page = int((_BOTTOM - _LINES_TOP - _LIST_TITLE) // _LIST_ROW)
        while rows:
            pages.append(_Page([], rows[:per_page], _LINES_TOP, first))
            rows, first = rows[per_page:], False
        return pages

    def _slot(self) -> str:
        start, end = self.slot_start, self.slot_end
        if start.date() == end.date():
            return f"{start:%d/%m %H:%M}-{end:%H:%M}"
        return f"{start:%d/%m %H:%M}-{end:%d/%m %H:%M}"

    def _totes_header(self) -> str:
        rows = self.totes
        if not rows:
            codes = {line.tote for line in self.lines if line.tote}
            return f"Tote {self.tote or (codes.pop() if codes else '-')}"
        marks = [r.mark for r in rows]
        if not all(marks):
            return f"{len(rows)} totes, see the tote list"
        listed = f"{len(rows)} totes: {' '.join(marks)}"
        if len(listed) <= 28:
            return listed
        return f"{len(rows)} totes: {marks[0]} to {marks[-1]}"

    def _page(self, number: int, pages: int, page: _Page) -> Label:
        d = self.size.dots
        elements: list[Element] = [
            block(d(2.5), d(2.5), f"OP {self.op_number}", d(6.5), d(62)),
            block(d(66), d(2.5), f"Page {number}/{pages}", d(4.5), d(33), align="R"),
            block(d(66), d(9), f"Zone {self.zone}", d(6), d(33), align="R"),
            Code128(d(2.5), d(11), self.op_number, height=d(11), module=2, max_width=d(62), hri=False),
            block(d(2.5), d(24), f"Wave {self.wave}   Slot {self._slot()}", d(4), d(96)),
            block(d(2.5), d(29), f"Picker {self.picker or '-'}   {self._totes_header()}", d(4), d(96)),
            Box(d(2), d(34.5), d(97.6), d(0.5), filled=True),
        ]
        marks = self.marks
        for index, line in enumerate(page.lines):
            elements.extend(self._line(d(_LINES_TOP + index * _LINE_HEIGHT), line, marks.get(line.tote, "")))
        if page.totes:
            elements.extend(self._tote_list(page))
        tail = "continued on next label" if number < pages else "end of pick order"
        elements.append(block(d(2.5), d(146.5), f"OP {self.op_number} - {tail}", d(3.5), d(96)))
        return Label(self.size, tuple(elements), title=f"OP {self.op_number} page {number}/{pages}")

    def _mark(self, x: int, y: int, width: int, mark: str, largest: float) -> Element:
        """A tote mark centred in `width` dots, as large as fits up to `largest` mm."""
        d = self.size.dots
        height = min(d(largest), int(width / (max(len(mark), 1) * CHAR_WIDTH)))
        return block(x, y + (d(largest) - height) // 2, mark, height, width, align="C")

    def _line(self, y: int, line: PickLine, mark: str) -> list[Element]:
        d = self.size.dots
        elements: list[Element] = [
            Box(d(2.5), y + d(1), d(12), d(9), filled=True),
            block(d(2.5), y + d(2.5), str(line.seq), d(6), d(12), align="C", reverse=True),
            block(d(16), y + d(0.5), line.location, d(8.5), d(58)),
            block(d(74), y + d(0.5), f"x{line.quantity}", d(8.5), d(25), align="R"),
            block(d(16), y + d(9.5), line.sku, d(3.5), d(28)),
            block(d(46), y + d(9.5), line.description, d(3.5), d(53)),
            Code128(
                d(16), y + d(13.5), line.barcode_value, height=d(6), module=2, max_width=d(44), hri=False
            ),
            Box(d(2), y + d(20.7), d(97.6), d(0.25), filled=True),
        ]
        if mark:
            # Under the step number, outlined (the number is solid): the part of the code that differs
            # between the cart's totes, large enough to read at arm's length.
            elements.append(Box(d(2.5), y + d(11), d(12), d(9.2), thickness=3))
            elements.append(block(d(2.5), y + d(11.6), "TOTE", d(2.2), d(12), align="C"))
            elements.append(self._mark(d(3), y + d(14), d(11), mark, 5.5))
        if line.tote:
            # The whole code, on its own under a caption: codes name their wave (W12-000-01-A), and a cut one
            # would send the units to the wrong tote.
            elements.append(block(d(62), y + d(13.5), "Tote", d(2.5), d(37), align="R"))
            elements.append(block(d(62), y + d(16.5), line.tote, d(3), d(37), align="R"))
        return elements

    def _tote_list(self, page: _Page) -> list[Element]:
        d = self.size.dots
        top = page.list_top
        title = f"Totes on the cart ({len(self.totes)})" + ("" if page.list_starts else ", continued")
        elements: list[Element] = [
            block(d(2.5), d(top), title, d(4), d(96)),
            block(d(2.5), d(top + 5), "Tote", d(2.5), d(12), align="C"),
            block(d(16), d(top + 5), "Code", d(2.5), d(40)),
            block(d(57), d(top + 5), "Order", d(2.5), d(23)),
            block(d(80), d(top + 5), "Lines", d(2.5), d(9), align="R"),
            block(d(89), d(top + 5), "Units", d(2.5), d(10.6), align="R"),
        ]
        for index, row in enumerate(page.totes):
            y = top + _LIST_TITLE + index * _LIST_ROW
            if row.mark:
                elements.append(Box(d(2.5), d(y), d(12), d(4.8), filled=True))
                height = min(d(3.8), int(d(11) / (len(row.mark) * CHAR_WIDTH)))
                elements.append(block(d(3), d(y + 0.5), row.mark, height, d(11), align="C", reverse=True))
            elements.extend([
                block(d(16), d(y + 0.6), row.code, d(3.5), d(40)),
                block(d(57), d(y + 0.6), row.order or "-", d(3.5), d(23)),
                block(d(80), d(y + 0.6), str(row.lines), d(3.5), d(9), align="R"),
                block(d(89), d(y + 0.6), f"x{row.units}", d(3.5), d(10.6), align="R"),
                Box(d(2), d(y + _LIST_ROW - 0.4), d(97.6), d(0.2), filled=True),
            ])
        return elements
