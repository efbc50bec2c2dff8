"""SVG previews come from the same layout as the ZPL; PNG previews are the rendered ZPL itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wms.labels import preview
from wms.labels.documents import ProductLabel, ToteLabel
from wms.labels.layout import Code128, Label, LabelSize, Text
from wms.labels.svg import render_label

SVG = "{http://www.w3.org/2000/svg}"


def test_the_svg_has_the_label_size_and_the_escaped_text():
    svg = ProductLabel("SKU-1", "Café <b>&amp; ^XZ", internal_code="X1").to_svg()[0]
    root = ET.fromstring(svg)
    assert root.get("width") == "70mm" and root.get("viewBox") == "0 0 560 320"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any("Café <b>&amp; ^XZ" in t for t in texts)


def test_svg_barcode_bars_use_the_printer_module_width():
    element = Code128(10, 10, "ABC-123", height=80, module=3)
    root = ET.fromstring(render_label(Label(LabelSize(60, 30), (element,))))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "80"]
    right = max(float(r.get("x")) + float(r.get("width")) for r in bars)
    # The symbol ends with the 2-module stop bar, so the last bar ends at the full symbol width.
    assert right == 10 + element.modules * 3


def test_svg_text_is_stripped_of_control_characters_like_the_print():
    svg = render_label(Label(LabelSize(60, 30), (Text(0, 0, "a\x00b\x1bc", 20),)))
    assert "abc" in svg and "\x00" not in svg and "\x1b" not in svg


def test_the_png_preview_is_the_rendered_zpl_one_image_per_label():
    result = preview.png(ToteLabel("T-9", site="Paris"))
    assert len(result.pages) == 1
    assert result.pages[0].startswith(b"\x89PNG\r\n\x1a\n")
    assert result.substituted_glyphs == ()


def test_text_the_printer_font_lacks_is_a_graphic_field_so_nothing_is_substituted():
    document = ProductLabel("SKU-1", "Grüße 中", internal_code="X1")
    assert "^GFA," in document.to_zpl()  # 中 is not in font 0: the field is drawn (wms.labels.glyphs)
    result = preview.png(document)
    assert len(result.pages) == 1
    assert result.substituted_glyphs == ()


def test_every_page_of_every_document_previews_as_well_formed_svg():
    from tests.unit.labels.test_documents import FROM, SSCC, TO, pick_order
    from wms.labels.documents import CarrierLabel, Gs1LogisticLabel, location_label_pair

    documents = [
        pick_order(12),
        CarrierLabel(FROM, TO, "UPS", "Standard", 500, "1Z999AA10123456784", SSCC, "SO-1"),
        Gs1LogisticLabel(SSCC, FROM, TO, content_gtin="10614141000415", count=3),
        ToteLabel("T-1", qr_payload="é 中"),
        *location_label_pair("B-02-01"),
        ProductLabel("SKU-2", "Thing", ean="4006381333931"),
    ]
    for document in documents:
        pages = preview.svg(document)
        assert len(pages) == len(document.labels())
        for page in pages:
            assert ET.fromstring(page).tag == f"{SVG}svg"
