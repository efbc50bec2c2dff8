"""The GLS ShipIT carrier: transport with GLS's media type, create, cancel, end of day, ParcelShops, tracking."""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from wms.retry import note_outside_effect
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
from wms.shipping.gls.mapping import (
    ACCEPT,
    GLS_JSON,
    LABEL_FORMATS,
    PARCEL_NUMBER,
    PRODUCTS,
    SHOP_ID,
    TRACK_ID,
    consignee_address,
    fault,
    json_object,
    parcel_shop,
    tracking_event,
)
from wms.shipping.http_carrier import MAX_BODY_BYTES, HttpCarrier, HttpResponse


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
        if not PARCEL_NUMBER.match(value):
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
        created = json_object(response).get("CreatedShipment")
        if not isinstance(created, dict):
            raise CarrierResponseInvalid(f"{self.name} answered without a CreatedShipment")
        parcels_data = [p for p in created.get("ParcelData") or [] if isinstance(p, dict)]
        if len(parcels_data) != len(shipment.parcels):
            raise CarrierResponseInvalid(
                f"{self.name} returned {len(parcels_data)} parcels for the {len(shipment.parcels)} packed"
            )
        numbers, track_ids = [], []
        for data in parcels_data:
            numbers.append(self.checked_tracking(data.get("ParcelNumber"), "parcel number"))
            track_id = data.get("TrackID")
            if not isinstance(track_id, str) or not TRACK_ID.match(track_id):
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
            "Consignee": {"Address": consignee_address(shipment.ship_to)},
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
            if not SHOP_ID.match(shipment.relay_point_id):
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
        message, code = fault(response)
        text = f"{self.name} refused shipment {shipment.reference}: {message}"
        if "parcelshop" in message.lower() or "shopdelivery" in message.lower():
            raise RelayPointInvalid(text)
        raise ShipmentRefused(text + (f" ({code})" if code else ""))

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
        if not track_ids or not all(TRACK_ID.match(t) for t in track_ids):
            raise ShippingInputInvalid(f"{self.name} cancels by TrackID: the label's carrier reference is needed")
        results = []
        for track_id in track_ids:
            response = self.call("POST", f"/backend/rs/shipments/cancel/{track_id}")
            if response.status == 404:
                raise ShipmentUnknown(f"{self.name} does not know parcel {track_id} of {number}")
            if response.status != 200:
                raise CancelRefused(f"{self.name} refused to cancel {number}: {fault(response)[0]}")
            result = json_object(response).get("Result")
            if result == "SCANNED":
                raise CancelRefused(
                    f"{self.name} already scanned parcel {track_id} of {number}: it cannot be cancelled"
                )
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
            raise ShipmentRefused(f"{self.name} refused the end of day of {day:%d/%m/%Y}: {fault(response)[0]}")
        return label_manifest(self, labels, day, "")

    # --- relay points ---------------------------------------------------------------------------------

    def relay_point(self, point_id: str, country: str) -> RelayPoint:
        if not SHOP_ID.match(point_id or ""):
            raise RelayPointInvalid(f"{point_id!r} is not a GLS ParcelShop id")
        response = self.call("GET", f"/backend/rs/parcelshop/{point_id}")
        if response.status in (400, 404):
            raise RelayPointInvalid(f"{self.name} does not know ParcelShop {point_id}: {fault(response)[0]}")
        if response.status != 200:
            raise CarrierResponseInvalid(f"{self.name} answered HTTP {response.status} for ParcelShop {point_id}")
        point = parcel_shop(self.code, json_object(response))
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
            raise ShipmentRefused(f"{self.name} could not search ParcelShops near {postal_code}: {fault(response)[0]}")
        shops = json_object(response).get("ParcelShop")
        if not isinstance(shops, list):
            raise CarrierResponseInvalid(f"{self.name} answered a ParcelShop search without a ParcelShop list")
        points = [parcel_shop(self.code, s) for s in shops if isinstance(s, dict)]
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
                raise CarrierResponseInvalid(f"{self.name} tracking of {number}: {fault(response)[0]}")
            detail = json_object(response).get("UnitDetail")
            history = detail.get("History") if isinstance(detail, dict) else None
            if not isinstance(history, list):
                raise CarrierResponseInvalid(f"{self.name} tracking of {number} has no History")
            events[number] = sorted((tracking_event(number, h) for h in history if isinstance(h, dict)),
                                    key=lambda e: e.at)
        return events


