"""A stand-in for the ShipEngine v1 API on 127.0.0.1, checking requests against the published schema.

The schema below is written down by hand from ShipEngine's public documentation:
- docs.shipstation.com/apis/shipengine/docs/labels/create-a-label (POST /v1/labels, API-Key header, the
  shipment / ship_to / ship_from / packages / weight shape of the example request),
- docs.shipstation.com/apis/shipengine/openapi/labels/void_label (PUT /v1/labels/{label_id}/void,
  response {approved, message, reason_code?}),
- docs.shipstation.com/apis/shipengine/docs/reference/create-manifest (POST /v1/manifests with label_ids,
  response with manifest_id and manifest_download.href),
- docs.shipstation.com/apis/shipengine/docs/labels/formats (label_format pdf|png|zpl, label_layout 4x6|letter,
  label_download_type url|inline), shipengine-json-schema 1.7.1 (se_id pattern, service_code pattern,
  country_code length 2), and the address model of ShipEngine's OpenAPI document 1.1.202304191404 as
  mirrored by APIs.guru (name, phone, address_line1, city_locality, state_province, postal_code,
  country_code required; address_line2/3, company_name, email optional).
Only the parts this adapter uses are written down; unknown properties are refused, so a misspelt field
fails here. The answers follow the documented example responses.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from jsonschema import Draft202012Validator

from wms.labels.documents.shipping import Address, CarrierLabel

API_KEY = "TEST_standin_key"

SE_ID = {"type": "string", "minLength": 1, "maxLength": 25, "pattern": "^se(-[a-z0-9]+)+$"}
TEXT = {"type": "string", "minLength": 1}
ADDRESS = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "name",
        "phone",
        "address_line1",
        "city_locality",
        "state_province",
        "postal_code",
        "country_code",
    ],
    "properties": {
        "name": TEXT,
        "phone": TEXT,
        "email": {"type": "string"},
        "company_name": TEXT,
        "address_line1": TEXT,
        "address_line2": TEXT,
        "address_line3": TEXT,
        "city_locality": TEXT,
        "state_province": TEXT,
        "postal_code": TEXT,
        "country_code": {"type": "string", "minLength": 2, "maxLength": 2},
        "address_residential_indicator": {"enum": ["unknown", "yes", "no"]},
    },
}
PACKAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["weight"],
    "properties": {
        "package_code": {"type": "string"},
        "weight": {
            "type": "object",
            "additionalProperties": False,
            "required": ["value", "unit"],
            "properties": {
                "value": {"type": "number", "minimum": 0},
                "unit": {"enum": ["pound", "ounce", "gram", "kilogram"]},
            },
        },
        "dimensions": {
            "type": "object",
            "additionalProperties": False,
            "required": ["unit", "length", "width", "height"],
            "properties": {
                "unit": {"enum": ["inch", "centimeter"]},
                "length": {"type": "number", "minimum": 0},
                "width": {"type": "number", "minimum": 0},
                "height": {"type": "number", "minimum": 0},
            },
        },
        "label_messages": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "reference1": {"type": "string"},
                "reference2": {"type": "string"},
                "reference3": {"type": "string"},
            },
        },
        "external_package_id": {"type": "string"},
        "content_description": {"type": "string"},
    },
}
CREATE_LABEL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["shipment"],
    "properties": {
        "shipment": {
            "type": "object",
            "additionalProperties": False,
            "required": ["service_code", "ship_to", "ship_from", "packages"],
            "properties": {
                "carrier_id": SE_ID,
                "service_code": {"type": "string", "pattern": "^[a-z0-9]+(_[a-z0-9-]+)* ?$"},
                "external_shipment_id": {"type": "string"},
                "ship_date": {
                    "type": "string",
                    "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[-+]\d{2}:\d{2}))?$",
                },
                "ship_to": ADDRESS,
                "ship_from": ADDRESS,
                "packages": {"type": "array", "minItems": 1, "items": PACKAGE},
            },
        },
        "label_format": {"enum": ["pdf", "png", "zpl"]},
        "label_layout": {"enum": ["4x6", "letter"]},
        "label_download_type": {"enum": ["url", "inline"]},
        "test_label": {"type": "boolean"},
        "validate_address": {"enum": ["no_validation", "validate_only", "validate_and_clean"]},
    },
}
CREATE_MANIFEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["label_ids"],
    "properties": {"label_ids": {"type": "array", "minItems": 1, "maxItems": 500, "items": SE_ID}},
}
SCHEMAS = {("POST", "/v1/labels"): CREATE_LABEL, ("POST", "/v1/manifests"): CREATE_MANIFEST}
for _schema in SCHEMAS.values():
    Draft202012Validator.check_schema(_schema)

FROM = Address("ShipEngine stand-in", ("1 Loopback Way",), "00000", "Localhost", "US")
PDF_DOCUMENT = b"%PDF-1.4\n% stand-in manifest\n%%EOF\n"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    """State of the stand-in: what it was asked, what it issued, and scripted failures."""

    tracking_numbers: list[str]
    base_url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # label_id -> label
    next_response: tuple[int, Any] | None = None  # answer the next API call with this, once
    void_approved: bool = True
    bad_download_url: str | None = None
    _serial: int = 1000

    def api_calls(self) -> list[Recorded]:
        return [r for r in self.requests if not r.path.startswith("/v1/downloads/")]

    # --- WSGI -------------------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        query = parse_qs(environ.get("QUERY_STRING", ""))
        self.requests.append(Recorded(method, path, query, headers, body))
        status, payload, content_type = self._answer(method, path, query, headers, body, raw)
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        start_response(f"{status} X", [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
        return [payload]

    def _answer(self, method, path, query, headers, body, raw):
        if path.startswith("/v1/downloads/"):
            return self._download(path)
        problems = self._check(method, path, headers, body, raw)
        if problems:
            self.violations.extend(problems)
            return 400, _error_body(problems), "application/json"
        if self.next_response is not None:
            status, payload = self.next_response
            self.next_response = None
            return status, payload, "application/json"
        if (method, path) == ("POST", "/v1/labels"):
            return 200, self._create_label(body), "application/json"
        if (method, path) == ("GET", "/v1/labels"):
            return 200, self._list_labels(query), "application/json"
        m = re.fullmatch(r"/v1/labels/(se-[a-z0-9-]+)/void", path)
        if method == "PUT" and m:
            return self._void(m.group(1))
        if (method, path) == ("POST", "/v1/manifests"):
            return 200, self._manifest(body), "application/json"
        return 404, _error_body([f"No route {method} {path}"]), "application/json"

    def _check(self, method, path, headers, body, raw) -> list[str]:
        problems = []
        if headers.get("Api-Key") != API_KEY:
            problems.append("API-Key header missing or wrong")
        schema = SCHEMAS.get((method, path))
        if schema is not None:
            if not headers.get("Content-Type", "").startswith("application/json"):
                problems.append("Content-Type must be application/json")
            problems.extend(
                f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}"
                for e in Draft202012Validator(schema).iter_errors(body)
            )
        elif raw:
            problems.append(f"{method} {path} takes no body")
        return problems

    # --- behaviour ------------------------------------------------------------------------------------

    def _create_label(self, body):
        shipment = body["shipment"]
        self._serial += 1
        label_id = f"se-{self._serial}"
        numbers = [self.tracking_numbers.pop(0) for _ in shipment["packages"]]
        zpl_url = self.bad_download_url or f"{self.base_url}/v1/downloads/10/{label_id}/label.zpl"
        label = {
            "label_id": label_id,
            "status": "completed",
            "shipment_id": f"se-{self._serial + 5000}",
            "tracking_number": numbers[0],
            "label_format": "zpl",
            "label_layout": "4x6",
            "packages": [{"package_id": i + 1, "tracking_number": n} for i, n in enumerate(numbers)],
            "label_download": {
                "href": zpl_url,
                "pdf": f"{self.base_url}/v1/downloads/10/{label_id}/label.pdf",
                "png": f"{self.base_url}/v1/downloads/10/{label_id}/label.png",
                "zpl": zpl_url,
            },
            "_ship_to": shipment["ship_to"],
            "_weights": [p["weight"]["value"] for p in shipment["packages"]],
            "_reference": shipment.get("external_shipment_id", ""),
        }
        self.labels[label_id] = label
        return {k: v for k, v in label.items() if not k.startswith("_")}

    def _list_labels(self, query):
        wanted = query.get("tracking_number", [""])[0]
        found = [
            {"label_id": lid, "tracking_number": lab["tracking_number"], "status": lab["status"]}
            for lid, lab in self.labels.items()
            if wanted in [p["tracking_number"] for p in lab["packages"]]
        ]
        return {"labels": found, "total": len(found), "page": 1, "pages": 1}

    def _void(self, label_id):
        label = self.labels.get(label_id)
        if label is None:
            return 404, _error_body([f"label {label_id} not found"]), "application/json"
        if not self.void_approved:
            return (
                200,
                {"approved": False, "message": "Label already used", "reason_code": "label_already_used"},
                ("application/json"),
            )
        label["status"] = "voided"
        return (
            200,
            {"approved": True, "message": "Request for refund submitted.", "voided_label_ids": [label_id]},
            ("application/json"),
        )

    def _manifest(self, body):
        self._serial += 1
        manifest_id = f"se-{self._serial}"
        href = f"{self.base_url}/v1/downloads/0/{manifest_id}/manifest.pdf"
        return {
            "manifest_id": manifest_id,
            "form_id": manifest_id,
            "created_at": "2026-11-23T16:39:34.503Z",
            "ship_date": "2026-11-23T00:00:00Z",
            "shipments": len(body["label_ids"]),
            "label_ids": body["label_ids"],
            "warehouse_id": None,
            "submission_id": "9475711201080308027034",
            "carrier_id": "se-82785",
            "manifest_download": {"href": href},
        }

    def _download(self, path):
        m = re.fullmatch(r"/v1/downloads/\d+/(se-[a-z0-9-]+)/(label\.zpl|manifest\.pdf)", path)
        if not m:
            return 404, b"not found", "text/plain"
        if m.group(2) == "manifest.pdf":
            return 200, PDF_DOCUMENT, "application/pdf"
        label = self.labels.get(m.group(1))
        if label is None:
            return 404, b"not found", "text/plain"
        ship_to = label["_ship_to"]
        to = Address(
            ship_to["name"],
            (ship_to["address_line1"],),
            ship_to["postal_code"],
            ship_to["city_locality"],
            ship_to["country_code"],
        )
        zpl = "".join(
            CarrierLabel(
                FROM,
                to,
                "UPS",
                "Ground",
                int(weight),
                pkg["tracking_number"],
                "376104250021234569",
                label["_reference"] or "-",
                parcel_index=i + 1,
                parcel_count=len(label["packages"]),
            ).to_zpl()
            for i, (pkg, weight) in enumerate(zip(label["packages"], label["_weights"], strict=True))
        )
        return 200, zpl.encode("ascii"), "application/zpl"


def _error_body(messages: list[str]) -> dict[str, Any]:
    return {
        "request_id": "aa3d8e8e-462b-4476-9618-72db7f7b7009",
        "errors": [
            {
                "error_source": "shipengine",
                "error_type": "validation",
                "error_code": "invalid_field_value",
                "message": message,
            }
            for message in messages
        ],
    }


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class StandInServer:
    """Serve a StandIn on 127.0.0.1 (a free port) in a thread; use as a context manager."""

    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self._server: WSGIServer = make_server("127.0.0.1", 0, standin, handler_class=_QuietHandler)
        self.standin.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self.standin

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
