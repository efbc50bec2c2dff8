"""SSCC-18, the GS1 Serial Shipping Container Code: build, validate, and write it for GS1-128 with AI (00).

Structure (GS1 General Specifications §2.2.1, AI (00) in §3.3.1): extension digit, GS1 company prefix
(6-12 digits), serial reference (so that prefix + serial are 16 digits), GS1 mod-10 check digit (§7.9.1).
The arithmetic lives once in `wms.labels.gs1`; this module gives it the shipping vocabulary and raises
`SsccInvalid` (a ValueError) with a sentence saying what is wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from wms.labels import gs1
from wms.labels.errors import LabelDataInvalid
from wms.shipping.errors import SsccInvalid

AI_SSCC = "00"
LENGTH = 18
SYMBOLOGY_GS1_128 = "]C1"


def check_digit(first_17: str) -> str:
    """The GS1 mod-10 check digit of the first 17 digits of an SSCC."""
    if len(first_17) != LENGTH - 1 or not (first_17.isascii() and first_17.isdigit()):
        raise SsccInvalid(f"{first_17!r} is not 17 digits, so no SSCC check digit can be computed")
    return gs1.check_digit(first_17)


def build(company_prefix: str, extension_digit: int, serial_reference: int) -> str:
    """The SSCC for extension digit + company prefix + serial reference, with its check digit."""
    try:
        return gs1.make_sscc(extension_digit, company_prefix, serial_reference)
    except LabelDataInvalid as exc:
        raise SsccInvalid(exc.detail) from exc


def validate(value: str) -> str:
    """Return the 18-digit SSCC in `value`, or raise SsccInvalid saying why it is not one."""
    if not isinstance(value, str):
        raise SsccInvalid("An SSCC is given as a string of 18 digits")
    digits = value.replace(" ", "")
    if not digits:
        raise SsccInvalid("No SSCC was given: an SSCC is 18 digits")
    if not (digits.isascii() and digits.isdigit()):
        raise SsccInvalid(f"{value!r} is not an SSCC: an SSCC has digits only")
    if len(digits) != LENGTH:
        raise SsccInvalid(f"{value!r} is not an SSCC: it has {len(digits)} digits, an SSCC has 18")
    expected = gs1.check_digit(digits[:-1])
    if digits[-1] != expected:
        raise SsccInvalid(f"{value!r} is not an SSCC: its check digit should be {expected}, not {digits[-1]}")
    return digits


def is_valid(value: str) -> bool:
    """True when `value` is an 18-digit SSCC with a correct check digit."""
    try:
        validate(value)
    except SsccInvalid:
        return False
    return True


def elements(sscc: str) -> tuple[tuple[str, str], ...]:
    """The GS1 element strings to print as GS1-128: just AI (00) and the SSCC."""
    return ((AI_SSCC, validate(sscc)),)


def element_string(sscc: str) -> str:
    """What a scanner transmits after the ]C1 symbology identifier: `00` followed by the 18 digits."""
    return gs1.element_string(elements(sscc))


def human_readable(sscc: str) -> str:
    """The interpretation line under the barcode: `(00) 376104250021234569`."""
    return gs1.human_readable(elements(sscc))


def from_scan(data: str) -> str:
    """The SSCC in what a scanner read: `]C100…`, `00…`, `(00)…` or the 18 digits alone."""
    text = "".join(data.split())
    if text.startswith(SYMBOLOGY_GS1_128):
        text = text[len(SYMBOLOGY_GS1_128) :]
    if text.startswith("(00)"):
        text = text[4:]
    elif len(text) == LENGTH + 2 and text.startswith(AI_SSCC):
        text = text[2:]
    return validate(text)


@dataclass
class SsccIssuer:
    """Issues SSCCs from one company prefix and extension digit; serials come from `next_serial`.

    `next_serial` is the caller's counter (a database sequence in the application): the issuer checks that
    each serial fits the width left by the company prefix and that serials only go up, so it never issues
    the same SSCC twice itself. Uniqueness across processes is the counter's (and the database's) job.
    """

    company_prefix: str
    extension_digit: int
    next_serial: Callable[[], int]
    _last_serial: int = field(default=-1, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        build(self.company_prefix, self.extension_digit, 0)  # refuses a bad prefix or digit up front

    @property
    def serial_width(self) -> int:
        return 16 - len(self.company_prefix)

    def issue(self) -> str:
        """A new SSCC; SsccInvalid if the serial no longer fits or did not go up."""
        with self._lock:
            serial = self.next_serial()
            sscc = build(self.company_prefix, self.extension_digit, serial)
            if serial <= self._last_serial:
                raise SsccInvalid(
                    f"The SSCC serial counter gave {serial} after {self._last_serial}; serials must only go up"
                )
            self._last_serial = serial
            return sscc
