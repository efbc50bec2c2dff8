"""Text the printer font lacks (emoji, Arabic, fullwidth, ligatures) prints as a graphic field, as written;
French accents stay text fields for the printer and still preview (zplkit lacks them); previews never fail."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, features

from wms.labels import glyphs, preview
from wms.labels.documents import ProductLabel
from wms.labels.documents.shipping import Address, CarrierLabel
from wms.labels.layout import Label, LabelSize, Text
from wms.labels.zpl import render_label

pytest.importorskip("zplkit")

SIZE = LabelSize(100, 60)
HEIGHT = 40
# (text, y): one field per line, 100 dots apart.
DONE_WHEN = (("emoji 📦🏷️", 20), ("RTL مرحبا", 120), ("Ｆｕｌｌｗｉｄｔｈ", 220), ("ﬁ ß Œ", 320))


def _label(texts: tuple[tuple[str, int], ...]) -> Label:
    return Label(SIZE, tuple(Text(20, y, text, HEIGHT, max_chars=40) for text, y in texts))


def _page(zpl: str) -> Image.Image:
    result = preview.png_from_zpl(zpl, width=SIZE.width, height=SIZE.height, dpi=203)
    assert len(result.pages) == 1
    return Image.open(io.BytesIO(result.pages[0])).convert("L")


def _ink(image: Image.Image, y: int) -> Image.Image:
    """The field's area (a line of text) as a 1-bit ink mask."""
    return image.crop((0, y, SIZE.width, y + HEIGHT)).point(lambda v: 255 if v < 128 else 0).convert("1")


def test_the_done_when_label_renders_every_glyph_on_one_label():
    zpl = render_label(_label(DONE_WHEN))
    assert zpl.count("^XA") == 1 and zpl.count("^XZ") == 1
    assert zpl.count("^GFA,") == 4 and "^A0N" not in zpl  # every field drawn as a graphic
    page = _page(zpl)
    # What the printer used to show: its font's '?' for every character it lacks.
    question_marks = _page(render_label(_label(tuple(("?" * len(t), y) for t, y in DONE_WHEN))))
    for (text, y) in DONE_WHEN:
        ink = _ink(page, y)
        assert ink.getbbox() is not None, f"{text!r} has ink"
        inked = ink.histogram()[255]
        assert inked > 150, f"{text!r} is drawn ({inked} dots)"
        different = ImageChops.logical_xor(ink, _ink(question_marks, y)).histogram()[255]
        assert different > inked // 3, f"{text!r} is not a row of question marks"
        # Nothing spills outside the field's line.
        assert page.crop((0, y + HEIGHT, SIZE.width, y + HEIGHT + 50)).getextrema()[0] > 128


def test_the_emoji_is_drawn_from_the_emoji_font_not_a_missing_glyph_box():
    if glyphs._find(glyphs.EMOJI_FONT) is None:
        pytest.skip("fonts-noto-color-emoji is not installed (scripts/system-deps)")
    package = glyphs.render_line("📦", HEIGHT)
    unknown = glyphs.render_line("\U0010fffd", HEIGHT)  # .notdef box
    assert glyphs._runs("📦🏷️") == [(glyphs.EMOJI_FONT, "📦🏷️")]
    assert package.tobytes() != unknown.tobytes()


@pytest.mark.skipif(not features.check("raqm"), reason="Pillow's raqm layout (libraqm, fribidi) is missing")
def test_arabic_is_shaped_and_laid_out_right_to_left():
    word = "مرحبا"
    shaped = glyphs.render_line(word, HEIGHT)
    # Unshaped, left to right: each letter's isolated form, in logical order.
    letters = [glyphs.render_line(ch, HEIGHT) for ch in word]
    naive = Image.new("L", (sum(i.width for i in letters), HEIGHT), 255)
    x = 0
    for image in letters:
        naive.paste(image, (x, 0))
        x += image.width
    assert shaped.width < naive.width  # joined forms are narrower than isolated ones
    # In a right-to-left paragraph the Latin word that follows the Arabic one stands at its left.
    line = glyphs.render_line(f"{word} RTL", HEIGHT)
    latin = glyphs.render_line("RTL", HEIGHT)
    assert ImageChops.difference(line.crop((0, 0, latin.width, HEIGHT)), latin).getbbox() is None


def test_text_the_printer_font_has_stays_a_text_field():
    zpl = render_label(Label(SIZE, (Text(20, 20, "Hélène Œuvre 12 rue Ça", HEIGHT, max_chars=40),)))
    assert "^A0N,40,40^FH^FDH_C3_A9l_C3_A8ne" in zpl and "^GFA" not in zpl


def test_a_french_address_label_previews_with_its_accents_drawn():
    sender = Address("Entrepôt Hélène", ("1 rue de l'Église",), "75001", "Paris", "FR")
    to = Address("François Lefèvre-Bœuf", ("12 rue de la Paix", "Bât. B, 3ᵉ étage"), "69001", "Lyon", "FR")
    document = CarrierLabel(sender, to, "Colissimo", "Domicile", 500, "6A12345678901", "106141411234567897",
                            "SO-1")
    zpl = document.to_zpl()
    assert "Fran_C3_A7ois Lef_C3_A8vre-B_C5_93uf" in zpl  # the printer gets text: its font has them
    result = preview.png(document)
    # zplkit lacks them: each field is redrawn as a graphic (one glyph reported per field), none shows '?'.
    assert len(result.pages) == 1 and result.substituted_glyphs == ()
    assert {"ô", "ç", "É"} <= set(result.drawn_glyphs)


def test_a_field_that_cannot_be_redrawn_shows_question_marks():
    zpl = "^XA^CI28^PW400^LL100^FO10,10^A0R,30,30^FH^FDGr_C3_BC_C3_9Fe^FS^XZ"  # rotated: not redrawn
    result = preview.png_from_zpl(zpl, width=400, height=100, dpi=203)
    assert set(result.substituted_glyphs) == {"ü", "ß"} and len(result.pages) == 1


def test_a_label_zplkit_rejects_previews_as_a_placeholder_page():
    result = preview.png_or_placeholder("^XA^FO10,10^GFA,9999,9999,10,ZZ^FS^XZ", width=400, height=200, dpi=203)
    assert len(result.pages) == 1 and result.pages[0].startswith(b"\x89PNG")
    assert result.warnings[0].startswith("placeholder:")
    with pytest.raises(preview.PreviewUnavailable):  # printing (PDF copies) still refuses it
        preview.png_from_zpl("^XA^FO10,10^GFA,9999,9999,10,ZZ^FS^XZ", width=400, height=200, dpi=203)


def test_a_wrapped_block_keeps_its_width_and_lines():
    zpl = render_label(Label(SIZE, (Text(20, 20, "ﬁ " * 30, 30, max_chars=90, width=300, max_lines=2),)))
    head = zpl.split("^GFA,", 1)[1].split(",")
    assert int(head[2]) == (300 + 7) // 8 and int(head[0]) == int(head[2]) * 60
    assert len(ProductLabel("SKU-1", "📦 " * 40, internal_code="X1").to_zpl().split("^XA")) == 2
