"""A warehouse ready to receive: the stock world plus a supplier, tracked products, a PO, a dock printer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from tests.integration.stock_world import World, build_world
from wms.catalog.models import Barcode, Product
from wms.db import db
from wms.enums import PrinterPlace, Symbology
from wms.inbound import services
from wms.inbound.models import PurchaseOrder, PurchaseOrderLine, ReceiptLine, Supplier
from wms.layout import services as layout
from wms.layout.models import Location, Zone
from wms.printing.models import DocumentKind, PrintRoute
from wms.stock.models import LedgerEntry, Quant
from wms.tasks.models import Task

MUG_EAN = "4006381333931"
BBD = dt.date(2027, 3, 31)


@dataclass
class InboundWorld:
    world: World
    supplier: Supplier
    cheese: Product          # lot- and expiry-tracked
    po: PurchaseOrder        # PO-1: 10 MUG, 6 CHEESE; supplier tolerance 10%

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)


def build_inbound(make_user) -> InboundWorld:  # type: ignore[no-untyped-def]
    """The stock world, lanes of capacity 12, supplier ACME (10 %), PO-1 and a receipt-label printer at RCV."""
    world = build_world(make_user)
    for lane in world.lanes:
        lane.capacity_units = 12
    cheese = Product(sku="CHEESE", name="Comté ^XZ^XA~JA_x", lot_tracked=True, expiry_tracked=True)
    db.session.add(cheese)
    db.session.add(Barcode(product=world.mug, code=MUG_EAN, normalized="0" + MUG_EAN, symbology=Symbology.EAN13))
    db.session.flush()
    supplier = services.create_supplier("ACME", "Acme Foods", over_receipt_tolerance_pct=10)
    po = services.create_purchase_order(world.warehouse, "ACME", "PO-1", [services.LineSpec("MUG", 10),
                                                                          services.LineSpec("CHEESE", 6)])
    rcv = db.session.get(Zone, world.dock.zone_id)
    printer = layout.add_printer(world.warehouse, "PR-RCV", place=PrinterPlace.RECEIVING_DOCK, zone=rcv,
                                 connection="virtual://rcv")
    db.session.add(PrintRoute(warehouse_id=world.warehouse.id, document_kind=DocumentKind.RECEIPT_LABEL,
                              zone_id=rcv.id, printer_id=printer.id))
    db.session.flush()
    return InboundWorld(world=world, supplier=supplier, cheese=cheese, po=po)


def snapshot() -> dict[str, Any]:
    """Everything a refused inbound call must leave as it was."""
    db.session.expire_all()
    return {
        "quants": sorted(db.session.execute(select(Quant.product_id, Quant.location_id, Quant.on_hand,
                                                   Quant.reserved)).all()),
        "ledger": db.session.scalar(select(func.count()).select_from(LedgerEntry)),
        "po_lines": sorted(db.session.execute(select(PurchaseOrderLine.id, PurchaseOrderLine.received)).all()),
        "po_status": sorted(db.session.execute(select(PurchaseOrder.number, PurchaseOrder.status)).all()),
        "receipt_lines": sorted(db.session.execute(select(ReceiptLine.id, ReceiptLine.quantity, ReceiptLine.put_away,
                                                          ReceiptLine.on_hold)).all()),
        "tasks": sorted(db.session.execute(select(Task.id, Task.status, Task.done_quantity)).all()),
    }


def on_hand(product: Product, location: Location) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Quant.on_hand).where(Quant.product_id == product.id,
                                                         Quant.location_id == location.id)) or 0
