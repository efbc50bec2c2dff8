"""4x6 in shipping labels: a generic carrier label and a GS1 logistic label, both carrying an SSCC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from wms.labels import gs1
from wms.labels.documents.base import LabelDocument
from wms.labels.errors import LabelDataInvalid
from wms.labels.layout import FOUR_BY_SIX, Box, Code128, Element, Gs1_128, Label, LabelSize, block


@dataclass(frozen=True)
class Address:
    """A postal address as printed: name, street lines, postal code, city, ISO country code."""

    name: str
    street: tuple[str, ...]
    postal_code: str
    city: str
    country: str

    @property
    def city_line(self) -> str:
        return f"{self.postal_code} {self.city}".strip()


@dataclass(frozen=True)
class CarrierLabel(LabelDocument):
    """A generic carrier label: addresses, carrier and service, weight, tracking number, SSCC, order ref."""

    ship_from: Address
    ship_to: Address
    carrier: str
    service: str
    weight_grams: int
    tracking_number: str
    sscc: str
    order_ref: str
    parcel_index: int = 1
    parcel_count: int = 1
    size: LabelSize = field(default=FOUR_BY_SIX)

    def __post_init__(self) -> None:
        gs1.validate_sscc(self.sscc)
        if self.weight_grams <= 0:
            raise LabelDataInvalid("A parcel weighs more than 0 g")
        if not 1 <= self.parcel_index <= self.parcel_count:
            raise LabelDataInvalid("The parcel index must be between 1 and the parcel count")

    def labels(self) -> list[Label]:
        d = self.size.dots
        elements: list[Element] = [
            block(d(2.5), d(2.5), "FROM", d(2.5), d(20)),
            block(d(2.5), d(5.5), self.ship_from.name, d(3.5), d(55)),
            block(d(2.5), d(9.5), ", ".join(self.ship_from.street), d(3), d(55), lines=2),
            block(d(2.5), d(16.5), f"{self.ship_from.city_line} {self.ship_from.country}", d(3), d(55)),
            block(d(60), d(2.5), self.carrier, d(7), d(39), align="R"),
            block(d(60), d(11), self.service, d(4.5), d(39), align="R"),
            block(d(60), d(17), f"{self.parcel_index}/{self.parcel_count}", d(4.5), d(39), align="R"),
            Box(d(2), d(23.5), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(25.5), "SHIP TO", d(3), d(30)),
            block(d(2.5), d(29.5), self.ship_to.name, d(6), d(96)),
            block(d(2.5), d(37), "\n".join(self.ship_to.street), d(5), d(96), lines=2),
            block(d(2.5), d(48), self.ship_to.city_line, d(7), d(80)),
            block(d(84), d(48), self.ship_to.country, d(7), d(15), align="R"),
            Box(d(2), d(57), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(59), f"TRACKING  {self.carrier}", d(3), d(60)),
            Code128(d(4), d(63), self.tracking_number, height=d(20), module=3, max_width=d(92)),
            Box(d(2), d(91.5), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(93.5), f"ORDER {self.order_ref}", d(4.5), d(62)),
            block(d(66), d(93.5), f"{self.weight_grams / 1000:.2f} kg", d(4.5), d(33), align="R"),
            Box(d(2), d(100), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(102), "SSCC", d(3), d(30)),
            Gs1_128(d(4), d(106), (("00", self.sscc),), height=d(30), module=3, max_width=d(92)),
        ]
        return [Label(self.size, tuple(elements), title=f"Parcel {self.tracking_number}")]


@dataclass(frozen=True)
class Gs1LogisticLabel(LabelDocument):
    """A GS1 logistic label: free-form party block, data titles, content barcode, SSCC barcode last."""

    sscc: str
    ship_from: Address
    ship_to: Address
    content_gtin: str | None = None
    count: int | None = None
    batch: str | None = None
    best_before: date | None = None
    gross_weight_kg: float | None = None
    size: LabelSize = field(default=FOUR_BY_SIX)

    def __post_init__(self) -> None:
        gs1.validate_sscc(self.sscc)
        if self.content_gtin is not None and (
            len(self.content_gtin) != 14 or not gs1.has_valid_check_digit(self.content_gtin)
        ):
            raise LabelDataInvalid(f"{self.content_gtin!r} is not a GTIN-14 with a valid check digit")
        if self.count is not None and not 1 <= self.count <= 99_999_999:
            raise LabelDataInvalid("The count of trade items must be 1 to 99999999")
        gs1.validate_elements(self.content_elements or (("00", self.sscc),))

    @property
    def content_elements(self) -> tuple[tuple[str, str], ...]:
        """Content element strings, fixed-length first so only the last variable one goes unterminated."""
        elements: list[tuple[str, str]] = []
        if self.content_gtin:
            elements.append(("02", self.content_gtin))
        if self.best_before:
            elements.append(("15", f"{self.best_before:%y%m%d}"))
        if self.count is not None:
            elements.append(("37", str(self.count)))
        if self.batch:
            elements.append(("10", self.batch))
        return tuple(elements)

    def labels(self) -> list[Label]:
        d = self.size.dots
        elements: list[Element] = [
            block(d(2.5), d(2.5), "FROM", d(2.5), d(45)),
            block(d(2.5), d(5.5), self.ship_from.name, d(3.5), d(46)),
            block(d(2.5), d(9.5), self.ship_from.city_line, d(3), d(46)),
            block(d(52), d(2.5), "TO", d(2.5), d(45)),
            block(d(52), d(5.5), self.ship_to.name, d(3.5), d(47)),
            block(d(52), d(9.5), ", ".join(self.ship_to.street), d(3), d(47)),
            block(d(52), d(13.5), f"{self.ship_to.city_line} {self.ship_to.country}", d(3), d(47)),
            Box(d(2), d(18), d(97.6), d(0.5), filled=True),
            block(d(2.5), d(20), "SSCC", d(3), d(30)),
            block(d(2.5), d(24), self.sscc, d(6), d(96)),
        ]
        y = d(32)
        rows = [
            ("CONTENT", self.content_gtin),
            ("COUNT", None if self.count is None else str(self.count)),
            ("BATCH/LOT", self.batch),
            ("BEST BEFORE", f"{self.best_before:%d.%m.%Y}" if self.best_before else None),
            ("GROSS WEIGHT", None if self.gross_weight_kg is None else f"{self.gross_weight_kg:.1f} kg"),
        ]
        for title, value in rows:
            if value:
                elements.append(block(d(2.5), y, title, d(3), d(30)))
                elements.append(block(d(34), y, value, d(4.5), d(65)))
                y += d(6)
        elements.append(Box(d(2), d(64), d(97.6), d(0.5), filled=True))
        if self.content_elements:
            elements.append(
                Gs1_128(d(4), d(67), self.content_elements, height=d(24), module=2, max_width=d(92))
            )
        elements.append(Box(d(2), d(100), d(97.6), d(0.5), filled=True))
        elements.append(Gs1_128(d(4), d(106), (("00", self.sscc),), height=d(30), module=3, max_width=d(92)))
        return [Label(self.size, tuple(elements), title=f"SSCC {self.sscc}")]
