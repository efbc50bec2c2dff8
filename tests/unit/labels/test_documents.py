"""Every document renders with zplkit and every barcode on it decodes to what the document meant."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.unit.labels.reading import decode_labels, field_values, render, texts
from wms.labels.documents import (
    LINES_PER_PAGE,
    Address,
    CarrierLabel,
    Face,
    Gs1LogisticLabel,
    PickLine,
    PickOrderDocument,
    ProductLabel,
    ToteLabel,
    location_label_pair,
)
from wms.labels.errors import LabelDataInvalid

FROM = Address("ACME Flow Racks", ("1 Rack Road",), "75001", "Paris", "FR")
TO = Address("Jean Dupont", ("12 rue de la Paix", "Bat B"), "69001", "Lyon", "FR")
SSCC = "106141411234567897"


def pick_order(line_count: int, **kwargs) -> PickOrderDocument:
    lines = tuple(
        PickLine(seq, f"A-01-{seq:02d}", f"SKU-{seq}", f"Widget {seq}", seq, tote="T1")
        for seq in range(line_count, 0, -1)  # given out of route order on purpose
    )
    return PickOrderDocument(
        "OP-2026-0042",
        "Z1",
        "W17",
        datetime(2026, 11, 23, 9, 0),
        datetime(2026, 11, 23, 9, 20),
        lines,
        picker="ann",
        tote="T1",
        **kwargs,
    )


def test_a_short_pick_order_is_one_label_with_op_and_line_barcodes_in_route_order():
    job = pick_order(3).to_zpl()
    (page,) = decode_labels(job)
    codes = texts(page, "Code 128")
    assert codes[0] == "OP-2026-0042"
    assert codes[1:] == ["A-01-01", "A-01-02", "A-01-03"]


def test_each_op_line_prints_its_whole_tote_code_beside_a_location_barcode_that_still_decodes():
    lines = tuple(PickLine(seq, f"AB-12-{seq:02d}-3", f"SKU-{seq}", f"Widget {seq}", 1,
                           tote=f"W12345-00{seq}-0{seq}-AB") for seq in (1, 2))
    job = PickOrderDocument("OP-12345-001", "AB", "W-12345", datetime(2026, 12, 2, 9, 0),
                            datetime(2026, 12, 2, 9, 20), lines).to_zpl()
    printed = field_values(job)
    assert "W12345-001-01-AB" in printed and "W12345-002-02-AB" in printed
    (page,) = decode_labels(job)
    assert texts(page, "Code 128")[1:] == ["AB-12-01-3", "AB-12-02-3"]


def test_a_long_pick_order_continues_over_complete_labels():
    document = pick_order(2 * LINES_PER_PAGE + 2)
    job = document.to_zpl()
    pages = decode_labels(job)
    assert len(pages) == 3 == job.count("^XA") == job.count("^XZ")
    seen = []
    for page in pages:
        codes = texts(page, "Code 128")
        assert codes[0] == "OP-2026-0042"
        seen.extend(codes[1:])
    assert seen == [f"A-01-{seq:02d}" for seq in range(1, 2 * LINES_PER_PAGE + 3)]
    fields = field_values(job)
    assert [f for f in fields if f.startswith("Page ")] == ["Page 1/3", "Page 2/3", "Page 3/3"]
    assert sum(f == "Zone Z1" for f in fields) == 3


def test_a_pick_line_can_carry_its_own_line_id_barcode():
    line = PickLine(1, "A-01-01", "SKU-1", "Widget", 2, barcode="OPL-42-1")
    document = PickOrderDocument(
        "OP-1", "Z1", "W1", datetime(2026, 1, 1, 8), datetime(2026, 1, 1, 9), (line,)
    )
    (page,) = decode_labels(document.to_zpl())
    assert texts(page, "Code 128") == ["OP-1", "OPL-42-1"]


def test_a_pick_order_without_lines_is_refused():
    with pytest.raises(LabelDataInvalid):
        PickOrderDocument("OP-1", "Z1", "W1", datetime(2026, 1, 1, 8), datetime(2026, 1, 1, 9), ())


def test_the_carrier_label_carries_tracking_number_and_sscc_with_its_ai():
    label = CarrierLabel(FROM, TO, "DHL", "Express", 1234, "JD014600006281234567", SSCC, "SO-42")
    (page,) = decode_labels(label.to_zpl())
    by_format = {(d.text, d.symbology_identifier) for d in page}
    assert ("JD014600006281234567", "]C0") in by_format
    assert (f"(00){SSCC}", "]C1") in by_format
    assert label.labels()[0].size.width == 813 and label.labels()[0].size.height == 1219
    assert "(00) " + SSCC in field_values(label.to_zpl())


def test_a_carrier_label_with_a_bad_sscc_is_refused():
    with pytest.raises(LabelDataInvalid):
        CarrierLabel(FROM, TO, "DHL", "Express", 1234, "JD1", "106141411234567890", "SO-42")


def test_the_gs1_logistic_label_has_a_content_barcode_and_the_sscc():
    label = Gs1LogisticLabel(
        SSCC,
        FROM,
        TO,
        content_gtin="10614141000415",
        count=120,
        batch="LOT-42",
        best_before=date(2027, 5, 31),
    )
    (page,) = decode_labels(label.to_zpl())
    gs1_texts = {d.text for d in page if d.symbology_identifier == "]C1"}
    assert gs1_texts == {f"(00){SSCC}", "(02)10614141000415(15)270531(37)120(10)LOT-42"}


def test_the_tote_label_has_the_tote_id_as_code128_and_qr():
    (page,) = decode_labels(ToteLabel("T-0042", site="Paris").to_zpl())
    assert texts(page, "Code 128") == ["T-0042"]
    assert texts(page, "QR Code") == ["T-0042"]


def test_the_two_faces_of_a_lane_are_clearly_different_labels():
    pick, replenish = location_label_pair("A-01-03", zone="Z1", pick_aisle="P1", replenish_aisle="R1")
    assert (pick.face, replenish.face) == (Face.PICK, Face.REPLENISH)
    pick_job, replenish_job = pick.to_zpl(), replenish.to_zpl()
    assert "PICK FACE" in field_values(pick_job) and "REPLENISH FACE" in field_values(replenish_job)
    # Solid band with reversed text on the pick face, an outlined band on the replenish face.
    assert "^FR" in pick_job and "^FR" not in replenish_job
    # Each face scans differently, so the handheld refuses a label read from the wrong aisle.
    for job, value in ((pick_job, "A-01-03"), (replenish_job, "R:A-01-03")):
        (page,) = decode_labels(job)
        assert texts(page, "Code 128") == [value]
    pick_svg, replenish_svg = pick.to_svg()[0], replenish.to_svg()[0]
    assert "arrow-down" in pick_svg and "arrow-up" in replenish_svg
    assert pick.band_color in pick_svg and replenish.band_color in replenish_svg
    assert pick.band_color != replenish.band_color


def test_the_product_label_prints_its_ean13():
    (page,) = decode_labels(ProductLabel("SKU-1", "Widget", ean="4006381333931").to_zpl())
    assert texts(page, "EAN-13") == ["4006381333931"]


def test_a_product_without_ean_gets_code128_of_its_internal_code():
    (page,) = decode_labels(ProductLabel("SKU-1", "Widget", internal_code="INT-77").to_zpl())
    assert texts(page, "Code 128") == ["INT-77"]


def test_a_wrong_ean_check_digit_is_refused():
    with pytest.raises(LabelDataInvalid):
        ProductLabel("SKU-1", "Widget", ean="4006381333932").labels()


def test_every_document_renders_without_errors():
    documents = [
        pick_order(7),
        CarrierLabel(FROM, TO, "UPS", "Standard", 500, "1Z999AA10123456784", SSCC, "SO-1"),
        Gs1LogisticLabel(SSCC, FROM, TO),
        ToteLabel("T-1"),
        *location_label_pair("B-02-01"),
        ProductLabel("SKU-2", "Thing", ean="4006381333931"),
    ]
    for document in documents:
        assert len(render(document.to_zpl()).labels) == len(document.labels())
