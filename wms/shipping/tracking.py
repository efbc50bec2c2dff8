"""Tracking numbers: the structure and check digit of the common formats, and our own fleet's numbers.

Each format is a pattern plus a check-digit rule; `validate` says in a sentence what is wrong, `identify`
lists the formats a scanned number satisfies (numeric formats can overlap, so it is a tuple).

Sources of the rules (see tests/unit/shipping/test_tracking.py for the published examples checked):
- UPS 1Z: "1Z", 6-character shipper number, 2-character service, 7-character package id, check digit;
  UPS "modified mod 10": letters mapped to digits ((ASCII - 3) mod 10, so A=2 ... ), odd positions x1,
  even positions x2, check = distance to the next multiple of ten.
- UPU S10 (USPS international, La Poste / Colissimo international, every designated postal operator):
  2 letters service indicator, 8-digit serial, check digit, ISO 3166 alpha-2 country code; weights
  8,6,4,2,3,5,9,7; C = 11 - (S mod 11), 10 -> 0, 11 -> 5.
- USPS IMpb: 20 or 22 digits, GS1 mod-10 check digit (weights 3,1 from the right); a scanned IMpb may
  start with the routing code 420 + ZIP (5 or 9 digits), which is not part of the tracking number.
- FedEx Express 12 digits: weights 3,1,7 repeated from the left over the first 11 digits, sum mod 11,
  10 -> 0.
- DHL Express 10-digit waybill: the first 9 digits as a number, mod 7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from wms.labels import gs1
from wms.shipping.errors import TrackingNumberInvalid


class TrackingFormat(StrEnum):
    UPS = "ups"
    UPU_S10 = "upu_s10"
    LA_POSTE_S10 = "la_poste_s10"  # S10 issued by La Poste (Colissimo international): country FR
    USPS_IMPB = "usps_impb"
    FEDEX_EXPRESS = "fedex_express"
    DHL_EXPRESS = "dhl_express"
    OWN_FLEET = "own_fleet"


@dataclass(frozen=True)
class TrackingNumber:
    """A validated tracking number, normalised (no spaces, upper case), and the format it satisfies."""

    value: str
    format: TrackingFormat
    country: str | None = None  # S10: the issuing postal operator's country

    def __str__(self) -> str:
        return self.value


def normalise(raw: str) -> str:
    """Spaces and dashes removed, letters upper-cased: how tracking numbers are compared and stored."""
    if not isinstance(raw, str):
        raise TrackingNumberInvalid("A tracking number is given as text")
    return re.sub(r"[\s-]", "", raw).upper()


# --- check digits ------------------------------------------------------------------------------------


def ups_check_digit(body: str) -> str:
    """Check digit of the 15 characters after `1Z` (shipper, service, package id)."""
    if len(body) != 15 or not re.fullmatch(r"[0-9A-Z]{15}", body):
        raise TrackingNumberInvalid(f"{body!r} is not the 15 letters and digits of a UPS 1Z body")
    total = 0
    for position, ch in enumerate(body, start=1):
        value = int(ch) if ch.isdigit() else (ord(ch) - 3) % 10
        total += value * (2 if position % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> str:
    """UPU S10 check digit of an 8-digit serial number."""
    if len(serial) != 8 or not (serial.isascii() and serial.isdigit()):
        raise TrackingNumberInvalid(f"{serial!r} is not the 8-digit serial number of an S10 identifier")
    c = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return str({10: 0, 11: 5}.get(c, c))


FEDEX_WEIGHTS = (3, 1, 7) * 4


def fedex_express_check_digit(first_11: str) -> str:
    if len(first_11) != 11 or not (first_11.isascii() and first_11.isdigit()):
        raise TrackingNumberInvalid(f"{first_11!r} is not the first 11 digits of a FedEx Express number")
    return str(sum(int(d) * w for d, w in zip(first_11, FEDEX_WEIGHTS, strict=False)) % 11 % 10)


def dhl_express_check_digit(first_9: str) -> str:
    if len(first_9) != 9 or not (first_9.isascii() and first_9.isdigit()):
        raise TrackingNumberInvalid(f"{first_9!r} is not the first 9 digits of a DHL Express waybill")
    return str(int(first_9) % 7)


# --- formats -------------------------------------------------------------------------------------------

_UPS = re.compile(r"1Z([0-9A-Z]{15})([0-9])")
_S10 = re.compile(r"([A-Z]{2})([0-9]{8})([0-9])([A-Z]{2})")
_IMPB_ROUTED = re.compile(r"420(?:[0-9]{5}|[0-9]{9})([0-9]{22})")
_OWN_FLEET = re.compile(r"([A-Z]{2,4})([0-9]{9})([0-9])")


def _fail(raw: str, what: str, why: str) -> TrackingNumberInvalid:
    return TrackingNumberInvalid(f"{raw!r} is not a valid {what} tracking number: {why}")


def _check(raw: str, what: str, given: str, expected: str) -> None:
    if given != expected:
        raise _fail(raw, what, f"its check digit should be {expected}, not {given}")


def validate_ups(raw: str) -> TrackingNumber:
    value = normalise(raw)
    m = _UPS.fullmatch(value)
    if not m:
        raise _fail(raw, "UPS", "a UPS number is 1Z followed by 15 letters or digits and a check digit")
    _check(raw, "UPS", m.group(2), ups_check_digit(m.group(1)))
    return TrackingNumber(value, TrackingFormat.UPS)


# UPU S10 service indicators JA-JZ and KA-KZ are reserved and can never be assigned.
_S10_RESERVED_FIRST_LETTERS = frozenset("JK")


def validate_s10(raw: str, *, country: str | None = None) -> TrackingNumber:
    """A UPU S10 identifier; with `country`, it must also be issued by that country's postal operator."""
    value = normalise(raw)
    m = _S10.fullmatch(value)
    if not m:
        raise _fail(raw, "UPU S10", "an S10 identifier is 2 letters, 8 digits, a check digit and 2 letters")
    service, serial, given, issuer = m.groups()
    if service[0] in _S10_RESERVED_FIRST_LETTERS:
        raise _fail(raw, "UPU S10", f"service indicator {service} is reserved and never assigned")
    _check(raw, "UPU S10", given, s10_check_digit(serial))
    if country is not None and issuer != country.upper():
        raise _fail(raw, "UPU S10", f"it was issued in {issuer}, not {country.upper()}")
    return TrackingNumber(value, TrackingFormat.UPU_S10, country=issuer)


def validate_la_poste(raw: str) -> TrackingNumber:
    """An S10 identifier issued by La Poste (Colissimo international, registered letters): country FR."""
    number = validate_s10(raw, country="FR")
    return TrackingNumber(number.value, TrackingFormat.LA_POSTE_S10, country="FR")


def validate_usps_impb(raw: str) -> TrackingNumber:
    value = normalise(raw)
    routed = _IMPB_ROUTED.fullmatch(value)
    if routed:
        value = routed.group(1)
    if not (value.isascii() and value.isdigit()) or len(value) not in (20, 22):
        raise _fail(raw, "USPS IMpb", "an IMpb tracking number is 20 or 22 digits")
    _check(raw, "USPS IMpb", value[-1], gs1.check_digit(value[:-1]))
    return TrackingNumber(value, TrackingFormat.USPS_IMPB)


def validate_fedex_express(raw: str) -> TrackingNumber:
    value = normalise(raw)
    if len(value) != 12 or not (value.isascii() and value.isdigit()):
        raise _fail(raw, "FedEx Express", "a FedEx Express number is 12 digits")
    _check(raw, "FedEx Express", value[-1], fedex_express_check_digit(value[:11]))
    return TrackingNumber(value, TrackingFormat.FEDEX_EXPRESS)


def validate_dhl_express(raw: str) -> TrackingNumber:
    value = normalise(raw)
    if len(value) != 10 or not (value.isascii() and value.isdigit()):
        raise _fail(raw, "DHL Express", "a DHL Express waybill number is 10 digits")
    _check(raw, "DHL Express", value[-1], dhl_express_check_digit(value[:9]))
    return TrackingNumber(value, TrackingFormat.DHL_EXPRESS)


# --- our own fleet -------------------------------------------------------------------------------------


def own_fleet_number(prefix: str, serial: int) -> str:
    """Our fleet's tracking number: 2-4 letter prefix, 9-digit serial, GS1 mod-10 check digit of the serial."""
    _require_prefix(prefix)
    if not 0 <= serial <= 999_999_999:
        raise TrackingNumberInvalid(f"Own-fleet serial {serial} is outside 0-999999999")
    digits = f"{serial:09d}"
    return f"{prefix}{digits}{gs1.check_digit(digits)}"


def validate_own_fleet(raw: str, *, prefix: str) -> TrackingNumber:
    _require_prefix(prefix)
    value = normalise(raw)
    m = _OWN_FLEET.fullmatch(value)
    if not m or m.group(1) != prefix:
        raise _fail(raw, "own-fleet", f"our fleet's numbers are {prefix}, 9 digits and a check digit")
    _check(raw, "own-fleet", m.group(3), gs1.check_digit(m.group(2)))
    return TrackingNumber(value, TrackingFormat.OWN_FLEET)


def _require_prefix(prefix: str) -> None:
    if not re.fullmatch(r"[A-Z]{2,4}", prefix or ""):
        raise TrackingNumberInvalid(f"{prefix!r} is not an own-fleet prefix (2 to 4 capital letters)")


_VALIDATORS = {
    TrackingFormat.UPS: validate_ups,
    TrackingFormat.UPU_S10: validate_s10,
    TrackingFormat.LA_POSTE_S10: validate_la_poste,
    TrackingFormat.USPS_IMPB: validate_usps_impb,
    TrackingFormat.FEDEX_EXPRESS: validate_fedex_express,
    TrackingFormat.DHL_EXPRESS: validate_dhl_express,
}


def validate(raw: str, fmt: TrackingFormat | str, *, prefix: str | None = None) -> TrackingNumber:
    """The tracking number in `raw` checked against `fmt`; TrackingNumberInvalid says what is wrong."""
    try:
        fmt = TrackingFormat(fmt)
    except ValueError:
        raise TrackingNumberInvalid(f"{fmt!r} is not a tracking number format we know") from None
    if fmt is TrackingFormat.OWN_FLEET:
        if prefix is None:
            raise TrackingNumberInvalid("Checking an own-fleet number needs the fleet's prefix")
        return validate_own_fleet(raw, prefix=prefix)
    return _VALIDATORS[fmt](raw)


def identify(raw: str) -> tuple[TrackingNumber, ...]:
    """Every public format `raw` satisfies, pattern and check digit (own-fleet numbers need `validate`)."""
    found = []
    for check in _VALIDATORS.values():
        try:
            found.append(check(raw))
        except TrackingNumberInvalid:
            continue
    return tuple(found)
