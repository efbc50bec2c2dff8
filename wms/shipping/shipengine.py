"""Adapter for the ShipEngine REST API v1 (now "ShipStation API"), whose schema is published.

Written from ShipEngine's public documentation (docs.shipstation.com/apis/shipengine, the OpenAPI document
ShipEngine published as github.com/ShipEngine/shipengine-openapi, mirrored by APIs.guru, and the
shipengine-json-schema package):

- create:  POST /v1/labels  {"shipment": {service_code, carrier_id?, external_shipment_id, ship_date,
           ship_to, ship_from, packages[{weight{value, unit}, dimensions{unit, length, width, height},
           label_messages{reference1}}]}, "label_format": "zpl", "label_layout": "4x6",
           "label_download_type": "url"} -> {label_id, status, tracking_number, packages[{tracking_number}],
           label_download{href, pdf, png, zpl}}. The ZPL is then fetched from label_download.zpl (or href).
- cancel:  PUT /v1/labels/{label_id}/void -> {approved, message}; without the label id, it is found with
           GET /v1/labels?tracking_number=... -> {labels[{label_id, ...}]}.
- manifest: POST /v1/manifests {"label_ids": [...]} -> {manifest_id, manifest_download{href}, ...}; the
           manifest document (a PDF) is fetched from that href.
- auth:    the `API-Key` header; errors come as {request_id, errors[{message, error_code, ...}]}.

What is verified: tests/unit/shipping/test_shipengine.py runs this adapter against a stand-in server on
127.0.0.1 that checks every request against a JSON schema written down from that documentation, and
answers in the documented shapes. It is NOT verified against the real service (no account or network
in the tests): field names and behaviour are as documented, not as observed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from wms.shipping import tracking
from wms.shipping.carriers import (
    PDF,
    ZPL,
    Cancellation,
    Manifest,
    ParcelLabel,
    Party,
    Shipment,
    ShipmentLabel,
)
from wms.shipping.errors import (
    CancelRefused,
    CarrierResponseInvalid,
    ShipmentRefused,
    ShipmentUnknown,
    ShippingInputInvalid,
    TrackingNumberInvalid,
)
from wms.shipping.http_carrier import HttpCarrier, HttpResponse

DEFAULT_BASE_URL = "https://api.shipengine.com"
_SE_ID = re.compile(r"^se(-[a-z0-9]+)+$")


class ShipEngineCarrier(HttpCarrier):
    """Labels, voids and manifests through ShipEngine; `service_code` is ShipEngine's (e.g. ups_ground)."""

    def __init__(
        self,
        *,
        api_key: str,
        service_code: str,
        base_url: str = DEFAULT_BASE_URL,
        carrier_id: str | None = None,
        tracking_format: tracking.TrackingFormat | None = None,
        code: str = "shipengine",
        name: str = "ShipEngine",
        **http: Any,
    ) -> None:
        if not api_key:
            raise ShippingInputInvalid("ShipEngine needs an API key")
        if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9-]+)*", service_code or ""):
            raise ShippingInputInvalid(f"{service_code!r} is not a ShipEngine service code (e.g. ups_ground)")
        if carrier_id is not None and not _SE_ID.match(carrier_id):
            raise ShippingInputInvalid(f"{carrier_id!r} is not a ShipEngine id (se-...)")
        super().__init__(base_url=base_url, headers={"API-Key": api_key}, **http)
        self.code, self.name = code, name
        self.service_code, self.carrier_id, self.tracking_format = service_code, carrier_id, tracking_format

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **kwargs: Any) -> ShipEngineCarrier:
        """Built from SHIPENGINE_BASE_URL, SHIPENGINE_API_KEY, SHIPENGINE_TIMEOUT and keyword arguments."""
        return cls(**{**cls.config_values(config, "SHIPENGINE"), **kwargs})

    def validate_tracking(self, tracking_number: str) -> str:
        if self.tracking_format is not None:
            return tracking.validate(tracking_number, self.tracking_format).value
        value = tracking.normalise(tracking_number)
        if not re.fullmatch(r"[0-9A-Z]{6,40}", value):
            raise TrackingNumberInvalid(f"{tracking_number!r} does not look like a tracking number")
        return value

    # --- create ---------------------------------------------------------------------------------------

    def create_shipment(self, shipment: Shipment) -> ShipmentLabel:
        body = {
            "shipment": self._shipment_body(shipment),
            "label_format": "zpl",
            "label_layout": "4x6",
            "label_download_type": "url",
        }
        response = self.request("POST", "/v1/labels", json_body=body)
        if response.status != 200:
            raise ShipmentRefused(f"{self.name} refused shipment {shipment.reference}: {_errors(response)}")
        data = _object(response)
        if data.get("status") == "error":
            raise ShipmentRefused(f"{self.name} could not create a label for {shipment.reference}")
        label_id = _string(data, "label_id")
        master = self.checked_tracking(data.get("tracking_number"))
        numbers = [self.checked_tracking(p.get("tracking_number")) for p in _packages(data)]
        if len(numbers) != len(shipment.parcels):
            if len(shipment.parcels) != 1:
                raise CarrierResponseInvalid(
                    f"{self.name} returned {len(numbers)} package numbers for the {len(shipment.parcels)} parcels"
                )
            numbers = [master]
        downloads = data.get("label_download")
        url = (downloads.get("zpl") or downloads.get("href")) if isinstance(downloads, dict) else None
        if not isinstance(url, str) or not url:
            raise CarrierResponseInvalid(f"{self.name} gave no ZPL download for label {label_id}")
        zpl = self.download(url, accept="application/zpl, text/plain, */*")
        if b"^XA" not in zpl:
            raise CarrierResponseInvalid(f"{self.name} label {label_id} is not ZPL")
        parcels = tuple(
            ParcelLabel(number, parcel.sscc, parcel.weight_grams)
            for number, parcel in zip(numbers, shipment.parcels, strict=True)
        )
        return ShipmentLabel(
            carrier=self.code,
            service=self.service_code,
            shipment_reference=shipment.reference,
            tracking_number=master,
            parcels=parcels,
            label=zpl,
            content_type=ZPL,
            destination=shipment.destination,
            carrier_reference=label_id,
        )

    def _shipment_body(self, shipment: Shipment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "service_code": self.service_code,
            "external_shipment_id": shipment.reference,
            "ship_to": _address(shipment.ship_to, "ship-to"),
            "ship_from": _address(shipment.ship_from, "ship-from"),
            "packages": [_package(parcel, shipment.reference) for parcel in shipment.parcels],
        }
        if self.carrier_id:
            body["carrier_id"] = self.carrier_id
        if shipment.ship_date:
            body["ship_date"] = f"{shipment.ship_date:%Y-%m-%d}T00:00:00Z"
        return body

    # --- cancel ---------------------------------------------------------------------------------------

    def cancel(self, tracking_number: str, *, carrier_reference: str | None = None) -> Cancellation:
        number = self.validate_tracking(tracking_number)
        label_id = carrier_reference or self._label_id_for(number)
        if not _SE_ID.match(label_id):
            raise ShippingInputInvalid(f"{label_id!r} is not a ShipEngine label id")
        response = self.request("PUT", f"/v1/labels/{label_id}/void")
        if response.status == 404:
            raise ShipmentUnknown(f"{self.name} has no label {label_id} for {number}")
        if response.status != 200:
            raise CancelRefused(f"{self.name} refused to void {number}: {_errors(response)}")
        data = _object(response)
        message = data.get("message") if isinstance(data.get("message"), str) else ""
        if data.get("approved") is not True:
            raise CancelRefused(f"{self.name} refused to void {number}: {message or 'not approved'}")
        return Cancellation(self.code, number, message or "Label voided")

    def _label_id_for(self, number: str) -> str:
        response = self.request("GET", "/v1/labels", query={"tracking_number": number})
        if response.status != 200:
            raise ShipmentUnknown(f"{self.name} could not look up {number}: {_errors(response)}")
        labels = _object(response).get("labels")
        found = [lab for lab in labels if isinstance(lab, dict)] if isinstance(labels, list) else []
        if not found:
            raise ShipmentUnknown(f"{self.name} has no label with tracking number {number}")
        return _string(found[0], "label_id")

    # --- manifest -------------------------------------------------------------------------------------

    def manifest(self, shipments: Sequence[ShipmentLabel], day: date) -> Manifest:
        labels = self.manifest_labels(shipments, day)
        label_ids = [label.carrier_reference for label in labels]
        if any(not label_id for label_id in label_ids):
            raise ShippingInputInvalid(f"Every {self.name} shipment on a manifest needs its label id")
        response = self.request("POST", "/v1/manifests", json_body={"label_ids": label_ids})
        if response.status != 200:
            raise ShipmentRefused(f"{self.name} refused the manifest of {day:%d/%m/%Y}: {_errors(response)}")
        data = _object(response)
        manifest_id = _string(data, "manifest_id")
        download = data.get("manifest_download")
        href = download.get("href") if isinstance(download, dict) else None
        if not isinstance(href, str) or not href:
            raise CarrierResponseInvalid(f"{self.name} gave no download for manifest {manifest_id}")
        document = self.download(href, accept="application/pdf")
        if not document.startswith(b"%PDF"):
            raise CarrierResponseInvalid(f"{self.name} manifest {manifest_id} is not a PDF")
        numbers = tuple(p.tracking_number for label in labels for p in label.parcels)
        return Manifest(
            carrier=self.code,
            day=day,
            reference=manifest_id,
            document=document,
            content_type=PDF,
            tracking_numbers=numbers,
            parcel_count=len(numbers),
            weight_grams=sum(label.weight_grams for label in labels),
        )


def _address(party: Party, role: str) -> dict[str, Any]:
    """A ShipEngine address; name, phone, address_line1, city, state/province, postal code, country."""
    a = party.address
    missing = [what for what, value in (("phone", party.phone), ("region/state", party.region)) if not value]
    if missing:
        raise ShipmentRefused(f"ShipEngine needs the {role} {' and '.join(missing)}")
    body: dict[str, Any] = {
        "name": a.name,
        "phone": party.phone,
        "address_line1": a.street[0],
        "city_locality": a.city,
        "state_province": party.region,
        "postal_code": a.postal_code,
        "country_code": a.country,
        "address_residential_indicator": "unknown",
    }
    for index, line in enumerate(a.street[1:3], start=2):
        body[f"address_line{index}"] = line
    if party.company:
        body["company_name"] = party.company
    if party.email:
        body["email"] = party.email
    return body


def _package(parcel: Any, reference: str) -> dict[str, Any]:
    package: dict[str, Any] = {
        "weight": {"value": parcel.weight_grams, "unit": "gram"},
        "label_messages": {"reference1": reference[:35]},
    }
    if parcel.has_dimensions:
        package["dimensions"] = {
            "unit": "centimeter",
            "length": parcel.length_mm / 10,
            "width": parcel.width_mm / 10,
            "height": parcel.height_mm / 10,
        }
    return package


def _object(response: HttpResponse) -> dict[str, Any]:
    data = response.json()
    if not isinstance(data, dict):
        raise CarrierResponseInvalid(
            f"The carrier answered HTTP {response.status} with JSON that is not an object"
        )
    return data


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise CarrierResponseInvalid(f"The carrier's answer has no {key}")
    return value


def _packages(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    packages = data.get("packages")
    if not isinstance(packages, list):
        return []
    return [p for p in packages if isinstance(p, dict) and p.get("tracking_number")]


def _errors(response: HttpResponse) -> str:
    """The carrier's error messages, or the HTTP status when the body has none."""
    try:
        data = response.json()
    except CarrierResponseInvalid:
        return f"HTTP {response.status}"
    errors = data.get("errors") if isinstance(data, dict) else None
    messages = [
        e["message"] for e in errors or [] if isinstance(e, dict) and isinstance(e.get("message"), str)
    ]
    return "; ".join(messages) or f"HTTP {response.status}"
