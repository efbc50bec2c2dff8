"""Catalog services, and the database as the guarantee that a barcode belongs to one product."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from wms.catalog import services as catalog
from wms.catalog.models import Barcode, Product
from wms.enums import Symbology
from wms.errors import DuplicateBarcode, InvalidBarcode, NotFound, ValidationFailed, from_integrity_error


def test_database_refuses_the_same_normalized_barcode_on_two_products(session):  # type: ignore[no-untyped-def]
    first, second = Product(sku="A", name="A"), Product(sku="B", name="B")
    session.add_all([first, second])
    session.flush()
    session.add(Barcode(product=first, code="036000291452", normalized="00036000291452", symbology=Symbology.UPCA))
    session.flush()
    session.add(Barcode(product=second, code="0036000291452", normalized="00036000291452",
                        symbology=Symbology.EAN13))
    with pytest.raises(IntegrityError, match="uq_barcodes_normalized") as info:
        session.flush()
    assert isinstance(from_integrity_error(info.value), DuplicateBarcode)


def test_service_refuses_a_barcode_owned_by_another_product(session):  # type: ignore[no-untyped-def]
    catalog.create_product("A", "Apple", barcodes=[catalog.BarcodeSpec("036000291452")])
    pear = catalog.create_product("P", "Pear")
    with pytest.raises(DuplicateBarcode, match="product A"):
        catalog.add_barcode(pear, "0036000291452")


def test_service_refuses_a_barcode_the_product_already_has(session):  # type: ignore[no-untyped-def]
    apple = catalog.create_product("A", "Apple", barcodes=[catalog.BarcodeSpec("73513537")])
    with pytest.raises(DuplicateBarcode, match="this product"):
        catalog.add_barcode(apple, "0000073513537")


def test_find_by_scan_returns_the_product_and_pack_quantity(session):  # type: ignore[no-untyped-def]
    apple = catalog.create_product("A", "Apple", barcodes=[catalog.BarcodeSpec("4006381333931", 1),
                                                           catalog.BarcodeSpec("CASE-A", 24)])
    assert catalog.find_by_scan(" 04006381333931 ") == (apple, 1)
    assert catalog.find_by_scan("CASE-A") == (apple, 24)
    with pytest.raises(NotFound):
        catalog.find_by_scan("CASE-B")
    with pytest.raises(InvalidBarcode):
        catalog.find_by_scan("4006381333932")


@pytest.mark.parametrize("kwargs", [{"weight_g": 0}, {"length_mm": -1}, {"width_mm": 0}, {"height_mm": -10}])
def test_weight_and_dimensions_must_be_positive(session, kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as info:
        catalog.create_product("A", "Apple", **kwargs)
    assert info.value.errors[0]["field"] == next(iter(kwargs))


def test_a_product_needs_a_name(session):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed, match="needs a name"):
        catalog.create_product("A", "  ")


def test_deactivated_products_are_left_out_of_an_active_search(session):  # type: ignore[no-untyped-def]
    apple = catalog.create_product("A", "Apple")
    catalog.create_product("B", "Banana")
    catalog.deactivate_product(apple)
    items, total = catalog.search_products(active=True)
    assert ([p.sku for p in items], total) == (["B"], 1)
    assert catalog.search_products()[1] == 2


def test_removing_a_barcode_frees_it_for_another_product(session):  # type: ignore[no-untyped-def]
    apple = catalog.create_product("A", "Apple", barcodes=[catalog.BarcodeSpec("036000291452")])
    catalog.remove_barcode(apple, "00036000291452")
    pear = catalog.create_product("P", "Pear")
    assert catalog.add_barcode(pear, "036000291452").normalized == "00036000291452"
