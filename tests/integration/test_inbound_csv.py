"""`wms import suppliers|asns FILE` on PostgreSQL through the Flask CLI: all rows or none, every problem named by
line and column, re-importing the same file changes nothing, --dry-run writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.inbound_world import build_inbound
from wms.db import db
from wms.inbound import services
from wms.inbound.models import Asn, PurchaseOrderStatus, Supplier
from wms.shipping import sscc

PALLET = sscc.build("4006381", 0, 123456789)
BAD_PALLET = PALLET[:-1] + str((int(PALLET[-1]) + 1) % 10)


@pytest.fixture
def inbound(session, make_user):  # type: ignore[no-untyped-def]
    w = build_inbound(make_user)
    session.commit()
    return w


def wms(runner, *args: Any):  # type: ignore[no-untyped-def]
    return runner.invoke(args=[str(a) for a in args])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def suppliers(app) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {s.code: (s.name, s.email, s.over_receipt_tolerance_pct) for s in db.session.scalars(select(Supplier))}


def asns(app) -> dict[str, tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {a.number: (a.purchase_order.number, a.status.value, a.expected_at, a.created_at,
                           sorted((ln.purchase_order_line.product.sku, ln.quantity, ln.lot_code, ln.best_before,
                                   ln.sscc, ln.id) for ln in a.lines))
                for a in db.session.scalars(select(Asn))}


# --- suppliers -------------------------------------------------------------------------------------------------

SUPPLIERS = ("code,name,email,over_receipt_tolerance_pct\n"
             "ACME,Acme Foods SA,orders@acme.example,5\n"
             "BOLT,\"Bolt & Nut, Ltd\",,\n"
             "CAFE,Café Noir,café@noir.example,100\n")


def test_suppliers_are_created_and_updated_by_code_and_a_reimport_changes_nothing(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "suppliers.csv", SUPPLIERS)
    result = wms(runner, "import", "suppliers", path)
    assert result.exit_code == 0, result.output
    assert "suppliers: 3 rows: created 2, updated 1, unchanged 0, refused 0" in result.stdout
    assert "2 supplier(s) created, 1 updated, 0 unchanged" in result.stdout
    assert suppliers(app) == {"ACME": ("Acme Foods SA", "orders@acme.example", 5),
                              "BOLT": ("Bolt & Nut, Ltd", None, 0),
                              "CAFE": ("Café Noir", "café@noir.example", 100)}
    before = suppliers(app)
    again = wms(runner, "import", "suppliers", path)
    assert again.exit_code == 0, again.output
    assert "created 0, updated 0, unchanged 3" in again.stdout
    assert suppliers(app) == before


def test_an_absent_optional_column_leaves_that_field_alone(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "suppliers", write(tmp_path, "s.csv", "CODE;Name\nACME;Acme Renamed\n"))
    assert result.exit_code == 0, result.output
    assert suppliers(app)["ACME"] == ("Acme Renamed", None, 10)  # the 10 % of the fixture is kept


@pytest.mark.parametrize(("row", "problem"), [
    ("NEW,,,", "line 3 (name): a supplier needs a name"),
    (",No code,,", "line 3 (code): a supplier code is required"),
    ("NEW,New,,101", "line 3 (over_receipt_tolerance_pct): an over-receipt tolerance is 0 to 100 percent"),
    ("NEW,New,,-1", "line 3 (over_receipt_tolerance_pct): must not be negative"),
    ("NEW,New,,2.5", "line 3 (over_receipt_tolerance_pct): must be a whole percent, not a fraction"),
    ("NEW,New,not-an-address,", "line 3 (email): an e-mail address"),
    ("X" * 33 + ",Long,,", "line 3 (code): at most 32 characters"),
    ("GOOD,Given twice,,", "line 3 (code): supplier GOOD is also on line 2; give each once"),
    ("NEW,New,,,extra", "line 3 (row): this row has 5 cells, the header has 4 columns"),
])
def test_a_bad_supplier_row_refuses_the_whole_file(app, runner, inbound, tmp_path, row, problem):  # type: ignore[no-untyped-def]
    before = suppliers(app)
    path = write(tmp_path, "bad.csv", f"code,name,email,over_receipt_tolerance_pct\nGOOD,Good one,,3\n{row}\n")
    result = wms(runner, "import", "suppliers", path)
    assert result.exit_code == 2, result.output
    assert problem in result.stderr
    assert "nothing was written" in result.stderr
    assert suppliers(app) == before


def test_a_supplier_file_without_a_required_column_is_refused(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    result = wms(runner, "import", "suppliers", write(tmp_path, "s.csv", "code,email\nNEW,a@b.example\n"))
    assert result.exit_code == 2
    assert "line 1 (name): this required column is missing" in result.stderr
    assert set(suppliers(app)) == {"ACME"}


def test_a_supplier_dry_run_writes_nothing_and_the_report_lists_problems(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    before = suppliers(app)
    dry = wms(runner, "import", "suppliers", write(tmp_path, "s.csv", SUPPLIERS), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 supplier(s) created, 1 updated" in dry.stdout and "dry run: nothing was written" in dry.stdout
    assert suppliers(app) == before
    report = tmp_path / "refused.csv"
    bad = wms(runner, "import", "suppliers", write(tmp_path, "b.csv", "code,name\nNEW,\n"), "--report", report)
    assert bad.exit_code == 2
    assert report.read_text(encoding="utf-8").splitlines()[1] == "2,name,a supplier needs a name,"


# --- ASNs ------------------------------------------------------------------------------------------------------

ASNS = ("po_number,asn_number,sku,quantity,lot_code,best_before,sscc,expected_at\n"
        f"PO-1,DESADV-1,MUG,6,,,{PALLET},2027-01-05\n"
        "PO-1,DESADV-1,CHEESE,4,L42,2027-03-31,,2027-01-05\n"
        "PO-1,DESADV-2,CHEESE,1,L42,2027-03-31,,\n"
        "PO-1,DESADV-2,CHEESE,1,L43,2027-04-30,,\n")


def test_asn_rows_become_one_asn_per_number_and_a_reimport_changes_nothing(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "asns.csv", ASNS)
    result = wms(runner, "import", "asns", path, "--progress")
    assert result.exit_code == 0, result.output
    assert "asns: 4 rows: created 4, updated 0, unchanged 0, refused 0" in result.stdout
    assert "2 ASN(s) created, 0 already there" in result.stdout
    assert "Checking asns.csv" in result.stderr and "Importing asns.csv" in result.stderr
    got = asns(app)
    assert set(got) == {"DESADV-1", "DESADV-2"}
    po, status, expected, _, lines = got["DESADV-1"]
    assert (po, status, expected) == ("PO-1", "expected", dt.datetime(2027, 1, 5, tzinfo=dt.UTC))
    assert [ln[:5] for ln in lines] == [("CHEESE", 4, "L42", dt.date(2027, 3, 31), None),
                                        ("MUG", 6, None, None, PALLET)]
    assert [ln[:4] for ln in got["DESADV-2"][4]] == [("CHEESE", 1, "L42", dt.date(2027, 3, 31)),
                                                     ("CHEESE", 1, "L43", dt.date(2027, 4, 30))]
    again = wms(runner, "import", "asns", path)
    assert again.exit_code == 0, again.output
    assert "created 0, updated 0, unchanged 4" in again.stdout
    assert "0 ASN(s) created, 2 already there" in again.stdout
    assert asns(app) == got


def test_an_asn_already_there_with_other_lines_is_refused_as_already_imported(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    assert wms(runner, "import", "asns", write(tmp_path, "a.csv", ASNS)).exit_code == 0
    before = asns(app)
    changed = ASNS.replace("CHEESE,1,L43", "CHEESE,2,L43") + "PO-1,DESADV-3,MUG,1,,,,\n"
    result = wms(runner, "import", "asns", write(tmp_path, "b.csv", changed))
    assert result.exit_code == 2, result.output
    assert "line 4 (asn_number): already imported: supplier ACME already sent ASN DESADV-2" in result.stderr
    assert asns(app) == before  # DESADV-3, good on its own, was not written either


def test_an_asn_sent_through_the_api_is_skipped_when_the_file_says_the_same(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    with app.app_context():
        po = services.get_purchase_order("PO-1")
        services.create_asn(po, "API-1", [services.AsnLineSpec("MUG", 3)])
        db.session.commit()
    before = asns(app)
    result = wms(runner, "import", "asns", write(tmp_path, "a.csv", "po_number,asn_number,sku,quantity\n"
                                                                     "PO-1,API-1,MUG,3\n"))
    assert result.exit_code == 0, result.output
    assert "0 ASN(s) created, 1 already there" in result.stdout
    assert asns(app) == before


@pytest.mark.parametrize(("rows", "problem"), [
    ("PO-404,N-1,MUG,1,,,,", "line 3 (po_number): no purchase order with this number"),
    ("PO-1,N-1,NOPE,1,,,,", "line 3 (sku): SKU NOPE is not on purchase order PO-1"),
    ("PO-1,N-1,MUG,0,,,,", "line 3 (quantity): must be at least 1"),
    ("PO-1,N-1,MUG,1000001,,,,", "line 3 (quantity): at most 1000000 units"),
    ("PO-1,N-1,MUG,two,,,,", "line 3 (quantity): must be a whole number of units written with digits"),
    ("PO-1,N-1,MUG,1,,31/03/2027,,", "line 3 (best_before): a date written YYYY-MM-DD"),
    ("PO-1,N-1,MUG,1,,2027-02-30,,", "line 3 (best_before): a date written YYYY-MM-DD"),
    (f"PO-1,N-1,MUG,1,,,{BAD_PALLET},", "line 3 (sscc): "),
    ("PO-1,N-1,MUG,1,,,12345,", "line 3 (sscc): '12345' is not an SSCC: it has 5 digits, an SSCC has 18"),
    ("PO-1,N-1,MUG,1,,,,next week", "line 3 (expected_at): a date (YYYY-MM-DD) or date and time (ISO 8601)"),
    ("PO-1,N-1,MUG,1," + "L" * 41 + ",,,", "line 3 (lot_code): at most 40 characters"),
    (",N-1,MUG,1,,,,", "line 3 (po_number): a purchase order number is required"),
    ("PO-1,,MUG,1,,,,", "line 3 (asn_number): an ASN number is required"),
    ("PO-1,OK-1,MUG,1,,,,", "line 3 (sku): SKU MUG of ASN OK-1 (same lot, date and SSCC) is also on line 2"),
    ("PO-1,OK-1,CHEESE,1,,,,2027-02-01", "line 3 (expected_at): line 2 gives ASN OK-1 another expected_at"),
    ("PO-2,OK-1,MUG,1,,,,", "line 3 (asn_number): line 2 gives ASN OK-1 of supplier ACME to purchase order PO-1"),
])
def test_a_bad_asn_row_refuses_the_whole_file(app, runner, inbound, tmp_path, rows, problem):  # type: ignore[no-untyped-def]
    with app.app_context():
        services.create_purchase_order(inbound.warehouse, "ACME", "PO-2", [services.LineSpec("MUG", 5)])
        db.session.commit()
    path = write(tmp_path, "bad.csv", "po_number,asn_number,sku,quantity,lot_code,best_before,sscc,expected_at\n"
                                      f"PO-1,OK-1,MUG,1,,,,\n{rows}\n")
    result = wms(runner, "import", "asns", path)
    assert result.exit_code == 2, result.output
    assert problem in result.stderr
    assert "nothing was written" in result.stderr
    assert asns(app) == {}


def test_asns_for_a_closed_purchase_order_are_refused(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    with app.app_context():
        services.cancel_purchase_order(services.get_purchase_order("PO-1"))
        db.session.commit()
    result = wms(runner, "import", "asns", write(tmp_path, "a.csv", "po_number,asn_number,sku,quantity\n"
                                                                     "PO-1,N-1,MUG,1\n"))
    assert result.exit_code == 2
    assert "line 2 (po_number): purchase order PO-1 is cancelled; it expects no more goods" in result.stderr
    with app.app_context():
        assert services.get_purchase_order("PO-1").status == PurchaseOrderStatus.CANCELLED
    assert asns(app) == {}


def test_an_asn_dry_run_writes_nothing(app, runner, inbound, tmp_path):  # type: ignore[no-untyped-def]
    dry = wms(runner, "import", "asns", write(tmp_path, "a.csv", ASNS), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "2 ASN(s) created" in dry.stdout and "dry run: nothing was written" in dry.stdout
    assert asns(app) == {}
    result = wms(runner, "import", "asns", write(tmp_path, "a.csv", ASNS))
    assert result.exit_code == 0 and len(asns(app)) == 2
