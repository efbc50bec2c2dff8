"""Layout primitives shared by the ZPL and SVG renderers, so a preview shows what the printer prints.

Coordinates and sizes are printer dots (8 dots per mm at 203 dpi unless the label says otherwise), measured
from the top-left corner of the label. Barcode elements validate their data when built: a label that cannot
be printed fails where it is composed, with a clear message, not at the printer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import barcode
from barcode.codex import Gs1_128 as _Gs1Pattern

from wms.labels import gs1
from wms.labels.errors import LabelDataInvalid

DEFAULT_DPMM = 8
ELLIPSIS = "..."  # ASCII on purpose: resident font 0 on older firmware has no U+2026.
MAX_FIELD_CHARS = 400
# Average advance of font 0 (a condensed bold sans-serif) as a share of its height, slightly generous so
# that bounded fields fit their block: text past a ^FB block's last line would overprint that line.
CHAR_WIDTH = 0.6

Align = Literal["L", "C", "R"]
Direction = Literal["up", "down", "left", "right"]


@dataclass(frozen=True)
class LabelSize:
    """Physical label size; `dpmm` is the printer resolution (8 = 203 dpi, 12 = 300 dpi, 24 = 600 dpi)."""

    width_mm: float
    height_mm: float
    dpmm: int = DEFAULT_DPMM

    @property
    def width(self) -> int:
        return self.dots(self.width_mm)

    @property
    def height(self) -> int:
        return self.dots(self.height_mm)

    def dots(self, mm: float) -> int:
        return round(mm * self.dpmm)


FOUR_BY_SIX = LabelSize(101.6, 152.4)


def chars_fitting(width: int, height: int, lines: int = 1) -> int:
    """How many characters of font 0 at `height` dots fit in `lines` lines of `width` dots."""
    return max(len(ELLIPSIS) + 1, int(width / (height * CHAR_WIDTH)) * lines)


def clean_text(value: str, max_chars: int) -> str:
    """Printable text for a field: whitespace collapsed, control characters removed, length bounded."""
    if max_chars < len(ELLIPSIS) + 1 or max_chars > MAX_FIELD_CHARS:
        raise ValueError(f"max_chars must be between {len(ELLIPSIS) + 1} and {MAX_FIELD_CHARS}")
    kept = []
    for ch in str(value):
        category = unicodedata.category(ch)
        if ch.isspace():
            kept.append(" ")
        elif category not in ("Cc", "Cs", "Co", "Cn") and ch not in _BIDI_CONTROLS:
            kept.append(ch)
    text = " ".join("".join(kept).split())
    if len(text) > max_chars:
        text = text[: max_chars - len(ELLIPSIS)].rstrip() + ELLIPSIS
    return text


# Bidirectional overrides can make printed text read differently from the data (Trojan Source style).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _require_ascii(kind: str, data: str, max_len: int) -> None:
    if not data:
        raise LabelDataInvalid(f"A {kind} barcode needs data")
    if len(data) > max_len:
        raise LabelDataInvalid(f"{data[:20]!r}... is too long for a {kind} barcode ({max_len} max)")
    if any(not 32 <= ord(ch) <= 126 for ch in data):
        raise LabelDataInvalid(f"{data!r} has characters a {kind} barcode on this label cannot carry")


@dataclass(frozen=True)
class Text:
    """A line of text, or a wrapped block when `width` is given (^FB on the printer)."""

    x: int
    y: int
    text: str
    height: int
    max_chars: int = 60
    width: int | None = None
    max_lines: int = 1
    align: Align = "L"
    reverse: bool = False

    @property
    def value(self) -> str:
        return clean_text(self.text, self.max_chars)


@dataclass(frozen=True)
class Box:
    """A rectangle outline, or a filled bar; `color` is for previews (the printer has black only)."""

    x: int
    y: int
    width: int
    height: int
    thickness: int = 2
    filled: bool = False
    color: str = "#000000"


@dataclass(frozen=True)
class Arrow:
    """A line arrow whose tip is at (x, y), pointing `direction`."""

    x: int
    y: int
    length: int
    direction: Direction
    thickness: int = 8
    head: int = 30
    color: str = "#000000"


@dataclass(frozen=True)
class Code128:
    """Code 128 in automatic code-set mode; `max_width` shrinks the module so the symbol fits."""

    x: int
    y: int
    data: str
    height: int
    module: int = 2
    max_width: int | None = None
    hri: bool = True

    def __post_init__(self) -> None:
        _require_ascii("Code 128", self.data, 80)

    @property
    def modules(self) -> int:
        return len(_code128_pattern(self.data))

    @property
    def effective_module(self) -> int:
        return _fit_module(self.module, self.modules, self.max_width)


@dataclass(frozen=True)
class Gs1_128:  # noqa: N801 - the symbology's own name
    """GS1-128 from (AI, value) element strings; the interpretation line is printed below the bars."""

    x: int
    y: int
    elements: tuple[tuple[str, str], ...]
    height: int
    module: int = 3
    max_width: int | None = None
    hri_height: int = 28

    def __post_init__(self) -> None:
        gs1.validate_elements(self.elements)

    @property
    def modules(self) -> int:
        return len(_gs1_pattern(gs1.element_string(self.elements)))

    @property
    def effective_module(self) -> int:
        return _fit_module(self.module, self.modules, self.max_width)

    @property
    def hri(self) -> str:
        return gs1.human_readable(self.elements)


@dataclass(frozen=True)
class QrCode:
    """QR code, model 2, automatic input mode; `ecc` is H, Q, M or L."""

    x: int
    y: int
    data: str
    magnification: int = 4
    ecc: Literal["H", "Q", "M", "L"] = "Q"

    def __post_init__(self) -> None:
        if not self.data or len(self.data.encode()) > 1000:
            raise LabelDataInvalid("QR data must be 1 to 1000 bytes")
        if any(unicodedata.category(ch) == "Cs" for ch in self.data):
            raise LabelDataInvalid("QR data has unpaired surrogates")


@dataclass(frozen=True)
class DataMatrix:
    """Data Matrix ECC 200."""

    x: int
    y: int
    data: str
    module: int = 6

    def __post_init__(self) -> None:
        if not self.data or len(self.data.encode()) > 500:
            raise LabelDataInvalid("Data Matrix data must be 1 to 500 bytes")
        if any(unicodedata.category(ch) == "Cs" for ch in self.data):
            raise LabelDataInvalid("Data Matrix data has unpaired surrogates")

    @property
    def size(self) -> int:
        """Approximate symbol side in dots (square symbols, byte capacity), for previews and layout."""
        needed = len(self.data.encode())
        for side, capacity in _DATAMATRIX_SQUARES:
            if needed <= capacity:
                return side * self.module
        return 144 * self.module


_DATAMATRIX_SQUARES = (
    (10, 1),
    (12, 3),
    (14, 6),
    (16, 10),
    (18, 16),
    (20, 20),
    (22, 28),
    (24, 34),
    (26, 42),
    (32, 60),
    (36, 84),
    (40, 112),
    (44, 142),
    (48, 172),
    (52, 202),
    (64, 278),
    (72, 366),
    (80, 454),
    (88, 574),
)


@dataclass(frozen=True)
class Ean13:
    """EAN-13 (^BE); accepts the 12 data digits or all 13 with a correct check digit."""

    x: int
    y: int
    digits: str
    height: int
    module: int = 2

    def __post_init__(self) -> None:
        d = self.digits
        if not (d.isascii() and d.isdigit() and len(d) in (12, 13)):
            raise LabelDataInvalid(f"{d!r} is not an EAN-13 (12 or 13 digits)")
        if len(d) == 13 and not gs1.has_valid_check_digit(d):
            raise LabelDataInvalid(f"{d!r} has a wrong EAN-13 check digit")

    @property
    def data_digits(self) -> str:
        return self.digits[:12]

    @property
    def full_code(self) -> str:
        return self.data_digits + gs1.check_digit(self.data_digits)


Element = Text | Box | Arrow | Code128 | Gs1_128 | QrCode | DataMatrix | Ean13


@dataclass(frozen=True)
class Label:
    """One printed label: its size and what is drawn on it, in drawing order."""

    size: LabelSize
    elements: tuple[Element, ...] = field(default_factory=tuple)
    title: str = ""


def _fit_module(module: int, modules: int, max_width: int | None) -> int:
    if max_width is None:
        return module
    return max(1, min(module, max_width // max(modules, 1)))


@lru_cache(maxsize=512)
def _code128_pattern(data: str) -> str:
    return barcode.Code128(data).build()[0]


@lru_cache(maxsize=128)
def _gs1_pattern(element_string: str) -> str:
    return _Gs1Pattern(element_string.replace("\x1d", "\xf1")).build()[0]


def code128_pattern(element: Code128) -> str:
    """Bars and spaces (1 and 0 per module) of a Code 128 element, for previews."""
    return _code128_pattern(element.data)


def gs1_128_pattern(element: Gs1_128) -> str:
    """Bars and spaces of a GS1-128 element, for previews."""
    return _gs1_pattern(gs1.element_string(element.elements))


def ean13_pattern(element: Ean13) -> str:
    """Bars and spaces of an EAN-13 element, for previews."""
    return barcode.EAN13(element.data_digits).build()[0]


def block(
    x: int,
    y: int,
    text: str,
    height: int,
    width: int,
    *,
    lines: int = 1,
    align: Align = "L",
    reverse: bool = False,
) -> Text:
    """A text block bounded to what fits in `lines` lines of `width` dots."""
    return Text(
        x,
        y,
        text,
        height,
        max_chars=min(chars_fitting(width, height, lines), MAX_FIELD_CHARS),
        width=width,
        max_lines=lines,
        align=align,
        reverse=reverse,
    )
