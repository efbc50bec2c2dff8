"""DPD France Pickup relay points through the "mypudo" web service (mypudo.asmx, HTTP GET, XML answer).

Operations and fields as DPD France's integrations use them (ekyna/Dpd src/Pudo, the PrestaShop/Magento
DPD France modules): GetPudoList?carrier=EXA&key=...&address&zipCode&city&countrycode&requestID&date_from
(dd/mm/yyyy)&max_pudo_number&max_distance_search&weight&category&holiday_tolerant, and GetPudoDetails?carrier&key&
pudo_id. The answer is <RESPONSE quality=..><REQUEST_ID/><PUDO_ITEMS><PUDO_ITEM><PUDO_ID/><NAME/><ADDRESS1..3/>
<LOCAL_HINT/><ZIPCODE/><CITY/><LONGITUDE/><LATITUDE/> (decimal commas) <DISTANCE/> (metres) <AVAILABLE/>
<OPENING_HOURS_ITEMS><OPENING_HOURS_ITEM><DAY_ID/><START_TM/><END_TM/>... <HOLIDAY_ITEMS><HOLIDAY_ITEM><START_DTM/>
<END_DTM/>. Not publicly documented, and so assumed here: DAY_ID 1 is Monday; AVAILABLE "full" means the point
takes parcels; holiday dates are dd/mm/yyyy; an unknown id answers an empty PUDO_ITEMS; an <ERROR> element
carries a refusal (bad key).
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

from defusedxml import ElementTree as safe_xml

from wms.labels.documents.shipping import Address
from wms.shipping.carrier_features import OpeningHours, RelayPoint, RelayPointInvalid
from wms.shipping.errors import CarrierResponseInvalid, CarrierUnavailable, ShippingInputInvalid
from wms.shipping.http_carrier import MAX_BODY_BYTES

CARRIER_CODE = "EXA"      # the relay network's code for DPD France (ex-Exapaq) in mypudo
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def search_query(key: str, country: str, postal_code: str, city: str, weight_grams: int, limit: int,
                 day: dt.date) -> dict[str, str]:
    """The GetPudoList query; weight in kg (whole, rounded up), empty when unknown."""
    weight = str(-(-weight_grams // 1000)) if weight_grams > 0 else ""
    return {
        "carrier": CARRIER_CODE, "key": key, "address": "", "zipCode": postal_code.replace(" ", ""),
        "city": city, "countrycode": country, "requestID": uuid.uuid4().hex[:30], "date_from": f"{day:%d/%m/%Y}",
        "max_pudo_number": str(max(1, min(limit, 50))), "max_distance_search": "", "weight": weight,
        "category": "", "holiday_tolerant": "",
    }


def parse_points(body: bytes, carrier_code: str, country: str) -> list[RelayPoint]:
    """The relay points of a GetPudoList / GetPudoDetails answer, in the carrier's order."""
    try:
        root = safe_xml.fromstring(body)
    except Exception as exc:  # noqa: BLE001 - defusedxml raises several kinds for bad or hostile XML
        raise CarrierResponseInvalid("DPD France Pickup answered something that is not XML") from exc
    error = (root.findtext("ERROR") or "").strip()
    if error:
        raise CarrierUnavailable(f"DPD France Pickup refused the search: {error}; check the Pickup key")
    items = root.find("PUDO_ITEMS")
    return [_point(item, carrier_code, country) for item in (items if items is not None else [])]


def _point(item: Any, carrier_code: str, country: str) -> RelayPoint:
    def text(tag: str) -> str:
        return (item.findtext(tag) or "").strip()

    point_id = text("PUDO_ID")
    if not point_id:
        raise CarrierResponseInvalid("DPD France Pickup answered a relay point without its id")
    street = tuple(line for line in (text("ADDRESS1"), text("ADDRESS2"), text("ADDRESS3")) if line)
    hours = []
    for span in item.iterfind("OPENING_HOURS_ITEMS/OPENING_HOURS_ITEM"):
        day, opens, closes = (span.findtext(t, "").strip() for t in ("DAY_ID", "START_TM", "END_TM"))
        if day.isdigit() and 1 <= int(day) <= 7 and _TIME.match(opens) and _TIME.match(closes):
            hours.append(OpeningHours(int(day), opens, closes))
    closed_from = closed_until = None
    today = dt.date.today()
    for holiday in item.iterfind("HOLIDAY_ITEMS/HOLIDAY_ITEM"):
        start, end = _date(holiday.findtext("START_DTM")), _date(holiday.findtext("END_DTM"))
        if start and end and end >= today and (closed_from is None or start < closed_from):
            closed_from, closed_until = start, end
    distance = text("DISTANCE")
    return RelayPoint(
        carrier=carrier_code,
        id=point_id,
        name=text("NAME") or point_id,
        address=Address(text("NAME") or point_id, street or ("",), text("ZIPCODE"), text("CITY"), country),
        opening_hours=tuple(hours),
        distance_m=int(distance) if distance.isdigit() else None,
        active=text("AVAILABLE").lower() == "full",
        closed_from=closed_from,
        closed_until=closed_until,
        latitude=_coordinate(text("LATITUDE")),
        longitude=_coordinate(text("LONGITUDE")),
        extra={"local_hint": text("LOCAL_HINT")} if text("LOCAL_HINT") else {},
    )


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.datetime.strptime((value or "").strip()[:10], "%d/%m/%Y").date()
    except ValueError:
        return None


def _coordinate(value: str) -> float | None:
    try:
        return float(value.replace(",", "."))
    except ValueError:
        return None


class PudoClient:
    """The relay search over HTTP GET; transport failures, 5xx and 429 become CarrierUnavailable."""

    name = "DPD France Pickup"

    def __init__(self, *, base_url: str, key: str, carrier_code: str, timeout: float = 15.0,
                 proxies: dict[str, str] | None = None) -> None:
        parsed = urllib.parse.urlsplit(base_url or "")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ShippingInputInvalid(f"The DPD France Pickup URL {base_url!r} is not an http(s) URL")
        if not key:
            raise ShippingInputInvalid("DPD France Pickup needs the key DPD gives with the relay service")
        self.base_url, self.key, self.carrier_code, self.timeout = base_url.rstrip("/"), key, carrier_code, timeout
        handlers = [] if proxies is None else [urllib.request.ProxyHandler(dict(proxies))]
        self._opener = urllib.request.build_opener(*handlers)

    def search(self, country: str, postal_code: str, city: str, weight_grams: int, limit: int) -> list[RelayPoint]:
        query = search_query(self.key, country, postal_code, city, weight_grams, limit, dt.date.today())
        return parse_points(self._get("GetPudoList", query), self.carrier_code, country)

    def details(self, point_id: str, country: str) -> RelayPoint:
        if not re.fullmatch(r"[A-Z0-9]{1,10}", point_id or ""):
            raise RelayPointInvalid(f"{point_id!r} is not a DPD Pickup relay id (e.g. P22895)")
        query = {"carrier": CARRIER_CODE, "key": self.key, "pudo_id": point_id}
        points = parse_points(self._get("GetPudoDetails", query), self.carrier_code, country)
        if not points:
            raise RelayPointInvalid(f"DPD France does not know the Pickup relay point {point_id}")
        return points[0]

    def _get(self, operation: str, query: dict[str, str]) -> bytes:
        url = f"{self.base_url}/{operation}?{urllib.parse.urlencode(query)}"
        try:
            with self._opener.open(urllib.request.Request(url, headers={"Accept": "text/xml"}),
                                   timeout=self.timeout) as resp:
                return resp.read(MAX_BODY_BYTES)
        except urllib.error.HTTPError as exc:
            with exc:
                status = exc.code
        except (OSError, http.client.HTTPException) as exc:
            raise CarrierUnavailable(f"{self.name} did not answer at {self.base_url}: "
                                     f"{getattr(exc, 'reason', exc)}") from exc
        if status == 429 or status >= 500:
            raise CarrierUnavailable(f"{self.name} answered HTTP {status} to {operation}; try again later")
        raise CarrierResponseInvalid(f"{self.name} answered HTTP {status} to {operation}")
