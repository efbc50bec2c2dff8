"""GS1 check digits, SSCC building and GS1-128 element strings."""

from __future__ import annotations

import pytest

from wms.labels import gs1
from wms.labels.errors import LabelDataInvalid


@pytest.mark.parametrize(
    "number",
    [
        "006141411234567890",  # SSCC of GS1 General Specifications figure 6.6.5-1
        "106141411234567897",  # SSCC-18 sample used by barcode generators
        "340123451234567895",  # SSCC of the GS1 logistic label guideline
        "4006381333931",  # EAN-13 example on Wikipedia
        "9780306406157",  # ISBN-13 check digit example
        "036000291452",  # UPC-A example
    ],
)
def test_published_numbers_have_a_valid_check_digit(number):
    assert gs1.check_digit(number[:-1]) == number[-1]
    assert gs1.has_valid_check_digit(number)


def test_a_changed_digit_breaks_the_check_digit():
    assert not gs1.has_valid_check_digit("106141411234567898")


def test_an_sscc_is_built_from_extension_prefix_and_serial():
    assert gs1.make_sscc(0, "0614141", 123456789) == "006141411234567890"
    assert gs1.make_sscc(1, "0614141", 123456789) == "106141411234567897"


def test_a_serial_reference_too_long_for_the_prefix_is_refused():
    with pytest.raises(LabelDataInvalid):
        gs1.make_sscc(0, "0614141", 10**9)


@pytest.mark.parametrize("bad", ["10614141123456789", "106141411234567890", "10614141123456789X"])
def test_an_invalid_sscc_is_refused(bad):
    with pytest.raises(LabelDataInvalid):
        gs1.validate_sscc(bad)


def test_the_interpretation_line_puts_each_ai_in_parentheses():
    assert gs1.human_readable([("00", "106141411234567897")]) == "(00) 106141411234567897"


def test_a_variable_length_element_is_followed_by_a_group_separator_unless_last():
    elements = [("02", "10614141000415"), ("37", "120"), ("10", "LOT-42")]
    assert gs1.element_string(elements) == "0210614141000415" + "37120\x1d" + "10LOT-42"


def test_the_zpl_data_starts_with_code_c_and_fnc1():
    data = gs1.zpl_code128_data([("00", "106141411234567897")])
    assert data == ">;>800106141411234567897"


def test_a_fixed_length_ai_with_the_wrong_length_is_refused():
    with pytest.raises(LabelDataInvalid):
        gs1.validate_elements([("02", "123")])


def test_characters_outside_gs1_set_82_are_refused():
    with pytest.raises(LabelDataInvalid):
        gs1.validate_elements([("10", "LOT 42")])
