"""The rules of receiving, each a domain error rendered as a problem document, and the constraints they explain."""

from __future__ import annotations

from wms.errors import Conflict, ValidationFailed, explain_constraint


class UnknownItem(ValidationFailed):
    """The scanned code names no product, or a product the purchase order does not carry."""

    slug = "unknown-item"
    title = "Receipt of an unknown item"


class OverReceipt(Conflict):
    """More units than ordered plus the tolerance (the PO's, else the supplier's)."""

    slug = "over-receipt"
    title = "Over-receipt beyond tolerance"


class LotRequired(ValidationFailed):
    """The product is lot- or expiry-tracked and the receipt did not say its lot or best-before date."""

    slug = "lot-required"
    title = "Lot or best-before date required"


class InboundStateConflict(Conflict):
    """A purchase order, ASN or receipt is not in a state that allows the change."""

    slug = "inbound-state"
    title = "Not allowed in this state"


class LaneFull(Conflict):
    """A put-away would put more units in a lane than its capacity."""

    slug = "lane-full"
    title = "The lane has no room for these units"


explain_constraint("uq_suppliers_code", Conflict, "A supplier with this code already exists.")
explain_constraint("uq_purchase_orders_number", Conflict, "A purchase order with this number already exists.")
explain_constraint("uq_asns_supplier_id_number", Conflict, "This supplier already sent an ASN with this number.")
explain_constraint("ck_purchase_order_lines_received_within_double", OverReceipt,
                   "A PO line never receives more than twice the ordered quantity.")
explain_constraint("ck_receipt_lines_disposed_within_quantity", Conflict,
                   "A receipt line cannot put away or scrap more units than it received.")
