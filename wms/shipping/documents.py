"""Shipping documents built on the label documents of `wms.labels`: the own-fleet parcel label, the GS1
parcel label (SSCC with order and weight) and the end-of-day manifest. ZPL comes from the label builder."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date

from wms.labels.documents.base import LabelDocument
from wms.labels.documents.shipping import CarrierLabel, Gs1LogisticLabel
from wms.labels.errors import LabelDataInvalid
from wms.labels.layout import FOUR_BY_SIX, Box, Code128, Element, Label, LabelSize, block

MANIFEST_LINES_PER_PAGE = 14


@dataclass(frozen=True)
class OwnFleetLabel(CarrierLabel):
    """The carrier label of our own delivery fleet, with the route and driver under the SSCC."""

    route: str = ""
    driver: str = ""

    def labels(self) -> list[Label]:
        (label,) = super().labels()
        d = self.size.dots
        extra: list[Element] = [
            Box(d(2), d(142), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(144), f"ROUTE {self.route or '-'}", d(6), d(50)),
            block(d(52), d(145), f"DRIVER {self.driver or '-'}", d(4.5), d(47), align="R"),
        ]
        return [replace(label, elements=label.elements + tuple(extra))]


@dataclass(frozen=True)
class Gs1ParcelLabel(Gs1LogisticLabel):
    """A GS1 logistic label for one parcel: the SSCC, plus gross weight (AI 330n) and order (AI 400)."""

    order_ref: str = ""

    @property
    def content_elements(self) -> tuple[tuple[str, str], ...]:
        elements = list(super().content_elements)
        fixed = [e for e in elements if e[0] in ("02", "15")]
        variable = [e for e in elements if e[0] not in ("02", "15")]
        if self.gross_weight_kg is not None:
            grams = round(self.gross_weight_kg * 1000)
            # AI 3303: kilograms with 3 decimals (to the gram) up to 999.999 kg; 3302 beyond, to 10 g.
            fixed.append(
                ("3303", f"{grams:06d}") if grams < 1_000_000 else ("3302", f"{round(grams / 10):06d}")
            )
        if self.order_ref:
            variable.append(("400", self.order_ref))
        return tuple(fixed + variable)

    def labels(self) -> list[Label]:
        (label,) = super().labels()
        if not self.order_ref:
            return [label]
        d = self.size.dots
        shown = [self.content_gtin, self.count, self.batch, self.best_before, self.gross_weight_kg]
        rows = sum(1 for value in shown if value is not None and value != "")
        if rows >= 5:
            return [label]  # no room left for a text row; the order stays in the AI (400) barcode
        y = d(32) + rows * d(6)
        extra = (block(d(2.5), y, "ORDER", d(3), d(30)), block(d(34), y, self.order_ref, d(4.5), d(65)))
        return [replace(label, elements=label.elements + extra)]


@dataclass(frozen=True)
class ManifestLine:
    """One parcel handed to the carrier."""

    tracking_number: str
    shipment_reference: str
    destination: str
    weight_grams: int
    route: str = ""


@dataclass(frozen=True)
class ManifestDocument(LabelDocument):
    """End-of-day manifest of one carrier: header with the manifest barcode, one row per parcel, totals and
    a signature box on the last page. Each page is a complete label (carrier, day, page n/N)."""

    carrier: str
    day: date
    reference: str
    lines: tuple[ManifestLine, ...]
    ship_from: str = ""
    size: LabelSize = field(default=FOUR_BY_SIX)

    def __post_init__(self) -> None:
        if not self.lines:
            raise LabelDataInvalid(f"The {self.carrier} manifest of {self.day} has no parcels")

    @property
    def total_weight_grams(self) -> int:
        return sum(line.weight_grams for line in self.lines)

    def labels(self) -> list[Label]:
        pages = math.ceil(len(self.lines) / MANIFEST_LINES_PER_PAGE)
        per = MANIFEST_LINES_PER_PAGE
        return [self._page(n, pages, self.lines[(n - 1) * per : n * per]) for n in range(1, pages + 1)]

    def _page(self, number: int, pages: int, lines: tuple[ManifestLine, ...]) -> Label:
        d = self.size.dots
        elements: list[Element] = [
            block(d(2.5), d(2.5), f"MANIFEST {self.carrier}", d(5), d(96)),
            block(d(2.5), d(10.5), f"{self.day:%d/%m/%Y}  {self.ship_from}", d(4), d(70)),
            block(d(72), d(10.5), f"Page {number}/{pages}", d(4), d(27), align="R"),
            Code128(d(2.5), d(16), self.reference, height=d(10), module=2, max_width=d(96)),
            block(
                d(2.5),
                d(29),
                f"{len(self.lines)} parcels  {self.total_weight_grams / 1000:.2f} kg",
                d(4.5),
                d(96),
            ),
            Box(d(2), d(35), d(97.6), d(0.5), filled=True),
        ]
        for index, line in enumerate(lines):
            y = d(36.5) + index * d(7)
            elements.append(block(d(2.5), y, line.tracking_number, d(3.5), d(42)))
            elements.append(block(d(45), y, line.shipment_reference, d(3), d(30)))
            elements.append(block(d(76), y, f"{line.weight_grams / 1000:.2f} kg", d(3), d(23), align="R"))
            where = f"{line.route}  {line.destination}".strip()
            elements.append(block(d(2.5), y + d(3.7), where, d(2.6), d(96)))
        if number == pages:
            elements.append(Box(d(2), d(136), d(97.6), d(14), thickness=3))
            elements.append(block(d(3.5), d(137.5), "Driver signature / time", d(3), d(60)))
        return Label(self.size, tuple(elements), title=f"Manifest {self.reference} page {number}/{pages}")
