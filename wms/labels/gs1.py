"""GS1 rules used on labels: mod-10 check digits, SSCC, element strings and their Code 128 encoding.

Pure functions, no I/O. The Code 128 encoding is written as ZPL ^BC invocation codes (mode N), because
GS1-128 needs FNC1 in first position and after each variable-length element string, and the printer must
not pick its own code sets around them.
"""

from __future__ import annotations

from collections.abc import Sequence

from wms.labels.errors import LabelDataInvalid

# AIs whose length is predefined by their first two digits (GS1 General Specifications, figure 5.10.1-2):
# no FNC1 separator is needed after them.
_PREDEFINED_LENGTH = {
    "00": 20,
    "01": 16,
    "02": 16,
    "03": 16,
    "04": 18,
    "11": 8,
    "12": 8,
    "13": 8,
    "14": 8,
    "15": 8,
    "16": 8,
    "17": 8,
    "18": 8,
    "19": 8,
    "20": 4,
    "31": 10,
    "32": 10,
    "33": 10,
    "34": 10,
    "35": 10,
    "36": 10,
    "41": 16,
}

# GS1 AI encodable character set 82 (the characters allowed in alphanumeric AIs).
_CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")

Element = tuple[str, str]


def check_digit(digits: str) -> str:
    """GS1 mod-10 check digit for a string of digits (GTIN, SSCC, GLN without their last digit)."""
    if not digits.isascii() or not digits.isdigit():
        raise LabelDataInvalid(f"{digits!r} is not a string of digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def has_valid_check_digit(number: str) -> bool:
    """True when the last digit of `number` is its GS1 check digit."""
    if len(number) < 2 or not number.isascii() or not number.isdigit():
        return False
    return check_digit(number[:-1]) == number[-1]


def make_sscc(extension_digit: int, company_prefix: str, serial_reference: int) -> str:
    """Build an 18-digit SSCC: extension digit, GS1 company prefix, serial reference, check digit."""
    if not 0 <= extension_digit <= 9:
        raise LabelDataInvalid("The SSCC extension digit must be 0-9")
    if not company_prefix.isascii() or not company_prefix.isdigit() or not 6 <= len(company_prefix) <= 12:
        raise LabelDataInvalid("A GS1 company prefix is 6 to 12 digits")
    width = 16 - len(company_prefix)
    if not 0 <= serial_reference < 10**width:
        raise LabelDataInvalid(f"The serial reference must fit in {width} digits for this company prefix")
    body = f"{extension_digit}{company_prefix}{serial_reference:0{width}d}"
    return body + check_digit(body)


def validate_sscc(sscc: str) -> str:
    """Return the SSCC if it is 18 digits with a correct check digit, else raise LabelDataInvalid."""
    if len(sscc) != 18 or not has_valid_check_digit(sscc):
        raise LabelDataInvalid(f"{sscc!r} is not a valid SSCC (18 digits with a GS1 check digit)")
    return sscc


def validate_elements(elements: Sequence[Element]) -> tuple[Element, ...]:
    """Check AIs and values of GS1 element strings; return them as a tuple."""
    if not elements:
        raise LabelDataInvalid("A GS1-128 barcode needs at least one element string")
    for ai, value in elements:
        if not (ai.isascii() and ai.isdigit() and 2 <= len(ai) <= 4):
            raise LabelDataInvalid(f"{ai!r} is not a GS1 application identifier")
        if not value or any(ch not in _CSET82 for ch in value):
            raise LabelDataInvalid(f"The value of AI ({ai}) is empty or has characters GS1 does not allow")
        fixed = _PREDEFINED_LENGTH.get(ai[:2])
        if fixed is not None and len(ai) + len(value) != fixed:
            raise LabelDataInvalid(f"AI ({ai}) takes {fixed - len(ai)} characters, got {len(value)}")
        if ai == "00":
            validate_sscc(value)
    return tuple(elements)


def human_readable(elements: Sequence[Element]) -> str:
    """The interpretation line: each AI in parentheses followed by its data, e.g. `(00) 1234...`."""
    return " ".join(f"({ai}) {value}" for ai, value in elements)


def element_string(elements: Sequence[Element]) -> str:
    """What a scanner transmits after the ]C1 symbology identifier: AI + data, GS after variable fields."""
    parts = []
    for i, (ai, value) in enumerate(elements):
        parts.append(ai + value)
        if ai[:2] not in _PREDEFINED_LENGTH and i < len(elements) - 1:
            parts.append("\x1d")
    return "".join(parts)


FNC1 = "\x1d"


def zpl_code128_data(elements: Sequence[Element]) -> str:
    """^BC mode-N field data for the elements: start code C, FNC1, then code sets B/C as the data needs."""
    tokens = element_string(validate_elements(elements))
    out = [">;", ">8"]
    code_c = True
    i = 0
    while i < len(tokens):
        ch = tokens[i]
        if ch == FNC1:
            out.append(">8")
            i += 1
            continue
        run = _digit_run(tokens, i)
        if code_c:
            if run >= 2:
                out.append(tokens[i : i + 2])
                i += 2
                continue
            out.append(">6")
            code_c = False
        elif run >= 4:
            even = run - run % 2
            out.append(">5")
            out.append(tokens[i : i + even])
            code_c = True
            i += even
            continue
        # A literal '>' starts an invocation code in ^BC data; '>0' is the code for the character itself.
        out.append(">0" if ch == ">" else ch)
        i += 1
    return "".join(out)


def _digit_run(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    return end - start
