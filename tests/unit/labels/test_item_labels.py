"""Product and lane labels made from catalog and layout rows: each barcode reads back as what is scanned."""

from __future__ import annotations

import pytest

from tests.unit.labels.reading import decode_labels, field_values, format_commands, texts
from wms.catalog.models import Barcode, Product
from wms.enums import Face, Symbology
from wms.errors import ValidationFailed
from wms.layout.models import Aisle, Location, LocationFace, Zone
from wms.printing import item_labels


def _product(sku: str, name: str, *codes: tuple[str, Symbology, int]) -> Product:
    return Product(sku=sku, name=name, barcodes=[Barcode(code=c, normalized=c.zfill(14) if s != Symbology.INTERNAL
                                                         else c, symbology=s, quantity=q) for c, s, q in codes])


def _lane(code: str = "A01-03-2") -> Location:
    zone = Zone(code="A", name="Rack A")
    lane = Location(code=code, zone=zone)
    lane.faces = [LocationFace(face=Face.PICK, aisle=Aisle(code="AP1", face=Face.PICK)),
                  LocationFace(face=Face.REPLENISH, aisle=Aisle(code="AR0", face=Face.REPLENISH))]
    return lane


@pytest.mark.parametrize(("code", "symbology", "fmt", "read"), [
    ("4006381333931", Symbology.EAN13, "EAN-13", "4006381333931"),
    ("036000291452", Symbology.UPCA, "EAN-13", "0036000291452"),
    ("10614141000415", Symbology.GTIN14, "Code 128", "10614141000415"),
    ("96385074", Symbology.EAN8, "Code 128", "96385074"),
    ("INT-778", Symbology.INTERNAL, "Code 128", "INT-778"),
])
def test_a_product_label_carries_its_main_barcode_in_its_own_symbology(code, symbology, fmt, read):  # type: ignore[no-untyped-def]
    product = _product("SKU-1", "Widget", ("PACK-6", Symbology.INTERNAL, 6), (code, symbology, 1))
    (page,) = decode_labels(item_labels.product_document(product).to_zpl())
    assert [d.text for d in page if d.format == fmt] == [read]
    assert "PACK-6" not in [d.text for d in page]  # the unit code, not the pack's


def test_a_product_without_barcode_is_labelled_with_its_sku():  # type: ignore[no-untyped-def]
    (page,) = decode_labels(item_labels.product_document(_product("SKU-9", "Bare")).to_zpl())
    assert texts(page, "Code 128") == ["SKU-9"]


def test_a_name_with_zpl_commands_prints_literally_on_one_label():  # type: ignore[no-untyped-def]
    name = "Evil ^XZ^XA^FDpwn~JR ~DG_"
    zpl = item_labels.product_document(_product("SKU-^XZ", name, ("4006381333931", Symbology.EAN13, 1))).to_zpl()
    assert format_commands(zpl).count(b"XA") == 1 and format_commands(zpl).count(b"XZ") == 1
    assert "^XZ^XA" not in zpl.split("^XZ", 1)[1]
    values = field_values(zpl)
    assert "SKU-^XZ" in values and name in values


def test_both_faces_give_one_label_each_scanning_as_that_faces_code():  # type: ignore[no-untyped-def]
    lane = _lane()
    document = item_labels.lane_document(lane, item_labels.wanted_faces("both"))
    pick, replenish = decode_labels(document.to_zpl())
    assert texts(pick, "Code 128") == ["A01-03-2"]
    assert texts(replenish, "Code 128") == ["R:A01-03-2"]
    pick_text, replenish_text = (field_values(label.to_zpl()) for label in document.faces)
    assert "PICK FACE" in pick_text and "Zone A - Aisle AP1" in pick_text
    assert "REPLENISH FACE" in replenish_text and "Zone A - Aisle AR0" in replenish_text


@pytest.mark.parametrize(("face", "codes"), [("pick", ["A01-03-2"]), ("replenish", ["R:A01-03-2"])])
def test_one_face_asked_gives_that_face_only(face, codes):  # type: ignore[no-untyped-def]
    pages = decode_labels(item_labels.lane_document(_lane(), item_labels.wanted_faces(face)).to_zpl())
    assert [texts(page, "Code 128") for page in pages] == [codes]


def test_a_floor_location_has_no_replenish_face_to_label():  # type: ignore[no-untyped-def]
    dock = Location(code="DOCK-1", zone=Zone(code="RCV", name="Receiving"))
    with pytest.raises(ValidationFailed):
        item_labels.lane_documents([dock], "replenish", strict=True)
    ((_, document),) = item_labels.lane_documents([dock, _lane()][:1], "both", strict=False)
    assert [f.face.value for f in document.faces] == ["pick"]
    with pytest.raises(ValidationFailed):
        item_labels.wanted_faces("top")
