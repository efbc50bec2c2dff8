"""The zone pick order (OP) printed at the head of a rack zone: header, then lines in route order.

A long OP continues over several labels; each is a complete label with the header and OP barcode, so a
picker holding page 2 alone still knows which OP, zone, wave and slot it belongs to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from wms.labels.documents.base import LabelDocument
from wms.labels.errors import LabelDataInvalid
from wms.labels.layout import FOUR_BY_SIX, Box, Code128, Element, Label, LabelSize, block

LINES_PER_PAGE = 5


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

    @property
    def barcode_value(self) -> str:
        return self.barcode if self.barcode is not None else self.location


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
    def page_count(self) -> int:
        return math.ceil(len(self.lines) / LINES_PER_PAGE)

    def labels(self) -> list[Label]:
        route = self.route
        pages = self.page_count
        return [
            self._page(number, pages, route[(number - 1) * LINES_PER_PAGE : number * LINES_PER_PAGE])
            for number in range(1, pages + 1)
        ]

    def _slot(self) -> str:
        start, end = self.slot_start, self.slot_end
        if start.date() == end.date():
            return f"{start:%d/%m %H:%M}-{end:%H:%M}"
        return f"{start:%d/%m %H:%M}-{end:%d/%m %H:%M}"

    def _page(self, number: int, pages: int, lines: list[PickLine]) -> Label:
        d = self.size.dots
        elements: list[Element] = [
            block(d(2.5), d(2.5), f"OP {self.op_number}", d(6.5), d(62)),
            block(d(66), d(2.5), f"Page {number}/{pages}", d(4.5), d(33), align="R"),
            block(d(66), d(9), f"Zone {self.zone}", d(6), d(33), align="R"),
            Code128(d(2.5), d(11), self.op_number, height=d(11), module=2, max_width=d(62), hri=False),
            block(d(2.5), d(24), f"Wave {self.wave}   Slot {self._slot()}", d(4), d(96)),
            block(d(2.5), d(29), f"Picker {self.picker or '-'}   Tote {self.tote or '-'}", d(4), d(96)),
            Box(d(2), d(34.5), d(97.6), d(0.5), filled=True),
        ]
        for index, line in enumerate(lines):
            elements.extend(self._line(d(36) + index * d(21.5), line))
        tail = "continued on next label" if number < pages else "end of pick order"
        elements.append(block(d(2.5), d(146.5), f"OP {self.op_number} - {tail}", d(3.5), d(96)))
        return Label(self.size, tuple(elements), title=f"OP {self.op_number} page {number}/{pages}")

    def _line(self, y: int, line: PickLine) -> list[Element]:
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
        if line.tote:
            # The whole code, on its own under a caption: codes name their wave (W12-000-01-A), and a cut one
            # would send the units to the wrong tote.
            elements.append(block(d(62), y + d(13.5), "Tote", d(2.5), d(37), align="R"))
            elements.append(block(d(62), y + d(16.5), line.tote, d(3), d(37), align="R"))
        return elements
