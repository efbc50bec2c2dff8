"""Field data can never become ZPL commands, survives as UTF-8, and stays within its bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.labels.reading import (
    control_commands,
    decode_labels,
    fh_decode,
    field_values,
    format_commands,
    raw_fields,
    render,
    texts,
)
from wms.labels import zpl
from wms.labels.documents import ProductLabel, ToteLabel
from wms.labels.errors import LabelDataInvalid
from wms.labels.layout import (
    ELLIPSIS,
    Code128,
    DataMatrix,
    Label,
    LabelSize,
    Text,
    block,
    clean_text,
)

INJECTION = "Café ^XZ^XA~JA_x"


def test_caret_tilde_and_the_hex_indicator_are_written_as_hex_escapes():
    assert zpl.fh_escape("a^b~c_d") == "a_5Eb_7Ec_5Fd"


def test_non_ascii_is_written_as_escaped_utf8_bytes():
    assert zpl.fh_escape("é中") == "_C3_A9_E4_B8_AD"


def test_every_label_selects_utf8_and_is_one_complete_format():
    label = Label(LabelSize(50, 30), (Text(10, 10, "hello", 30),))
    out = zpl.render_label(label)
    assert out.startswith("^XA^CI28")
    assert out.endswith("^XZ")
    assert out.count("^XA") == 1 and out.count("^XZ") == 1


def test_label_size_comes_from_millimetres_and_dots_per_mm():
    out = zpl.render_label(Label(LabelSize(100, 50, dpmm=12)))
    assert "^PW1200" in out and "^LL600" in out


def test_a_product_name_cannot_inject_commands():
    job = ProductLabel("SKU-1", INJECTION, ean="4006381333931").to_zpl()
    assert job.count("^XA") == 1 and job.count("^XZ") == 1
    assert "~" not in job
    assert format_commands(job).count(b"XA") == 1
    assert control_commands(job) == []
    assert len(render(job).labels) == 1
    assert INJECTION in field_values(job)


def test_the_injected_name_is_printed_literally_next_to_a_readable_barcode():
    job = ProductLabel("SKU-1", INJECTION, internal_code="INT-1").to_zpl()
    (page,) = decode_labels(job)
    assert texts(page) == ["INT-1"]
    assert INJECTION in field_values(job)


def test_every_escaped_field_is_pure_ascii_without_prefix_characters():
    job = ProductLabel("SKU-é", "Grüße ^ ~ _ 中文 \\ end", internal_code="X").to_zpl()
    assert job.isascii()
    for data in raw_fields(job):
        assert "^" not in data and "~" not in data


@pytest.mark.parametrize("name", ["é", "Straße", "中文 label", "ß ^ 中 ~ é _"])
def test_unicode_survives_in_the_printed_field(name):
    job = ProductLabel("SKU-1", name, internal_code="X").to_zpl()
    assert name in field_values(job)


def test_unicode_survives_in_a_qr_code_payload():
    payload = "TOTE:T-1 é ß 中"
    (page,) = decode_labels(ToteLabel("T-1", qr_payload=payload).to_zpl())
    assert payload in texts(page, "QR Code")


@given(st.text(max_size=80))
def test_any_text_decodes_back_to_its_cleaned_form(value):
    label = Label(LabelSize(100, 50), (Text(0, 0, value, 30, max_chars=100),))
    out = zpl.render_label(label)
    assert out.count("^XA") == 1 and "~" not in out
    assert field_values(out) == [clean_text(value, 100)]


def test_control_characters_are_removed_and_whitespace_collapsed():
    assert clean_text("a\x00b\x07c\r\n\td\x1be", 40) == "abc de"


def test_bidirectional_overrides_are_removed():
    assert clean_text("abc\u202edef", 40) == "abcdef"


def test_a_long_field_is_truncated_with_an_ellipsis_at_its_maximum():
    value = clean_text("x" * 100, 20)
    assert len(value) == 20 and value.endswith(ELLIPSIS)


def test_a_block_is_bounded_to_what_fits_its_lines():
    element = block(0, 0, "word " * 200, height=28, width=400, lines=2)
    assert len(element.value) == element.max_chars < 200
    assert element.value.endswith(ELLIPSIS)


def test_every_document_field_respects_its_bound():
    job = ProductLabel("S" * 300, "N" * 5000, internal_code="X").to_zpl()
    sku, name = field_values(job)[:2]
    assert sku.endswith(ELLIPSIS) and len(sku) < 40
    assert name.endswith(ELLIPSIS) and len(name) < 120


def test_a_backslash_in_a_wrapped_block_cannot_start_a_block_escape():
    out = zpl.render_label(Label(LabelSize(50, 30), (block(0, 0, "a\\&b", 30, 300),)))
    assert "\\" not in out
    assert len(render(out).labels) == 1


def test_code128_prints_invocation_and_prefix_characters_literally():
    data = "A>B^C~D_E>8"
    label = Label(LabelSize(100, 40), (Code128(20, 20, data, height=120, module=2),))
    (page,) = decode_labels(zpl.render_label(label))
    assert texts(page) == [data]


def test_code128_refuses_characters_it_cannot_carry():
    with pytest.raises(LabelDataInvalid):
        Code128(0, 0, "Café", height=50)


def test_data_matrix_payload_with_escape_characters_decodes_unchanged():
    data = "DM_1~2^3_é"
    label = Label(LabelSize(60, 40), (DataMatrix(40, 40, data, module=8),))
    (page,) = decode_labels(zpl.render_label(label))
    assert texts(page, "Data Matrix") == [data]


def test_fh_decoder_rejects_a_dangling_indicator():
    with pytest.raises(ValueError):
        fh_decode("abc_Z1")
