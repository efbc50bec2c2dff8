"""Tracking numbers: structure and check digit of each format, against published examples.

Sources of the examples:
- UPU S10: Wikipedia "S10 (UPU standard)", check-digit section: serial 47312482 gives S = 200 and C = 9.
- jkeen/tracking_number_data (MIT; a public data set of courier formats with valid and invalid test numbers),
  files couriers/ups.json, couriers/s10.json, couriers/usps.json, couriers/fedex.json, couriers/dhl.json.
- FedEx Express: the worked example 012345678983 (sum 179, 179 mod 11 = 3) quoted from FedEx's Web API
  department in the Google Answers thread 207899 ("check digit algorithms for tracking numbers").
- UPS: 1Z 999 AA1 01 2345 6784, the sample UPS number given as the format example on wheremy.com's UPS
  tracking page (and widely used as UPS's sample); we did not find it in a UPS document ourselves.
"""

from __future__ import annotations

import pytest

from wms.shipping import tracking
from wms.shipping.errors import TrackingNumberInvalid
from wms.shipping.tracking import TrackingFormat


def test_the_s10_check_digit_of_the_standards_worked_example_is_9():
    assert tracking.s10_check_digit("47312482") == "9"


@pytest.mark.parametrize("number", ["RB123456785GB", "RB123456785US", "RB 123 456 785 GB", "rb123456785gb"])
def test_published_s10_numbers_are_valid(number):
    result = tracking.validate(number, TrackingFormat.UPU_S10)
    assert result.value == "RB123456785" + number.replace(" ", "")[-2:].upper()
    assert result.country == result.value[-2:]


def test_s10_remainders_0_and_1_map_to_check_digits_5_and_0():
    # 00000000: S = 0, C = 11 -> 5.  00000012: S = 1*9 + 2*7 = 23, 23 mod 11 = 1, C = 10 -> 0.
    assert tracking.s10_check_digit("00000000") == "5"
    assert tracking.s10_check_digit("00000012") == "0"


def test_a_wrong_s10_check_digit_is_refused_with_the_expected_digit():
    with pytest.raises(TrackingNumberInvalid, match="should be 5, not 6"):
        tracking.validate("RB123456786US", TrackingFormat.UPU_S10)


def test_a_reserved_s10_service_indicator_is_refused():
    with pytest.raises(TrackingNumberInvalid, match="reserved"):
        tracking.validate("JA123456785GB", TrackingFormat.UPU_S10)


def test_la_poste_numbers_are_s10_issued_in_france():
    result = tracking.validate("CB123456785FR", TrackingFormat.LA_POSTE_S10)
    assert result.format is TrackingFormat.LA_POSTE_S10 and result.country == "FR"
    with pytest.raises(TrackingNumberInvalid, match="issued in GB, not FR"):
        tracking.validate("RB123456785GB", TrackingFormat.LA_POSTE_S10)


@pytest.mark.parametrize(
    "number",
    [
        "1Z999AA10123456784",
        "1Z5R89390357567127",
        "1Z879E930346834440",
        "1Z410E7W0392751591",
        "1Z8V92A70367203024",
        "1z 999 aa1 01 2345 6784",
    ],
)
def test_published_ups_numbers_are_valid(number):
    assert tracking.validate(number, TrackingFormat.UPS).value == tracking.normalise(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("1Z1111111111111111", "check digit"),
        ("2Z5R89390357567127", "1Z followed"),
        ("1A5R89390357567127", "1Z followed"),
        ("1Z999AA1012345678", "1Z followed"),
    ],
)
def test_invalid_ups_numbers_are_refused(number, reason):
    with pytest.raises(TrackingNumberInvalid, match=reason):
        tracking.validate(number, TrackingFormat.UPS)


@pytest.mark.parametrize(
    "number",
    [
        "9400 1112 0108 0805 4830 16",
        "9101 1234 5678 9000 0000 13",
        "9505 5110 6960 5048 6006 24",
        "9361 2898 7870 0317 6337 95",
        "0307 1790 0005 2348 3741",
        "7112 3456 7891 2345 6787",
    ],
)
def test_published_usps_impb_numbers_are_valid(number):
    assert tracking.validate(number, TrackingFormat.USPS_IMPB).value == number.replace(" ", "")


def test_a_scanned_impb_with_its_routing_code_gives_the_tracking_number():
    routed = "420 22153 9101026837331000039521"
    assert tracking.validate(routed, TrackingFormat.USPS_IMPB).value == "9101026837331000039521"


def test_an_impb_with_a_wrong_check_digit_is_refused():
    with pytest.raises(TrackingNumberInvalid, match="should be 1, not 2"):
        tracking.validate("0307 1790 0005 2348 3742", TrackingFormat.USPS_IMPB)


@pytest.mark.parametrize(
    "number", ["012345678983", "986578788855", "477179081230", "799531274483", "790535312317", "974367662710"]
)
def test_published_fedex_express_numbers_are_valid(number):
    assert tracking.validate(number, TrackingFormat.FEDEX_EXPRESS).value == number


def test_the_fedex_worked_example_sums_to_179():
    assert sum(int(d) * w for d, w in zip("01234567898", tracking.FEDEX_WEIGHTS, strict=False)) == 179
    assert tracking.fedex_express_check_digit("01234567898") == "3"


def test_an_invalid_fedex_number_is_refused():
    with pytest.raises(TrackingNumberInvalid, match="check digit"):
        tracking.validate("996578788855", TrackingFormat.FEDEX_EXPRESS)


@pytest.mark.parametrize(
    "number", ["3318810025", "8487135506", "1099255990", "3821724944", "3318810036", "3318810014"]
)
def test_published_dhl_express_numbers_are_valid(number):
    assert tracking.validate(number, TrackingFormat.DHL_EXPRESS).value == number


@pytest.mark.parametrize("number", ["3318810010", "3318810034", "3318810011"])
def test_published_invalid_dhl_express_numbers_are_refused(number):
    with pytest.raises(TrackingNumberInvalid, match="check digit"):
        tracking.validate(number, TrackingFormat.DHL_EXPRESS)


def test_identify_names_every_format_a_number_satisfies():
    formats = {n.format for n in tracking.identify("CB123456785FR")}
    assert formats == {TrackingFormat.UPU_S10, TrackingFormat.LA_POSTE_S10}
    assert [n.format for n in tracking.identify("1Z999AA10123456784")] == [TrackingFormat.UPS]
    assert tracking.identify("hello") == ()


def test_own_fleet_numbers_carry_a_check_digit_and_the_fleet_prefix():
    number = tracking.own_fleet_number("OF", 123456789)
    assert number == "OF1234567895"  # GS1 mod-10 of 123456789 is 5 (3*(9+7+5+3+1) + (8+6+4+2) = 95)
    assert tracking.validate(number, TrackingFormat.OWN_FLEET, prefix="OF").value == number
    with pytest.raises(TrackingNumberInvalid, match="check digit should be 5"):
        tracking.validate("OF1234567894", TrackingFormat.OWN_FLEET, prefix="OF")
    with pytest.raises(TrackingNumberInvalid, match="our fleet's numbers are OF"):
        tracking.validate("XY1234567895", TrackingFormat.OWN_FLEET, prefix="OF")


@pytest.mark.parametrize("bad", [None, 42])
def test_a_tracking_number_that_is_not_text_is_refused(bad):
    with pytest.raises(TrackingNumberInvalid):
        tracking.validate(bad, TrackingFormat.UPS)


def test_an_unknown_format_is_refused():
    with pytest.raises(TrackingNumberInvalid, match="format we know"):
        tracking.validate("1Z999AA10123456784", "pigeon")
