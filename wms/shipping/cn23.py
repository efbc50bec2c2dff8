"""The CN23 customs declaration as a 4x6 label, printed with the carrier label of a parcel leaving the EU customs
union (the carrier may also give its own CN23 as a PDF; this one prints on the pack station's label printer and
goes in the parcel's document pouch). One page per up to 6 articles: description, quantity, net weight, value,
HS code and origin per article; totals, currency, category and the tracking number on every page."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wms.labels.documents.base import LabelDocument
from wms.labels.layout import FOUR_BY_SIX, Box, Code128, Element, Label, LabelSize, block
from wms.shipping.carrier_features import Customs

LINES_PER_PAGE = 6


@dataclass(frozen=True)
class Cn23Document(LabelDocument):
    customs: Customs
    tracking_number: str
    reference: str
    sender: str = ""
    addressee: str = ""
    size: LabelSize = field(default=FOUR_BY_SIX)

    def labels(self) -> list[Label]:
        lines = self.customs.lines
        pages = max(1, math.ceil(len(lines) / LINES_PER_PAGE))
        return [self._page(n, pages, lines[(n - 1) * LINES_PER_PAGE: n * LINES_PER_PAGE]) for n in range(1, pages + 1)]

    def _page(self, number: int, pages: int, lines: tuple) -> Label:  # type: ignore[type-arg]
        d = self.size.dots
        c = self.customs
        weight = sum(line.weight_grams for line in c.lines)
        elements: list[Element] = [
            block(d(2.5), d(2.5), "CN23 CUSTOMS DECLARATION", d(4), d(82)),
            block(d(85), d(2.5), f"{number}/{pages}", d(4), d(14), align="R"),
            block(d(2.5), d(9.5), f"Category: {c.category.value}   Order {self.reference}", d(3.2), d(96)),
            block(d(2.5), d(14), f"From: {self.sender}", d(3), d(96)),
            block(d(2.5), d(18), f"To: {self.addressee}", d(3), d(96)),
            Code128(d(2.5), d(22.5), self.tracking_number, height=d(9), module=2, max_width=d(96)),
            Box(d(2), d(36), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(37.5), "Description / qty / net g / value / HS / origin", d(3), d(96)),
        ]
        for index, line in enumerate(lines):
            y = d(42) + index * d(13)
            elements.append(block(d(2.5), y, f"{line.quantity} x {line.description}", d(3.5), d(96)))
            elements.append(block(d(2.5), y + d(4.5), f"HS {line.hs_code or '-'}  origin {line.origin_country or '-'}",
                                  d(3.5), d(60)))
            elements.append(block(d(62), y + d(4.5), f"{line.value} {c.currency}", d(3.5), d(37), align="R"))
            elements.append(block(d(2.5), y + d(8.5), f"{line.weight_grams} g", d(3), d(40)))
        elements.append(Box(d(2), d(122), d(97.6), d(0.5), filled=True))
        elements.append(block(d(2.5), d(124), f"Total {c.value} {c.currency}   {weight} g net", d(4), d(96)))
        elements.append(block(d(2.5), d(131), "I certify that the particulars given are correct.", d(3), d(96)))
        return Label(self.size, tuple(elements), title=f"CN23 {self.reference} page {number}/{pages}")
