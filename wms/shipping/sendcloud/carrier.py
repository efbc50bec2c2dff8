"""Adapter for the Sendcloud API v3 (Shipments, Parcel documents, Parcel tracking, Returns) and the Sendcloud
Service Points API v2: Sendcloud as the aggregator for the carriers we have no direct adapter for.

Written from Sendcloud's published OpenAPI documents (sendcloud.dev: .openapi/v3/shipments/openapi.yaml,
the v3 parcel documents, parcel tracking and returns documents, as bundled in the generated client
toppynl/sendcloud-php-client `openapi.json`, server https://panel.sendcloud.sc/api/v3), the guides "Create a
shipment" and "Creating a shipment with service point delivery", and the Service Points API v2 document
(server https://servicepoints.sendcloud.sc/api/v2). What each call is, as documented:

- create: POST /shipments/announce (synchronous, "max parcels per shipment: 15", so multicollo up to 15)
  {from_address, to_address, ship_with{type: shipping_option_code, properties{shipping_option_code,
  contract_id}}, to_service_point{id}, order_number, external_reference_id, label_details{mime_type:
  application/zpl, dpi: 203}, customs_information{invoice_number (<= 40), export_reason, export_type,
  freight_costs}, parcels[{weight{value, unit}, dimensions, sscc (18 digits), additional_insured_price,
  label_notes, parcel_items[{description, quantity, weight, price, hs_code, origin_country}]}]}
  -> 201 {data{id, parcels[{id, tracking_number, status{code}, documents[{type: label, link}]}], errors[]}};
  400 {errors[{status, code, detail, source{pointer}}]}. A 201 whose parcels are ANNOUNCEMENT_FAILED is a
  refusal: the shipment is cancelled again (POST /shipments/{id}/cancel) so nothing stays half-created.
- label: GET /parcels/{id}/documents/label?dpi=203&paper_size=A6 with `Accept: application/zpl`, from the
  document link of the answer, only when that link is on the API origin.
- cancel: POST /shipments/{id}/cancel -> 200 {data{status: cancelled}} / 202 {data{status: queued}} / 404 /
  409 {errors}; without the id, GET /shipments?tracking_number=... -> {data[{id}]}.
- tracking: GET /parcels/tracking/{tracking_number} -> {events[{event_at, status_code, status_description}]}
  (404: the parcel does not exist). Status codes are mapped from the documented parcel status list.
- returns: POST /returns/announce-synchronously {from_address, to_address, ship_with{type,
  shipping_option_code, contract}, weight, collo_count, parcel_items, customs_invoice_nr, external_reference}
  -> 201 {return_id, parcel_id}; then GET /returns/{id} (tracking_number) and the parcel's label document.
- service points: GET /service-points?country=&address=&carrier=&weight= (kg; Sendcloud applies it to the
  carriers that limit some points) and GET /service-points/{id} -> {id, code, is_active, name, street,
  house_number, postal_code, city, country, latitude, longitude, distance (metres, null without a reference
  point), formatted_opening_times{"0": ["09:00 - 18:00"]}, carrier}. A requested carrier must be enabled in
  the Sendcloud integration settings, else 400. No per-point weight limit is published.
- auth: HTTP Basic with the API public key and secret key; 401/403 and 5xx -> CarrierUnavailable; 429 (with
  Retry-After) -> CarrierUnavailable saying when to try again.

Not from Sendcloud: the end-of-day manifest. Sendcloud v3 publishes no bordereau endpoint (carriers' pick-ups
are a separate API), so `manifest()` prints our own list of the handed-over parcels, like the built-in carriers.
Signature is not a field in v3: it is a functionality of the shipping option, so a signature shipment uses the
configured `signature_option_code`. Customs items all go on the first parcel of a multicollo shipment.

What is verified: tests/integration/test_carrier_sendcloud.py runs this adapter against a stand-in on
127.0.0.1 (tests/standins/sendcloud.py) that validates every request against JSON schemas written from those
documents (tests/standins/schemas/sendcloud/) and answers in the documented shapes and errors. It is NOT
verified against the real service (no account or network in the tests); in particular the carrier-native ZPL
and the tracking `status_code` values beyond the documented example ("accepted") are as documented, not seen.
"""

from __future__ import annotations

import base64
import contextlib
import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from wms.shipping import tracking
from wms.shipping.carrier_features import (
    Feature,
    FeatureUnsupported,
    RelayPoint,
    RelayPointInvalid,
    TrackingEvent,
    needs_customs,
)
from wms.shipping.carriers import (
    ZPL,
    Cancellation,
    Manifest,
    ParcelLabel,
    Shipment,
    ShipmentLabel,
    label_manifest,
)
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    CarrierUnavailable,
    ShipmentRefused,
    ShipmentUnknown,
    ShippingInputInvalid,
    TrackingNumberInvalid,
)
from wms.shipping.http_carrier import HttpCarrier, HttpResponse
from wms.shipping.sendcloud import payloads

DEFAULT_BASE_URL = "https://panel.sendcloud.sc/api/v3"
DEFAULT_SERVICE_POINTS_URL = "https://servicepoints.sendcloud.sc/api/v2"
ZPL_ACCEPT = "application/zpl"


class SendcloudCarrier(HttpCarrier):
    """Labels (ZPL, A6 at 203 dpi), multicollo, customs, returns, tracking and service points via Sendcloud."""

    features: ClassVar[frozenset[Feature]] = frozenset({
        Feature.RELAY, Feature.TRACKING, Feature.RETURNS, Feature.CUSTOMS, Feature.MULTI_PARCEL,
        Feature.INSURANCE, Feature.SIGNATURE,
    })

    def __init__(
        self,
        *,
        public_key: str,
        secret_key: str,
        shipping_option_code: str,
        contract_id: int | None = None,
        signature_option_code: str | None = None,
        return_option_code: str | None = None,
        service_point_carrier: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        service_points_url: str = DEFAULT_SERVICE_POINTS_URL,
        currency: str = "EUR",
        site: str = "",
        code: str = "sendcloud",
        name: str = "Sendcloud",
        **http: Any,
    ) -> None:
        if not public_key or not secret_key:
            raise ShippingInputInvalid("Sendcloud needs the API public key and secret key")
        for what, value in (("shipping option", shipping_option_code), ("signature option", signature_option_code),
                            ("return option", return_option_code)):
            if value is not None and (not value or ":" not in value or any(c.isspace() for c in value)):
                raise ShippingInputInvalid(f"{value!r} is not a Sendcloud {what} code (e.g. colissimo:home)")
        if contract_id is not None and (not isinstance(contract_id, int) or contract_id <= 0):
            raise ShippingInputInvalid("A Sendcloud contract id is a whole number above 0")
        sp = urllib.parse.urlsplit(service_points_url or "")
        if sp.scheme not in ("http", "https") or not sp.hostname:
            raise ShippingInputInvalid(f"The Sendcloud service points URL {service_points_url!r} is not http(s)")
        token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
        super().__init__(base_url=base_url, headers={"Authorization": f"Basic {token}"}, **http)
        self.code, self.name, self.site, self.currency = code, name, site, currency
        self.shipping_option_code, self.contract_id = shipping_option_code, contract_id
        self.signature_option_code, self.return_option_code = signature_option_code, return_option_code
        self.service_point_carrier = service_point_carrier or shipping_option_code.split(":", 1)[0]
        self.service_points_url = service_points_url.rstrip("/")

    def validate_tracking(self, tracking_number: str) -> str:
        value = tracking.normalise(tracking_number)
        if not value.isalnum() or not 6 <= len(value) <= 40:
            raise TrackingNumberInvalid(f"{tracking_number!r} does not look like a tracking number")
        return value

    # --- requests --------------------------------------------------------------------------------------

    def call(self, method: str, path_or_url: str, **kwargs: Any) -> HttpResponse:
        """One request; a rate limit (429) is the carrier being unavailable for now, with its Retry-After."""
        response = self.request(method, path_or_url, **kwargs)
        if response.status == 429:
            retry = {k.lower(): v for k, v in response.headers.items()}.get("retry-after", "")
            wait = f" in {retry} s" if retry.strip().isdigit() else " later"
            raise CarrierUnavailable(f"{self.name} is rate limiting our calls (HTTP 429); try again{wait}")
        return response

    # --- create ----------------------------------------------------------------------------------------

    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        body = self._shipment_body(shipment)
        response = self.call("POST", "/shipments/announce", json_body=body)
        if response.status in (400, 404, 422):
            self._refuse(shipment, response)
        if response.status not in (200, 201):
            raise CarrierResponseInvalid(f"{self.name} answered HTTP {response.status} to the announcement")
        data = payloads.data_object(response)
        shipment_id = payloads.string(data, "id")
        try:
            parcels = self._announced_parcels(shipment, data)
            numbers = [self.checked_tracking(p.get("tracking_number")) for p in parcels]
            documents = [self._label(p) for p in parcels]
        except Exception:
            self._withdraw(shipment_id)
            raise
        labels = tuple(
            ParcelLabel(number, ours.sscc, ours.weight_grams)
            for number, ours in zip(numbers, shipment.parcels, strict=True)
        )
        return ShipmentLabel(
            carrier=self.code,
            service=body["ship_with"]["properties"]["shipping_option_code"],
            shipment_reference=shipment.reference,
            tracking_number=numbers[0],
            parcels=labels,
            label=b"".join(documents),
            content_type=ZPL,
            destination=shipment.destination,
            carrier_reference=shipment_id,
        )

    def _shipment_body(self, shipment: Shipment) -> dict[str, Any]:
        if len(shipment.parcels) > payloads.MAX_PARCELS:
            raise ShipmentRefused(
                f"Sendcloud announces up to {payloads.MAX_PARCELS} parcels in one shipment, "
                f"{shipment.reference} has {len(shipment.parcels)}"
            )
        option = self.shipping_option_code
        if shipment.options.signature:
            if not self.signature_option_code:
                raise FeatureUnsupported(f"No Sendcloud shipping option with signature is set up for {self.name}")
            option = self.signature_option_code
        properties: dict[str, Any] = {"shipping_option_code": option}
        if self.contract_id is not None:
            properties["contract_id"] = self.contract_id
        parcels = [payloads.parcel(p, shipment.reference) for p in shipment.parcels]
        insured = shipment.options.insured_value
        if insured is not None:
            if insured <= 0:
                raise ShippingInputInvalid("An insured value is above 0")
            share = (insured / len(parcels)).quantize(Decimal("0.01"))
            for body in parcels:
                body["additional_insured_price"] = payloads.money(share, self.currency)
        body: dict[str, Any] = {
            "from_address": payloads.address(shipment.ship_from, "ship-from"),
            "to_address": payloads.address(shipment.ship_to, "ship-to"),
            "ship_with": {"type": "shipping_option_code", "properties": properties},
            "order_number": shipment.reference,
            "external_reference_id": shipment.reference,
            "label_details": {"mime_type": ZPL_ACCEPT, "dpi": 203},
            "parcels": parcels,
        }
        if shipment.relay_point_id:
            body["to_service_point"] = {"id": shipment.relay_point_id}
        if shipment.value is not None:
            body["total_order_price"] = payloads.money(shipment.value, self.currency)
        if needs_customs(shipment.ship_from.address, shipment.ship_to.address):
            if shipment.customs is None:
                raise ShipmentRefused(
                    f"{shipment.reference} goes to {shipment.ship_to.address.country}, outside the EU customs "
                    "union: it needs its customs lines (CN23)"
                )
            customs = shipment.customs
            body["customs_information"] = payloads.customs_information(
                customs, customs.invoice_number or shipment.reference
            )
            parcels[0]["parcel_items"] = payloads.parcel_items(customs)
        return body

    def _refuse(self, shipment: Shipment, response: HttpResponse) -> None:
        text = payloads.errors(response)
        if any(p.startswith("/to_service_point") for p in payloads.error_pointers(response)):
            raise RelayPointInvalid(
                f"{self.name} refused relay point {shipment.relay_point_id} for {shipment.reference}: {text}"
            )
        raise ShipmentRefused(f"{self.name} refused shipment {shipment.reference}: {text}")

    def _announced_parcels(self, shipment: Shipment, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        raw = data.get("parcels")
        parcels = [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []
        failed = any(_status_code(p) == "ANNOUNCEMENT_FAILED" for p in parcels)
        if failed or (not parcels and payloads.error_text(data)):
            raise ShipmentRefused(
                f"{self.name} could not announce {shipment.reference} to the carrier: "
                f"{payloads.error_text(data) or 'announcement failed'}"
            )
        if len(parcels) != len(shipment.parcels):
            raise CarrierResponseInvalid(
                f"{self.name} announced {len(parcels)} parcels for the {len(shipment.parcels)} of {shipment.reference}"
            )
        return parcels

    def _label(self, parcel: Mapping[str, Any]) -> bytes:
        parcel_id = payloads.string(parcel, "id")
        link = next(
            (d.get("link") for d in parcel.get("documents") or []
             if isinstance(d, dict) and d.get("type") == "label" and isinstance(d.get("link"), str)),
            self.url(f"/parcels/{parcel_id}/documents/label"),
        )
        query = urllib.parse.urlencode({"dpi": 203, "paper_size": "A6"})
        document = self.download(f"{link}{'&' if '?' in link else '?'}{query}", accept=ZPL_ACCEPT)
        if b"^XA" not in document[:64]:
            raise CarrierResponseInvalid(f"{self.name} label of parcel {parcel_id} is not ZPL")
        return document

    def _withdraw(self, shipment_id: str) -> None:
        """Cancel a shipment we could not finish (no label): it must not stay announced and be invoiced."""
        # the caller gets the first error; a cancel that fails too is left to the shipment's own cancel
        with contextlib.suppress(CarrierUnavailable):
            self.call("POST", f"/shipments/{urllib.parse.quote(shipment_id, safe='')}/cancel")

    # --- cancel ----------------------------------------------------------------------------------------

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        shipment_id = carrier_reference or self._shipment_id_for(number)
        response = self.call("POST", f"/shipments/{urllib.parse.quote(shipment_id, safe='')}/cancel")
        if response.status == 404:
            raise ShipmentUnknown(f"{self.name} has no shipment {shipment_id} for {number}")
        if response.status not in (200, 202):
            raise CancelRefused(f"{self.name} refused to cancel {number}: {payloads.errors(response)}")
        data = payloads.data_object(response)
        message = data.get("message") if isinstance(data.get("message"), str) else ""
        if data.get("status") not in ("cancelled", "queued"):
            raise CancelRefused(f"{self.name} did not cancel {number}: {message or data.get('status')}")
        return Cancellation(self.code, number, message or f"Shipment {data['status']}")

    def _shipment_id_for(self, number: str) -> str:
        response = self.call("GET", "/shipments", query={"tracking_number": number})
        found = []
        if response.status == 200:
            body = response.json()
            rows = body.get("data") if isinstance(body, dict) else None
            found = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
        if not found:
            raise ShipmentUnknown(f"{self.name} has no shipment with tracking number {number}")
        return payloads.string(found[0], "id")

    # --- manifest (ours: Sendcloud has none) -------------------------------------------------------------

    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        return label_manifest(self, shipments, day, self.site)

    # --- tracking --------------------------------------------------------------------------------------

    def tracking_events(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackingEvent]]:
        events: dict[str, list[TrackingEvent]] = {}
        for raw in tracking_numbers:
            number = self.validate_tracking(raw)
            response = self.call("GET", f"/parcels/tracking/{urllib.parse.quote(number, safe='')}")
            if response.status == 404:
                events[number] = []
                continue
            if response.status != 200:
                raise CarrierResponseInvalid(f"{self.name} tracking of {number}: {payloads.errors(response)}")
            body = response.json()
            raw_events = body.get("events") if isinstance(body, dict) else None
            if not isinstance(raw_events, list):
                raise CarrierResponseInvalid(f"{self.name} tracking of {number} has no events list")
            mapped = [e for e in (payloads.tracking_event(number, r) for r in raw_events) if e is not None]
            events[number] = sorted(mapped, key=lambda e: e.at)
        return events

    # --- returns ---------------------------------------------------------------------------------------

    def create_return(self, shipment: Shipment) -> ShipmentLabel:
        if not self.return_option_code:
            raise FeatureUnsupported(f"No Sendcloud return shipping option is set up for {self.name}")
        body = payloads.return_body(shipment, self.return_option_code, self.contract_id)
        response = self.call("POST", "/returns/announce-synchronously", json_body=body)
        if response.status in (400, 404, 422):
            raise ShipmentRefused(f"{self.name} refused the return {shipment.reference}: {payloads.errors(response)}")
        if response.status not in (200, 201):
            raise CarrierResponseInvalid(f"{self.name} answered HTTP {response.status} to the return")
        created = response.json()
        if not isinstance(created, dict):
            raise CarrierResponseInvalid(f"{self.name} answered a return that is not an object")
        return_id, parcel_id = payloads.string(created, "return_id"), payloads.string(created, "parcel_id")
        details = self.call("GET", f"/returns/{return_id}")
        if details.status != 200:
            raise CarrierResponseInvalid(f"{self.name} return {return_id}: {payloads.errors(details)}")
        detail = details.json()
        number = self.checked_tracking(detail.get("tracking_number") if isinstance(detail, dict) else None)
        label = self._label({"id": parcel_id})
        return ShipmentLabel(
            carrier=self.code,
            service=self.return_option_code,
            shipment_reference=shipment.reference,
            tracking_number=number,
            parcels=(ParcelLabel(number, None, shipment.weight_grams),),
            label=label,
            content_type=ZPL,
            destination=shipment.destination,
            carrier_reference=return_id,
        )

    # --- service points ----------------------------------------------------------------------------------

    def find_relay_points(self, country: str, postal_code: str, *, city: str = "", weight_grams: int = 0,
                          limit: int = 10) -> list[RelayPoint]:
        query = {"country": country, "address": " ".join(p for p in (postal_code, city) if p),
                 "carrier": self.service_point_carrier}
        if weight_grams:
            query["weight"] = f"{weight_grams / 1000:g}"
        response = self.call("GET", f"{self.service_points_url}/service-points?{urllib.parse.urlencode(query)}")
        if response.status == 400:
            raise ShipmentRefused(f"{self.name} cannot search service points near {postal_code} {country}: "
                                  f"{payloads.errors(response)}")
        if response.status != 200:
            raise CarrierResponseInvalid(f"{self.name} service point search: {payloads.errors(response)}")
        rows = response.json()
        if not isinstance(rows, list):
            raise CarrierResponseInvalid(f"{self.name} service point search did not answer a list")
        points = [payloads.relay_point(self.code, row) for row in rows]
        points.sort(key=lambda p: p.distance_m if p.distance_m is not None else 1 << 40)
        return points[:limit]

    def relay_point(self, point_id: str, country: str) -> RelayPoint:
        if not point_id or not point_id.strip().isdigit():
            raise RelayPointInvalid(f"{point_id!r} is not a Sendcloud service point id")
        response = self.call("GET", f"{self.service_points_url}/service-points/{point_id.strip()}")
        if response.status == 404:
            raise RelayPointInvalid(f"{self.name} knows no service point {point_id}")
        if response.status != 200:
            raise CarrierResponseInvalid(f"{self.name} service point {point_id}: {payloads.errors(response)}")
        point = payloads.relay_point(self.code, response.json())
        if point.address.country and point.address.country != country:
            raise RelayPointInvalid(f"service point {point_id} is in {point.address.country}, not {country}")
        return point


def _status_code(parcel: Mapping[str, Any]) -> str:
    status = parcel.get("status")
    code = status.get("code") if isinstance(status, dict) else None
    return code if isinstance(code, str) else ""
