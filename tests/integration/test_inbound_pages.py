"""Supervisor pages of inbound (POs received against ordered, receipts with lot, date and hold, releasing a hold)
and the CSV import of purchase orders (all rows or none, problems by line and column)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from tests.integration.inbound_world import build_inbound, on_hand
from wms.db import db
from wms.inbound import receiving
from wms.inbound.csvio import import_purchase_orders_cmd
from wms.inbound.models import PurchaseOrder, ReceiptLine


@pytest.fixture
def inbound(session, make_user):  # type: ignore[no-untyped-def]
    w = build_inbound(make_user)
    session.commit()
    return w


@pytest.fixture
def boss(client, inbound, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, inbound.supervisor)
    return inbound


@pytest.fixture
def held(inbound):  # type: ignore[no-untyped-def]
    receipt = receiving.open_receipt(inbound.po, inbound.receiver)
    receiving.receive(receipt, receiving.Receiving("MUG", 4), inbound.receiver)
    line = receiving.receive(receipt, receiving.Receiving(
        "CHEESE", 2, lot_code="L9", best_before=dt.date(2027, 1, 2),
        hold_reason="warm on arrival", quarantine="QUA-01"), inbound.receiver)
    db.session.commit()
    return {"receipt": receipt.code, "line": line.id}


def _csrf(client, url: str) -> str:  # type: ignore[no-untyped-def]
    html = client.get(url).get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    return html[html.index(marker) + len(marker):].split('"', 1)[0] if marker in html else ""


def test_the_po_list_shows_received_against_ordered(client, boss, held):  # type: ignore[no-untyped-def]
    page = client.get("/inbound/warehouses/WH/purchase-orders")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-po="PO-1"' in html and "partially_received" in html
    row = html[html.index('data-po="PO-1"'):].split("</tr>", 1)[0]
    assert '<td class="num">6</td><td class="num">16</td>' in row  # 4 MUG + 2 CHEESE of 10 + 6
    assert client.get("/inbound/").status_code in (200, 302)
    assert client.get("/inbound/warehouses/WH/purchase-orders?status=bogus").status_code == 200


def test_the_po_page_shows_receipts_with_lot_date_and_hold_and_releases_it(client, boss, held):  # type: ignore[no-untyped-def]
    w = boss
    html = client.get("/inbound/purchase-orders/PO-1").get_data(as_text=True)
    assert held["receipt"] in html and "L9" in html and "2027-01-02" in html and "warm on arrival" in html
    assert "Release hold" in html
    r = client.post(f"/inbound/receipt-lines/{held['line']}/release", follow_redirects=True)
    assert r.status_code == 200 and "Hold released" in r.get_data(as_text=True)
    with client.application.app_context():
        line = db.session.get(ReceiptLine, held["line"])
        assert (line.on_hold, line.location_id) == (False, w.dock.id)
        assert on_hand(w.cheese, w.quarantine) == 0 and on_hand(w.cheese, w.dock) == 2
    again = client.post(f"/inbound/receipt-lines/{held['line']}/release", follow_redirects=True)
    assert "is not on hold" in again.get_data(as_text=True)
    busy = client.post("/inbound/purchase-orders/PO-1/close", follow_redirects=True)
    assert "still open" in busy.get_data(as_text=True)
    receipts = client.get("/inbound/warehouses/WH/receipts").get_data(as_text=True)
    assert held["receipt"] in receipts and "PO-1" in receipts


def test_a_receiver_cannot_open_the_supervisor_pages(client, inbound, sign_in):  # type: ignore[no-untyped-def]
    sign_in(client, inbound.receiver)
    assert client.get("/inbound/warehouses/WH/purchase-orders").status_code in (302, 403)


CSV_OK = ("supplier_code;po_number;sku;quantity;expected_at\n"
          "ACME;PO-10;MUG;12;2026-12-01\n"
          "ACME;PO-10;TEA;3;2026-12-01\n"
          "ACME;PO-11;TEA;5;\n")


def test_the_csv_import_creates_purchase_orders(client, boss):  # type: ignore[no-untyped-def]
    data = {"file": (io.BytesIO(CSV_OK.encode()), "pos.csv")}
    r = client.post("/inbound/warehouses/WH/purchase-orders/import", data=data, follow_redirects=True,
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "Purchase orders created: 2, lines: 3." in r.get_data(as_text=True)
    with client.application.app_context():
        po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == "PO-10"))
        assert [(ln.product.sku, ln.quantity) for ln in po.lines] == [("MUG", 12), ("TEA", 3)]
        assert po.expected_at.date().isoformat() == "2026-12-01"


def test_a_csv_with_problems_imports_nothing_and_names_each_cell(client, boss):  # type: ignore[no-untyped-def]
    bad = ("supplier_code,po_number,sku,quantity,expected_at\n"
           "ACME,PO-20,MUG,2,\n"
           "NOPE,PO-21,MUG,1,\n"
           "ACME,PO-22,GHOST,x,31/12/2026\n"
           "ACME,PO-1,MUG,1,\n"
           "ACME,PO-20,MUG,3,\n")
    data = {"file": (io.BytesIO(bad.encode()), "bad.csv")}
    html = client.post("/inbound/warehouses/WH/purchase-orders/import", data=data, follow_redirects=True,
                       content_type="multipart/form-data").get_data(as_text=True)
    for expected in ("line 3 (supplier_code)", "line 4 (sku)", "line 4 (quantity)", "line 4 (expected_at)",
                     "line 5 (po_number)", "line 6 (sku)", "nothing was imported"):
        assert expected in html, expected
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 1


def test_the_cli_imports_all_or_nothing(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("supplier_code,po_number,sku,quantity\nACME,PO-30,MUG,0\n", encoding="utf-8")
    result = runner.invoke(import_purchase_orders_cmd, [str(bad), "--warehouse", "WH"])
    assert result.exit_code == 2 and "line 2 (quantity)" in result.output
    good = tmp_path / "good.csv"
    good.write_text(CSV_OK, encoding="utf-8")
    dry = runner.invoke(import_purchase_orders_cmd, [str(good), "--warehouse", "WH", "--dry-run"])
    assert dry.exit_code == 0 and "nothing was written" in dry.output
    result = runner.invoke(import_purchase_orders_cmd, [str(good), "--warehouse", "WH"])
    assert result.exit_code == 0, result.output
    assert "2 purchase order(s), 3 line(s) created" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PurchaseOrder)) == 3


def test_the_demo_inbound_seed_is_idempotent(session, inbound):  # type: ignore[no-untyped-def]
    from wms.catalog.models import Product
    from wms.demo.inbound import seed_inbound

    session.add_all([Product(sku="DEMO-001", name="One"), Product(sku="DEMO-003", name="Three")])
    said: list[str] = []
    seed_inbound(inbound.warehouse, said.append)
    seed_inbound(inbound.warehouse, said.append)
    assert said == ["purchase orders: 2 created, 0 already there", "purchase orders: 0 created, 2 already there"]
    po = session.scalar(select(PurchaseOrder).where(PurchaseOrder.number == "DEMO-PO-0001"))
    assert [ln.product.sku for ln in po.lines] == ["DEMO-001"]
