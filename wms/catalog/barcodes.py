"""Classify and validate scanned or typed codes: the GS1 GTIN family (EAN-13, EAN-8, UPC-A, GTIN-14) and internal codes.

Pure functions, no database: the same code always gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from wms.enums import Symbology
from wms.errors import InvalidBarcode

GTIN_LENGTHS = {8: Symbology.EAN8, 12: Symbology.UPCA, 13: Symbology.EAN13, 14: Symbology.GTIN14}
INTERNAL_MAX_LENGTH = 64


@dataclass(frozen=True)
class ParsedBarcode:
    code: str
    normalized: str
    symbology: Symbology

    @property
    def is_gtin(self) -> bool:
        return self.symbology != Symbology.INTERNAL


def gs1_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of `body` (every digit but the last), weights 3,1,3,... from the right."""
    if not body.isascii() or not body.isdigit():
        raise ValueError("the GS1 check digit is computed over digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _invalid(code: str, reason: str) -> InvalidBarcode:
    return InvalidBarcode(f"{code!r} is not a valid barcode: {reason}.",
                          errors=[{"field": "code", "message": reason}])


def parse(raw: str) -> ParsedBarcode:
    """Classify a code (surrounding whitespace ignored) or raise InvalidBarcode with the reason."""
    code = raw.strip()
    if not code:
        raise _invalid(raw, "it is empty")
    if code.isascii() and code.isdigit() and len(code) in GTIN_LENGTHS:
        symbology = GTIN_LENGTHS[len(code)]
        expected = gs1_check_digit(code[:-1])
        if int(code[-1]) != expected:
            raise _invalid(code, f"{symbology.value} check digit should be {expected}, not {code[-1]}")
        return ParsedBarcode(code=code, normalized=code.zfill(14), symbology=symbology)
    if len(code) > INTERNAL_MAX_LENGTH:
        raise _invalid(code[:20] + "...", f"it is {len(code)} characters long (at most {INTERNAL_MAX_LENGTH})")
    bad = next((c for c in code if not ("!" <= c <= "~")), None)
    if bad is not None:
        what = "a space" if bad.isspace() else f"the character {bad!r}"
        raise _invalid(code, f"it contains {what}; internal codes use printable ASCII without spaces")
    return ParsedBarcode(code=code, normalized=code, symbology=Symbology.INTERNAL)


def classify(raw: str) -> Symbology:
    """The symbology of a valid code."""
    return parse(raw).symbology


def normalize(raw: str) -> str:
    """The catalog key of a code: the 14-digit GTIN for the GTIN family, the stripped code otherwise."""
    return parse(raw).normalized


def is_valid(raw: str) -> bool:
    """Whether the code would be accepted."""
    try:
        parse(raw)
    except InvalidBarcode:
        return False
    return True
