"""GS1 check digits and barcode classification, against published examples and as properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms.catalog import barcodes
from wms.enums import Symbology
from wms.errors import InvalidBarcode

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@pytest.mark.parametrize(
    ("code", "symbology"),
    [
        ("4006381333931", Symbology.EAN13),  # Wikipedia, "International Article Number"
        ("036000291452", Symbology.UPCA),  # Wikipedia, "Universal Product Code"
        ("73513537", Symbology.EAN8),  # Wikipedia, "EAN-8"
        ("6291041500213", Symbology.EAN13),  # GS1 check digit calculator example
        ("9506000134352", Symbology.EAN13),  # GS1 Digital Link standard example
        ("09506000134352", Symbology.GTIN14),  # the same GTIN written on 14 digits
        ("10614141000415", Symbology.GTIN14),  # GS1 US example, packaging indicator 1
        ("9780306406157", Symbology.EAN13),  # ISBN-13 example
    ],
)
def test_published_examples_are_valid_and_classified(code: str, symbology: Symbology) -> None:
    parsed = barcodes.parse(code)
    assert parsed.symbology == symbology
    assert parsed.normalized == code.zfill(14)
    assert parsed.is_gtin


def test_upc_a_and_its_ean_13_form_are_the_same_barcode() -> None:
    assert barcodes.normalize("036000291452") == barcodes.normalize("0036000291452") == "00036000291452"


def test_ean_8_normalizes_to_fourteen_digits() -> None:
    assert barcodes.normalize("73513537") == "00000073513537"


def test_a_wrong_check_digit_names_the_expected_digit() -> None:
    with pytest.raises(InvalidBarcode, match="check digit should be 2, not 5"):
        barcodes.parse("036000291455")


def test_the_invalid_barcode_error_names_the_field() -> None:
    with pytest.raises(InvalidBarcode) as info:
        barcodes.parse("4006381333932")
    assert info.value.status == 422
    assert info.value.errors == [{"field": "code", "message": "ean13 check digit should be 1, not 2"}]


@pytest.mark.parametrize("code", ["73513536", "4006381333930", "10614141000416"])
def test_all_digit_codes_of_gtin_lengths_need_a_valid_check_digit(code: str) -> None:
    assert not barcodes.is_valid(code)


@pytest.mark.parametrize("code", ["SKU-001", "12345", "123456789", "A/B:C", "x" * 64, "0" * 15])
def test_other_printable_codes_are_internal(code: str) -> None:
    parsed = barcodes.parse(code)
    assert parsed.symbology == Symbology.INTERNAL
    assert parsed.normalized == code
    assert not parsed.is_gtin


def test_surrounding_whitespace_from_a_scanner_is_ignored() -> None:
    assert barcodes.parse("  4006381333931\r\n").normalized == "04006381333931"
    assert barcodes.parse("\tBOX-7 ").normalized == "BOX-7"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("BOX 7", "a space"),
        ("caf\u00e9", "printable ASCII"),
        ("A\x07B", "printable ASCII"),
        ("x" * 65, "at most 64"),
    ],
)
def test_unusable_internal_codes_are_refused_with_a_reason(code: str, reason: str) -> None:
    with pytest.raises(InvalidBarcode, match=reason):
        barcodes.parse(code)


def test_non_ascii_digits_are_not_taken_for_a_gtin() -> None:
    with pytest.raises(InvalidBarcode, match="printable ASCII"):
        barcodes.parse("\u0664" * 13)  # Arabic-Indic digits pass str.isdigit()


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_twelve_digits_with_their_computed_check_digit_validate(body: str) -> None:
    code = body + str(barcodes.gs1_check_digit(body))
    parsed = barcodes.parse(code)
    assert parsed.symbology == Symbology.EAN13
    assert parsed.normalized == "0" + code


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), digits)
def test_any_other_last_digit_fails(body: str, last: str) -> None:
    if last == str(barcodes.gs1_check_digit(body)):
        last = str((int(last) + 1) % 10)
    with pytest.raises(InvalidBarcode, match="check digit should be"):
        barcodes.parse(body + last)


@given(st.sampled_from([7, 11, 12, 13]).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)))
def test_every_gtin_length_round_trips_to_the_same_fourteen_digits(body: str) -> None:
    code = body + str(barcodes.gs1_check_digit(body))
    normalized = barcodes.normalize(code)
    assert len(normalized) == 14
    assert normalized.lstrip("0") == code.lstrip("0")
    assert barcodes.normalize(normalized) == normalized


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64))
def test_printable_ascii_codes_are_accepted_unless_they_are_a_bad_gtin(code: str) -> None:
    gtin_shaped = code.isdigit() and len(code) in barcodes.GTIN_LENGTHS
    if gtin_shaped and code[-1] != str(barcodes.gs1_check_digit(code[:-1])):
        assert not barcodes.is_valid(code)
    else:
        assert barcodes.normalize(code) == (code.zfill(14) if gtin_shaped else code)
