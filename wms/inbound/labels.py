"""The receipt label stuck on each received carton: SKU, name, units, lot, best-before, receipt code (Code 128)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db
from wms.errors import ValidationFailed
from wms.inbound.models import Receipt, ReceiptLine
from wms.labels.documents.base import LabelDocument
from wms.labels.layout import Box, Code128, Element, Label, LabelSize, block
from wms.layout.models import Location
from wms.printing.jobs import enqueue_job, resolve_printer
from wms.printing.models import DocumentKind, PrintJob

RECEIPT_SIZE = LabelSize(101.6, 76.2)  # 4 x 3 in


@dataclass(frozen=True)
class ReceiptLabel(LabelDocument):
    """One label per receipt line; field data goes through the builder (escaped with ^FH)."""

    receipt_code: str
    sku: str
    name: str
    quantity: int
    lot_code: str | None = None
    best_before: dt.date | None = None
    held: bool = False
    size: LabelSize = field(default=RECEIPT_SIZE)

    def labels(self) -> list[Label]:
        d = self.size.dots
        elements: list[Element] = [
            block(d(3), d(3), self.sku, d(7), d(70)),
            block(d(75), d(3), f"x{self.quantity}", d(7), d(24), align="R"),
            block(d(3), d(12), self.name, d(4), d(95), lines=2),
            Box(d(2), d(23), d(97.6), d(0.5), filled=True),
            block(d(3), d(25), f"LOT {self.lot_code or '-'}", d(4.5), d(55)),
            block(d(60), d(25), f"BBD {self.best_before.isoformat() if self.best_before else '-'}", d(4.5), d(39),
                  align="R"),
        ]
        if self.held:
            elements.append(block(d(3), d(32), "QUALITY HOLD", d(5), d(95), reverse=True))
        elements += [
            Code128(d(4), d(40), self.receipt_code, height=d(22), module=3, max_width=d(92)),
        ]
        return [Label(self.size, tuple(elements), title=f"Receipt {self.receipt_code} {self.sku}")]


def label_for(receipt: Receipt, line: ReceiptLine) -> ReceiptLabel:
    """The label document of one receipt line."""
    product = db.session.get(Product, line.product_id)
    assert product is not None
    return ReceiptLabel(receipt_code=receipt.code, sku=product.sku, name=product.name, quantity=line.quantity,
                        lot_code=line.lot_code, best_before=line.best_before, held=line.on_hold)


def print_labels(receipt: Receipt, user: User | None, *, key: str, line_ids: list[int] | None = None
                 ) -> list[PrintJob]:
    """One print job per receipt line (all, or those named) at the printer of the receipt's receiving dock."""
    from wms.labels.pdf import render_for

    lines = list(receipt.lines)
    if line_ids is not None:
        unknown = sorted(set(line_ids) - {ln.id for ln in lines})
        if unknown:
            raise ValidationFailed(f"Receipt {receipt.code} has no line {', '.join(map(str, unknown))}.",
                                   errors=[{"field": "line_ids", "message": "not lines of this receipt"}])
        lines = [ln for ln in lines if ln.id in set(line_ids)]
    if not lines:
        raise ValidationFailed(f"Receipt {receipt.code} has no line to label yet.",
                               errors=[{"field": "line_ids", "message": "nothing to print"}])
    dock = db.session.get(Location, receipt.dock_location_id)
    assert dock is not None
    printer = resolve_printer(receipt.warehouse_id, DocumentKind.RECEIPT_LABEL, zone_id=dock.zone_id)
    jobs = []
    for line in lines:
        payload, content_type = render_for(label_for(receipt, line), printer.language.value)
        jobs.append(enqueue_job(warehouse_id=receipt.warehouse_id, kind=DocumentKind.RECEIPT_LABEL,
                                reference=f"{receipt.code} line {line.id}", payload=payload,
                                content_type=content_type, idempotency_key=f"receipt-label:{line.id}:{key}"[:200],
                                printer=printer, zone_id=dock.zone_id,
                                created_by_id=user.id if user else None,
                                actor=user.username if user else None))
    return jobs
