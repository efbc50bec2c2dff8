"""Carriers behind one interface, and the two built in, fully offline: our own fleet and GS1 labels.

A carrier turns a `Shipment` into a `ShipmentLabel` (tracking number + ZPL), cancels by tracking number, and
writes the end-of-day `Manifest` of what was handed over. Carriers hold no state of their own: serials come
from counters the caller passes in (database sequences in the application), and what a call returns is for
the caller to store. Adapters for carrier APIs derive from `wms.shipping.http.HttpCarrier`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar

from wms.labels.documents.shipping import Address
from wms.labels.errors import LabelDataInvalid
from wms.shipping import sscc as sscc_rules
from wms.shipping import tracking
from wms.shipping.carrier_features import (
    Customs,
    Feature,
    FeatureUnsupported,
    RelayPoint,
    RelayPointInvalid,
    ShippingOptions,
    TrackingEvent,
)
from wms.shipping.documents import Gs1ParcelLabel, ManifestDocument, ManifestLine, OwnFleetLabel
from wms.shipping.errors import (
    CarrierResponseInvalid,
    ShipmentRefused,
    ShippingInputInvalid,
    TrackingNumberInvalid,
)
from wms.shipping.sscc import SsccIssuer

ZPL = "application/vnd.zebra.zpl"
PDF = "application/pdf"


@dataclass(frozen=True)
class Party:
    """Who ships or receives: the printed address plus what carrier APIs also ask for."""

    address: Address
    phone: str = ""
    email: str = ""
    region: str = ""  # state / province where the country uses one
    company: str = ""


@dataclass(frozen=True)
class Parcel:
    """One parcel as packed: gross weight (g), outer dimensions (mm, 0 when unknown), SSCC if already given."""

    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    sscc: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.weight_grams, int) or self.weight_grams <= 0:
            raise ShippingInputInvalid("A parcel weighs a whole number of grams above 0")
        dims = (self.length_mm, self.width_mm, self.height_mm)
        if any(not isinstance(v, int) or v < 0 for v in dims) or (any(dims) and not all(dims)):
            raise ShippingInputInvalid(
                "Parcel dimensions are three whole millimetres above 0, or all 0 if unknown"
            )
        if self.sscc is not None:
            sscc_rules.validate(self.sscc)

    @property
    def has_dimensions(self) -> bool:
        return self.length_mm > 0


@dataclass(frozen=True)
class Shipment:
    """What to send: our reference (the order), from, to, parcels, the carrier's service, the ship date."""

    reference: str
    ship_from: Party
    ship_to: Party
    parcels: tuple[Parcel, ...]
    service: str = "standard"
    ship_date: date | None = None
    relay_point_id: str | None = None        # delivery to this relay point (the carrier's id)
    customs: Customs | None = None           # the CN23 data, for a destination outside the customs union
    options: ShippingOptions = field(default_factory=ShippingOptions)
    value: Decimal | None = None             # the goods' value (insurance, customs, carriers that ask it)

    def __post_init__(self) -> None:
        if not self.reference or not self.reference.strip():
            raise ShippingInputInvalid("A shipment needs a reference (the order number)")
        if not self.parcels:
            raise ShippingInputInvalid(f"Shipment {self.reference} has no parcels")
        if len(self.parcels) > 99:
            raise ShippingInputInvalid(f"Shipment {self.reference} has more than 99 parcels")
        for party, role in ((self.ship_from, "ship-from"), (self.ship_to, "ship-to")):
            a = party.address
            if not (a.name.strip() and a.street and a.street[0].strip() and a.city.strip()):
                raise ShippingInputInvalid(f"The {role} address needs a name, a street and a city")
            if len(a.country) != 2 or not a.country.isalpha() or not a.country.isupper():
                raise ShippingInputInvalid(
                    f"The {role} country must be a 2-letter ISO code, got {a.country!r}"
                )

    @property
    def weight_grams(self) -> int:
        return sum(p.weight_grams for p in self.parcels)

    @property
    def destination(self) -> str:
        a = self.ship_to.address
        return f"{a.postal_code} {a.city} {a.country}".strip()


@dataclass(frozen=True)
class ParcelLabel:
    tracking_number: str
    sscc: str | None
    weight_grams: int


@dataclass(frozen=True)
class ShipmentLabel:
    """What the carrier gave for a shipment: tracking number(s) and the label job to print."""

    carrier: str
    service: str
    shipment_reference: str
    tracking_number: str  # of the first parcel (the master number where the carrier has one)
    parcels: tuple[ParcelLabel, ...]
    label: bytes  # the print job, in `content_type`
    content_type: str = ZPL
    destination: str = ""
    carrier_reference: str | None = None  # the carrier's own id for the label (e.g. to cancel it)
    route: str = ""
    driver: str = ""

    @property
    def label_zpl(self) -> str:
        """The label as text, for inspection; print `label`, the bytes exactly as received."""
        if self.content_type != ZPL:
            raise ShippingInputInvalid(f"The {self.carrier} label is {self.content_type}, not ZPL")
        return self.label.decode("utf-8", errors="replace")

    @property
    def weight_grams(self) -> int:
        return sum(p.weight_grams for p in self.parcels)


@dataclass(frozen=True)
class Cancellation:
    carrier: str
    tracking_number: str
    detail: str


@dataclass(frozen=True)
class Manifest:
    """The end-of-day document of one carrier, and which tracking numbers it covers."""

    carrier: str
    day: date
    reference: str
    document: bytes
    content_type: str
    tracking_numbers: tuple[str, ...]
    parcel_count: int
    weight_grams: int


class Carrier(ABC):
    """The one interface every carrier offers."""

    code: str
    name: str
    features: ClassVar[frozenset[Feature]] = frozenset()   # what it offers beyond a label (carrier_features)

    @abstractmethod
    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        """Register the shipment with the carrier; the tracking number and the label to print."""

    @abstractmethod
    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        """Cancel a shipment not yet handed over; raises if the carrier refuses."""

    @abstractmethod
    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        """The end-of-day manifest of these shipments, handed over on `day`."""

    @abstractmethod
    def validate_tracking(self, tracking_number: str) -> str:
        """The tracking number normalised, or TrackingNumberInvalid if it cannot be one of ours."""

    def checked_tracking(self, value: object, noun: str = "tracking number") -> str:
        """A tracking number as the carrier answered it, normalised; CarrierResponseInvalid when it is missing or
        cannot be one of this carrier's (an answer we cannot use, not the packer's input)."""
        if not isinstance(value, str) or not value:
            raise CarrierResponseInvalid(f"{self.name} returned no {noun}")
        try:
            return self.validate_tracking(value)
        except TrackingNumberInvalid as exc:
            raise CarrierResponseInvalid(f"{self.name} returned a bad {noun}: {exc.detail}") from exc

    # --- optional features: an adapter overrides those it names in `features` --------------------------------
    def find_relay_points(self, country: str, postal_code: str, *, city: str = "", weight_grams: int = 0,
                          limit: int = 10) -> list[RelayPoint]:
        """Relay points near a postcode, nearest first, with their opening hours."""
        raise FeatureUnsupported(f"{self.name} has no relay points")

    def relay_point(self, point_id: str, country: str) -> RelayPoint:
        """One relay point by its id; RelayPointInvalid when the carrier does not know it."""
        raise FeatureUnsupported(f"{self.name} has no relay points")

    def check_relay_point(self, point_id: str, country: str, weight_grams: int, day: date) -> RelayPoint:
        """The point, checked with the carrier before the label: it exists, is open, takes this weight."""
        point = self.relay_point(point_id, country)
        reason = point.refusal(weight_grams, day)
        if reason:
            raise RelayPointInvalid(reason)
        return point

    def tracking_events(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackingEvent]]:
        """The events the carrier has for each tracking number, oldest first (unknown numbers: empty list)."""
        raise FeatureUnsupported(f"{self.name} tracking cannot be fetched")

    def create_return(self, shipment: Shipment) -> ShipmentLabel:
        """A return label: `shipment.ship_from` is the customer, `ship_to` the warehouse."""
        raise FeatureUnsupported(f"{self.name} makes no return labels")

    def manifest_labels(self, shipments: Sequence[ShipmentLabel], day: date) -> list[ShipmentLabel]:
        """The shipments, checked to be this carrier's, each once, and at least one."""
        if not shipments:
            raise ShippingInputInvalid(f"Nothing to put on the {self.name} manifest of {day:%d/%m/%Y}")
        seen: set[str] = set()
        for label in shipments:
            if label.carrier != self.code:
                raise ShippingInputInvalid(
                    f"Shipment {label.shipment_reference} goes with {label.carrier}, not on the {self.name} manifest"
                )
            if label.tracking_number in seen:
                raise ShippingInputInvalid(f"{label.tracking_number} is twice on the {self.name} manifest")
            seen.add(label.tracking_number)
        return list(shipments)


def manifest_reference(carrier_code: str, day: date, tracking_numbers: Sequence[str]) -> str:
    """A stable manifest number: carrier, day, and a digest of the tracking numbers it covers."""
    digest = hashlib.sha256("\n".join(sorted(tracking_numbers)).encode()).hexdigest()[:6].upper()
    return f"M-{carrier_code}-{day:%Y%m%d}-{digest}"


def label_manifest(
    carrier: Carrier, shipments: Sequence[ShipmentLabel], day: date, ship_from: str
) -> Manifest:
    labels = carrier.manifest_labels(shipments, day)
    lines = tuple(
        ManifestLine(p.tracking_number, s.shipment_reference, s.destination, p.weight_grams, s.route)
        for s in labels
        for p in s.parcels
    )
    numbers = tuple(line.tracking_number for line in lines)
    reference = manifest_reference(carrier.code, day, numbers)
    document = ManifestDocument(carrier.name, day, reference, lines, ship_from=ship_from)
    return Manifest(
        carrier=carrier.code,
        day=day,
        reference=reference,
        document=document.to_zpl().encode("ascii"),
        content_type=ZPL,
        tracking_numbers=numbers,
        parcel_count=len(lines),
        weight_grams=document.total_weight_grams,
    )


@dataclass(frozen=True)
class Route:
    """A delivery round of our own fleet: the postal-code prefixes it serves in a country, and its driver."""

    code: str
    driver: str
    postal_prefixes: tuple[str, ...]
    country: str = "FR"

    def __post_init__(self) -> None:
        if not self.code or not self.postal_prefixes:
            raise ShippingInputInvalid("A route needs a code and at least one postal-code prefix")


class OwnFleetCarrier(Carrier):
    """Our own delivery fleet: tracking numbers from a counter with a check digit, a route and a driver
    chosen from the destination postal code, and a 4x6 label with tracking barcode, SSCC, route and driver."""

    def __init__(
        self,
        *,
        prefix: str,
        next_serial: Callable[[], int],
        sscc_issuer: SsccIssuer,
        routes: Sequence[Route],
        code: str = "OWN",
        name: str = "Own fleet",
        site: str = "",
    ) -> None:
        tracking.own_fleet_number(prefix, 0)  # refuses a bad prefix now, not at the first parcel
        if not routes:
            raise ShippingInputInvalid("The own fleet needs at least one route")
        self.code, self.name, self.prefix, self.site = code, name, prefix, site
        self._next_serial = next_serial
        self._sscc = sscc_issuer
        self._routes = tuple(routes)

    def route_for(self, address: Address) -> Route:
        """The route whose longest postal-code prefix matches the address; ShipmentRefused if none."""
        postal = address.postal_code.replace(" ", "").upper()
        matches = [
            (len(prefix), route)
            for route in self._routes
            if route.country == address.country
            for prefix in route.postal_prefixes
            if postal.startswith(prefix.replace(" ", "").upper())
        ]
        if not matches:
            raise ShipmentRefused(
                f"No own-fleet route serves postal code {address.postal_code} ({address.country})"
            )
        return max(matches, key=lambda m: m[0])[1]

    def validate_tracking(self, tracking_number: str) -> str:
        return tracking.validate_own_fleet(tracking_number, prefix=self.prefix).value

    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        route = self.route_for(shipment.ship_to.address)
        parcels, documents = [], []
        count = len(shipment.parcels)
        for index, parcel in enumerate(shipment.parcels, start=1):
            number = tracking.own_fleet_number(self.prefix, self._next_serial())
            sscc = parcel.sscc or self._sscc.issue()
            try:
                documents.append(
                    OwnFleetLabel(
                        shipment.ship_from.address,
                        shipment.ship_to.address,
                        self.name,
                        shipment.service,
                        parcel.weight_grams,
                        number,
                        sscc,
                        shipment.reference,
                        parcel_index=index,
                        parcel_count=count,
                        route=route.code,
                        driver=route.driver,
                    )
                )
            except LabelDataInvalid as exc:
                raise ShipmentRefused(exc.detail) from exc
            parcels.append(ParcelLabel(number, sscc, parcel.weight_grams))
        job = "".join(document.to_zpl() for document in documents)
        return ShipmentLabel(
            carrier=self.code,
            service=shipment.service,
            shipment_reference=shipment.reference,
            tracking_number=parcels[0].tracking_number,
            parcels=tuple(parcels),
            label=job.encode("ascii"),
            destination=shipment.destination,
            route=route.code,
            driver=route.driver,
        )

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        return Cancellation(self.code, number, "Cancelled in our own fleet: take the parcel off its route.")

    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        return label_manifest(self, shipments, day, self.site)


class Gs1LabelCarrier(Carrier):
    """No carrier system at all: each parcel is identified by its SSCC on a GS1 logistic label (SSCC in
    GS1-128 with AI 00, ship-from/ship-to, gross weight AI 330n, order AI 400). The SSCC is the tracking
    number; the receiver scans it against our despatch advice."""

    def __init__(
        self, *, sscc_issuer: SsccIssuer, code: str = "GS1", name: str = "GS1 logistic label", site: str = ""
    ) -> None:
        self.code, self.name, self.site = code, name, site
        self._sscc = sscc_issuer

    def validate_tracking(self, tracking_number: str) -> str:
        try:
            return sscc_rules.validate(tracking_number)
        except ShippingInputInvalid as exc:
            raise TrackingNumberInvalid(exc.detail) from exc

    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        parcels, documents = [], []
        for parcel in shipment.parcels:
            sscc = parcel.sscc or self._sscc.issue()
            try:
                documents.append(
                    Gs1ParcelLabel(
                        sscc,
                        shipment.ship_from.address,
                        shipment.ship_to.address,
                        gross_weight_kg=parcel.weight_grams / 1000,
                        order_ref=shipment.reference,
                    )
                )
            except LabelDataInvalid as exc:
                raise ShipmentRefused(exc.detail) from exc
            parcels.append(ParcelLabel(sscc, sscc, parcel.weight_grams))
        job = "".join(document.to_zpl() for document in documents)
        return ShipmentLabel(
            carrier=self.code,
            service=shipment.service,
            shipment_reference=shipment.reference,
            tracking_number=parcels[0].tracking_number,
            parcels=tuple(parcels),
            label=job.encode("ascii"),
            destination=shipment.destination,
        )

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        return Cancellation(self.code, number, "SSCC withdrawn: remove the label; the SSCC is not reused.")

    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        return label_manifest(self, shipments, day, self.site)


__all__ = [
    "PDF",
    "ZPL",
    "Cancellation",
    "Carrier",
    "Gs1LabelCarrier",
    "Manifest",
    "OwnFleetCarrier",
    "Parcel",
    "ParcelLabel",
    "Party",
    "Route",
    "Shipment",
    "ShipmentLabel",
]
