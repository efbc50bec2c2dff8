"""A Mirakl marketplace (MMP) as a seller's connector sees it: the shop API OR11, OR21, OR23, OR24, OF21, OF24,
OF02, OF03 and A01, written from developer.mirakl.com's seller API reference.

- Auth: the shop API key in `Authorization` (401 `{"message", "status"}` otherwise); `shop_id`, when sent, must
  be the shop's (403 otherwise).
- The documented maximum call frequency of OR11, OF24, OF02 and OF03 ("once per minute") is enforced per API
  with 429 and `Retry-After`; `pacing_scale` shrinks the minute for tests (0.02: 1.2 s), so Retry-After may be
  fractional.
- Orders: checkout reserves the offer's quantity and creates a WAITING_ACCEPTANCE order; OR21 moves it to
  SHIPPING (refused lines give their quantity back; all refused: REFUSED); OR24 moves SHIPPING to SHIPPED;
  cancel gives the unshipped quantity back (CANCELED). OR11 pages by offset, sorted by creation date ascending.
  Real marketplaces may withhold the customer's address and email until the order is accepted (OR15's field
  notes: "Null before shipping (or acceptance, depending on platform setting)");
  `hide_customer_until_accepted=True` does that (off by default).
- Offers: OF24 is validated against the schema (every offer field required) and queued as an import that is
  processed `import_delay` seconds later: a field the request left out is a violation AND is reset to its
  default, as the docs warn. OF02 reads the import; OF03 gives a `;`-separated CSV of the lines in error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import threading
import time
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from tests.standins.base import Bucket, StandIn
from wms.channels.connectors.base import ConnectorConfig

PACED = ("OR11", "OF24", "OF02", "OF03")
OFFER_DEFAULTS: dict[str, Any] = {
    "price": None, "state_code": None, "description": None, "internal_description": None,
    "price_additional_info": None, "leadtime_to_ship": None, "logistic_class": None, "min_quantity_alert": None,
    "available_started": None, "available_ended": None, "discount": None, "allow_quote_requests": False,
    "min_order_quantity": None, "max_order_quantity": None, "package_quantity": None, "offer_additional_fields": [],
    "quantity": 0,
}


def _fmt(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json", headers=headers or {})


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return _json({"message": message, "status": status}, status, headers)


class MiraklStandIn(StandIn):
    platform = "mirakl"

    def __init__(self, *, api_key: str = "mirakl-shop-key", shop_id: int = 2001, pacing_scale: float = 0.02,
                 import_delay: float = 0.15, hide_customer_until_accepted: bool = False) -> None:
        self.api_key, self.shop_id = api_key, shop_id
        self.hide_customer_until_accepted = hide_customer_until_accepted
        self.pacing_scale, self.import_delay = pacing_scale, import_delay
        self.offers: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.trackings: dict[str, list[dict[str, Any]]] = {}
        self.imports: dict[int, dict[str, Any]] = {}
        self.webhook_url: str | None = None       # Mirakl sends the seller no order webhooks: polling only
        self.rate_limited = 0
        self._ids = itertools.count(1)
        self._last_stamp = dt.datetime.now(dt.UTC)
        self.buckets = {api: Bucket(1 / (60.0 * pacing_scale), 1) for api in PACED}
        super().__init__()

    # --- the stand-in contract -------------------------------------------------------------------------------
    def add_item(self, sku: str, quantity: int, *, title: str | None = None, price: float = 19.9,
                 leadtime_to_ship: int = 2, logistic_class: str = "M") -> str:
        with self.lock:
            self.offers[sku] = {
                "offer_id": next(self._ids), "shop_sku": sku, "product_sku": f"MKP-{sku}",
                "product_title": title or sku, "product_references": [{"reference": f"3700000{len(self.offers):06d}",
                                                                      "reference_type": "EAN"}],
                "price": price, "quantity": int(quantity), "state_code": "11", "description": f"{title or sku}",
                "internal_description": "stand-in", "price_additional_info": None,
                "leadtime_to_ship": leadtime_to_ship, "logistic_class": logistic_class, "min_quantity_alert": None,
                "available_started": None, "available_ended": None, "discount": None, "allow_quote_requests": False,
                "min_order_quantity": None, "max_order_quantity": None, "package_quantity": None,
                "offer_additional_fields": [{"code": "warranty", "value": "2y"}],
            }
        return sku

    def stock_of(self, sku: str) -> int:
        with self.lock:
            return int(self.offers[sku]["quantity"])

    def checkout(self, sku: str, quantity: int, *, email: str = "c@example.com",
                 relay_point_id: str | None = None) -> str | None:
        return self.checkout_lines([(sku, quantity)], email=email, relay_point_id=relay_point_id)

    def checkout_lines(self, items: list[tuple[str, int]], *, email: str = "c@example.com",
                       relay_point_id: str | None = None) -> str | None:
        """A customer's basket with one line per (offer sku, quantity); None when one line lacks stock."""
        with self.lock:
            if any(sku not in self.offers or self.offers[sku]["quantity"] < qty for sku, qty in items):
                return None
            number = next(self._ids)
            order_id = f"MK{number:06d}-A"
            now = self._stamp()
            lines = []
            for index, (sku, qty) in enumerate(items, start=1):
                offer = self.offers[sku]
                offer["quantity"] -= qty
                unit = Decimal(str(offer["price"] or 0))
                lines.append({"order_line_id": f"{order_id}-{index}", "offer_sku": sku,
                              "offer_id": offer["offer_id"], "product_sku": offer["product_sku"],
                              "product_title": offer["product_title"], "quantity": qty,
                              "order_line_state": "WAITING_ACCEPTANCE", "price_unit": float(unit),
                              "price": float(unit * qty)})
            self.orders[order_id] = {
                "order_id": order_id, "commercial_id": f"MK{number:06d}", "order_state": "WAITING_ACCEPTANCE",
                "created_date": _fmt(now), "last_updated_date": _fmt(now), "currency_iso_code": "EUR",
                "total_price": sum(line["price"] for line in lines), "shipping_type_code": "STD",
                "shipping_carrier_code": None, "shipping_pudo_id": relay_point_id,
                "customer_notification_email": email,
                "customer": {"customer_id": f"C{number}", "firstname": "Camille", "lastname": "Martin",
                             "locale": "fr_FR",
                             "shipping_address": {"firstname": "Camille", "lastname": "Martin",
                                                  "street_1": "3 rue des Lilas", "street_2": None,
                                                  "zip_code": "69003", "city": "Lyon", "country_iso_code": "FRA",
                                                  "phone": "+33600000000"}},
                "order_lines": lines,
            }
            return order_id

    def cancel(self, external_id: str) -> None:
        with self.lock:
            order = self.orders[external_id]
            if order["order_state"] in ("SHIPPED", "CLOSED", "RECEIVED", "CANCELED", "REFUSED"):
                return
            for line in order["order_lines"]:
                if line["order_line_state"] not in ("REFUSED", "CANCELED"):
                    self.offers[line["offer_sku"]]["quantity"] += line["quantity"]
                    line["order_line_state"] = "CANCELED"
            self._set_state(order, "CANCELED")

    def tracking_of(self, external_id: str) -> list[str]:
        with self.lock:
            return [t["tracking_number"] for t in self.trackings.get(external_id, [])]

    def order_state(self, external_id: str) -> str:
        with self.lock:
            return str(self.orders[external_id]["order_state"])

    def connector_config(self, **options: Any) -> ConnectorConfig:
        return ConnectorConfig(base_url=self.url, credentials={"api_key": self.api_key},
                               options={"shop_id": self.shop_id, "pacing_scale": self.pacing_scale, **options},
                               timeout=5.0)

    # --- test helpers ------------------------------------------------------------------------------------------
    def offer(self, sku: str) -> dict[str, Any]:
        with self.lock:
            return json.loads(json.dumps(self.offers[sku]))

    def touch(self, order_id: str, at: dt.datetime) -> None:
        """Make an order look last updated at `at` (a change committed late, behind a checkpoint)."""
        with self.lock:
            self.orders[order_id]["last_updated_date"] = _fmt(at)

    def wait_for_imports(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(i["status"] in ("COMPLETE", "FAILED") for i in self.imports.values()):
                    return
            time.sleep(0.02)
        raise TimeoutError("offer imports still running")

    # --- internals -----------------------------------------------------------------------------------------------
    def _stamp(self) -> dt.datetime:
        now = max(dt.datetime.now(dt.UTC), self._last_stamp + dt.timedelta(milliseconds=1))
        self._last_stamp = now
        return now

    def _set_state(self, order: dict[str, Any], state: str) -> None:
        order["order_state"] = state
        order["last_updated_date"] = _fmt(self._stamp())

    def _guard(self, api: str) -> Response | None:
        """Auth, shop_id, and the API's documented maximum frequency."""
        if request.headers.get("Authorization") != self.api_key:
            return _error("Unauthorized", 401)
        shop = request.args.get("shop_id")
        if shop is not None and shop != str(self.shop_id):
            return _error(f"You do not have access to shop {shop}", 403)
        bucket = self.buckets.get(api)
        if bucket is not None:
            wait = bucket.take()
            if wait is not None:
                with self.lock:
                    self.rate_limited += 1
                return _error(f"{api}: too many requests", 429, {"Retry-After": f"{wait:.3f}"})
        return None

    def _body(self, schema: str) -> Any:
        try:
            document = json.loads(request.get_data() or b"null")
        except ValueError:
            self.violation("the body is not JSON")
            return None
        self.check(schema, document)
        return document

    def _order_or_404(self, order_id: str) -> dict[str, Any] | Response:
        order = self.orders.get(order_id)
        return order if order is not None else _error(f"Order with id {order_id} not found", 404)

    # --- routes --------------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.add_url_rule("/api/account", "a01", self.a01, methods=["GET"])
        app.add_url_rule("/api/orders", "or11", self.or11, methods=["GET"])
        app.add_url_rule("/api/orders/<order_id>/accept", "or21", self.or21, methods=["PUT"])
        app.add_url_rule("/api/orders/<order_id>/tracking", "or23", self.or23, methods=["PUT"])
        app.add_url_rule("/api/orders/<order_id>/ship", "or24", self.or24, methods=["PUT"])
        app.add_url_rule("/api/offers", "of21", self.of21, methods=["GET"])
        app.add_url_rule("/api/offers", "of24", self.of24, methods=["POST"])
        app.add_url_rule("/api/offers/imports/<int:import_id>", "of02", self.of02, methods=["GET"])
        app.add_url_rule("/api/offers/imports/<int:import_id>/error_report", "of03", self.of03, methods=["GET"])

    def a01(self) -> Response:
        return self._guard("A01") or _json({"shop_id": self.shop_id, "shop_name": "Stand-in Mirakl shop",
                                            "shop_state": "OPEN", "currency_iso_code": "EUR"})

    def or11(self) -> Response:
        if (refused := self._guard("OR11")) is not None:
            return refused
        query = {}
        for key, values in request.args.to_dict(flat=False).items():
            if len(values) > 1:
                self.violation(f"{key} given {len(values)} times")
            query[key] = values[0]
        if self.check("or11_query", query):
            return _error("Invalid query parameters", 400)
        with self.lock:
            orders = sorted(self.orders.values(), key=lambda o: (o["created_date"], o["order_id"]))
            if "order_ids" in query:
                ids = set(query["order_ids"].split(","))
                orders = [o for o in orders if o["order_id"] in ids]
            if "order_state_codes" in query:
                states = set(query["order_state_codes"].split(","))
                orders = [o for o in orders if o["order_state"] in states]
            if "start_update_date" in query:
                since = dt.datetime.fromisoformat(query["start_update_date"].replace("Z", "+00:00"))
                orders = [o for o in orders
                          if dt.datetime.fromisoformat(o["last_updated_date"].replace("Z", "+00:00")) >= since]
            offset, size = int(query.get("offset", 0)), int(query.get("max", 10))
            page = json.loads(json.dumps(orders[offset:offset + size]))
            if self.hide_customer_until_accepted:
                for order in page:
                    if order["order_state"] in ("STAGING", "WAITING_ACCEPTANCE"):
                        order["customer"]["shipping_address"] = None
                        order["customer_notification_email"] = None
            return _json({"orders": page, "total_count": len(orders)})

    def or21(self, order_id: str) -> Response:
        if (refused := self._guard("OR21")) is not None:
            return refused
        body = self._body("or21")
        with self.lock:
            order = self._order_or_404(order_id)
            if isinstance(order, Response):
                return order
            if order["order_state"] != "WAITING_ACCEPTANCE":
                return _error(f"The order {order_id} is not in WAITING_ACCEPTANCE state", 400)
            if not isinstance(body, dict) or not isinstance(body.get("order_lines"), list):
                return _error("order_lines is required", 400)
            decisions = {d.get("id"): d.get("accepted") for d in body["order_lines"] if isinstance(d, dict)}
            lines = {line["order_line_id"]: line for line in order["order_lines"]}
            if set(decisions) - set(lines):
                return _error(f"Unknown order lines {sorted(set(decisions) - set(lines))}", 400)
            if set(lines) - set(decisions):
                self.violation(f"OR21 must decide every line; missing {sorted(set(lines) - set(decisions))}")
                return _error("All the order lines must be accepted or refused", 400)
            for ref, accepted in decisions.items():
                line = lines[ref]
                if accepted:
                    line["order_line_state"] = "SHIPPING"
                else:
                    line["order_line_state"] = "REFUSED"
                    self.offers[line["offer_sku"]]["quantity"] += line["quantity"]
            self._set_state(order, "SHIPPING" if any(decisions.values()) else "REFUSED")
        return Response(status=204)

    def or23(self, order_id: str) -> Response:
        if (refused := self._guard("OR23")) is not None:
            return refused
        body = self._body("or23")
        with self.lock:
            order = self._order_or_404(order_id)
            if isinstance(order, Response):
                return order
            if order["order_state"] not in ("SHIPPING", "SHIPPED"):
                return _error(f"The order {order_id} is in state {order['order_state']}: no tracking", 400)
            if not isinstance(body, dict) or not body.get("tracking_number"):
                return _error("tracking_number is required", 400)
            self.trackings.setdefault(order_id, [])
            if all(t["tracking_number"] != body["tracking_number"] for t in self.trackings[order_id]):
                self.trackings[order_id].append(body)
            order["last_updated_date"] = _fmt(self._stamp())
        return Response(status=204)

    def or24(self, order_id: str) -> Response:
        if (refused := self._guard("OR24")) is not None:
            return refused
        if request.get_data():
            self._body("or24")
        with self.lock:
            order = self._order_or_404(order_id)
            if isinstance(order, Response):
                return order
            if order["order_state"] != "SHIPPING":
                return _error(f"The order {order_id} is in state {order['order_state']}, not SHIPPING", 400)
            for line in order["order_lines"]:
                if line["order_line_state"] == "SHIPPING":
                    line["order_line_state"] = "SHIPPED"
            self._set_state(order, "SHIPPED")
        return Response(status=204)

    def of21(self) -> Response:
        if (refused := self._guard("OF21")) is not None:
            return refused
        offset, size = int(request.args.get("offset", 0)), int(request.args.get("max", 10))
        if size > 100:
            self.violation("OF21 max above 100")
        with self.lock:
            offers = [self._of21_shape(o) for o in self.offers.values()]
        return _json({"offers": offers[offset:offset + size], "total_count": len(offers)})

    def _of21_shape(self, offer: dict[str, Any]) -> dict[str, Any]:
        """An offer as OF21 lists it (dates, discount and logistic class named as OF21 names them)."""
        out = json.loads(json.dumps(offer))
        out["available_start_date"] = out.pop("available_started")
        out["available_end_date"] = out.pop("available_ended")
        out["logistic_class"] = ({"code": offer["logistic_class"], "label": offer["logistic_class"]}
                                 if offer["logistic_class"] else None)
        if offer["discount"]:
            out["discount"] = {"discount_price": offer["discount"].get("price"),
                               "start_date": offer["discount"].get("start_date"),
                               "end_date": offer["discount"].get("end_date")}
        out["active"] = True
        return out

    def of24(self) -> Response:
        if (refused := self._guard("OF24")) is not None:
            return refused
        body = self._body("of24")
        if not isinstance(body, dict) or not isinstance(body.get("offers"), list):
            return _error("offers is required", 400)
        with self.lock:
            import_id = next(self._ids)
            self.imports[import_id] = {"import_id": import_id, "status": "WAITING", "offers": body["offers"],
                                       "errors": [], "date_created": _fmt(self._stamp()), "lines_read": 0}
        timer = threading.Timer(self.import_delay, self._process_import, args=(import_id,))
        timer.daemon = True
        timer.start()
        return _json({"import_id": import_id}, 201)

    def _process_import(self, import_id: int) -> None:
        with self.lock:
            job = self.imports[import_id]
            job["status"] = "RUNNING"
            for index, sent in enumerate(job["offers"], start=1):
                sku = sent.get("shop_sku") if isinstance(sent, dict) else None
                if sku not in self.offers:
                    job["errors"].append((index, sku, "The offer does not exist and its product is unknown"))
                    continue
                if sent.get("update_delete") == "delete":
                    del self.offers[sku]
                    continue
                if not isinstance(sent.get("quantity", 0), int) or sent.get("quantity", 0) < 0:
                    job["errors"].append((index, sku, "The quantity is invalid"))
                    continue
                offer = self.offers[sku]
                for field, default in OFFER_DEFAULTS.items():
                    offer[field] = sent.get(field, default)   # an omitted field is reset, as OF24 warns
            job["lines_read"] = len(job["offers"])
            job["status"] = "COMPLETE"

    def of02(self, import_id: int) -> Response:
        if (refused := self._guard("OF02")) is not None:
            return refused
        with self.lock:
            job = self.imports.get(import_id)
            if job is None:
                return _error(f"Import {import_id} not found", 404)
            done = job["status"] == "COMPLETE"
            errors = len(job["errors"])
            return _json({"import_id": import_id, "date_created": job["date_created"], "status": job["status"],
                          "mode": "NORMAL", "type": "MIRAKL", "reason_status": None,
                          "has_error_report": done and errors > 0, "lines_read": job["lines_read"],
                          "lines_in_error": errors if done else 0,
                          "lines_in_success": job["lines_read"] - errors if done else 0,
                          "lines_in_pending": 0 if done else len(job["offers"]),
                          "offer_inserted": 0, "offer_updated": job["lines_read"] - errors if done else 0,
                          "offer_deleted": 0})

    def of03(self, import_id: int) -> Response:
        if (refused := self._guard("OF03")) is not None:
            return refused
        with self.lock:
            job = self.imports.get(import_id)
            if job is None or not job["errors"]:
                return _error(f"No error report for import {import_id}", 404)
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";")
            writer.writerow(["shop_sku", "error-line", "error-message"])
            for line, sku, message in job["errors"]:
                writer.writerow([sku or "", line, message])
        return Response(out.getvalue(), content_type="text/csv")
