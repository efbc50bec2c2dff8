"""SSCC-18: check digit, building, validation and the GS1-128 form, against published examples."""

from __future__ import annotations

import pytest

from wms.shipping import sscc
from wms.shipping.errors import ShippingInputInvalid, SsccInvalid


def test_the_check_digit_of_the_gs1_general_specifications_worked_example_is_9():
    """GS1 General Specifications §7.9.1 (standard check digit calculation, worked example for an 18-digit field):
    data 37610425002123456 weighted 3,1,3,... from the left, sum 101, next multiple of ten 110, check 9."""
    assert sscc.check_digit("37610425002123456") == "9"
    assert sscc.validate("376104250021234569") == "376104250021234569"


def test_an_sscc_is_built_from_prefix_extension_and_serial_reference():
    """GS1 General Specifications §3.3.1 (AI 00): extension digit, company prefix, serial reference, check
    digit. The same worked example split as prefix 7610425 (GS1 Switzerland range 76x) + serial 002123456."""
    assert sscc.build("7610425", 3, 2123456) == "376104250021234569"


def test_the_serial_reference_is_padded_to_the_width_the_prefix_leaves():
    # 0 + 123456789012 + 0007: weights 3,1,... from the right sum to 113, so the check digit is 7.
    assert sscc.build("123456789012", 0, 7) == "012345678901200077"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("376104250021234568", "check digit should be 9, not 8"),
        ("37610425002123456", "it has 17 digits"),
        ("3761042500212345699", "it has 19 digits"),
        ("37610425002123456X", "digits only"),
        ("", "No SSCC was given"),
    ],
)
def test_a_bad_sscc_is_refused_with_the_reason(value, reason):
    with pytest.raises(SsccInvalid, match=reason):
        sscc.validate(value)
    assert not sscc.is_valid(value)


def test_sscc_errors_are_value_errors_and_validation_failures():
    with pytest.raises(ValueError):
        sscc.validate("1")
    assert issubclass(SsccInvalid, ShippingInputInvalid) and SsccInvalid.status == 422


@pytest.mark.parametrize(
    ("prefix", "extension", "serial"),
    [("12345", 0, 1), ("1234567890123", 0, 1), ("7610425", 10, 1), ("7610425", 0, 10**9), ("76104A5", 0, 1)],
)
def test_impossible_sscc_parts_are_refused(prefix, extension, serial):
    with pytest.raises(SsccInvalid):
        sscc.build(prefix, extension, serial)


def test_the_gs1_128_form_carries_ai_00():
    assert sscc.elements("376104250021234569") == (("00", "376104250021234569"),)
    assert sscc.element_string("376104250021234569") == "00376104250021234569"
    assert sscc.human_readable("376104250021234569") == "(00) 376104250021234569"


@pytest.mark.parametrize(
    "scanned",
    [
        "]C100376104250021234569",
        "00376104250021234569",
        "(00)376104250021234569",
        "376104250021234569",
        " (00) 3761 0425 0021 2345 69 ",
        "00 376104250021234569",
    ],
)
def test_a_scanned_sscc_is_read_in_any_usual_form(scanned):
    assert sscc.from_scan(scanned) == "376104250021234569"


def test_a_scanned_sscc_with_a_wrong_check_digit_is_refused():
    with pytest.raises(SsccInvalid):
        sscc.from_scan("]C100376104250021234568")


def test_the_issuer_gives_consecutive_sscc_from_its_counter():
    serials = iter([2123456, 2123457])
    issuer = sscc.SsccIssuer("7610425", 3, lambda: next(serials))
    first, second = issuer.issue(), issuer.issue()
    assert first == "376104250021234569"
    assert second[:-1] == "37610425002123457" and sscc.is_valid(second)


def test_the_issuer_refuses_a_counter_that_goes_back():
    serials = iter([5, 5])
    issuer = sscc.SsccIssuer("7610425", 3, lambda: next(serials))
    issuer.issue()
    with pytest.raises(SsccInvalid, match="only go up"):
        issuer.issue()


def test_the_issuer_refuses_a_serial_that_no_longer_fits():
    issuer = sscc.SsccIssuer("7610425", 3, lambda: 10**9)
    with pytest.raises(SsccInvalid, match="fit in 9 digits"):
        issuer.issue()


def test_an_issuer_with_a_bad_prefix_is_refused_up_front():
    with pytest.raises(SsccInvalid):
        sscc.SsccIssuer("12", 0, lambda: 1)
