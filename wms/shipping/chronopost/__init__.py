"""Adapter for Chronopost's SOAP web services: labels, cancellation, relay points (Chrono Relais) and tracking.

Followed: the operations and type names of Chronopost's published WSDLs as public integrations show them (the
WSDLs at ws.chronopost.fr/shipping-cxf/ShippingServiceWS?wsdl, /tracking-cxf/TrackingServiceWS?wsdl and
/recherchebt-ws-cxf/PointRelaisServiceWS?wsdl; the "CHR-WS" web service guide, v2.6.x, is named by those
integrations but its text was not available to read), with request/answer documents seen in the karrio
connector's fixtures and in generated PHP classes of the point-relais WSDL:

- label:    ShippingServiceWS `shippingMultiParcelV5` {headerValue{accountNumber, idEmit}, shipperValue,
            customerValue, recipientValue, refValue{shipperRef, recipientRef}, skybillValue (one per parcel:
            productCode, service, shipDate, shipHour, weight, weightUnit KGM, objectType), skybillParamsValue
            {mode: ZPL | ZPL300 | PDF}, password, modeRetour, numberOfParcel, version 2.0, multiParcel Y/N}
            -> return{errorCode, errorMessage, resultMultiParcelValue[] {skybillNumber, pdfEtiquette (the label,
            base64, in the requested mode), ...}}.
- cancel:   TrackingServiceWS `cancelSkybill` {accountNumber, password, language, skybillNumber}
            -> return{errorCode, errorMessage, statusCode}.
- tracking: TrackingServiceWS `trackSkybillV2` {language, skybillNumber} -> return{errorCode,
            listEventInfoComp{events[{code, eventDate, eventLabel, officeLabel, zipCode, ...}], skybillNumber}}.
- relays:   PointRelaisServiceWS `recherchePointChronopost` {accountNumber, password, address, zipCode, city,
            countryCode, type, productCode, service, weight, shippingDate dd/mm/yyyy, maxPointChronopost,
            maxDistanceSearch, holidayTolerant} and `rechercheDetailPointChronopost` {accountNumber, password,
            identifiant} -> return{errorCode, errorMessage, listePointRelais[pointCHR{identifiant, nom, adresse1-3,
            codePostal, localite, codePays, actif, distanceEnMetre, poidsMaxi, listeHoraireOuverture[{jour 1-7,
            listeHoraireOuverture[{debut, fin}]}], listePeriodeFermeture[{calendarDeDebut, calendarDeFin}]}]}.

errorCode 0 is success everywhere. Codes seen in published answers: 1 "System Error" and 29 (SYSTEM_ERROR of
the label service) -> CarrierUnavailable; 3 "invalid account or password" -> CarrierUnavailable (credentials);
any other non-zero code on a label (33 INVALID_DATA, e.g. a postcode; a product the contract does not allow;
30-38 of the label service) -> ShipmentRefused carrying Chronopost's own message; on a relay lookup ->
RelayPointInvalid. A SOAP fault, HTTP 429/5xx, a timeout -> CarrierUnavailable / CarrierResponseInvalid.

What is verified: tests/integration/test_carrier_chronopost.py runs this adapter through zeep against a stand-in
(tests/standins/chronopost.py) that validates every request envelope against an XSD written from those
documents and answers in their shapes. The services' paths and namespaces (cxf.shipping / cxf.tracking /
cxf.rechercheBt.soap.chronopost.fr) agree across several public integrations. NOT verified (no account, no
network): the real service's behaviour, the exact error-code table (only the codes above were seen), that
multi-parcel answers carry one label per resultMultiParcelValue (and how bulkNumber/skybillRank number them),
that customerValue is the ordering party (we send the warehouse), that the relay point id travels in
refValue.recipientRef for product 86, the units of poidsMaxi and of the search weight (read as grams), that
jour 1 is Monday, and tracking event codes beyond DC, DB, DY, SC, TS, SD, TA and D (the only ones seen);
unknown codes map to in transit unless `event_statuses` says otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

from wms.shipping import tracking
from wms.shipping.carrier_features import (
    Feature,
    FeatureUnsupported,
    RelayPoint,
    RelayPointInvalid,
    TrackingEvent,
    TrackingStatus,
)
from wms.shipping.carriers import (
    PDF,
    ZPL,
    Cancellation,
    Carrier,
    Manifest,
    ParcelLabel,
    Shipment,
    ShipmentLabel,
    label_manifest,
)
from wms.shipping.chronopost.mapping import PARIS, error_of, party_fields, relay_point, tracking_event
from wms.shipping.chronopost.soap import ChronopostSoap
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShipmentUnknown,
    ShippingInputInvalid,
    TrackingNumberInvalid,
)

DEFAULT_BASE_URL = "https://ws.chronopost.fr"
LABEL_MODES = {"ZPL": ZPL, "ZPL300": ZPL, "PDF": PDF}
# Our service names -> Chronopost product codes (a 2-character product code is also accepted as is).
PRODUCTS = {"chrono13": "01", "chrono10": "02", "chrono18": "16", "relais": "86", "express": "17", "classic": "44"}
RELAY_PRODUCT = "86"
SYSTEM_ERRORS = frozenset({1, 29})
CREDENTIAL_ERRORS = frozenset({3})
EVENT_STATUSES = {
    "DC": TrackingStatus.LABEL_CREATED,     # shipment in preparation at the shipper
    "DB": TrackingStatus.IN_TRANSIT,        # handed over by the shipper
    "DY": TrackingStatus.IN_TRANSIT,
    "SC": TrackingStatus.IN_TRANSIT,
    "TS": TrackingStatus.IN_TRANSIT,
    "SD": TrackingStatus.IN_TRANSIT,
    "TA": TrackingStatus.OUT_FOR_DELIVERY,  # in delivery to the consignee
    "D": TrackingStatus.DELIVERED,
}


class ChronopostCarrier(Carrier):
    """Chronopost labels (ZPL 203/300 dpi or PDF), several parcels per shipment, Chrono Relais and tracking."""

    features: ClassVar[frozenset[Feature]] = frozenset(
        {Feature.RELAY, Feature.TRACKING, Feature.MULTI_PARCEL, Feature.INSURANCE, Feature.PDF}
    )

    def __init__(
        self,
        *,
        account_number: str,
        password: str,
        base_url: str = DEFAULT_BASE_URL,
        id_emit: str = "CHRFR",
        product_code: str = "01",
        label_format: str = "ZPL",
        language: str = "fr_FR",
        event_statuses: Mapping[str, TrackingStatus] | None = None,
        timeout: float = 15.0,
        proxies: dict[str, str] | None = None,
        code: str = "chronopost",
        name: str = "Chronopost",
        site: str = "",
    ) -> None:
        if not (account_number.isdigit() and 1 <= len(account_number) <= 8):
            raise ShippingInputInvalid("The Chronopost account number is up to 8 digits (the contract number)")
        if not password:
            raise ShippingInputInvalid("Chronopost needs the account's web service password")
        if label_format not in LABEL_MODES:
            raise ShippingInputInvalid(f"The Chronopost label format is one of {', '.join(LABEL_MODES)}")
        self.code, self.name, self.site = code, name, site
        self.account_number, self.password, self.id_emit = account_number, password, id_emit
        self.product_code = _product(product_code, default="01")
        self.label_format, self.language = label_format, language
        self.event_statuses = {**EVENT_STATUSES, **(event_statuses or {})}
        self.soap = ChronopostSoap(base_url, timeout=timeout, proxies=proxies, name=name)

    # --- tracking numbers -------------------------------------------------------------------------------------

    def validate_tracking(self, tracking_number: str) -> str:
        """A Chronopost skybill number: an S10-shaped number issued in France (XX123456785FR)."""
        value = tracking.normalise(tracking_number)
        try:
            return tracking.validate_s10(value, country="FR").value
        except TrackingNumberInvalid as exc:
            raise TrackingNumberInvalid(f"{tracking_number!r} is not a Chronopost skybill number: {exc.detail}") \
                from exc

    # --- labels -----------------------------------------------------------------------------------------------

    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        product = _product(shipment.service, default=self.product_code)
        if shipment.relay_point_id:
            product = RELAY_PRODUCT
        elif product == RELAY_PRODUCT:
            raise ShipmentRefused(f"Shipment {shipment.reference} goes to a Chrono Relais point but names none")
        if shipment.customs is not None:
            raise FeatureUnsupported("Customs declarations (CN23) are not sent to Chronopost by this adapter yet")
        if shipment.options.signature:
            raise FeatureUnsupported("This Chronopost adapter sends no signature option")
        if self.label_format == "PDF" and len(shipment.parcels) > 1:
            raise FeatureUnsupported("Chronopost PDF labels are one document per parcel: ship one parcel at a time")
        answer = self.soap.call("shipping", "shippingMultiParcelV5", **self._label_request(shipment, product))
        self._raise_for(answer, f"shipment {shipment.reference}")
        results = list(getattr(answer, "resultMultiParcelValue", None) or [])
        try:
            parcels, documents = self._read_labels(shipment, results)
        except CarrierResponseInvalid as exc:
            # Chronopost made skybills we cannot print: cancel them so that nothing is left half-created.
            raise CarrierResponseInvalid(f"{exc.detail}; {self._withdraw(results)}") from exc
        return ShipmentLabel(
            carrier=self.code,
            service=product,
            shipment_reference=shipment.reference,
            tracking_number=parcels[0].tracking_number,
            parcels=tuple(parcels),
            label=b"".join(documents),
            content_type=LABEL_MODES[self.label_format],
            destination=shipment.destination,
            carrier_reference=getattr(answer, "reservationNumber", None) or None,
        )

    def _read_labels(self, shipment: Shipment, results: list[Any]) -> tuple[list[ParcelLabel], list[bytes]]:
        if len(results) != len(shipment.parcels):
            raise CarrierResponseInvalid(
                f"{self.name} returned {len(results)} labels for the {len(shipment.parcels)} parcels of "
                f"{shipment.reference}"
            )
        parcels = [
            ParcelLabel(self.checked_tracking(getattr(result, "skybillNumber", None), "skybill number"), parcel.sscc,
                        parcel.weight_grams)
            for result, parcel in zip(results, shipment.parcels, strict=True)
        ]
        labels = [getattr(result, "pdfEtiquette", None) for result in results]
        if len(labels) > 1 and labels[0] and not any(labels[1:]):
            # The whole shipment in the first answer's document: accepted only as ZPL with one format per parcel.
            document = self._label_bytes(labels[0], parcels[0].tracking_number)
            if self.label_format == "PDF" or document.count(b"^XA") != len(parcels):
                raise CarrierResponseInvalid(
                    f"{self.name} returned one label document for the {len(parcels)} parcels of {shipment.reference}"
                )
            return parcels, [document]
        return parcels, [self._label_bytes(label, p.tracking_number) for label, p in zip(labels, parcels, strict=True)]

    def _withdraw(self, results: list[Any]) -> str:
        """Cancel every valid skybill of an unusable answer; says which could not be cancelled."""
        left = []
        for result in results:
            raw = getattr(result, "skybillNumber", None)
            try:
                number = self.validate_tracking(raw or "")
            except TrackingNumberInvalid:
                continue
            try:
                self.cancel(number)
            except (CarrierUnavailable, CancelRefused, ShipmentUnknown):
                left.append(number)
        if left:
            return f"cancel {', '.join(left)} at Chronopost by hand, it could not be done"
        return "the skybills Chronopost made for it were cancelled"

    def _label_request(self, shipment: Shipment, product: str) -> dict[str, Any]:
        now = dt.datetime.now(PARIS)
        day = shipment.ship_date or now.date()
        hour = now.hour if day == now.date() else 10
        count = len(shipment.parcels)
        insured = shipment.options.insured_value
        skybills = []
        for rank, parcel in enumerate(shipment.parcels, start=1):
            skybill: dict[str, Any] = {
                "bulkNumber": str(count),
                "evtCode": "DC",
                "objectType": "MAR",
                "productCode": product,
                "service": "0",
                "shipDate": dt.datetime.combine(day, dt.time(hour)),
                "shipHour": hour,
                "skybillRank": str(rank),
                "weight": Decimal(parcel.weight_grams) / 1000,
                "weightUnit": "KGM",
            }
            if parcel.has_dimensions:
                skybill.update(length=Decimal(parcel.length_mm) / 10, width=Decimal(parcel.width_mm) / 10,
                               height=Decimal(parcel.height_mm) / 10)
            if insured is not None:
                skybill.update(insuredValue=int(insured * 100), insuredCurrency="EUR")
            skybills.append(skybill)
        reference = {"shipperRef": shipment.reference[:35]}
        if shipment.relay_point_id:
            reference["recipientRef"] = shipment.relay_point_id
        return {
            "headerValue": {"accountNumber": self.account_number, "idEmit": self.id_emit},
            "shipperValue": [party_fields("shipper", shipment.ship_from, civility=True)],
            "customerValue": {**party_fields("customer", shipment.ship_from, civility=True), "printAsSender": "N"},
            "recipientValue": [party_fields("recipient", shipment.ship_to)],
            "refValue": [reference],
            "skybillValue": skybills,
            "skybillParamsValue": {"mode": self.label_format},
            "password": self.password,
            "modeRetour": "1",
            "numberOfParcel": count,
            "version": "2.0",
            "multiParcel": "Y" if count > 1 else "N",
        }

    def _label_bytes(self, document: Any, number: str) -> bytes:
        if isinstance(document, str):
            document = document.encode("utf-8")
        if not isinstance(document, bytes) or not document:
            raise CarrierResponseInvalid(f"{self.name} returned no label for {number}")
        if self.label_format == "PDF":
            if not document.startswith(b"%PDF"):
                raise CarrierResponseInvalid(f"{self.name} label for {number} is not a PDF")
        elif b"^XA" not in document or b"^XZ" not in document:
            raise CarrierResponseInvalid(f"{self.name} label for {number} is not ZPL")
        return document

    # --- cancel -----------------------------------------------------------------------------------------------

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        answer = self.soap.call("tracking", "cancelSkybill", accountNumber=self.account_number,
                                password=self.password, language=self.language, skybillNumber=number)
        code, message = error_of(answer)
        if code in CREDENTIAL_ERRORS or code in SYSTEM_ERRORS:
            raise CarrierUnavailable(f"{self.name} could not cancel {number}: {message} (code {code})")
        if code == 2:
            raise ShipmentUnknown(f"{self.name} does not know {number} on this account: {message}")
        if code != 0:
            raise CancelRefused(f"{self.name} refused to cancel {number}: {message} (code {code})")
        return Cancellation(self.code, number, message or "Skybill cancelled")

    # --- manifest ---------------------------------------------------------------------------------------------

    def manifest(self, shipments: Sequence[ShipmentLabel], day: dt.date) -> Manifest:
        """Our own hand-over list: these Chronopost services have no end-of-day bordereau to ask for."""
        return label_manifest(self, shipments, day, self.site)

    # --- relay points -----------------------------------------------------------------------------------------

    def find_relay_points(self, country: str, postal_code: str, *, city: str = "", weight_grams: int = 0,
                          limit: int = 10) -> list[RelayPoint]:
        if not postal_code.strip():
            raise ShippingInputInvalid("A Chrono Relais search needs a postcode")
        answer = self.soap.call(
            "relay", "recherchePointChronopost", accountNumber=self.account_number, password=self.password,
            address="", zipCode=postal_code.strip(), city=city, countryCode=country, type="P",
            productCode=RELAY_PRODUCT, service="T", weight=str(max(weight_grams, 1)),
            shippingDate=dt.datetime.now(PARIS).strftime("%d/%m/%Y"), maxPointChronopost=str(max(1, min(limit, 25))),
            maxDistanceSearch="10", holidayTolerant="1",
        )
        code, message = error_of(answer)
        if code in CREDENTIAL_ERRORS or code in SYSTEM_ERRORS:
            raise CarrierUnavailable(f"{self.name} relay search failed: {message} (code {code})")
        if code != 0:
            raise ShipmentRefused(f"{self.name} found no relay points for {postal_code} {country}: {message}")
        points = [relay_point(self.code, p) for p in getattr(answer, "listePointRelais", None) or []]
        return sorted(points, key=lambda p: p.distance_m if p.distance_m is not None else 1 << 30)[:limit]

    def relay_point(self, point_id: str, country: str) -> RelayPoint:
        if not point_id or not point_id.strip():
            raise RelayPointInvalid("No Chrono Relais point was chosen")
        answer = self.soap.call("relay", "rechercheDetailPointChronopost", accountNumber=self.account_number,
                                password=self.password, identifiant=point_id.strip())
        code, message = error_of(answer)
        if code in CREDENTIAL_ERRORS or code in SYSTEM_ERRORS:
            raise CarrierUnavailable(f"{self.name} relay lookup failed: {message} (code {code})")
        points = list(getattr(answer, "listePointRelais", None) or [])
        if code != 0 or not points:
            raise RelayPointInvalid(f"{self.name} does not know relay point {point_id}: {message or 'not found'}")
        return relay_point(self.code, points[0])

    # --- tracking ---------------------------------------------------------------------------------------------

    def tracking_events(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackingEvent]]:
        found: dict[str, list[TrackingEvent]] = {}
        for raw in tracking_numbers:
            number = self.validate_tracking(raw)
            answer = self.soap.call("tracking", "trackSkybillV2", language=self.language, skybillNumber=number)
            code, message = error_of(answer)
            if code in CREDENTIAL_ERRORS or code in SYSTEM_ERRORS:
                raise CarrierUnavailable(f"{self.name} tracking failed for {number}: {message} (code {code})")
            info = getattr(answer, "listEventInfoComp", None)
            events = [] if code != 0 or info is None else list(getattr(info, "events", None) or [])
            found[number] = sorted((tracking_event(number, e, self.event_statuses) for e in events), key=lambda e: e.at)
        return found

    # --- helpers ----------------------------------------------------------------------------------------------

    def _raise_for(self, answer: Any, what: str) -> None:
        code, message = error_of(answer)
        if code == 0:
            return
        if code in CREDENTIAL_ERRORS:
            raise CarrierUnavailable(f"{self.name} refused our account for {what}: {message} (code {code})")
        if code in SYSTEM_ERRORS:
            raise CarrierUnavailable(f"{self.name} failed on {what}: {message} (code {code}); try again later")
        raise ShipmentRefused(f"{self.name} refused {what}: {message or 'no reason given'} (code {code})")


def _product(service: str, *, default: str) -> str:
    """The Chronopost product code for a service: ours ("chrono13", "relais"...), a code as is, or the default."""
    if service in ("", "standard"):
        return default
    product = PRODUCTS.get(service, service)
    if not (len(product) == 2 and product.isalnum()):
        raise ShippingInputInvalid(
            f"{service!r} is not a Chronopost product (a 2-character product code or one of {', '.join(PRODUCTS)})"
        )
    return product.upper()


__all__ = ["DEFAULT_BASE_URL", "PRODUCTS", "ChronopostCarrier"]
