"""GLS ShipIT payloads turned into ours and back: consignee address, faults, ParcelShops, tracking events.

No GLS field name leaves this package; see wms/shipping/gls/__init__.py for the documents followed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import OpeningHours, RelayPoint, TrackingEvent, TrackingStatus
from wms.shipping.carriers import PDF, ZPL, Party
from wms.shipping.errors import CarrierResponseInvalid, ShipmentRefused
from wms.shipping.http_carrier import HttpResponse

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
PARCEL_NUMBER = re.compile(r"^[0-9]{11,12}$")
TRACK_ID = re.compile(r"^[0-9A-Z]{8}$")
SHOP_ID = re.compile(r"^(GLS_[A-Z]{2}-)?[0-9A-Z]{6,20}$")
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


def consignee_address(party: Party) -> dict[str, Any]:
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


def fault(response: HttpResponse) -> tuple[str, str]:
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


def json_object(response: HttpResponse) -> dict[str, Any]:
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


def parcel_shop(carrier: str, shop: Mapping[str, Any]) -> RelayPoint:
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

    return RelayPoint(
        carrier=carrier,
        id=point_id,
        name=str(address.get("Name1") or point_id),
        address=Address(str(address.get("Name1") or point_id), (street,), str(address.get("ZIPCode") or ""),
                        str(address.get("City") or ""), str(address.get("CountryCode") or "")),
        opening_hours=_opening_hours(shop.get("WorkingDay")),
        distance_m=round(float(distance) * 1000) if _float(distance) is not None else None,
        latitude=_float(location.get("Latitude")),
        longitude=_float(location.get("Longitude")),
    )


def tracking_event(number: str, item: Mapping[str, Any]) -> TrackingEvent:
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
