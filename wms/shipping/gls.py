"""Adapter for GLS France through the GLS ShipIT REST web services (`/backend/rs/...`, HTTP Basic auth, JSON).

Which API: GLS offers two ways in. The "GLS France Web API" / api.gls-group.eu (OAuth2 client credentials,
the ShipIT "Farm") could not be verified: the stored documentation has no request or response text for it.
The ShipIT REST services are published by GLS as versioned doxygen pages (shipit.gls-group.eu/webservices/
<version>/doxygen/WS-REST-API/...), and this adapter follows those, versions 3.3.20 to 5.0.11:

- create (createParcels, F-114): POST /backend/rs/shipments, `ShipmentRequestData` = {Shipment{ShipmentReference[],
  ShippingDate, Product PARCEL|EXPRESS, Consignee{Address{Name1..3, CountryCode, ZIPCode, City, Street, eMail,
  ContactPerson, MobilePhoneNumber, FixedLinePhonenumber}}, Shipper{ContactID}, ShipmentUnit[{Weight (kg),
  ShipmentUnitReference[]}], Service[]}, PrintingOptions{ReturnLabels{TemplateSet, LabelFormat}}} ->
  {CreatedShipment{ParcelData[{TrackID, ParcelNumber, Barcodes{Primary1D}, RoutingInfo}], PrintData[{Data
  (base64), LabelFormat}], CustomerID, PickupLocation, GDPR}} (the "Webservices Requests Samples" page).
- errors (the "Webservices Fault Responses Samples" page): HTTP 400 with the `message` and `error` headers
  (INVALID_FIELD_VALUE, MANDATORY_PARAMETER_NOT_SET), e.g. "Invalid field ShipmentRequestData.Shipment.Product.
  Value X is not a valid value. No matching product available for shipper ..."; 401 with WWW-Authenticate for
  bad credentials; HTTP 490 when the backend is inactive (tracking and parcel shop pages).
- relay points (ParcelShop search page, F-107): GET /backend/rs/parcelshop/{id} -> ParcelShop{ParcelShopID,
  Location{Latitude, Longitude}, Address{...}, WorkingDay[{DayOfWeek MON.., OpeningHours{OpeningHours[{From,
  To}]}, Breaks{...}}]}; ids are "{partnerID}-{local id}" (GLS_FR-250...); hours are milliseconds since midnight
  "with an offset of 1 hour" (28800000 -> 09:00), as the page says.
- tracking (F-111 page): only parcels that went through the end-of-day report are found; 490 when inactive.

What is NOT verified from GLS's own text (taken from the brief and cross-checked only against public third-party
integrations of ShipIT, so treat them as assumptions): the ZPL TemplateSet names `ZPL_200`/`ZPL_300` with
LabelFormat `ZEBRA`; the service entries `{"ShopDelivery": {"ServiceName": "service_shopdelivery",
"ParcelShopID"}}`, `service_flexdelivery`, `service_addresseeonly`; the search POST /backend/rs/parcelshop/address
{ZIPCode, CountryCode, City} and its answer's `ParcelShop` list; POST /backend/rs/shipments/cancel/{TrackID} ->
{TrackID, Result CANCELLED|CANCELLATION_PENDING|SCANNED|ERROR}; POST /backend/rs/tracking/parceldetails {TrackID}
-> {UnitDetail{History[{Date, StatusCode, Description, Location, Country}]}} and the status codes mapped below;
POST /backend/rs/shipments/endofday?date=YYYY-MM-DD (only its HTTP status is read).

Verified how: tests/integration/test_carrier_gls.py runs this adapter against tests/standins/gls.py on 127.0.0.1,
which checks every request against JSON schemas written from the pages above (tests/standins/schemas/gls/) and
answers the documented errors. Never run against the real service (no account, no network in the tests).
Not offered: customs (CN23, GLS's separate customs-consignment API), return labels, insurance, signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from wms.labels.documents.shipping import Address
from wms.retry import note_outside_effect
from wms.shipping import tracking
from wms.shipping.carrier_features import (
    Feature,
    FeatureUnsupported,
    OpeningHours,
    RelayPoint,
    RelayPointInvalid,
    TrackingEvent,
    TrackingStatus,
    needs_customs,
)
from wms.shipping.carriers import (
    PDF,
    ZPL,
    Cancellation,
    Manifest,
    ParcelLabel,
    Party,
    Shipment,
    ShipmentLabel,
    _label_manifest,
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
from wms.shipping.http_carrier import MAX_BODY_BYTES, HttpCarrier, HttpResponse

GLS_JSON = "application/glsVersion1+json"
ACCEPT = "application/glsVersion1+json, application/json"
PRODUCTS = ("PARCEL", "EXPRESS")
LABEL_FORMATS = {  # ours -> (TemplateSet, LabelFormat, content type)
    "zpl_200": ("ZPL_200", "ZEBRA", ZPL),
    "zpl_300": ("ZPL_300", "ZEBRA", ZPL),
    "pdf": ("NONE", "PDF", PDF),
}
MAX_TEXT = 40      # "Value is too long. Maximum is 40" (names, street, city, contact, phones)
MAX_EMAIL = 80
_PARCEL_NUMBER = re.compile(r"^[0-9]{11,12}$")
_TRACK_ID = re.compile(r"^[0-9A-Z]{8}$")
_SHOP_ID = re.compile(r"^(GLS_[A-Z]{2}-)?[0-9A-Z]{6,20}$")
_DAYS = {"MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6, "SUN": 7}
_HOUR_OFFSET_MS = 3_600_000  # the REST hours carry "an offset of 1 hour"
STATUS_MAP = {
    "PREADVICE": TrackingStatus.LABEL_CREATED,
    "PLANNEDPICKUP": TrackingStatus.LABEL_CREATED,
    "INPICKUP": TrackingStatus.IN_TRANSIT,
    "INTRANSIT": TrackingStatus.IN_TRANSIT,
    "INWAREHOUSE": TrackingStatus.IN_TRANSIT,
    "INDELIVERY": TrackingStatus.OUT_FOR_DELIVERY,
    "DELIVEREDPS": TrackingStatus.AT_RELAY_POINT,
    "DELIVERED": TrackingStatus.DELIVERED,
    "NOTDELIVERED": TrackingStatus.FAILED,
    "RETURNED": TrackingStatus.RETURNED,
}


class GlsCarrier(HttpCarrier):
    """Labels (one ShipmentUnit per parcel), cancels, parcel shops and tracking through GLS ShipIT REST."""

    features: ClassVar[frozenset[Feature]] = frozenset(
        {Feature.RELAY, Feature.TRACKING, Feature.MULTI_PARCEL, Feature.PDF}
    )

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        contact_id: str,
        product: str = "PARCEL",
        label_format: str = "zpl_200",
        flex_delivery: bool = False,
        addressee_only: bool = False,
        code: str = "gls",
        name: str = "GLS France",
        **http: Any,
    ) -> None:
        if not username or not password:
            raise ShippingInputInvalid("GLS ShipIT needs the user name and password GLS gave with the contract")
        if not re.fullmatch(r"[0-9A-Za-z]{1,40}", contact_id or ""):
            raise ShippingInputInvalid(f"{contact_id!r} is not a GLS ContactID (the shipper id GLS gives)")
        if product not in PRODUCTS:
            raise ShippingInputInvalid(f"The GLS product is one of {', '.join(PRODUCTS)}, not {product!r}")
        if label_format not in LABEL_FORMATS:
            raise ShippingInputInvalid(f"The GLS label format is one of {', '.join(LABEL_FORMATS)}")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        super().__init__(base_url=base_url, headers={"Authorization": f"Basic {token}"}, **http)
        self.code, self.name = code, name
        self.contact_id, self.product, self.label_format = contact_id, product, label_format
        self.flex_delivery, self.addressee_only = flex_delivery, addressee_only

    # --- transport ------------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None) -> HttpResponse:
        """One ShipIT call with GLS's own media type; transport failures, 5xx, 490, 429 and 401 raise."""
        headers = {"Accept": ACCEPT, **self._headers}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = GLS_JSON
        req = urllib.request.Request(self.url(path, query), data=data, headers=headers, method=method)
        note_outside_effect()
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                response = HttpResponse(resp.status, dict(resp.headers), resp.read(MAX_BODY_BYTES + 1))
        except urllib.error.HTTPError as exc:
            with exc:
                response = HttpResponse(exc.code, dict(exc.headers or {}), exc.read(MAX_BODY_BYTES + 1))
        except (OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise CarrierUnavailable(f"{self.name} did not answer at {self.base_url}: {reason}") from exc
        if len(response.body) > MAX_BODY_BYTES:
            raise CarrierResponseInvalid(f"{self.name} answered more than {MAX_BODY_BYTES} bytes")
        if response.status in (401, 403):
            raise CarrierUnavailable(
                f"{self.name} refused our credentials (HTTP {response.status}); check the ShipIT user and password"
            )
        if response.status == 429:
            raise CarrierUnavailable(f"{self.name} is limiting our requests (HTTP 429); try again shortly")
        if response.status == 490:
            raise CarrierUnavailable(f"{self.name} says its backend is inactive (HTTP 490); try again later")
        if response.status >= 500:
            raise CarrierUnavailable(f"{self.name} answered HTTP {response.status}; try again later")
        return response

    def validate_tracking(self, tracking_number: str) -> str:
        value = tracking.normalise(tracking_number)
        if not _PARCEL_NUMBER.match(value):
            raise TrackingNumberInvalid(f"{tracking_number!r} is not a GLS parcel number (11 or 12 digits)")
        return value

    # --- create ---------------------------------------------------------------------------------------

    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        if needs_customs(shipment.ship_from.address, shipment.ship_to.address):
            raise FeatureUnsupported(
                f"{self.name} customs (CN23) is not supported here: ship {shipment.reference} with another carrier"
            )
        if shipment.options.insured_value is not None or shipment.options.signature:
            raise FeatureUnsupported(f"{self.name} insurance and signature options are not supported here")
        template_set, label_format, content_type = LABEL_FORMATS[self.label_format]
        body = {
            "Shipment": self._shipment_body(shipment),
            "PrintingOptions": {"ReturnLabels": {"TemplateSet": template_set, "LabelFormat": label_format}},
        }
        response = self.call("POST", "/backend/rs/shipments", body)
        if response.status != 200:
            self._refuse(shipment, response)
        created = _object(response).get("CreatedShipment")
        if not isinstance(created, dict):
            raise CarrierResponseInvalid(f"{self.name} answered without a CreatedShipment")
        parcels_data = [p for p in created.get("ParcelData") or [] if isinstance(p, dict)]
        if len(parcels_data) != len(shipment.parcels):
            raise CarrierResponseInvalid(
                f"{self.name} returned {len(parcels_data)} parcels for the {len(shipment.parcels)} packed"
            )
        numbers, track_ids = [], []
        for data in parcels_data:
            numbers.append(self._checked_number(data.get("ParcelNumber")))
            track_id = data.get("TrackID")
            if not isinstance(track_id, str) or not _TRACK_ID.match(track_id):
                raise CarrierResponseInvalid(f"{self.name} returned a bad TrackID {track_id!r}")
            track_ids.append(track_id)
        label = self._labels(created.get("PrintData"), label_format, len(shipment.parcels))
        return ShipmentLabel(
            carrier=self.code,
            service=self.product,
            shipment_reference=shipment.reference,
            tracking_number=numbers[0],
            parcels=tuple(
                ParcelLabel(number, parcel.sscc, parcel.weight_grams)
                for number, parcel in zip(numbers, shipment.parcels, strict=True)
            ),
            label=label,
            content_type=content_type,
            destination=shipment.destination,
            carrier_reference=",".join(track_ids),
        )

    def _shipment_body(self, shipment: Shipment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ShipmentReference": [shipment.reference[:40]],
            "Product": self.product,
            "Consignee": {"Address": _address(shipment.ship_to)},
            "Shipper": {"ContactID": self.contact_id},
            "ShipmentUnit": [
                {"Weight": round(parcel.weight_grams / 1000, 2) or 0.01,
                 "ShipmentUnitReference": [f"{shipment.reference[:34]} {i}/{len(shipment.parcels)}"]}
                for i, parcel in enumerate(shipment.parcels, start=1)
            ],
        }
        if shipment.ship_date:
            body["ShippingDate"] = f"{shipment.ship_date:%Y-%m-%d}"
        services = []
        if shipment.relay_point_id:
            if not _SHOP_ID.match(shipment.relay_point_id):
                raise RelayPointInvalid(f"{shipment.relay_point_id!r} is not a GLS ParcelShop id")
            services.append({"ShopDelivery": {"ServiceName": "service_shopdelivery",
                                              "ParcelShopID": shipment.relay_point_id}})
        else:
            if self.flex_delivery:
                services.append({"Service": {"ServiceName": "service_flexdelivery"}})
            if self.addressee_only:
                services.append({"Service": {"ServiceName": "service_addresseeonly"}})
        if services:
            body["Service"] = services
        return body

    def _refuse(self, shipment: Shipment, response: HttpResponse) -> None:
        message, code = _fault(response)
        text = f"{self.name} refused shipment {shipment.reference}: {message}"
        if "parcelshop" in message.lower() or "shopdelivery" in message.lower():
            raise RelayPointInvalid(text)
        raise ShipmentRefused(text + (f" ({code})" if code else ""))

    def _checked_number(self, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise CarrierResponseInvalid(f"{self.name} returned no parcel number")
        try:
            return self.validate_tracking(value)
        except TrackingNumberInvalid as exc:
            raise CarrierResponseInvalid(f"{self.name} returned a bad parcel number: {exc.detail}") from exc

    def _labels(self, print_data: Any, label_format: str, count: int) -> bytes:
        """The decoded labels, one per parcel, as one print job."""
        items = [p for p in print_data or [] if isinstance(p, dict)] if isinstance(print_data, list) else []
        if len(items) != count and not (label_format == "PDF" and len(items) == 1):
            raise CarrierResponseInvalid(f"{self.name} returned {len(items)} labels for {count} parcels")
        documents = []
        for item in items:
            try:
                document = base64.b64decode(item.get("Data") or "", validate=True)
            except (binascii.Error, ValueError, TypeError) as exc:
                raise CarrierResponseInvalid(f"{self.name} label data is not base64") from exc
            if label_format == "ZEBRA" and not (b"^XA" in document and b"^XZ" in document):
                raise CarrierResponseInvalid(f"{self.name} label is not ZPL")
            if label_format == "PDF" and not document.startswith(b"%PDF"):
                raise CarrierResponseInvalid(f"{self.name} label is not a PDF")
            documents.append(document)
        if label_format == "PDF" and len(documents) != 1:
            raise CarrierResponseInvalid(f"{self.name} returned several PDFs; expected one document")
        return b"\n".join(d.rstrip(b"\n") for d in documents) + (b"\n" if label_format == "ZEBRA" else b"")

    # --- cancel ---------------------------------------------------------------------------------------

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        track_ids = [t for t in (carrier_reference or "").split(",") if t]
        if not track_ids or not all(_TRACK_ID.match(t) for t in track_ids):
            raise ShippingInputInvalid(f"{self.name} cancels by TrackID: the label's carrier reference is needed")
        results = []
        for track_id in track_ids:
            response = self.call("POST", f"/backend/rs/shipments/cancel/{track_id}")
            if response.status == 404:
                raise ShipmentUnknown(f"{self.name} does not know parcel {track_id} of {number}")
            if response.status != 200:
                raise CancelRefused(f"{self.name} refused to cancel {number}: {_fault(response)[0]}")
            result = _object(response).get("Result")
            if result == "SCANNED":
                raise CancelRefused(f"{self.name} already scanned parcel {track_id} of {number}: it cannot be cancelled")
            if result not in ("CANCELLED", "CANCELLATION_PENDING"):
                raise CancelRefused(f"{self.name} did not cancel parcel {track_id} of {number} ({result})")
            results.append(result)
        pending = "CANCELLATION_PENDING" in results
        return Cancellation(self.code, number, "Cancellation pending at GLS" if pending else "Cancelled at GLS")

    # --- manifest -------------------------------------------------------------------------------------

    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        """GLS's end-of-day closing for `day`, then our own list of the parcels handed over."""
        labels = self.manifest_labels(shipments, day)
        response = self.call("POST", "/backend/rs/shipments/endofday", query={"date": f"{day:%Y-%m-%d}"})
        if response.status != 200:
            raise ShipmentRefused(f"{self.name} refused the end of day of {day:%d/%m/%Y}: {_fault(response)[0]}")
        return _label_manifest(self, labels, day, "")

    # --- relay points ---------------------------------------------------------------------------------

    def relay_point(self, point_id: str, country: str) -> RelayPoint:
        if not _SHOP_ID.match(point_id or ""):
            raise RelayPointInvalid(f"{point_id!r} is not a GLS ParcelShop id")
        response = self.call("GET", f"/backend/rs/parcelshop/{point_id}")
        if response.status in (400, 404):
            raise RelayPointInvalid(f"{self.name} does not know ParcelShop {point_id}: {_fault(response)[0]}")
        if response.status != 200:
            raise CarrierResponseInvalid(f"{self.name} answered HTTP {response.status} for ParcelShop {point_id}")
        point = _relay_point(self.code, _object(response))
        if point.address.country != country:
            raise RelayPointInvalid(f"ParcelShop {point_id} is in {point.address.country}, not {country}")
        return point

    def find_relay_points(self, country: str, postal_code: str, *, city: str = "", weight_grams: int = 0,
                          limit: int = 10) -> list[RelayPoint]:
        body = {"ZIPCode": postal_code.strip(), "CountryCode": country}
        if city:
            body["City"] = city
        response = self.call("POST", "/backend/rs/parcelshop/address", body)
        if response.status != 200:
            raise ShipmentRefused(f"{self.name} could not search ParcelShops near {postal_code}: {_fault(response)[0]}")
        shops = _object(response).get("ParcelShop")
        if not isinstance(shops, list):
            raise CarrierResponseInvalid(f"{self.name} answered a ParcelShop search without a ParcelShop list")
        points = [_relay_point(self.code, s) for s in shops if isinstance(s, dict)]
        points = [p for p in points if not weight_grams or p.max_weight_grams is None
                  or weight_grams <= p.max_weight_grams]
        points.sort(key=lambda p: (p.distance_m is None, p.distance_m or 0))
        return points[:limit]

    # --- tracking -------------------------------------------------------------------------------------

    def tracking_events(self, tracking_numbers: Sequence[str]) -> dict[str, list[TrackingEvent]]:
        events: dict[str, list[TrackingEvent]] = {}
        for raw in tracking_numbers:
            number = self.validate_tracking(raw)
            response = self.call("POST", "/backend/rs/tracking/parceldetails", {"TrackID": number})
            if response.status == 404:
                events[number] = []
                continue
            if response.status != 200:
                raise CarrierResponseInvalid(f"{self.name} tracking of {number}: {_fault(response)[0]}")
            detail = _object(response).get("UnitDetail")
            history = detail.get("History") if isinstance(detail, dict) else None
            if not isinstance(history, list):
                raise CarrierResponseInvalid(f"{self.name} tracking of {number} has no History")
            events[number] = sorted((_event(number, h) for h in history if isinstance(h, dict)),
                                    key=lambda e: e.at)
        return events


# --- mapping at the edge ------------------------------------------------------------------------------------


def _address(party: Party) -> dict[str, Any]:
    """A ShipIT consignee address; fields over GLS's documented lengths are refused here, not truncated."""
    a = party.address
    name1 = party.company or a.name
    body: dict[str, Any] = {
        "Name1": name1,
        "CountryCode": a.country,
        "ZIPCode": a.postal_code.strip(),
        "City": a.city,
        "Street": a.street[0],
        "ContactPerson": a.name,
    }
    if party.company:
        body["Name2"] = a.name
    if len(a.street) > 1 and a.street[1].strip():
        body["Name3"] = a.street[1]
    if party.email:
        body["eMail"] = party.email
    if party.phone:
        digits = re.sub(r"[^0-9+]", "", party.phone)
        mobile = re.match(r"^(\+33|0033|0)[67]", digits)
        body["MobilePhoneNumber" if mobile else "FixedLinePhonenumber"] = digits
    for key, value in body.items():
        limit = MAX_EMAIL if key == "eMail" else MAX_TEXT
        if len(value) > limit:
            raise ShipmentRefused(f"GLS takes at most {limit} characters in {key}: {value!r} is too long")
    if not body["ZIPCode"]:
        raise ShipmentRefused("GLS needs the consignee's postal code")
    return body


def _fault(response: HttpResponse) -> tuple[str, str]:
    """GLS's `message` and `error` headers (the documented faults), else a JSON message, else the status."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    message, code = headers.get("message", ""), headers.get("error", "")
    if not message:
        try:
            data = json.loads(response.body or b"null")
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            message = data["message"]
    return (message or f"HTTP {response.status}"), code


def _object(response: HttpResponse) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise CarrierResponseInvalid(f"GLS answered HTTP {response.status} with JSON that is not an object")
    return data


def _hhmm(ms: Any) -> str:
    if not isinstance(ms, int):
        raise CarrierResponseInvalid(f"GLS opening hour {ms!r} is not milliseconds")
    minutes = ((ms + _HOUR_OFFSET_MS) // 60_000) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _spans(block: Any) -> list[tuple[str, str]]:
    items = block.get("OpeningHours") if isinstance(block, dict) else None
    return [(_hhmm(s.get("From")), _hhmm(s.get("To"))) for s in items or [] if isinstance(s, dict)]


def _opening_hours(working_days: Any) -> tuple[OpeningHours, ...]:
    """Opening spans per weekday, with the breaks cut out."""
    hours = []
    for day in working_days or []:
        if not isinstance(day, dict) or day.get("DayOfWeek") not in _DAYS:
            continue
        weekday = _DAYS[day["DayOfWeek"]]
        breaks = sorted(_spans(day.get("Breaks")))
        for opens, closes in _spans(day.get("OpeningHours")):
            start = opens
            for b_from, b_to in breaks:
                if start < b_from < closes:
                    hours.append(OpeningHours(weekday, start, b_from))
                    start = b_to
            if start < closes:
                hours.append(OpeningHours(weekday, start, closes))
    return tuple(sorted(hours, key=lambda h: (h.weekday, h.opens)))


def _relay_point(carrier: str, shop: Mapping[str, Any]) -> RelayPoint:
    point_id = shop.get("ParcelShopID")
    address = shop.get("Address")
    if not isinstance(point_id, str) or not isinstance(address, dict):
        raise CarrierResponseInvalid("GLS answered a ParcelShop without its id or address")
    street = " ".join(str(address.get(k) or "") for k in ("StreetNumber", "Street")).strip()
    location = shop.get("Location") if isinstance(shop.get("Location"), dict) else {}
    distance = shop.get("Distance")

    def _float(value: Any) -> float | None:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    max_weight = shop.get("MaxParcelWeight")
    return RelayPoint(
        carrier=carrier,
        id=point_id,
        name=str(address.get("Name1") or point_id),
        address=Address(str(address.get("Name1") or point_id), (street,), str(address.get("ZIPCode") or ""),
                        str(address.get("City") or ""), str(address.get("CountryCode") or "")),
        opening_hours=_opening_hours(shop.get("WorkingDay")),
        distance_m=round(float(distance) * 1000) if _float(distance) is not None else None,
        max_weight_grams=round(float(max_weight) * 1000) if _float(max_weight) is not None else None,
        latitude=_float(location.get("Latitude")),
        longitude=_float(location.get("Longitude")),
    )


def _event(number: str, item: Mapping[str, Any]) -> TrackingEvent:
    try:
        at = dt.datetime.fromisoformat(str(item.get("Date")))
    except ValueError as exc:
        raise CarrierResponseInvalid(f"GLS tracking date {item.get('Date')!r} is not ISO 8601") from exc
    if at.tzinfo is None:
        raise CarrierResponseInvalid(f"GLS tracking date {item.get('Date')!r} carries no offset")
    code = str(item.get("StatusCode") or "")
    where = ", ".join(str(item[k]) for k in ("Location", "Country") if item.get(k))
    # an unknown code keeps its GLS wording; it does not end the tracking
    status = STATUS_MAP.get(code.upper(), TrackingStatus.IN_TRANSIT)
    return TrackingEvent(number, at, status, code, str(item.get("Description") or code), where)
