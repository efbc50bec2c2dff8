"""Sendcloud API v3 request bodies from our dataclasses, and Sendcloud answers back into ours.

Map, don't leak: nothing here is called from outside the adapter; no Sendcloud field name leaves it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import (
    Customs,
    CustomsCategory,
    FeatureUnsupported,
    OpeningHours,
    RelayPoint,
    TrackingEvent,
    TrackingStatus,
    needs_customs,
)
from wms.shipping.carriers import Parcel, Party, Shipment
from wms.shipping.errors import CarrierResponseInvalid, ShipmentRefused
from wms.shipping.http_carrier import HttpResponse

MAX_PARCELS = 15  # "Max parcels per shipment: 15" (synchronous announcement)

# customs_information.export_reason of the Shipments API v3 (enum: gift, documents, commercial_goods,
# commercial_sample); a return or "other" has no value there.
EXPORT_REASONS = {
    CustomsCategory.SALE: "commercial_goods",
    CustomsCategory.GIFT: "gift",
    CustomsCategory.SAMPLE: "commercial_sample",
    CustomsCategory.DOCUMENTS: "documents",
}

# Parcel statuses (the parcel status list of the v3 documents, written with dashes there, underscores in
# tracking events such as "accepted") to ours. A status absent here is an event we keep as "in transit" only
# when it says the parcel moves; the others are skipped (see tracking_event).
_STATUSES: dict[str, TrackingStatus] = {
    "ready_to_send": TrackingStatus.LABEL_CREATED,
    "announced": TrackingStatus.LABEL_CREATED,
    "announced_uncollected": TrackingStatus.LABEL_CREATED,
    "no_label": TrackingStatus.LABEL_CREATED,
    "accepted": TrackingStatus.IN_TRANSIT,
    "to_sorting": TrackingStatus.IN_TRANSIT,
    "sorted": TrackingStatus.IN_TRANSIT,
    "sorting": TrackingStatus.IN_TRANSIT,
    "unsorted": TrackingStatus.IN_TRANSIT,
    "unsorted2": TrackingStatus.IN_TRANSIT,
    "at_sorting_centre": TrackingStatus.IN_TRANSIT,
    "at_customs": TrackingStatus.IN_TRANSIT,
    "delayed": TrackingStatus.IN_TRANSIT,
    "shipment_on_route": TrackingStatus.IN_TRANSIT,
    "picked_up_by_driver": TrackingStatus.IN_TRANSIT,
    "delivery_method_changed": TrackingStatus.IN_TRANSIT,
    "delivery_date_changed": TrackingStatus.IN_TRANSIT,
    "delivery_address_changed": TrackingStatus.IN_TRANSIT,
    "driver_on_route": TrackingStatus.OUT_FOR_DELIVERY,
    "awaiting_customer_pickup": TrackingStatus.AT_RELAY_POINT,
    "delivered": TrackingStatus.DELIVERED,
    "collected_by_customer": TrackingStatus.DELIVERED,
    "delivery_forced": TrackingStatus.DELIVERED,
    "delivery_failed": TrackingStatus.FAILED,
    "undeliverable": TrackingStatus.FAILED,
    "collect_error": TrackingStatus.FAILED,
    "refused_by_recipient": TrackingStatus.FAILED,
    "address_invalid": TrackingStatus.FAILED,
    "exception": TrackingStatus.FAILED,
    "returned_to_sender": TrackingStatus.RETURNED,
}


def status_for(code: str) -> TrackingStatus | None:
    """Our status for a Sendcloud parcel status code (dashes or underscores, any case); None if not tracked."""
    return _STATUSES.get(code.strip().lower().replace("-", "_").replace(" ", "_"))


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"value": f"{value.quantize(Decimal('0.01'))}", "currency": currency}


def address(party: Party, role: str) -> dict[str, str]:
    """A v3 address (name, address_line_1, postal_code, city, country_code required)."""
    a = party.address
    if not a.postal_code.strip():
        raise ShipmentRefused(f"Sendcloud needs the {role} postal code")
    body = {
        "name": a.name,
        "address_line_1": a.street[0],
        "postal_code": a.postal_code,
        "city": a.city,
        "country_code": a.country,
    }
    if len(a.street) > 1 and a.street[1].strip():
        body["address_line_2"] = ", ".join(line for line in a.street[1:] if line.strip())
    for key, value in (("company_name", party.company), ("email", party.email), ("phone_number", party.phone)):
        if value:
            body[key] = value
    if party.region:
        body["state_province_code"] = f"{a.country}-{party.region}" if "-" not in party.region else party.region
    return body


def parcel(p: Parcel, reference: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "weight": {"value": f"{p.weight_grams / 1000:.3f}", "unit": "kg"},
        "label_notes": [reference[:255]],
    }
    if p.has_dimensions:
        body["dimensions"] = {"length": f"{p.length_mm / 10:.2f}", "width": f"{p.width_mm / 10:.2f}",
                              "height": f"{p.height_mm / 10:.2f}", "unit": "cm"}
    if p.sscc:
        body["sscc"] = p.sscc
    return body


def customs_information(customs: Customs, invoice_number: str) -> dict[str, Any]:
    reason = EXPORT_REASONS.get(customs.category)
    if reason is None:
        raise FeatureUnsupported(
            f"Sendcloud shipments declare gifts, documents, sales or samples, not {customs.category.value!r}"
        )
    body: dict[str, Any] = {"invoice_number": invoice_number[:40], "export_reason": reason,
                            "export_type": "commercial_b2c"}
    if customs.shipping_cost:
        body["freight_costs"] = money(customs.shipping_cost, customs.currency)
    return body


def parcel_items(customs: Customs) -> list[dict[str, Any]]:
    """The CN23 lines as v3 parcel items: unit price and unit weight (our lines carry totals)."""
    items = []
    for line in customs.lines:
        missing = [what for what, value in (("HS code", line.hs_code), ("origin", line.origin_country)) if not value]
        if missing:
            raise ShipmentRefused(
                f"Customs line {line.description!r} needs its {' and '.join(missing)} for Sendcloud's CN23"
            )
        items.append({
            "description": line.description[:255],
            "quantity": line.quantity,
            "weight": {"value": round(line.weight_grams / line.quantity / 1000, 3), "unit": "kg"},
            "price": money(line.value / line.quantity, customs.currency),
            "hs_code": line.hs_code,
            "origin_country": line.origin_country,
        })
    return items


def return_body(shipment: Shipment, option_code: str, contract_id: int | None) -> dict[str, Any]:
    """POST /returns/announce-synchronously: the customer (ship_from) sends to the warehouse (ship_to)."""
    ship_with: dict[str, Any] = {"type": "shipping_option_code", "shipping_option_code": option_code}
    if contract_id is not None:
        ship_with["contract"] = contract_id
    body: dict[str, Any] = {
        "from_address": address(shipment.ship_from, "customer"),
        "to_address": address(shipment.ship_to, "warehouse"),
        "ship_with": ship_with,
        "weight": {"value": round(shipment.weight_grams / 1000, 3), "unit": "kg"},
        "collo_count": len(shipment.parcels),
        "order_number": shipment.reference,
        "external_reference": shipment.reference,
    }
    if needs_customs(shipment.ship_from.address, shipment.ship_to.address):
        if shipment.customs is None:
            raise ShipmentRefused(f"The return {shipment.reference} crosses the EU customs border: it needs "
                                  "its customs lines")
        body["customs_invoice_nr"] = shipment.customs.invoice_number or shipment.reference
        # the Returns API writes prices as numbers, where the Shipments API writes strings
        body["parcel_items"] = [
            {**item, "price": {"value": float(item["price"]["value"]), "currency": item["price"]["currency"]}}
            for item in parcel_items(shipment.customs)
        ]
    return body


def errors(response: HttpResponse) -> str:
    """Readable text of a Sendcloud error answer (v3 `errors[]`, returns' `error{}`, service points' `detail`)."""
    try:
        data = response.json()
    except CarrierResponseInvalid:
        return f"HTTP {response.status}"
    return error_text(data) or f"HTTP {response.status}"


def error_text(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    found = []
    for e in data.get("errors") or []:
        if isinstance(e, dict) and isinstance(e.get("detail"), str):
            source = e.get("source")
            pointer = source.get("pointer") if isinstance(source, dict) else None
            found.append(f"{e['detail']} ({pointer})" if isinstance(pointer, str) and pointer else e["detail"])
    single = data.get("error")
    if isinstance(single, dict) and isinstance(single.get("message"), str):
        found.append(single["message"])
    if isinstance(data.get("detail"), str):
        found.append(data["detail"])
    return "; ".join(found)


def error_pointers(response: HttpResponse) -> list[str]:
    try:
        data = response.json()
    except CarrierResponseInvalid:
        return []
    pointers = []
    for e in (data.get("errors") if isinstance(data, dict) else None) or []:
        source = e.get("source") if isinstance(e, dict) else None
        if isinstance(source, dict) and isinstance(source.get("pointer"), str):
            pointers.append(source["pointer"])
    return pointers


# --- answers ---------------------------------------------------------------------------------------------------

def data_object(response: HttpResponse) -> dict[str, Any]:
    body = response.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise CarrierResponseInvalid(f"Sendcloud answered HTTP {response.status} without a data object")
    return data


def string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise CarrierResponseInvalid(f"Sendcloud's answer has no {key}")
    return value


def timestamp(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise CarrierResponseInvalid("Sendcloud gave a tracking event without its time")
    try:
        at = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CarrierResponseInvalid(f"Sendcloud gave a tracking event time {value!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def tracking_event(number: str, event: Any) -> TrackingEvent | None:
    if not isinstance(event, dict) or not isinstance(event.get("status_code"), str):
        return None
    status = status_for(event["status_code"])
    if status is None:
        return None
    text = event.get("status_description")
    return TrackingEvent(number, timestamp(event.get("event_at")), status, event["status_code"],
                         text if isinstance(text, str) else "")


_HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def opening_hours(formatted: Any) -> tuple[OpeningHours, ...]:
    """formatted_opening_times {"0": ["09:00 - 12:00", "13:30 - 18:00"], ...}, "0" being Monday."""
    if not isinstance(formatted, dict):
        return ()
    spans = []
    for day, ranges in sorted(formatted.items()):
        if not (isinstance(day, str) and day.isdigit() and 0 <= int(day) <= 6 and isinstance(ranges, list)):
            continue
        for text in ranges:
            match = _HOURS.match(text) if isinstance(text, str) else None
            if match:
                opens, closes = (t.zfill(5) for t in match.groups())
                spans.append(OpeningHours(int(day) + 1, opens, closes))
    return tuple(spans)


def relay_point(carrier_code: str, data: Any) -> RelayPoint:
    if not isinstance(data, dict):
        raise CarrierResponseInvalid("Sendcloud answered a service point that is not an object")
    street = " ".join(p for p in (data.get("house_number"), data.get("street")) if isinstance(p, str) and p)
    point_id = string(data, "id")
    name = data.get("name") if isinstance(data.get("name"), str) else point_id
    where = Address(name, (street,), str(data.get("postal_code") or ""), str(data.get("city") or ""),
                    str(data.get("country") or ""))
    distance = data.get("distance")  # metres, null without a reference latitude/longitude

    def coordinate(key: str) -> float | None:
        try:
            return float(data[key])
        except (KeyError, TypeError, ValueError):
            return None

    return RelayPoint(
        carrier=carrier_code,
        id=point_id,
        name=name,
        address=where,
        opening_hours=opening_hours(data.get("formatted_opening_times")),
        distance_m=int(distance) if isinstance(distance, int | float) else None,
        max_weight_grams=None,  # not published per point; the search's `weight` filter applies instead
        active=data.get("is_active") is not False,
        latitude=coordinate("latitude"),
        longitude=coordinate("longitude"),
        extra={k: str(v) for k, v in (("code", data.get("code")), ("carrier", data.get("carrier"))) if v},
    )
