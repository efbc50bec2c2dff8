"""Product and lane labels printed on demand: one product, a list of SKUs, a list of lanes, an aisle or a zone.

A product label carries the product's main barcode (EAN-13 and UPC-A as EAN-13, other codes as Code 128); a lane label is printed per face, and
each face carries that face's own scan code (pick face: the bare code; replenish face: ``R:`` + code), so a
receiver at the back of the rack cannot scan the pick face. One print job per product (with its copies) and one
per lane (its faces, one label each), keyed by the caller's idempotency key so a replay queues nothing twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from wms.auth.models import User
from wms.catalog.models import Barcode, Product
from wms.db import db
from wms.enums import Face, Symbology
from wms.errors import ValidationFailed
from wms.labels.documents import Face as LabelFace
from wms.labels.documents import LocationLabel, ProductLabel
from wms.labels.documents.base import LabelDocument
from wms.labels.layout import Label
from wms.layout.models import Aisle, Location, LocationFace, Warehouse, Zone
from wms.printing.jobs import enqueue_job, printer_by_code, resolve_printer
from wms.printing.models import DocumentKind, Printer, PrintJob

MAX_ITEMS = 1000  # products or lanes in one request: a whole zone of the demo site is ~250 lanes
FACE_CHOICES = ("pick", "replenish", "both")


# --- documents from the catalog and the layout ---------------------------------------------------------------

def main_barcode(product: Product) -> Barcode | None:
    """The barcode a product label carries: the first unit (quantity 1) code, else the first code."""
    units = [b for b in product.barcodes if b.quantity == 1]
    return (units or list(product.barcodes) or [None])[0]


def product_document(product: Product) -> ProductLabel:
    """The label of one product and its main barcode: EAN-13 (UPC-A as the EAN-13 led by 0), else Code 128."""
    code = main_barcode(product)
    if code is None:
        return ProductLabel(product.sku, product.name)
    if code.symbology == Symbology.EAN13:
        return ProductLabel(product.sku, product.name, ean=code.code)
    if code.symbology == Symbology.UPCA:
        return ProductLabel(product.sku, product.name, ean="0" + code.code)
    # EAN-8 and GTIN-14 have no symbol of their own in the label builder yet: Code 128 of the same digits, which
    # every scanner reads and the catalog resolves to the product like the original symbol.
    return ProductLabel(product.sku, product.name, internal_code=code.code)


def faces_of(location: Location) -> list[Face]:
    """The faces a lane is reached from; a floor location (no face rows) is scanned by its bare code only."""
    faces = sorted({f.face for f in location.faces}, key=lambda f: f != Face.PICK)
    return faces or [Face.PICK]


def wanted_faces(face: str) -> list[Face]:
    if face not in FACE_CHOICES:
        raise ValidationFailed(f"Face must be one of {', '.join(FACE_CHOICES)}.",
                               errors=[{"field": "face", "message": "pick, replenish or both"}])
    return [Face.PICK, Face.REPLENISH] if face == "both" else [Face(face)]


@dataclass(frozen=True)
class LaneLabels(LabelDocument):
    """The labels of one lane, one per face asked for, pick face first."""

    location_code: str
    faces: tuple[LocationLabel, ...]

    def labels(self) -> list[Label]:
        return [label for face in self.faces for label in face.labels()]


def lane_document(location: Location, faces: list[Face]) -> LaneLabels:
    """The face labels of one lane: each face names its own aisle and carries its own scan code."""
    zone = location.zone.code if location.zone else ""
    sides = []
    for face in faces:
        row = location.face(face)
        aisle = row.aisle.code if row is not None and row.aisle is not None else ""
        sides.append(LocationLabel(location.code, LabelFace(face.value), zone=zone,
                                   aisle=f"Aisle {aisle}" if aisle else ""))
    return LaneLabels(location.code, tuple(sides))


# --- selections ------------------------------------------------------------------------------------------------

def _too_many(count: int, what: str) -> None:
    if count > MAX_ITEMS:
        raise ValidationFailed(f"At most {MAX_ITEMS} {what} per request ({count} asked).",
                               errors=[{"field": what, "message": f"at most {MAX_ITEMS}"}])


def products_by_sku(skus: list[str]) -> list[Product]:
    """The products of the SKUs, in the order given (a SKU once); 422 naming every unknown SKU."""
    wanted = list(dict.fromkeys(s.strip() for s in skus if s and s.strip()))
    if not wanted:
        raise ValidationFailed("Name at least one SKU.", errors=[{"field": "skus", "message": "empty"}])
    _too_many(len(wanted), "skus")
    found = {p.sku: p for p in db.session.scalars(
        select(Product).options(selectinload(Product.barcodes)).where(Product.sku.in_(wanted)))}
    unknown = [s for s in wanted if s not in found]
    if unknown:
        raise ValidationFailed(f"No product {', '.join(unknown[:20])}.",
                               errors=[{"field": "skus", "message": f"unknown SKU {s}"} for s in unknown[:20]])
    return [found[s] for s in wanted]


def _zone(warehouse: Warehouse, code: str) -> Zone:
    zone = db.session.scalar(select(Zone).where(Zone.warehouse_id == warehouse.id, Zone.code == code))
    if zone is None:
        raise ValidationFailed(f"No zone {code} in warehouse {warehouse.code}.",
                               errors=[{"field": "zone", "message": "unknown zone"}])
    return zone


def _with_faces():  # type: ignore[no-untyped-def]
    return (selectinload(Location.faces).selectinload(LocationFace.aisle), selectinload(Location.zone))


def select_locations(warehouse: Warehouse, *, codes: list[str] | None = None, zone: str | None = None,
                     aisle: str | None = None) -> list[Location]:
    """Lanes by code list (in that order), or every active lane of a zone, or of one aisle of it (route order)."""
    if codes is not None and (zone or aisle):
        raise ValidationFailed("Name locations, or a zone (and aisle), not both.",
                               errors=[{"field": "locations", "message": "locations or zone, not both"}])
    if codes is not None:
        wanted = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
        if not wanted:
            raise ValidationFailed("Name at least one location.", errors=[{"field": "locations", "message": "empty"}])
        _too_many(len(wanted), "locations")
        found = {loc.code: loc for loc in db.session.scalars(select(Location).options(*_with_faces()).where(
            Location.warehouse_id == warehouse.id, Location.code.in_(wanted)))}
        unknown = [c for c in wanted if c not in found]
        if unknown:
            raise ValidationFailed(f"No location {', '.join(unknown[:20])} in warehouse {warehouse.code}.",
                                   errors=[{"field": "locations", "message": f"unknown location {c}"}
                                           for c in unknown[:20]])
        return [found[c] for c in wanted]
    if not zone:
        raise ValidationFailed("Name locations, or a zone (and optionally one of its aisles).",
                               errors=[{"field": "zone", "message": "locations or zone required"}])
    the_zone = _zone(warehouse, zone)
    stmt = select(Location).options(*_with_faces()).where(Location.zone_id == the_zone.id, Location.active.is_(True))
    if aisle:
        the_aisle = db.session.scalar(select(Aisle).where(Aisle.zone_id == the_zone.id, Aisle.code == aisle))
        if the_aisle is None:
            raise ValidationFailed(f"No aisle {aisle} in zone {the_zone.code}.",
                                   errors=[{"field": "aisle", "message": "unknown aisle"}])
        stmt = stmt.where(Location.id.in_(select(LocationFace.location_id).where(
            LocationFace.aisle_id == the_aisle.id)))
    found = list(db.session.scalars(stmt.order_by(Location.position_m, Location.code)))
    if not found:
        raise ValidationFailed(f"Zone {the_zone.code}{f' aisle {aisle}' if aisle else ''} has no location.",
                               errors=[{"field": "aisle" if aisle else "zone", "message": "no location"}])
    _too_many(len(found), "locations")
    return found


def lane_documents(locations: list[Location], face: str, *, strict: bool) -> list[tuple[Location, LaneLabels]]:
    """The label document of each lane for the faces asked. `strict` (a list named by the caller): a face a lane
    does not have is refused; else (a zone or an aisle) such lanes print the faces they have."""
    faces = wanted_faces(face)
    out = []
    missing: list[str] = []
    lacking: set[Face] = set()
    for location in locations:
        has = [f for f in faces if f in faces_of(location)]
        if len(has) < len(faces) and strict:
            missing.append(location.code)
            lacking.update(f for f in faces if f not in has)
            continue
        if has:
            out.append((location, lane_document(location, has)))
    if missing:
        raise ValidationFailed(
            f"{', '.join(missing[:20])} {'has' if len(missing) == 1 else 'have'} no "
            f"{' or '.join(f.value for f in faces if f in lacking)} face (a floor location has only its pick face).",
            errors=[{"field": "face", "message": f"{code} has no such face"} for code in missing[:20]])
    if not out:
        raise ValidationFailed("None of these locations has that face.", errors=[{"field": "face", "message": "none"}])
    return out


# --- printing --------------------------------------------------------------------------------------------------

def _key_part(key: str) -> str:
    """The caller's key as it goes into each job's key: long keys hashed, so two never share a cut prefix."""
    return key if len(key) <= 100 else hashlib.sha256(key.encode()).hexdigest()


def _printer(warehouse: Warehouse, code: str | None) -> Printer | None:
    return printer_by_code(warehouse.id, code) if code else None


def print_product_labels(warehouse: Warehouse, skus: list[str], user: User | None, *, key: str, copies: int = 1,
                         printer_code: str | None = None, zone: str | None = None) -> list[PrintJob]:
    """One job per product (with `copies`) at the printer named, else the one routed for product labels (at
    `zone` when given: that zone's route, else a rack zone's head printer)."""
    if not 1 <= copies <= 100:
        raise ValidationFailed("Copies must be between 1 and 100.", errors=[{"field": "copies", "message": "1..100"}])
    from wms.labels.pdf import render_for

    products = products_by_sku(skus)
    printer = _printer(warehouse, printer_code) or resolve_printer(
        warehouse.id, DocumentKind.PRODUCT_LABEL, zone_id=_zone(warehouse, zone).id if zone else None)
    jobs = []
    for product in products:
        payload, content_type = render_for(product_document(product), printer.language.value)
        jobs.append(enqueue_job(
            warehouse_id=warehouse.id, kind=DocumentKind.PRODUCT_LABEL, reference=f"Product {product.sku}"[:120],
            payload=payload, content_type=content_type, copies=copies, printer=printer,
            idempotency_key=f"product-label:{product.id}:{_key_part(key)}", created_by_id=user.id if user else None,
            actor=user.username if user else None))
    return jobs


def print_location_labels(warehouse: Warehouse, user: User | None, *, key: str, codes: list[str] | None = None,
                          zone: str | None = None, aisle: str | None = None, face: str = "both",
                          printer_code: str | None = None) -> list[PrintJob]:
    """One job per lane (a label per face asked) at the printer named, else the one routed for lane labels in
    the lane's zone (a rack zone's head printer by default)."""
    from wms.labels.pdf import render_for

    documents = lane_documents(select_locations(warehouse, codes=codes, zone=zone, aisle=aisle), face,
                               strict=codes is not None)
    chosen = _printer(warehouse, printer_code)
    # every zone's printer is known before anything is queued: a zone without one refuses the whole batch
    per_zone = {} if chosen else {zone_id: resolve_printer(warehouse.id, DocumentKind.LOCATION_LABEL, zone_id=zone_id)
                                  for zone_id in dict.fromkeys(loc.zone_id for loc, _doc in documents)}
    jobs = []
    for location, document in documents:
        printer = chosen or per_zone[location.zone_id]
        payload, content_type = render_for(document, printer.language.value)
        faces = "+".join(side.face.value for side in document.faces)
        jobs.append(enqueue_job(
            warehouse_id=warehouse.id, kind=DocumentKind.LOCATION_LABEL,
            reference=f"Lane {location.code} {faces}"[:120], payload=payload, content_type=content_type,
            printer=printer, idempotency_key=f"location-label:{location.id}:{faces}:{_key_part(key)}",
            created_by_id=user.id if user else None, actor=user.username if user else None))
    return jobs
