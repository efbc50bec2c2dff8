"""Prepaid return labels for an RMA: asked of a carrier that offers returns (Colissimo Retour, Mondial Relay's
relay drop-off, Sendcloud returns), stored with their document, printed at the returns zone, and followed by the
carrier tracking job (wms.outbound.tracking_jobs): the first carrier scan puts the return in transit.

Plain functions over the session (add/flush, never commit). The carrier is asked last, after every check and the
printer choice, so a refusal leaves nothing written here; the label the carrier made is stored in the same
transaction as its print job. Email is not sent: the project has no mail outbox yet (docs/returns.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import defer

from wms.catalog.models import Product
from wms.db import db, utcnow
from wms.enums import ZoneKind
from wms.errors import Conflict, DomainError, NoPrinter, NotFound, ValidationFailed
from wms.layout.models import Warehouse, Zone
from wms.orders.models import Order
from wms.outbound import carriers_registry as registry
from wms.picking.text import _
from wms.printing import jobs
from wms.printing.models import DocumentKind, Printer, PrintJob
from wms.returns import services
from wms.returns.models import ReturnLabel, ReturnLabelStatus, Rma, RmaStatus
from wms.shipping.carrier_features import CustomsCategory, Feature, TrackingStatus, needs_customs
from wms.shipping.carriers import Carrier, Parcel, Shipment
from wms.shipping.errors import CancelRefused, ShipmentUnknown

LABEL_STATUSES = (RmaStatus.AUTHORIZED, RmaStatus.IN_TRANSIT)   # a label is asked before anything arrived
DEFAULT_WEIGHT_G = 1000       # what the customer's parcel is declared at when no product has a weight
MAX_WEIGHT_G = 30_000
TRACKED_FOR = dt.timedelta(days=60)   # an issued label unused this long is no longer asked about
LIVE = (ReturnLabelStatus.ISSUED, ReturnLabelStatus.IN_TRANSIT, ReturnLabelStatus.DELIVERED)
MOVING = frozenset({TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY, TrackingStatus.AT_RELAY_POINT,
                    TrackingStatus.FAILED, TrackingStatus.DELIVERED})


class ReturnLabelRefused(Conflict):
    """The return cannot get a label now (its status, another live label, a carrier without returns)."""

    slug = "return-label-refused"
    title = "No return label for this return"


class PrinterUnknown(NotFound):
    slug = "printer-unknown"
    title = "No such printer"


# --- reads ------------------------------------------------------------------------------------------------------

def return_carriers(warehouse: Warehouse | None = None) -> list[Carrier]:
    """The carriers configured here that make return labels, in the registry's order."""
    found = []
    for code in registry.carrier_codes():
        try:
            carrier = registry.carrier_for(code, warehouse)
        except DomainError:
            continue
        if Feature.RETURNS in carrier.features:
            found.append(carrier)
    return found


def labels_of(rma: Rma) -> list[ReturnLabel]:
    """The return's labels, newest first (cancelled ones included)."""
    return list(db.session.scalars(select(ReturnLabel).options(defer(ReturnLabel.document))
                                   .where(ReturnLabel.rma_id == rma.id).order_by(ReturnLabel.id.desc())))


def live_label(rma: Rma) -> ReturnLabel | None:
    """The return's label that is not cancelled, if it has one."""
    return db.session.scalar(select(ReturnLabel).options(defer(ReturnLabel.document))
                             .where(ReturnLabel.rma_id == rma.id, ReturnLabel.status.in_(LIVE))
                             .order_by(ReturnLabel.id.desc()).limit(1))


def get_label(rma: Rma, label_id: int) -> ReturnLabel:
    """One label of this return, or NotFound."""
    label = db.session.get(ReturnLabel, label_id)
    if label is None or label.rma_id != rma.id:
        raise NotFound(f"Return {rma.code} has no label {label_id}.")
    return label


def document_filename(label: ReturnLabel) -> str:
    """The download's file name: the tracking number and the document's own extension."""
    extension = "pdf" if label.content_type == jobs.PDF else "zpl"
    return f"{label.tracking_number}.{extension}"


# --- create -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LabelRequest:
    carrier_code: str
    printer_code: str | None = None   # None: the returns zone's printer
    print_label: bool = True
    weight_grams: int | None = None   # None: the products' weights


def _weight(rma: Rma, asked: int | None) -> int:
    if asked is not None:
        if not 1 <= asked <= MAX_WEIGHT_G:
            raise ValidationFailed(_("A return parcel weighs 1 to %(max)s grams.", max=MAX_WEIGHT_G),
                                   errors=[{"field": "weight_grams", "message": f"1..{MAX_WEIGHT_G}"}])
        return asked
    grams = 0
    for line in rma.lines:
        product = db.session.get(Product, line.product_id)
        grams += (product.weight_g or 0) * line.quantity
    return min(grams, MAX_WEIGHT_G) or DEFAULT_WEIGHT_G


def returns_zone(warehouse: Warehouse) -> Zone | None:
    """The warehouse's returns zone (the first by code), where the label prints."""
    return db.session.scalar(select(Zone).where(Zone.warehouse_id == warehouse.id, Zone.kind == ZoneKind.RETURNS)
                             .order_by(Zone.code).limit(1))


def label_printer(warehouse: Warehouse, printer_code: str | None) -> Printer:
    """The printer named, else the one routed for carrier labels at the returns zone (or the warehouse's default
    route), else an enabled printer standing in the returns zone; NoPrinter when there is none."""
    if printer_code:
        printer = db.session.scalar(select(Printer).where(Printer.warehouse_id == warehouse.id,
                                                          Printer.code == printer_code))
        if printer is None:
            raise PrinterUnknown(_("No printer %(code)s in warehouse %(warehouse)s.", code=printer_code,
                             warehouse=warehouse.code))
        if not printer.enabled:
            raise NoPrinter(_("Printer %(code)s is disabled.", code=printer.code), printer=printer.code)
        return printer
    zone = returns_zone(warehouse)
    try:
        return jobs.resolve_printer(warehouse.id, DocumentKind.CARRIER_LABEL, zone_id=zone.id if zone else None)
    except NoPrinter:
        standing = zone and db.session.scalar(
            select(Printer).where(Printer.warehouse_id == warehouse.id, Printer.zone_id == zone.id,
                                  Printer.enabled.is_(True)).order_by(Printer.code).limit(1))
        if not standing:
            raise
        return standing


def _check_can_label(rma: Rma, carrier_code: str, existing: ReturnLabel | None) -> None:
    if rma.status not in LABEL_STATUSES:
        raise ReturnLabelRefused(_("Return %(code)s is %(status)s: it gets no return label.", code=rma.code,
                                   status=rma.status.value), rma_status=rma.status.value)
    if existing is not None and existing.carrier_code != carrier_code:
        raise ReturnLabelRefused(
            _("Return %(code)s already has a %(carrier)s label (%(tracking)s); cancel it before asking another "
              "carrier.", code=rma.code, carrier=existing.carrier_code, tracking=existing.tracking_number),
            tracking_number=existing.tracking_number)


def _carrier(code: str, warehouse: Warehouse) -> Carrier:
    carrier = registry.carrier_for(code, warehouse)
    if Feature.RETURNS not in carrier.features:
        offered = ", ".join(c.code for c in return_carriers(warehouse)) or _("none")
        raise ReturnLabelRefused(_("%(carrier)s makes no return labels; the carriers with returns here are "
                                   "%(offered)s.", carrier=carrier.name, offered=offered),
                                 errors=[{"field": "carrier", "message": "no returns"}])
    return carrier


def create_return_label(rma: Rma, request: LabelRequest, *, created_by_id: int | None = None,
                        actor: str | None = None) -> tuple[ReturnLabel, bool]:
    """The return's label from the carrier, stored and queued for printing; (label, created). Asking again gives
    the same label (created False) until it is cancelled. Lock the RMA first (get_rma(lock=True))."""
    existing = live_label(rma)
    _check_can_label(rma, request.carrier_code, existing)
    if existing is not None:
        return existing, False
    warehouse = db.session.get(Warehouse, rma.warehouse_id)
    carrier = _carrier(request.carrier_code, warehouse)
    printer = label_printer(warehouse, request.printer_code) if request.print_label else None
    from wms.outbound.packing_services import _ship_from, _ship_to  # the packer's addresses, reversed

    order = db.session.get(Order, rma.order_id)
    customer, home = _ship_to(order), _ship_from(warehouse)
    customs = None
    if needs_customs(customer.address, home.address):
        # coming back across the EU customs border: the CN23 declares returned goods at the value they sold for
        from wms.outbound.packing_carrier import customs_of_lines

        customs = customs_of_lines(rma.lines, order.currency, CustomsCategory.RETURN)
    shipment = Shipment(reference=rma.code, ship_from=customer, ship_to=home,
                        parcels=(Parcel(_weight(rma, request.weight_grams)),), service="return",
                        ship_date=utcnow().date(), customs=customs, value=customs.value if customs else None)
    made = carrier.create_return(shipment)   # CarrierUnavailable (503), ShipmentRefused (422): nothing written
    label = ReturnLabel(rma_id=rma.id, carrier_code=carrier.code, tracking_number=made.tracking_number,
                        carrier_reference=made.carrier_reference, status=ReturnLabelStatus.ISSUED,
                        content_type=made.content_type, document=made.label, created_by_id=created_by_id)
    db.session.add(label)
    db.session.flush()
    # A document the printer cannot print (a PDF label at a ZPL printer) is kept, not lost with the carrier's
    # label: it is downloaded instead (print_job_id stays empty).
    if printer is not None and jobs.CONTENT_TYPE_OF_LANGUAGE[printer.language] == label.content_type:
        label.print_job_id = print_label(label, printer, created_by_id=created_by_id, actor=actor).id
    services._announce(rma)  # noqa: SLF001  (the channel hears the return's tracking number)
    return label, True


def print_label(label: ReturnLabel, printer: Printer, *, created_by_id: int | None = None,
                actor: str | None = None) -> PrintJob:
    """Queue the label's document at the printer (once per label and printer)."""
    rma = db.session.get(Rma, label.rma_id)
    return jobs.enqueue_job(
        warehouse_id=rma.warehouse_id, kind=DocumentKind.CARRIER_LABEL,
        reference=f"{rma.code} {label.tracking_number}"[:120], payload=label.document,
        content_type=label.content_type, printer=printer,
        idempotency_key=f"return-label:{label.id}:{printer.id}", created_by_id=created_by_id, actor=actor)


def cancel_return_label(label: ReturnLabel) -> tuple[ReturnLabel, str]:
    """Withdraw a label the customer has not used yet: the carrier is asked to cancel it where it can, and here
    it is no longer tracked; (label, what the carrier said)."""
    if label.status == ReturnLabelStatus.CANCELLED:
        return label, ""
    if label.status != ReturnLabelStatus.ISSUED:
        raise ReturnLabelRefused(_("Label %(tracking)s is %(status)s: the parcel is on its way, it cannot be "
                                   "cancelled.", tracking=label.tracking_number, status=label.status.value))
    said = ""
    try:
        carrier = registry.carrier_for(label.carrier_code)
        said = carrier.cancel(label.tracking_number, carrier_reference=label.carrier_reference).detail
    except (CancelRefused, ShipmentUnknown) as err:
        said = err.detail   # the carrier keeps it (unused return labels are not charged); we stop following it
    label.status = ReturnLabelStatus.CANCELLED
    db.session.flush()
    services._announce(db.session.get(Rma, label.rma_id))  # noqa: SLF001
    return label, said


# --- tracking (called by wms.outbound.tracking_jobs) ----------------------------------------------------------

def _tracked(stmt):  # type: ignore[no-untyped-def]
    return (stmt.join(Rma, Rma.id == ReturnLabel.rma_id)
            .where(Rma.status != RmaStatus.CANCELLED,
                   ReturnLabel.status.in_((ReturnLabelStatus.ISSUED, ReturnLabelStatus.IN_TRANSIT)),
                   (ReturnLabel.status == ReturnLabelStatus.IN_TRANSIT)
                   | (ReturnLabel.created_at >= utcnow() - TRACKED_FOR),
                   ReturnLabel.tracking_status.is_distinct_from(TrackingStatus.RETURNED.value)))


def tracked_carriers() -> set[str]:
    """The carriers of the labels still followed."""
    return set(db.session.scalars(_tracked(select(ReturnLabel.carrier_code).distinct())))


def tracked_labels(carrier_code: str) -> list[ReturnLabel]:
    """The carrier's labels it may still move: issued (recently) or in transit, of returns not cancelled."""
    stmt = _tracked(select(ReturnLabel).options(defer(ReturnLabel.document)))
    return list(db.session.scalars(stmt.where(ReturnLabel.carrier_code == carrier_code).order_by(ReturnLabel.id)))


def parcel_moved(label: ReturnLabel, statuses: list[TrackingStatus], latest: TrackingStatus | None) -> bool:
    """Map the carrier's events onto the label and its return: a first scan puts both in transit (the channel
    hears it), delivered to us makes the label delivered; the return stays in transit until the returns zone
    receives it. True when the return's status changed."""
    label.tracking_checked_at = utcnow()
    if latest is not None:
        label.tracking_status = latest.value
    if not MOVING.intersection(statuses):
        return False
    if latest == TrackingStatus.DELIVERED:
        label.status = ReturnLabelStatus.DELIVERED
    elif label.status == ReturnLabelStatus.ISSUED:
        label.status = ReturnLabelStatus.IN_TRANSIT
    rma = services.get_rma(db.session.get(Warehouse, label.rma.warehouse_id), label.rma.code, lock=True)
    if rma.status != RmaStatus.AUTHORIZED:
        db.session.flush()
        return False
    rma.status = RmaStatus.IN_TRANSIT
    services._announce(rma)  # noqa: SLF001
    return True
