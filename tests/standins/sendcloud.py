"""Sendcloud stand-in: the Shipments, Parcel documents, Parcel tracking and Returns API v3 (under /api/v3) and
the Service Points API v2 (under /sp/api/v2), written from Sendcloud's published OpenAPI documents.

Requests are checked against tests/standins/schemas/sendcloud/ (written from those documents); a request that
breaks them is answered 400 in Sendcloud's `errors[]` shape and recorded in `violations`. Documented refusals
answered: a bad address (postal code), a shipping option the contract does not offer, an unknown service point,
a missing customs declaration outside the EU, bad credentials (401), rate limit (429 + Retry-After), a
carrier-side announcement failure (201 with ANNOUNCEMENT_FAILED), and the cancel conflicts (404/409).
Labels are the carrier's native ZPL as Sendcloud passes it on: one A6 label per parcel (bitmap font D, which covers Latin-1) with the collo
number (1/2 ...), the address as written (UTF-8 under ^CI28, ^FH escaped) and a Code 128 of the tracking number.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.standins.base import StandIn

PUBLIC_KEY, SECRET_KEY = "sc-public-4711", "sc-secret-0815"
OPTIONS = {"colissimo:home/signature", "colissimo:home", "dhl_express:worldwide/incoterm=dap",
           "mondial_relay:servicepoint"}
RETURN_OPTIONS = {"colissimo:return"}
ENABLED_SERVICE_POINT_CARRIERS = {"mondial_relay", "dpd"}
EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
      "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "MC"}


def _fh(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in "^~_\\" else
                   "".join(f"_{b:02X}" for b in ch.encode()) for ch in text)


@dataclass
class StoredParcel:
    id: int
    tracking_number: str
    index: int
    count: int
    to: dict[str, Any]
    sender: dict[str, Any]
    weight: str
    sscc: str | None = None


@dataclass
class StoredShipment:
    id: str
    parcels: list[StoredParcel]
    status: str = "READY_TO_SEND"


@dataclass
class ServicePoint:
    id: int
    name: str
    street: str
    house_number: str
    postal_code: str
    city: str
    country: str = "FR"
    carrier: str = "mondial_relay"
    is_active: bool = True
    distance: int = 0
    hours: dict[str, list[str]] = field(default_factory=lambda: {
        str(d): ["09:00 - 12:30", "14:00 - 19:00"] for d in range(6)})
    max_weight_kg: float = 20.0

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "code": f"{self.carrier.upper()}-{self.id}", "is_active": self.is_active,
                "shop_type": "servicepoint", "extra_data": {},
                "name": self.name, "street": self.street, "house_number": self.house_number,
                "postal_code": self.postal_code, "city": self.city, "latitude": "48.8566", "longitude": "2.3522",
                "email": "", "phone": "", "homepage": "", "carrier": self.carrier, "country": self.country,
                "formatted_opening_times": self.hours, "open_tomorrow": True, "open_upcoming_week": True,
                "distance": self.distance}


class SendcloudStandIn(StandIn):
    platform = "sendcloud"

    def __init__(self) -> None:
        self.shipments: dict[str, StoredShipment] = {}
        self.parcels: dict[int, StoredParcel] = {}
        self.returns: dict[int, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.service_points: dict[int, ServicePoint] = {}
        self.rate_limited = 0
        self.fail_announcement_next = False
        self.foreign_label_link_next = False
        self.blank_tracking_next = False
        self._ids = itertools.count(383707309)
        self._numbers = itertools.count(1)
        super().__init__()

    # --- helpers -----------------------------------------------------------------------------------------
    def _tracking(self) -> str:
        return f"6A{next(self._numbers):011d}FR"

    @staticmethod
    def _errors(status: int, detail: str, pointer: str | None = None, code: str = "invalid") -> Response:
        error: dict[str, Any] = {"status": str(status), "code": code, "detail": detail}
        if pointer:
            error["source"] = {"pointer": pointer}
        resp = jsonify({"errors": [error]})
        resp.status_code = status
        return resp

    def _authorised(self) -> bool:
        header = request.headers.get("Authorization", "")
        expected = base64.b64encode(f"{PUBLIC_KEY}:{SECRET_KEY}".encode()).decode()
        return header == f"Basic {expected}"

    def add_event(self, tracking_number: str, status_code: str, description: str, at: str) -> None:
        self.events.setdefault(tracking_number, []).append(
            {"event_at": at, "event_type": "carrier", "status_code": status_code,
             "status_description": description, "status_type": "success", "sub_status_code": "none"})

    def label_zpl(self, parcel: StoredParcel) -> str:
        to, sender = parcel.to, parcel.sender
        lines = [to["name"], to.get("company_name", ""), to["address_line_1"], to.get("address_line_2", ""),
                 f"{to['postal_code']} {to['city']}", to["country_code"]]
        parts = ["^XA", "^CI28", "^PW812", "^LL1218", "^LH0,0",
                 f"^FO40,30^ADN,28,14^FH^FD{_fh('From: ' + sender['name'] + ', ' + sender['city'])}^FS"]
        y = 100
        for line in (line for line in lines if line):
            parts.append(f"^FO40,{y}^ADN,36,20^FH^FD{_fh(line)}^FS")
            y += 50
        parts.append(f"^FO600,30^ADN,54,30^FH^FD{parcel.index}/{parcel.count}^FS")
        parts.append(f"^FO40,{y + 20}^ADN,30,16^FH^FD{_fh(parcel.weight)} kg^FS")
        if parcel.sscc:
            parts.append(f"^FO40,{y + 60}^ADN,30,16^FH^FD(00) {parcel.sscc}^FS")
        parts.append(f"^FO60,{y + 120}^BY3,3,200^BCN,200,Y,N,N,A^FD{parcel.tracking_number}^FS")
        parts.append("^XZ")
        return "\n".join(parts) + "\n"

    # --- routes ------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:  # noqa: C901 - one place lists the documented endpoints
        @app.before_request
        def _auth_and_rate() -> Response | None:
            with self.lock:
                if self.rate_limited:
                    self.rate_limited -= 1
                    resp = self._errors(429, "Request was throttled. Expected available in 7 seconds.",
                                        code="throttled")
                    resp.headers["Retry-After"] = "7"
                    return resp
            if not self._authorised():
                if request.path.startswith("/sp/"):
                    resp = jsonify({"detail": "Authentication credentials were not provided."})
                    resp.status_code = 401
                    return resp
                return self._errors(401, "Invalid username/password.", code="authentication_failed")
            return None

        @app.post("/api/v3/shipments/announce")
        def announce() -> Response:
            body = request.get_json(silent=True)
            errors = self.check("shipment_announce", body)
            if errors:
                return self._errors(400, errors[0])
            to, sender = body["to_address"], body["from_address"]
            if to["country_code"] == "FR" and not re.fullmatch(r"\d{5}", to["postal_code"]):
                return self._errors(400, "Postal code is invalid for country FR.", "/to_address/postal_code")
            option = body["ship_with"]["properties"]["shipping_option_code"]
            if option not in OPTIONS:
                return self._errors(400, f"Shipping option {option} is not available for this contract.",
                                    "/ship_with/properties/shipping_option_code")
            point = body.get("to_service_point")
            if point is not None and (not point["id"].isdigit() or int(point["id"]) not in self.service_points):
                return self._errors(400, "Service point does not exist.", "/to_service_point/id")
            if to["country_code"] not in EU and "customs_information" not in body:
                return self._errors(400, "This field is required.", "/customs_information", code="required")
            shipment_id = str(uuid.uuid4())
            count = len(body["parcels"])
            stored = []
            for index, p in enumerate(body["parcels"], start=1):
                sp = StoredParcel(next(self._ids), self._tracking(), index, count, to, sender, p["weight"]["value"],
                                  p.get("sscc"))
                stored.append(sp)
            shipment = StoredShipment(shipment_id, stored)
            failed = self.fail_announcement_next
            self.fail_announcement_next = False
            if failed:
                shipment.status = "ANNOUNCEMENT_FAILED"
            foreign = self.foreign_label_link_next
            self.foreign_label_link_next = False
            with self.lock:
                self.shipments[shipment_id] = shipment
                for sp in stored:
                    self.parcels[sp.id] = sp
            origin = "https://labels.example.net/" if foreign else request.host_url
            blank = self.blank_tracking_next
            self.blank_tracking_next = False
            parcels = [{
                "id": sp.id,
                "status": ({"code": "ANNOUNCEMENT_FAILED", "message": "Announcement Failed"} if failed
                           else {"code": "READY_TO_SEND", "message": "Ready to send"}),
                "documents": [] if failed else [{"type": "label", "size": "a6",
                                                 "link": f"{origin}api/v3/parcels/{sp.id}/documents/label"}],
                "weight": {"value": sp.weight, "unit": "kg"},
                "tracking_number": None if blank else sp.tracking_number,
                "sscc": sp.sscc,
            } for sp in stored]
            data = {"id": shipment_id, "parcels": parcels, "to_address": to, "from_address": sender,
                    "ship_with": body["ship_with"], "customs_information": body.get("customs_information"),
                    "errors": [{"status": "500", "code": "parcel_announcement_error",
                                "detail": "Service error: An error occurred while connecting to the carrier."}]
                    if failed else []}
            resp = jsonify({"data": data})
            resp.status_code = 201
            return resp

        @app.get("/api/v3/parcels/<int:parcel_id>/documents/<doc_type>")
        def document(parcel_id: int, doc_type: str) -> Response:
            if doc_type not in ("label", "customs-declaration", "air-waybill"):
                return self._errors(400, f"{doc_type} is not a document type.")
            dpi, paper = request.args.get("dpi", "72"), request.args.get("paper_size")
            if dpi not in ("72", "150", "203", "300", "600") or paper not in (None, "A4", "A5", "A6"):
                self.violation(f"dpi={dpi} paper_size={paper} outside the documented values")
                return self._errors(400, "Invalid dpi or paper size.")
            parcel = self.parcels.get(parcel_id)
            shipment = next((s for s in self.shipments.values() if parcel in s.parcels), None)
            if parcel is None or doc_type != "label" or (shipment and shipment.status == "ANNOUNCEMENT_FAILED"):
                return self._errors(404, "No Parcel matches the given query.", code="not_found")
            if request.headers.get("Accept") != "application/zpl":
                self.violation("a ZPL label was announced but not asked for as application/zpl")
            return Response(self.label_zpl(parcel), content_type="application/zpl")

        @app.get("/api/v3/shipments")
        def list_shipments() -> Response:
            number = request.args.get("tracking_number")
            found = [s for s in self.shipments.values() if any(p.tracking_number == number for p in s.parcels)]
            return jsonify({"data": [{"id": s.id} for s in found]})

        @app.post("/api/v3/shipments/<shipment_id>/cancel")
        def cancel(shipment_id: str) -> Response:
            shipment = self.shipments.get(shipment_id)
            if shipment is None:
                return self._errors(404, "Not found.", code="not_found")
            if shipment.status == "CANCELLED":
                return self._errors(409, "This shipment is already being cancelled.")
            shipment.status = "CANCELLED"
            return jsonify({"data": {"status": "cancelled", "message": "Shipment has been cancelled"}})

        @app.get("/api/v3/parcels/tracking/<tracking_number>")
        def track(tracking_number: str) -> Response:
            parcel = next((p for p in self.parcels.values() if p.tracking_number == tracking_number), None)
            if parcel is None:
                resp = jsonify({"detail": "Parcel does not exist"})
                resp.status_code = 404
                return resp
            now = dt.datetime.now(dt.UTC).isoformat()
            return jsonify({"announced_at": now, "created_at": now, "updated_at": now, "source_id": str(parcel.id),
                            "details": {"is_return": False}, "from_address": parcel.sender, "to_address": parcel.to,
                            "tracking_numbers": [{"carrier_code": "colissimo", "tracking_number": tracking_number}],
                            "events": list(self.events.get(tracking_number, []))})

        @app.post("/api/v3/returns/announce-synchronously")
        def create_return() -> Response:
            body = request.get_json(silent=True)
            errors = self.check("return_announce", body)
            if errors:
                resp = jsonify({"error": {"code": "validation_error", "request": "api/v3/returns",
                                          "message": errors[0]}})
                resp.status_code = 400
                return resp
            sender = body["from_address"]
            if sender["country_code"] == "FR" and not re.fullmatch(r"\d{5}", sender["postal_code"]):
                resp = jsonify({"error": {"code": "invalid_postal_code", "request": "api/v3/returns",
                                          "message": "The postal code you provided is invalid."}})
                resp.status_code = 400
                return resp
            if body["ship_with"].get("shipping_option_code") not in RETURN_OPTIONS:
                resp = jsonify({"error": {"code": "invalid_shipping_option", "request": "api/v3/returns",
                                          "message": "The shipping option is not available for returns."}})
                resp.status_code = 400
                return resp
            parcel = StoredParcel(next(self._ids), self._tracking(), 1, 1, body["to_address"], sender,
                                  str(body["weight"]["value"]))
            return_id = len(self.returns) + 1
            with self.lock:
                self.parcels[parcel.id] = parcel
                self.returns[return_id] = {"parcel": parcel, "body": body}
            resp = jsonify({"return_id": return_id, "parcel_id": parcel.id, "multi_collo_ids": []})
            resp.status_code = 201
            return resp

        @app.get("/api/v3/returns/<int:return_id>")
        def get_return(return_id: int) -> Response:
            stored = self.returns.get(return_id)
            if stored is None:
                return self._errors(404, "Not found.", code="not_found")
            body, parcel = stored["body"], stored["parcel"]
            return jsonify({"from_address": body["from_address"], "to_address": body["to_address"],
                            "weight": body["weight"], "tracking_number": parcel.tracking_number,
                            "is_cancellable": True, "send_tracking_emails": False, "status_history": [],
                            "shipping_product": {"code": body["ship_with"].get("shipping_option_code")},
                            "created_at": dt.datetime.now(dt.UTC).isoformat()})

        @app.get("/sp/api/v2/service-points")
        def service_points() -> Response:
            country = request.args.get("country")
            carrier = request.args.get("carrier")
            if not country or (carrier and any(c not in ENABLED_SERVICE_POINT_CARRIERS for c in carrier.split(","))):
                resp = jsonify({"detail": "country is required; carriers must be enabled in the integration"})
                resp.status_code = 400
                return resp
            weight = float(request.args.get("weight") or 0)
            found = [p.as_json() for p in self.service_points.values()
                     if p.country == country and (not carrier or p.carrier in carrier.split(","))
                     and p.max_weight_kg >= weight and p.is_active]
            return jsonify(found)

        @app.get("/sp/api/v2/service-points/<int:point_id>")
        def service_point(point_id: int) -> Response:
            point = self.service_points.get(point_id)
            if point is None:
                resp = jsonify({"detail": "Not found."})
                resp.status_code = 404
                return resp
            return jsonify(point.as_json())
