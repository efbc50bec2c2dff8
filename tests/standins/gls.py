"""GLS ShipIT REST (`/backend/rs/...`) as a GLS France shipper sees it, on 127.0.0.1.

Written from GLS's published ShipIT REST pages (shipit.gls-group.eu/webservices/<3.3.20..5.0.11>/doxygen/
WS-REST-API: "Processing shipments", "Webservices Requests Samples", "Webservices Fault Responses Samples",
"ParcelShop search", "Track your parcels"); what is taken from public third-party integrations instead is named
in wms/shipping/gls/__init__.py and in the schemas' `$comment`.

- Auth: HTTP Basic; 401 with `WWW-Authenticate: Basic` otherwise (documented). Requests with a body must be
  `application/glsVersion1+json` (the media type of the samples); anything else is a violation (415).
- Create: the body is checked against schemas/gls/shipment_request.json (a break is a violation, answered 400
  INVALID_FIELD_VALUE); then the documented refusals, as HTTP 400 with the `message` and `error` headers: unknown
  shipper ContactID, a consignee ZIPCode GLS does not route, "No matching product available" (EXPRESS outside
  `express_countries`, a unit over 30 kg), an unknown or full ParcelShop, services that cannot be combined.
  Success: one ParcelData (TrackID, 12-digit ParcelNumber, Primary1D) and one PrintData per unit, the label
  a ZPL (^CI28, every field ^FH-escaped) with the ParcelNumber as Code 128 and "i/n".
- Cancel: CANCELLED, or SCANNED once `scan()` was called; unknown TrackID: 404.
- ParcelShops: GET by id (unknown: 400 INVALID_FIELD_VALUE); POST /address search. Hours are sent as GLS says:
  milliseconds since midnight minus one hour.
- Tracking: parcels are found only after the end of day (as the tracking page warns); History newest first.
- Rate limit: `rate`/`burst` a second; beyond it, 429.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from tests.standins.base import Bucket, StandIn
from wms.labels.zpl import fh_escape

USERNAME, PASSWORD, CONTACT_ID = "shipit-user", "shipit-secret", "2500000001"
MAX_UNIT_KG = 30.0
SHOP_MAX_KG = 20.0
GLS_JSON = "application/glsVersion1+json"
DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def _ms(hhmm: str) -> int:
    """GLS REST hours: milliseconds since midnight, 'with an offset of 1 hour' (09:00 -> 28800000)."""
    hours, minutes = map(int, hhmm.split(":"))
    return (hours * 60 + minutes) * 60_000 - 3_600_000


@dataclass
class Shop:
    id: str
    name: str
    street: str
    number: str
    zip: str
    city: str
    country: str = "FR"
    distance_km: float = 0.5
    hours: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    breaks: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    accepts: bool = True

    def document(self) -> dict[str, Any]:
        return {
            "ParcelShopID": self.id,
            "Location": {"Latitude": "48.85", "Longitude": "2.35"},
            "Address": {"Name1": self.name, "Name2": "", "Name3": "", "CountryCode": self.country,
                        "ZIPCode": self.zip, "City": self.city, "Street": self.street,
                        "StreetNumber": self.number, "eMail": None},
            "WorkingDay": [
                {"DayOfWeek": day,
                 "OpeningHours": {"OpeningHours": [{"From": _ms(a), "To": _ms(b)} for a, b in spans]},
                 "Breaks": {"OpeningHours": [{"From": _ms(a), "To": _ms(b)} for a, b in self.breaks.get(day, [])]}}
                for day, spans in self.hours.items()
            ],
            "Distance": self.distance_km,
        }


@dataclass
class Unit:
    track_id: str
    number: str
    reference: str
    created: dt.date
    status: str = "created"          # created, cancelled, scanned
    closed: bool = False             # went through the end of day
    history: list[dict[str, Any]] = field(default_factory=list)


def default_shops() -> dict[str, Shop]:
    week = {d: [("09:00", "19:00")] for d in DAYS[:6]}
    return {s.id: s for s in (
        Shop("GLS_FR-2500012345", "Tabac de la Gare", "Rue de la République", "12", "69002", "Lyon", distance_km=0.3,
             hours=week, breaks={d: [("12:30", "14:00")] for d in DAYS[:5]}),
        Shop("GLS_FR-2500067890", "Épicerie Pérou", "Quai Saint-Vincent", "4", "69001", "Lyon", distance_km=1.2,
             hours=week),
        Shop("GLS_FR-2500099999", "Presse Fermée", "Rue Mercière", "1", "69002", "Lyon", distance_km=0.8,
             hours={}, accepts=False),
    )}


class GlsStandIn(StandIn):
    platform = "gls"

    def __init__(self, *, rate: float = 50.0, burst: float = 50.0, express_countries: tuple[str, ...] = ("FR",),
                 unrouted_zips: tuple[str, ...] = ("00000", "99999")) -> None:
        self.shops = default_shops()
        self.units: dict[str, Unit] = {}
        self.express_countries, self.unrouted_zips = express_countries, unrouted_zips
        self.bucket = Bucket(rate, burst)
        self.rate_limited = 0
        self._serial = itertools.count(1)
        super().__init__()

    # --- test controls ---------------------------------------------------------------------------------
    def unit(self, number: str) -> Unit:
        return next(u for u in self.units.values() if number in (u.number, u.track_id))

    def scan(self, number: str) -> None:
        """The parcel was picked up and scanned by GLS: it can no longer be cancelled."""
        self.unit(number).status = "scanned"

    def add_event(self, number: str, code: str, description: str, at: dt.datetime, location: str = "Lyon") -> None:
        self.unit(number).history.insert(0, {"Date": at.isoformat(), "StatusCode": code,
                                             "Description": description, "Location": location, "Country": "FR"})

    # --- routes ----------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.before_request(self._gate)
        app.add_url_rule("/backend/rs/shipments", view_func=self._create, methods=["POST"])
        app.add_url_rule("/backend/rs/shipments/cancel/<track_id>", view_func=self._cancel, methods=["POST"])
        app.add_url_rule("/backend/rs/shipments/endofday", view_func=self._end_of_day, methods=["POST"])
        app.add_url_rule("/backend/rs/parcelshop/address", view_func=self._shops_by_address, methods=["POST"])
        app.add_url_rule("/backend/rs/parcelshop/<shop_id>", view_func=self._shop, methods=["GET"])
        app.add_url_rule("/backend/rs/tracking/parceldetails", view_func=self._details, methods=["POST"])

    def _gate(self) -> Response | None:
        expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response("", status=401, headers={"WWW-Authenticate": 'Basic realm="GLS ShipIT"'})
        if self.bucket.take() is not None:
            with self.lock:
                self.rate_limited += 1
            return Response("", status=429, headers={"Retry-After": "1"})
        if request.get_data() and request.mimetype != GLS_JSON.lower():
            self.violation(f"Content-Type {request.content_type!r}, not {GLS_JSON}")
            return Response("", status=415)
        return None

    def _body(self, schema: str) -> tuple[Any, Response | None]:
        try:
            body = json.loads(request.get_data().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.violation("body is not UTF-8 JSON")
            return None, _fault("The Mandatory parameter ShipmentRequestData is not set", "MANDATORY_PARAMETER_NOT_SET")
        errors = self.check(schema, body)
        if errors:
            return None, _fault(f"Invalid field {errors[0]}. Request validation failed", "INVALID_FIELD_VALUE")
        return body, None

    def _create(self) -> Response:
        body, refused = self._body("shipment_request")
        if refused is not None:
            return refused
        shipment = body["Shipment"]
        address = shipment["Consignee"]["Address"]
        if shipment["Shipper"]["ContactID"] != CONTACT_ID:
            return _invalid("Shipment.Shipper.ContactID", shipment["Shipper"]["ContactID"],
                            "Shipper does not exist or is not available for the user.")
        zip_code = address["ZIPCode"]
        if zip_code in self.unrouted_zips or (address["CountryCode"] == "FR" and not
                                              (len(zip_code) == 5 and zip_code.isdigit())):
            return _invalid("ShipmentRequestData.Shipment.Consignee.Address.ZIPCode", zip_code,
                            "No routing found for the consignee address.")
        weights = [u["Weight"] for u in shipment["ShipmentUnit"]]
        if (shipment["Product"] == "EXPRESS" and address["CountryCode"] not in self.express_countries) or \
                max(weights) > MAX_UNIT_KG:
            return _invalid("ShipmentRequestData.Shipment.Product", shipment["Product"],
                            "No matching product available for shipper for the given input data "
                            "(weight and addresses).")
        services = shipment.get("Service", [])
        shop_ids = [s["ShopDelivery"]["ParcelShopID"] for s in services if "ShopDelivery" in s]
        if shop_ids and any("Service" in s for s in services):
            names = ", ".join(s["Service"]["ServiceName"] for s in services if "Service" in s)
            return _fault(f"The services service_shopdelivery and {names} can't be combined.",
                          "INVALID_FIELD_VALUE")
        if shop_ids:
            shop = self.shops.get(shop_ids[0])
            if shop is None or not shop.accepts:
                return _invalid("ShipmentRequestData.Shipment.Service.ShopDelivery.ParcelShopID", shop_ids[0],
                                "ParcelShop not found or not accepting parcels.")
            if max(weights) > SHOP_MAX_KG:
                return _invalid("ShipmentRequestData.Shipment.Service.ShopDelivery.ParcelShopID", shop_ids[0],
                                f"Parcel too heavy for a ParcelShop (maximum {SHOP_MAX_KG:g} kg).")
        return self._created(shipment, body["PrintingOptions"]["ReturnLabels"])

    def _created(self, shipment: dict[str, Any], printing: dict[str, str]) -> Response:
        count = len(shipment["ShipmentUnit"])
        reference = (shipment.get("ShipmentReference") or [""])[0]
        parcel_data, print_data = [], []
        with self.lock:
            for index, unit in enumerate(shipment["ShipmentUnit"], start=1):
                serial = next(self._serial)
                number = f"2500{serial:08d}"
                track_id = _track_id(serial)
                self.units[track_id] = Unit(track_id, number, reference, dt.date.today())
                parcel_data.append({"TrackID": track_id, "ParcelNumber": number,
                                    "Barcodes": {"Primary1D": number, "Primary1DPrint": True},
                                    "RoutingInfo": {"FinalLocationCode": "FR 69L", "HubLocation": "LYS"}})
                if printing["LabelFormat"] == "ZEBRA":
                    dpi = 300 if printing["TemplateSet"] == "ZPL_300" else 200
                    zpl = _zpl(shipment, unit, number, index, count, dpi)
                    print_data.append({"Data": base64.b64encode(zpl.encode("ascii")).decode(), "LabelFormat": "ZEBRA"})
        if printing["LabelFormat"] == "PDF":
            pdf = b"%PDF-1.4\n% GLS stand-in label\n" + " ".join(p["ParcelNumber"] for p in parcel_data).encode()
            print_data = [{"Data": base64.b64encode(pdf).decode(), "LabelFormat": "PDF"}]
        return _json({"CreatedShipment": {"ShipmentReference": shipment.get("ShipmentReference", []),
                                          "ParcelData": parcel_data, "PrintData": print_data,
                                          "CustomerID": "2500000000", "PickupLocation": "FR 69L",
                                          "GDPR": ["gls-group.eu/dataprotection"]}})

    def _cancel(self, track_id: str) -> Response:
        unit = self.units.get(track_id)
        if unit is None:
            return _fault(f"Parcel with TrackID {track_id} not found", "NOT_FOUND", status=404)
        if unit.status == "scanned":
            return _json({"TrackID": track_id, "Result": "SCANNED"})
        unit.status = "cancelled"
        return _json({"TrackID": track_id, "Result": "CANCELLED"})

    def _end_of_day(self) -> Response:
        try:
            day = dt.date.fromisoformat(request.args.get("date", ""))
        except ValueError:
            self.violation("endofday without date=YYYY-MM-DD")
            return _invalid("date", request.args.get("date", ""), "Date is not valid.")
        closed = []
        with self.lock:
            for unit in self.units.values():
                if unit.status != "cancelled" and unit.created <= day and not unit.closed:
                    unit.closed = True
                    closed.append(unit.number)
        return _json({"Shipments": [{"ParcelNumber": n} for n in closed]})

    def _shop(self, shop_id: str) -> Response:
        shop = self.shops.get(shop_id)
        if shop is None:
            return _invalid("id", shop_id, "ParcelShop not found.")
        return _json(shop.document())

    def _shops_by_address(self) -> Response:
        body, refused = self._body("parcelshop_address")
        if refused is not None:
            return refused
        found = [s for s in self.shops.values()
                 if s.country == body["CountryCode"] and s.zip[:2] == body["ZIPCode"][:2]]
        return _json({"ParcelShop": [s.document() for s in sorted(found, key=lambda s: -s.distance_km)]})

    def _details(self) -> Response:
        body, refused = self._body("parceldetails")
        if refused is not None:
            return refused
        unit = next((u for u in self.units.values() if body["TrackID"] in (u.number, u.track_id)), None)
        if unit is None or not unit.closed:
            return _fault(f"No parcel found for {body['TrackID']}", "NOT_FOUND", status=404)
        return _json({"UnitDetail": {"TrackID": unit.track_id, "ParcelNumber": unit.number,
                                     "History": list(unit.history)}})


def _track_id(serial: int) -> str:
    alphabet = "0123456789BCDFGHJKLMNPQRSTVWXZ"
    out = ""
    for _ in range(8):
        serial, digit = divmod(serial * 7919 + 13, len(alphabet))
        out += alphabet[digit]
    return out


def _zpl(shipment: dict[str, Any], unit: dict[str, Any], number: str, index: int, count: int, dpi: int) -> str:
    """A GLS-like 4x6 label: consignee block, parcel number as Code 128, parcel i/n, weight."""
    address = shipment["Consignee"]["Address"]
    scale = 1.5 if dpi == 300 else 1.0

    def at(x: int, y: int) -> str:
        return f"^FO{round(x * scale)},{round(y * scale)}"

    lines = [address["Name1"], address.get("Name2", ""), address["Street"], address.get("Name3", ""),
             f"{address['ZIPCode']} {address['City']}", address["CountryCode"]]
    parts = ["^XA", "^CI28", f"^PW{round(812 * scale)}", f"^LL{round(1218 * scale)}", "^LH0,0",
             at(30, 30) + f"^A0N,{round(40 * scale)},{round(40 * scale)}^FDGLS^FS",
             at(560, 30) + f"^A0N,{round(40 * scale)},{round(40 * scale)}^FD{index}/{count}^FS"]
    y = 120
    for line in (ln for ln in lines if ln):
        # bitmap font D: zplkit's scalable font 0 lacks most accented glyphs (è, ê, â, ô)
        parts.append(at(30, y) + f"^ADN,{round(36 * scale)},{round(20 * scale)}^FH^FD{fh_escape(line)}^FS")
        y += 44
    parts.append(at(30, y + 20) + f"^A0N,{round(30 * scale)},{round(30 * scale)}^FD{unit['Weight']:g} kg^FS")
    parts.append(at(60, 700) + f"^BY{3 if dpi == 200 else 4}^BCN,{round(200 * scale)},Y,N,N^FD{number}^FS")
    parts.append("^XZ")
    return "".join(parts)


def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False), status=status, content_type=f"{GLS_JSON}; charset=utf-8")


def _fault(message: str, error: str, status: int = 400) -> Response:
    """The documented fault shape: HTTP 400 with `message` and `error` headers (ASCII only in headers)."""
    safe = message.encode("ascii", "replace").decode("ascii")
    return Response("", status=status, headers={"message": safe, "error": error})


def _invalid(name: str, value: str, reason: str) -> Response:
    return _fault(f"Invalid field {name}. Value {value} is not a valid value. {reason}", "INVALID_FIELD_VALUE")
