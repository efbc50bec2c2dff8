"""Supervisor pages: shown to supervisors (and admins), refused to pickers, scoped to the user's warehouses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import open_test_session
from wms.auth.sessions import SESSION_KEY
from wms.catalog import services as catalog
from wms.catalog.services import BarcodeSpec
from wms.enums import StockReason
from wms.layout.importer import import_layout_file
from wms.layout.models import Location
from wms.layout.services import find_location, get_warehouse
from wms.stock.services import adjust_stock

DEMO = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"
PAGES = ["/", "/warehouses/DEMO/layout", "/products", "/products/SKU-1", "/locations"]


@pytest.fixture
def sign_in(app):  # type: ignore[no-untyped-def]
    """The shared factory, with the session identifier computed from the client's own address and agent
    (Flask-Login's strong session protection drops the session when they differ)."""
    from flask_login.utils import _create_identifier

    def do(client, user, *, second_factor: bool = True) -> None:  # type: ignore[no-untyped-def]
        with app.test_request_context(base_url="https://localhost", environ_base=client.environ_base):
            ident = _create_identifier()
        with client.session_transaction() as sess:
            sess.update({"_user_id": user.get_id(), "_fresh": True, "_id": ident,
                         "second_factor_done": second_factor, SESSION_KEY: open_test_session(app, user)})

    return do


@pytest.fixture
def demo(session, commit):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    wh = get_warehouse("DEMO")
    product = catalog.create_product("SKU-1", "Blue mug", weight_g=350, length_mm=120, width_mm=90, height_mm=100,
                                     barcodes=[BarcodeSpec("4006381333931")])
    adjust_stock(product, find_location(wh, "A01-02-1"), 12, reason=StockReason.ADJUSTMENT)
    commit()
    return wh


@pytest.fixture
def supervisor(make_user, commit, demo):  # type: ignore[no-untyped-def]
    user = make_user(roles=("supervisor",), totp=True, warehouses=(demo,))
    commit()
    return user


@pytest.mark.parametrize("path", PAGES)
def test_supervisor_sees_every_page(client, sign_in, supervisor, path):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    resp = client.get(path)
    assert resp.status_code == 200, resp.text
    assert "<nav" in resp.text and "/locations" in resp.text


@pytest.mark.parametrize("path", PAGES)
def test_admin_sees_every_page_and_the_admin_links(client, sign_in, make_user, commit, demo, path):  # type: ignore[no-untyped-def]
    admin = make_user(roles=("admin",), totp=True, all_warehouses=True)
    commit()
    sign_in(client, admin)
    resp = client.get(path)
    assert resp.status_code == 200
    assert 'href="/admin/users"' in resp.text and 'href="/admin/tokens"' in resp.text


@pytest.mark.parametrize("path", PAGES)
def test_picker_is_refused_every_page(client, sign_in, make_user, commit, demo, path):  # type: ignore[no-untyped-def]
    picker = make_user(roles=("picker",), warehouses=(demo,))
    commit()
    sign_in(client, picker, second_factor=False)
    resp = client.get(path)
    assert resp.status_code == 403
    assert "<h1>403" in resp.text
    assert "/admin/users" not in resp.text


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_user_is_sent_to_sign_in(client, demo, path):  # type: ignore[no-untyped-def]
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/auth/login")


def test_home_counts_zones_lanes_products_and_printers(client, sign_in, supervisor):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    text = client.get("/").text
    numbers = re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", text)
    assert numbers == [("Zones", "9"), ("Lanes", "120"), ("Products in stock", "1"), ("Printers", "5")]
    assert 'href="/warehouses/DEMO/layout"' in text


def test_home_lists_only_warehouses_in_scope(client, sign_in, make_warehouse, supervisor, commit):  # type: ignore[no-untyped-def]
    make_warehouse("OTHER")
    commit()
    sign_in(client, supervisor)
    text = client.get("/").text
    assert "DEMO" in text and "OTHER" not in text


def test_layout_svg_has_every_lane_and_a_printer_at_each_rack_head(client, sign_in, supervisor, session):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    text = client.get("/warehouses/DEMO/layout").text
    lanes = session.scalars(select(Location.code).where(Location.rack_id.is_not(None))).all()
    assert len(lanes) == 120
    for code in lanes:
        assert f"<title>{code}</title>" in text
    for zone, printer in (("A", "PR-A"), ("B", "PR-B")):
        group = text.split(f'data-zone="{zone}"', 1)[1].split('data-zone="', 1)[0]
        assert f'data-printer="{printer}"' in group
        assert 'class="zone-head"' in group
    assert "pick aisle" in text and "replenish aisle" in text


def test_warehouse_outside_the_scope_is_forbidden(client, sign_in, make_warehouse, supervisor, commit):  # type: ignore[no-untyped-def]
    make_warehouse("OTHER")
    commit()
    sign_in(client, supervisor)
    assert client.get("/warehouses/OTHER/layout").status_code == 403
    assert client.get("/locations?warehouse=OTHER").status_code == 403
    assert client.get("/warehouses/NOPE/layout").status_code == 404


@pytest.mark.parametrize("query", ["4006381333931", "04006381333931", "SKU-1", "blue"])
def test_product_search_finds_by_sku_name_or_any_barcode_form(client, sign_in, supervisor, query):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    text = client.get("/products", query_string={"q": query}).text
    assert 'href="/products/SKU-1"' in text


def test_product_search_without_match_says_so(client, sign_in, supervisor):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    text = client.get("/products", query_string={"q": "4006381333948"}).text
    assert 'href="/products/SKU-1"' not in text and "No product matches." in text


def test_product_list_is_paginated(client, sign_in, supervisor, commit):  # type: ignore[no-untyped-def]
    for i in range(30):
        catalog.create_product(f"P-{i:03d}", f"Product {i}")
    commit()
    sign_in(client, supervisor)
    first = client.get("/products").text
    second = client.get("/products?page=2").text
    assert "Page 1 of 2" in first and 'href="/products/P-000"' in first and 'href="/products/SKU-1"' not in first
    assert 'href="/products/SKU-1"' in second


def test_product_detail_shows_barcodes_dimensions_and_stock(client, sign_in, supervisor):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    text = client.get("/products/SKU-1").text
    assert "4006381333931" in text and "350 g" in text and "120 × 90 × 100 mm" in text
    assert re.search(r"<td>A01-02-1</td><td class=\"num\">12</td>", text)
    assert client.get("/products/NOPE").status_code == 404


def test_locations_filter_by_code_zone_and_aisle_show_both_faces(client, sign_in, supervisor):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    text = client.get("/locations", query_string={"q": "B02-03"}).text
    assert "4 locations" in text
    assert '<span class="face face-pick">BP1</span>' in text and '<span class="face face-replenish">BR0</span>' in text
    assert "14.75" in text
    by_aisle = client.get("/locations", query_string={"aisle": "A/AR4"}).text
    assert "18 locations" in by_aisle and "A04-01-1" in by_aisle and "A03-01-1" not in by_aisle
    by_zone = client.get("/locations", query_string={"zone": "SAS"}).text
    assert "3 locations" in by_zone and "SAS-02" in by_zone


def test_pages_speak_french_when_asked(client, sign_in, supervisor):  # type: ignore[no-untyped-def]
    sign_in(client, supervisor)
    with client.session_transaction() as sess:
        sess["locale"] = "fr"
    text = client.get("/locations").text
    assert "Emplacements" in text and "Allée de prélèvement" in text
