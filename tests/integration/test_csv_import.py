"""`wms import` / `wms export` on PostgreSQL: a file with errors writes nothing, every refusal names its line,
column and reason, imports are idempotent, exports import back to no change, stock goes through the ledger."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from wms.catalog.models import Barcode, Product
from wms.db import db
from wms.enums import StockReason, Symbology, Unit
from wms.layout.models import Location
from wms.orders.models import Channel, ChannelKind, Order, OrderStatus
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.stock.models import LedgerEntry, Quant
from wms.stock.services import adjust_stock, ledger_balance
from wms.webhooks.models import WebhookEvent

PRODUCTS = (
    "sku,name,description,unit,weight_g,length_mm,width_mm,height_mm,active\n"
    "BOT-750,Stainless bottle 750 ml,\"Double wall, keeps cold\",each,340,75,75,270,true\n"
    "MUG-1,Mug,,each,,,,,\n"
    "FLOUR,Flour,\"Type 55\nsack\",g,1000,,,,false\n"
)


def wms(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(args=[str(a) for a in args])


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def report_rows(path: Path) -> list[tuple[int, str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(int(r["line"]), r["column"], r["reason"]) for r in csv.DictReader(f)]


def products(app) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {p.sku: (p.name, p.description, p.unit, p.weight_g, p.length_mm, p.width_mm, p.height_mm, p.active)
                for p in db.session.scalars(select(Product))}


def barcodes(app) -> dict[str, tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {b.normalized: (b.product.sku, b.code, b.quantity) for b in db.session.scalars(select(Barcode))}


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def catalog(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "products", write(tmp_path, "seed.csv", PRODUCTS))
    assert result.exit_code == 0, result.output
    return products(app)


@pytest.fixture
def warehouse(app, make_warehouse, make_rack_zone):  # type: ignore[no-untyped-def]
    """W1 with rack zone A (lanes A01-01-1 ...) and a reserve floor location."""
    from wms.enums import ZoneKind
    from wms.layout import services as layout

    with app.app_context():
        wh = make_warehouse("W1")
        make_rack_zone(wh, "A")
        layout.add_floor_location(layout.add_zone(wh, "RES", ZoneKind.RESERVE), "RES-01")
        db.session.commit()
        return wh.id


# --- products --------------------------------------------------------------------------------------------------

def test_a_good_products_file_creates_every_product(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "products", write(tmp_path, "p.csv", PRODUCTS))
    assert result.exit_code == 0, result.output
    assert "products: 3 rows: created 3, updated 0, unchanged 0, refused 0" in result.stdout
    assert products(app) == {
        "BOT-750": ("Stainless bottle 750 ml", "Double wall, keeps cold", Unit.EACH, 340, 75, 75, 270, True),
        "MUG-1": ("Mug", None, Unit.EACH, None, None, None, None, True),
        "FLOUR": ("Flour", "Type 55\nsack", Unit.GRAM, 1000, None, None, None, False),
    }


def test_importing_the_same_file_twice_changes_nothing_the_second_time(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "products", write(tmp_path, "again.csv", PRODUCTS))
    assert result.exit_code == 0, result.output
    assert "created 0, updated 0, unchanged 3, refused 0" in result.stdout
    assert products(app) == catalog


def test_known_skus_are_updated_and_absent_columns_left_alone(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "products", write(tmp_path, "w.csv", "sku,name,weight_g\nMUG-1,Mug,310\n"
                                                                          "BOT-750,Stainless bottle 750 ml,340\n"))
    assert result.exit_code == 0, result.output
    assert "created 0, updated 1, unchanged 1" in result.stdout
    after = products(app)
    assert after["MUG-1"] == ("Mug", None, Unit.EACH, 310, None, None, None, True)
    assert after["BOT-750"] == catalog["BOT-750"]


ERRORS = [
    ("sku,name\nBAD SKU,Cup\n", 2, "sku", "1-64 letters"),
    ("sku,name\nCUP,\n", 2, "name", "needs a name"),
    ("sku,name,weight_g\nCUP,Cup,1.5\n", 2, "weight_g", "not a fraction"),
    ("sku,name,weight_g\nCUP,Cup,-4\n", 2, "weight_g", "must not be negative"),
    ("sku,name,height_mm\nCUP,Cup,0\n", 2, "height_mm", "at least 1"),
    ("sku,name,unit\nCUP,Cup,box\n", 2, "unit", "unknown unit"),
    ("sku,name,active\nCUP,Cup,perhaps\n", 2, "active", "true or false"),
    ("sku,name,hs_code\nCUP,Cup,69120\n", 2, "hs_code", "6 to 14 digits"),
    ("sku,name,origin_country\nCUP,Cup,XX\n", 2, "origin_country", "ISO 3166 2-letter"),
    ("sku,name,customs_value\nCUP,Cup,-1\n", 2, "customs_value", "0 or more"),
    ("sku,name,customs_value\nCUP,Cup,4.555\n", 2, "customs_value", "at most 2 decimals"),
    ("sku,name,customs_value\nCUP,Cup,4 EUR\n", 2, "customs_value", "a number such as 12.50"),
    ("sku,name\nCUP,Cup\n\nCUP,Cup again\n", 4, "sku", "SKU CUP is also on line 2"),
    ("sku,name\nCUP,Cup,extra\n", 2, "", "3 cells, the header has 2"),
    ("sku,name,colour\nCUP,Cup,red\n", 1, "colour", "unknown column"),
    ("sku,description\nCUP,Cup\n", 1, "name", "required column is missing"),
    ('sku,name\nCUP,"Cup\n', 2, "", "quote"),
]


@pytest.mark.parametrize(("text", "line", "column", "reason"), ERRORS, ids=[e[3] for e in ERRORS])
def test_each_kind_of_error_is_reported_with_its_line_column_and_reason(app, runner, tmp_path, text, line,  # type: ignore[no-untyped-def]
                                                                         column, reason):
    report = tmp_path / "refused.csv"
    body = text + ("OK-1,Fine\n" if line != 1 else "")  # a good row does not make the file importable
    result = wms(runner, "import", "products", write(tmp_path, "bad.csv", body), "--report", report)
    assert result.exit_code == 2
    assert "nothing was written" in result.stderr
    rows = report_rows(report)
    assert any(r[0] == line and r[1] == column and reason in r[2] for r in rows), rows
    assert f"line {line} ({column or 'row'}): " in result.stderr
    assert count(app, Product) == 0


def test_a_file_with_errors_changes_nothing_already_there(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    text = "sku,name,weight_g\nMUG-1,Mug,999\nNEW-1,New,1\nNEW-2,New,x\n"
    result = wms(runner, "import", "products", write(tmp_path, "bad.csv", text))
    assert result.exit_code == 2
    assert "would refuse 1" in result.stdout
    assert products(app) == catalog


def test_skip_errors_imports_exactly_the_good_rows(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    text = ("sku,name,weight_g\nA-1,One,1\nA-2,Two,two\nA-3,Three,3\nA-1,One again,1\n"
            "A-4,Four,4\n,Nameless,5\nA-5,Five,5\n")
    report = tmp_path / "refused.csv"
    result = wms(runner, "import", "products", write(tmp_path, "mixed.csv", text), "--skip-errors",
                 "--report", report)
    assert result.exit_code == 0, result.output
    assert "products: 7 rows: created 3, updated 0, unchanged 0, refused 4" in result.stdout
    assert set(products(app)) == {"A-3", "A-4", "A-5"}
    assert [(line, column) for line, column, _ in report_rows(report)] == [
        (2, "sku"), (3, "weight_g"), (5, "sku"), (7, "sku")]


def test_dry_run_reports_but_writes_nothing(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "products", write(tmp_path, "p.csv", PRODUCTS), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "created 3" in result.stdout and "dry run: nothing was written" in result.stdout
    assert count(app, Product) == 0


def test_a_bom_and_semicolons_as_excel_writes_them(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    text = "\ufeffSKU;Name;Weight_g\r\nCAFE-1;Café moulu; 250 \r\nTHE-1;\"Thé; vert\";100\r\n"
    result = wms(runner, "import", "products", write(tmp_path, "excel.csv", text.encode("utf-8")))
    assert result.exit_code == 0, result.output
    got = products(app)
    assert got["CAFE-1"][0] == "Café moulu" and got["CAFE-1"][3] == 250
    assert got["THE-1"][0] == "Thé; vert"


def test_latin1_bytes_are_refused_with_their_line(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "products", write(tmp_path, "latin.csv", "sku,name\nOK,Fine\nCAFE,Café\n"
                                                     .encode("latin-1")))
    assert result.exit_code == 2
    assert "line 3 (row): byte 0xe9" in result.stderr
    assert count(app, Product) == 0


# --- barcodes --------------------------------------------------------------------------------------------------

def test_barcodes_are_added_updated_and_idempotent(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    text = "sku,barcode,symbology,quantity\nBOT-750,4006381333931,ean13,1\nMUG-1,12345670,,6\nMUG-1,MUG-INT-1,,\n"
    path = write(tmp_path, "b.csv", text)
    first = wms(runner, "import", "barcodes", path)
    assert first.exit_code == 0, first.output
    assert "barcodes: 3 rows: created 3" in first.stdout
    assert barcodes(app) == {"04006381333931": ("BOT-750", "4006381333931", 1),
                             "00000012345670": ("MUG-1", "12345670", 6), "MUG-INT-1": ("MUG-1", "MUG-INT-1", 1)}
    second = wms(runner, "import", "barcodes", path)
    assert "created 0, updated 0, unchanged 3" in second.stdout
    third = wms(runner, "import", "barcodes", write(tmp_path, "b2.csv", "sku,barcode,quantity\nMUG-1,12345670,12\n"))
    assert "updated 1" in third.stdout
    assert barcodes(app)["00000012345670"] == ("MUG-1", "12345670", 12)


def test_a_barcode_owned_by_another_product_is_refused(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    wms(runner, "import", "barcodes", write(tmp_path, "b.csv", "sku,barcode\nBOT-750,4006381333931\n"))
    # the same GTIN written as GTIN-14 is the same barcode
    result = wms(runner, "import", "barcodes", write(tmp_path, "steal.csv",
                                                     "sku,barcode\nMUG-1,12345670\nMUG-1,04006381333931\n"))
    assert result.exit_code == 2
    assert "line 3 (barcode): barcode 04006381333931 already belongs to product BOT-750" in result.stderr
    assert barcodes(app) == {"04006381333931": ("BOT-750", "4006381333931", 1)}


def test_barcode_errors_name_their_cell(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    report = tmp_path / "r.csv"
    text = ("sku,barcode,symbology\nBOT-750,4006381333932,\nNOPE,12345670,\nMUG-1,12345670,ean13\n"
            "MUG-1,0012345670,\nMUG-1,has space,\n")
    result = wms(runner, "import", "barcodes", write(tmp_path, "b.csv", text), "--report", report)
    assert result.exit_code == 2
    assert report_rows(report) == [
        (2, "barcode", "ean13 check digit should be 1, not 2"),
        (3, "sku", "no product has SKU NOPE; import it first"),
        (4, "symbology", "the code 12345670 is a ean8 code, not ean13"),
        (6, "barcode", report_rows(report)[3][2]),
    ]
    assert "space" in report_rows(report)[3][2]
    assert count(app, Barcode) == 0


def test_the_same_barcode_twice_in_a_file_is_refused_on_both_lines(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    report = tmp_path / "r.csv"
    text = "sku,barcode\nBOT-750,4006381333931\nMUG-1,12345670\nMUG-1,04006381333931\n"
    result = wms(runner, "import", "barcodes", write(tmp_path, "b.csv", text), "--skip-errors", "--report", report)
    assert result.exit_code == 0
    assert [(line, column) for line, column, _ in report_rows(report)] == [(2, "barcode"), (4, "barcode")]
    assert set(barcodes(app)) == {"00000012345670"}


# --- stock -----------------------------------------------------------------------------------------------------

def _quants(app) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.execute(select(Location.code, Product.sku, Quant.on_hand)
                                  .join(Location, Location.id == Quant.location_id)
                                  .join(Product, Product.id == Quant.product_id))
        return {(loc, sku): qty for loc, sku, qty in rows if qty}


def _assert_ledger_balances(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        for quant in db.session.scalars(select(Quant)):
            assert ledger_balance(quant.product, quant.location) == (quant.on_hand, quant.reserved)


STOCK = "warehouse,location,sku,quantity\nW1,A01-01-1,BOT-750,12\nW1,A01-02-1,MUG-1,4\nW1,RES-01,BOT-750,100\n"


def test_a_stock_count_writes_ledger_rows_that_balance(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    with app.app_context():
        bottle = db.session.scalar(select(Product).where(Product.sku == "BOT-750"))
        lane = db.session.scalar(select(Location).where(Location.code == "A01-01-1"))
        adjust_stock(bottle, lane, 5, reason=StockReason.RECEIPT)
        db.session.commit()
    result = wms(runner, "import", "stock", write(tmp_path, "count.csv", STOCK))
    assert result.exit_code == 0, result.output
    assert "stock: 3 rows: created 2, updated 1, unchanged 0, refused 0" in result.stdout
    assert _quants(app) == {("A01-01-1", "BOT-750"): 12, ("A01-02-1", "MUG-1"): 4, ("RES-01", "BOT-750"): 100}
    with app.app_context():
        counts = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.COUNT)
                                    .order_by(LedgerEntry.id)).all()
        assert [e.delta_on_hand for e in counts] == [7, 4, 100]
        assert counts[0].reference == "csv:count.csv" and counts[0].note == "CSV count import, line 2"
    _assert_ledger_balances(app)
    again = wms(runner, "import", "stock", write(tmp_path, "count.csv", STOCK))
    assert "created 0, updated 0, unchanged 3" in again.stdout
    assert count(app, LedgerEntry) == 4


def test_a_count_of_zero_empties_a_location(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    wms(runner, "import", "stock", write(tmp_path, "count.csv", STOCK))
    result = wms(runner, "import", "stock", write(tmp_path, "zero.csv", "warehouse,location,sku,quantity\n"
                                                                        "W1,RES-01,BOT-750,0\n"))
    assert "updated 1" in result.stdout
    assert ("RES-01", "BOT-750") not in _quants(app)
    _assert_ledger_balances(app)


def test_a_receipt_file_adds_once_per_reference(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "delivery.csv", STOCK)
    first = wms(runner, "import", "stock", path, "--mode", "receipt", "--reference", "DN-1")
    assert first.exit_code == 0, first.output
    assert wms(runner, "import", "stock", path, "--mode", "receipt", "--reference", "DN-1").stdout.count(
        "unchanged 3") == 1
    assert _quants(app)[("A01-01-1", "BOT-750")] == 12
    assert wms(runner, "import", "stock", path, "--mode", "receipt", "--reference", "DN-2").exit_code == 0
    assert _quants(app)[("A01-01-1", "BOT-750")] == 24
    with app.app_context():
        receipts = db.session.scalars(select(LedgerEntry).where(LedgerEntry.reason == StockReason.RECEIPT)).all()
        assert len(receipts) == 6 and {e.reference for e in receipts} == {"DN-1", "DN-2"}
        assert all(e.idempotency_key.startswith("csv-receipt:") for e in receipts)
    _assert_ledger_balances(app)


def test_a_receipt_file_without_reference_is_applied_once(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "delivery.csv", STOCK)
    assert wms(runner, "import", "stock", path, "--mode", "receipt").exit_code == 0
    assert "unchanged 3" in wms(runner, "import", "stock", path, "--mode", "receipt").stdout
    assert _quants(app)[("RES-01", "BOT-750")] == 100


def test_stock_rows_naming_unknown_things_are_refused(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    report = tmp_path / "r.csv"
    text = ("warehouse,location,sku,quantity\nW9,A01-01-1,BOT-750,1\nW1,Z99,BOT-750,1\nW1,A01-01-1,NOPE,1\n"
            "W1,A01-01-1,BOT-750,1.5\nW1,A01-01-1,MUG-1,-2\nW1,A01-01-2,MUG-1,3\n")
    result = wms(runner, "import", "stock", write(tmp_path, "s.csv", text), "--report", report)
    assert result.exit_code == 2
    assert report_rows(report) == [
        (2, "warehouse", "no warehouse has code W9"),
        (3, "location", "no location Z99 in warehouse W1"),
        (4, "sku", "no product has SKU NOPE"),
        (5, "quantity", "must be a whole number of units, not a fraction"),
        (6, "quantity", "must not be negative (at least 0)"),
    ]
    assert count(app, LedgerEntry) == 0 and count(app, Quant) == 0


def test_a_count_below_the_reserved_units_is_refused(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    wms(runner, "import", "stock", write(tmp_path, "count.csv", STOCK))
    with app.app_context():
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse)
        db.session.add(channel)
        db.session.flush()
        create_order(channel, OrderRequest("o-1", [LineRequest("MUG-1", 3)]))
        db.session.commit()
    result = wms(runner, "import", "stock", write(tmp_path, "low.csv", "warehouse,location,sku,quantity\n"
                                                                       "W1,A01-02-1,MUG-1,2\n"))
    assert result.exit_code == 2
    assert "line 2 (quantity): 3 units are reserved for orders in A01-02-1" in result.stderr
    assert _quants(app)[("A01-02-1", "MUG-1")] == 4


def test_received_stock_serves_backorders_and_tells_channels(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    with app.app_context():
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse,
                          webhook_url="https://shop.invalid/hook", webhook_secret="s")
        db.session.add(channel)
        db.session.flush()
        create_order(channel, OrderRequest("o-1", [LineRequest("MUG-1", 3)]))
        db.session.commit()
    result = wms(runner, "import", "stock", write(tmp_path, "r.csv", "warehouse,location,sku,quantity\n"
                                                                     "W1,A01-02-1,MUG-1,5\n"), "--mode", "receipt")
    assert result.exit_code == 0, result.output
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.status != OrderStatus.BACKORDERED and order.lines[0].allocated == 3
        events = db.session.scalars(select(WebhookEvent).where(WebhookEvent.topic == "stock.changed")
                                    .order_by(WebhookEvent.id)).all()
        assert events and events[-1].payload["data"]["available"] == 2
    _assert_ledger_balances(app)


def test_dry_run_of_stock_writes_no_ledger_row(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "stock", write(tmp_path, "s.csv", STOCK), "--dry-run")
    assert result.exit_code == 0 and "created 3" in result.stdout
    assert count(app, LedgerEntry) == 0 and count(app, Quant) == 0


def test_the_user_named_is_recorded_as_who_counted(app, runner, tmp_path, catalog, warehouse, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        user_id = make_user("counter", roles=("supervisor",)).id
        db.session.commit()
    assert wms(runner, "import", "stock", write(tmp_path, "s.csv", STOCK), "--user", "counter").exit_code == 0
    with app.app_context():
        assert {e.actor_user_id for e in db.session.scalars(select(LedgerEntry))} == {user_id}
    assert wms(runner, "import", "stock", write(tmp_path, "s.csv", STOCK), "--user", "nobody").exit_code == 2


# --- export ----------------------------------------------------------------------------------------------------

def test_export_then_import_round_trips_to_no_change(app, runner, tmp_path, catalog, warehouse):  # type: ignore[no-untyped-def]
    wms(runner, "import", "barcodes", write(tmp_path, "b.csv", "sku,barcode,quantity\nBOT-750,4006381333931,1\n"
                                                               "MUG-1,12345670,6\n"))
    wms(runner, "import", "stock", write(tmp_path, "s.csv", STOCK))
    before = (products(app), barcodes(app), _quants(app), count(app, LedgerEntry))
    for kind, rows in (("products", 3), ("barcodes", 2), ("stock", 3)):
        out = tmp_path / f"{kind}-export.csv"
        exported = wms(runner, "export", kind, "-o", out)
        assert exported.exit_code == 0, exported.output
        again = wms(runner, "import", kind, out)
        assert again.exit_code == 0, again.output
        assert f"{kind}: {rows} rows: created 0, updated 0, unchanged {rows}, refused 0" in again.stdout
    assert (products(app), barcodes(app), _quants(app), count(app, LedgerEntry)) == before


def test_export_writes_to_stdout_with_the_documented_header(app, runner, catalog, warehouse, tmp_path):  # type: ignore[no-untyped-def]
    wms(runner, "import", "stock", write(tmp_path, "s.csv", STOCK))
    products_out = wms(runner, "export", "products")
    assert products_out.stdout.splitlines()[0] == ("sku,name,description,unit,weight_g,length_mm,width_mm,height_mm,"
                                                   "active,hs_code,origin_country,customs_value")
    assert 'FLOUR,Flour,"Type 55\nsack",g,1000,,,,false,,,' in products_out.stdout
    stock_out = wms(runner, "export", "stock", "--warehouse", "W1", "--delimiter", ";")
    assert stock_out.stdout.splitlines() == ["warehouse;location;sku;quantity", "W1;A01-01-1;BOT-750;12",
                                             "W1;A01-02-1;MUG-1;4", "W1;RES-01;BOT-750;100"]
    unknown = wms(runner, "export", "stock", "--warehouse", "NOPE")
    assert unknown.exit_code == 2 and "No warehouse with code 'NOPE'" in unknown.stderr


def test_an_excel_export_with_bom_and_semicolons_imports_back(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    out = tmp_path / "excel.csv"
    assert wms(runner, "export", "products", "-o", out, "--bom", "--delimiter", ";").exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfsku;name;")
    result = wms(runner, "import", "products", out)
    assert "unchanged 3" in result.stdout, result.output


def test_barcode_symbology_round_trips(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    wms(runner, "import", "barcodes", write(tmp_path, "b.csv", "sku,barcode\nMUG-1,012345678905\n"))
    with app.app_context():
        assert db.session.scalar(select(Barcode.symbology)) == Symbology.UPCA
    assert "MUG-1,012345678905,upca,1" in wms(runner, "export", "barcodes").stdout


def test_progress_bars_go_to_stderr_when_asked(app, runner, tmp_path):  # type: ignore[no-untyped-def]
    quiet = wms(runner, "import", "products", write(tmp_path, "p.csv", PRODUCTS))
    assert "Checking" not in quiet.stderr
    shown = wms(runner, "import", "products", write(tmp_path, "p2.csv", PRODUCTS.replace("MUG-1", "MUG-2")),
                "--progress")
    assert shown.exit_code == 0, shown.output
    assert "Checking p2.csv" in shown.stderr and "Importing p2.csv" in shown.stderr
    assert "Checking" not in shown.stdout and "created 1, updated 0, unchanged 2" in shown.stdout


def test_the_embedded_sqlite_database_imports_and_round_trips_too(tmp_path):  # type: ignore[no-untyped-def]
    from alembic import command

    from wms import create_app
    from wms.dbcli import alembic_config

    url = f"sqlite:///{tmp_path}/csv.db"
    command.upgrade(alembic_config(url), "head")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "sqlite-csv"})
    runner = app.test_cli_runner()
    demo = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"
    assert wms(runner, "layout", "import", demo).exit_code == 0
    assert wms(runner, "import", "products", write(tmp_path, "p.csv", PRODUCTS)).exit_code == 0
    assert wms(runner, "import", "barcodes", write(tmp_path, "b.csv", "sku,barcode\nMUG-1,12345670\n")).exit_code == 0
    stock = "warehouse,location,sku,quantity\nDEMO,A01-01-1,MUG-1,7\nDEMO,A01-01-2,BOT-750,3\n"
    result = wms(runner, "import", "stock", write(tmp_path, "s.csv", stock))
    assert "created 2" in result.stdout, result.output
    low = wms(runner, "import", "stock", write(tmp_path, "bad.csv", stock + "DEMO,NOPE,MUG-1,1\n"))
    assert low.exit_code == 2 and "line 4 (location): no location NOPE in warehouse DEMO" in low.stderr
    for kind, rows in (("products", 3), ("barcodes", 1), ("stock", 2)):
        out = tmp_path / f"{kind}.csv"
        assert wms(runner, "export", kind, "-o", out).exit_code == 0
        assert f"unchanged {rows}, refused 0" in wms(runner, "import", kind, out).stdout
    with app.app_context():
        assert count(app, LedgerEntry) == 2
        _assert_ledger_balances(app)
    db.engine(app).dispose()


def test_a_corrected_receipt_file_with_the_same_reference_adds_only_the_missing_rows(app, runner, tmp_path,  # type: ignore[no-untyped-def]
                                                                                    catalog, warehouse):
    bad = STOCK + "W1,A01-03-1,MUG-1,x\n"
    first = wms(runner, "import", "stock", write(tmp_path, "d.csv", bad), "--mode", "receipt", "--reference", "DN-9",
                "--skip-errors")
    assert "created 3, updated 0, unchanged 0, refused 1" in first.stdout, first.output
    fixed = wms(runner, "import", "stock", write(tmp_path, "d2.csv", STOCK + "W1,A01-03-1,MUG-1,2\n"),
                "--mode", "receipt", "--reference", "DN-9")
    assert "created 1, updated 0, unchanged 3, refused 0" in fixed.stdout, fixed.output
    assert _quants(app) == {("A01-01-1", "BOT-750"): 12, ("A01-02-1", "MUG-1"): 4, ("RES-01", "BOT-750"): 100,
                            ("A01-03-1", "MUG-1"): 2}
    _assert_ledger_balances(app)


def test_customs_data_imports_checked_and_exports_back(app, runner, tmp_path, catalog):  # type: ignore[no-untyped-def]
    text = ("sku,name,hs_code,origin_country,customs_value\n"
            "BOT-750,Stainless bottle 750 ml,7323.93 00,cn,12.9\n"
            "MUG-1,Mug,691200,PT,\"6,50\"\n")
    result = wms(runner, "import", "products", write(tmp_path, "customs.csv", text))
    assert result.exit_code == 0, result.output
    with app.app_context():
        bottle = db.session.scalar(select(Product).where(Product.sku == "BOT-750"))
        assert (bottle.hs_code, bottle.origin_country, str(bottle.customs_value)) == ("73239300", "CN", "12.90")
        assert bottle.weight_g == 340  # a column absent from the file is left alone
    out = wms(runner, "export", "products").stdout
    assert "BOT-750,Stainless bottle 750 ml," in out and ",73239300,CN,12.90" in out and ",691200,PT,6.50" in out
    again = wms(runner, "import", "products", write(tmp_path, "back.csv", out))
    assert again.exit_code == 0 and "created 0, updated 0, unchanged 3" in again.stdout, again.output
