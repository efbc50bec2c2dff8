"""Labels stuck on things that stay in the warehouse: totes, lane faces, products."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from wms.labels.documents.base import LabelDocument
from wms.labels.errors import LabelDataInvalid
from wms.labels.layout import (
    Arrow,
    Box,
    Code128,
    Ean13,
    Element,
    Label,
    LabelSize,
    QrCode,
    block,
)

TOTE_SIZE = LabelSize(100, 50)
LOCATION_SIZE = LabelSize(100, 50)
PRODUCT_SIZE = LabelSize(70, 40)


@dataclass(frozen=True)
class ToteLabel(LabelDocument):
    """A tote: its id as big text, Code 128 and a QR code (payload defaults to the id)."""

    tote_id: str
    site: str = ""
    qr_payload: str | None = None
    size: LabelSize = field(default=TOTE_SIZE)

    @property
    def qr_data(self) -> str:
        return self.qr_payload if self.qr_payload is not None else self.tote_id

    def labels(self) -> list[Label]:
        d = self.size.dots
        elements: list[Element] = [
            block(d(3), d(3), self.tote_id, d(11), d(62)),
            Code128(d(3), d(17), self.tote_id, height=d(16), module=3, max_width=d(62), hri=False),
            QrCode(d(70), d(5), self.qr_data, magnification=5),
        ]
        if self.site:
            elements.append(block(d(3), d(38), self.site, d(5), d(62)))
        return [Label(self.size, tuple(elements), title=f"Tote {self.tote_id}")]


class Face(StrEnum):
    """The side of a flow-rack lane a label faces."""

    PICK = "pick"
    REPLENISH = "replenish"


# Pickers take stock that slides toward them; receivers push stock away into the lane.
_FACE_STYLE = {
    Face.PICK: ("PICK FACE", "down", "#1f8a3b"),
    Face.REPLENISH: ("REPLENISH FACE", "up", "#e07b00"),
}


@dataclass(frozen=True)
class LocationLabel(LabelDocument):
    """One face of a lane: face band (solid for pick, outlined for replenish), code, arrow, barcode."""

    location_code: str
    face: Face
    zone: str = ""
    aisle: str = ""
    sku: str = ""
    barcode: str | None = None
    size: LabelSize = field(default=LOCATION_SIZE)

    @property
    def barcode_value(self) -> str:
        """The pick face scans as the bare code; the replenish face as ``R:`` + code (wms.picking.faces), so a
        handheld knows which side of the rack the person stands on and refuses the wrong one."""
        if self.barcode is not None:
            return self.barcode
        from wms.picking.faces import replenish_face_code

        return replenish_face_code(self.location_code) if self.face is Face.REPLENISH else self.location_code

    @property
    def face_name(self) -> str:
        return _FACE_STYLE[self.face][0]

    @property
    def band_color(self) -> str:
        return _FACE_STYLE[self.face][2]

    def labels(self) -> list[Label]:
        d = self.size.dots
        name, direction, color = _FACE_STYLE[self.face]
        solid = self.face is Face.PICK
        band: list[Element] = [
            Box(0, 0, self.size.width, d(11), thickness=d(1.2), filled=solid, color=color),
            block(d(3), d(2.5), name, d(6.5), d(94), align="C", reverse=solid),
        ]
        where = " - ".join(part for part in (f"Zone {self.zone}" if self.zone else "", self.aisle) if part)
        tip_y = d(36) if direction == "down" else d(15)
        elements: list[Element] = [
            *band,
            block(d(3), d(13), self.location_code, d(13), d(76)),
            Arrow(d(89), tip_y, d(21), direction, thickness=d(1.5), head=d(5), color=color),
            block(d(3), d(27.5), where, d(4), d(76)),
            Code128(d(3), d(33), self.barcode_value, height=d(12), module=3, max_width=d(78), hri=False),
        ]
        if self.sku:
            elements.append(block(d(3), d(46), self.sku, d(3), d(76)))
        return [Label(self.size, tuple(elements), title=f"{self.location_code} {name.lower()}")]


def location_label_pair(
    location_code: str, *, zone: str = "", pick_aisle: str = "", replenish_aisle: str = "", sku: str = ""
) -> tuple[LocationLabel, LocationLabel]:
    """The pick-face and the replenish-face label of one lane."""
    return (
        LocationLabel(location_code, Face.PICK, zone=zone, aisle=pick_aisle, sku=sku),
        LocationLabel(location_code, Face.REPLENISH, zone=zone, aisle=replenish_aisle, sku=sku),
    )


@dataclass(frozen=True)
class ProductLabel(LabelDocument):
    """A product: SKU, name, and an EAN-13 (^BE) when it has one, else Code 128 of its internal code."""

    sku: str
    name: str
    ean: str | None = None
    internal_code: str | None = None
    size: LabelSize = field(default=PRODUCT_SIZE)

    def __post_init__(self) -> None:
        if self.ean is not None and not (self.ean.isascii() and self.ean.isdigit() and len(self.ean) == 13):
            raise LabelDataInvalid(f"{self.ean!r} is not an EAN-13 (13 digits)")

    @property
    def code128_value(self) -> str:
        return self.internal_code or self.sku

    def labels(self) -> list[Label]:
        d = self.size.dots
        code: Element
        if self.ean is not None:
            code = Ean13(d(12), d(19), self.ean, height=d(13), module=2)
        else:
            code = Code128(d(2.5), d(19), self.code128_value, height=d(13), module=2, max_width=d(65))
        elements: list[Element] = [
            block(d(2.5), d(2.5), self.sku, d(6), d(65)),
            block(d(2.5), d(10), self.name, d(3.5), d(65), lines=2),
            code,
        ]
        return [Label(self.size, tuple(elements), title=f"Product {self.sku}")]
