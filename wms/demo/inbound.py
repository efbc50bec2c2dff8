"""The demo's inbound: a supplier, two purchase orders (one announced by an ASN) waiting at the receiving dock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select

from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.inbound import services
from wms.inbound.models import PurchaseOrder, Supplier
from wms.layout.models import Warehouse

SUPPLIER = ("DEMO-SUP", "Demo Wholesale", 5)
# PO number → lines (SKU, units); the first comes with an ASN carrying lots and a best-before date.
DEMO_POS = {
    "DEMO-PO-0001": [("DEMO-001", 24), ("DEMO-002", 12)],
    "DEMO-PO-0002": [("DEMO-003", 30)],
}


def seed_inbound(warehouse: Warehouse, echo: Callable[[str], None] = print) -> None:
    """Add the demo supplier, POs and ASN once; whatever is already there is left as it is."""
    code, name, tolerance = SUPPLIER
    if db.session.scalar(select(Supplier.id).where(Supplier.code == code)) is None:
        services.create_supplier(code, name, over_receipt_tolerance_pct=tolerance)
    known = set(db.session.scalars(select(Product.sku)))
    created = 0
    for number, lines in DEMO_POS.items():
        if db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number)) is not None:
            continue
        specs = [services.LineSpec(sku, qty) for sku, qty in lines if sku in known]
        if not specs:
            continue
        po = services.create_purchase_order(warehouse, code, number, specs,
                                            expected_at=utcnow() + dt.timedelta(days=1))
        created += 1
        if number == "DEMO-PO-0001":
            services.create_asn(po, "DEMO-ASN-0001", [
                services.AsnLineSpec(s.sku, s.quantity, lot_code="LOT-2611",
                                     best_before=dt.date.today() + dt.timedelta(days=365)) for s in specs])
    db.session.flush()
    echo(f"purchase orders: {created} created, {len(DEMO_POS) - created} already there")
