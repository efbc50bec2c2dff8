"""PDF copies for document printers: one page per label, each page the label's physical size, lossless bars."""

from __future__ import annotations

import re

import pytest

from wms.labels import pdf
from wms.labels.documents import ProductLabel, ToteLabel


def _media_boxes(data: bytes) -> list[tuple[float, float]]:
    return [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", data)]


def test_a_product_label_pdf_has_one_page_of_the_label_size_with_bilevel_lossless_image() -> None:
    doc = ProductLabel("SKU-1", "Café ^XZ", ean="4006381333931")
    data = pdf.pdf(doc)
    assert data.startswith(b"%PDF")
    size = doc.labels()[0].size
    inches = (size.width / (size.dpmm * 25.4), size.height / (size.dpmm * 25.4))
    [(w, h)] = _media_boxes(data)
    assert (w, h) == pytest.approx((inches[0] * 72, inches[1] * 72), abs=1.0)
    assert b"/CCITTFaxDecode" in data and b"/DCTDecode" not in data


def test_every_label_of_a_long_pick_order_is_a_page() -> None:
    from tests.unit.labels.test_documents import pick_order

    doc = pick_order(40)
    assert len(doc.labels()) > 1
    data = pdf.pdf(doc)
    assert len(_media_boxes(data)) == len(doc.labels())


def test_render_for_picks_bytes_by_printer_language() -> None:
    doc = ToteLabel("001-01-A")
    zpl, ctype = pdf.render_for(doc, "zpl")
    assert ctype == pdf.ZPL_CONTENT_TYPE and b"^XA" in zpl and b"^XZ" in zpl
    data, ctype = pdf.render_for(doc, "pdf")
    assert ctype == pdf.PDF_CONTENT_TYPE and data.startswith(b"%PDF")
    with pytest.raises(ValueError):
        pdf.render_for(doc, "epl")
