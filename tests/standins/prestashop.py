"""A PrestaShop 1.7/8 shop's webservice (XML under /api/...), as the connector meets it.

Written from the devdocs webservice pages (resources, list parameters, cheat sheet) and the core's
WebserviceRequest/WebserviceOutputXML: the key is the Basic user (empty password) or `ws_key`; answers are
`<prestashop xmlns:xlink=...>` documents; errors `<prestashop><errors><error><code/><message/></error></errors>`
(401 codes 16/18/20/21, 404 code 87 as the core; the other codes are ours). Every query is checked against
schemas/prestashop/queries.json and every body against the JSON schemas beside it (the XML read as a dict):
breaking one is answered 400 and recorded in `violations`.

The shop holds products, combinations and their stock_availables (a product with combinations carries the sum
of theirs, as PrestaShop keeps it), customers, addresses and orders. `checkout` decrements the stock and makes
a "Payment accepted" order; `cancel` moves it to "Canceled" and puts the quantities back, as the core does.
PrestaShop has no webhooks in core: `webhook_url` is kept for the contract and never called.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from flask import Flask, Response, request

from tests.standins.base import SCHEMAS, Bucket, StandIn
from wms.channels.connectors.base import ConnectorConfig

XLINK = "http://www.w3.org/1999/xlink"
KEY = "ZQ8ZS5R6UXK2M3J4VB9TC7W1PLN0HYDF"  # 32 characters, like every PrestaShop key
QUERIES = json.loads((SCHEMAS / "prestashop" / "queries.json").read_text())
STATE_NAMES = {1: "Awaiting check payment", 2: "Payment accepted", 3: "Processing in progress", 4: "Shipped",
               5: "Delivered", 6: "Canceled", 7: "Refunded", 8: "Payment error", 9: "On backorder (paid)",
               10: "Awaiting bank wire payment", 11: "Remote payment accepted", 12: "On backorder (not paid)",
               13: "Awaiting Cash On Delivery validation"}
WRITES = {("PUT", "stock_availables"): ("put_stock_available", "stock_available"),
          ("PUT", "order_carriers"): ("put_order_carrier", "order_carrier"),
          ("POST", "order_carriers"): ("post_order_carrier", "order_carrier"),
          ("POST", "order_histories"): ("post_order_history", "order_history")}
FILTER = re.compile(r"^(?P<op>[<>!]?)(?P<pre>%?)\[(?P<body>.*)\](?P<post>%?)$")


class PsError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def xml_response(root: Element, status: int = 200) -> Response:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")
    return Response(body, status=status, content_type="text/xml;charset=utf-8",
                    headers={"PSWS-Version": "8.1.0", "X-Powered-By": "PrestaShop Webservice"})


def error_response(status: int, *errors: tuple[int, str]) -> Response:
    root = Element("prestashop", {"xmlns:xlink": XLINK})
    box = SubElement(root, "errors")
    for code, message in errors:
        err = SubElement(box, "error")
        SubElement(err, "code").text = str(code)
        SubElement(err, "message").text = message
    resp = xml_response(root, status)
    if status == 401:
        resp.headers["WWW-Authenticate"] = ('Basic realm="Welcome to PrestaShop Webservice, please enter the '
                                            'authentication key as the login. No password required."')
    return resp


def body_as_dict(node: Element) -> Any:
    children = list(node)
    if not children:
        return node.text or ""
    return {child.tag: body_as_dict(child) for child in children}


class PrestaShopStandIn(StandIn):
    platform = "prestashop"

    def __init__(self, *, timezone: str = "Europe/Paris", shop_name: str = "Boutique Rack Zone",
                 rate: float | None = None, burst: float = 10, throttle_status: int = 429) -> None:
        self.tz = ZoneInfo(timezone)
        self.shop_name = shop_name
        self.key = KEY
        self.webhook_url: str | None = None
        self.throttle = Bucket(rate, burst) if rate else None
        self.throttle_status = throttle_status
        self.permissions = {r: {"get", "put", "post", "head"} for r in QUERIES["resources"]}
        self.emails_sent: list[tuple[str, str]] = []   # (order id, mail template) sent (sendemail=1)
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        self.db: dict[str, dict[int, dict[str, Any]]] = {r: {} for r in QUERIES["resources"]}
        self.db["languages"] = {1: {"id": 1, "name": "Français", "iso_code": "fr"},
                                2: {"id": 2, "name": "English", "iso_code": "en"}}
        self.db["currencies"] = {1: {"id": 1, "name": "Euro", "iso_code": "EUR"}}
        self.db["countries"] = {8: {"id": 8, "iso_code": "FR"}}
        self.db["carriers"] = {1: {"id": 1, "name": "Click and collect", "url": "", "active": 1, "deleted": 0},
                               2: {"id": 2, "name": "Colissimo", "url": "https://www.laposte.fr/outils/suivre-vos-envois?code=@",
                                   "active": 1, "deleted": 0}}
        self.db["order_states"] = {i: {"id": i, "name": n, "paid": int(i in (2, 3, 4, 5, 9, 11)),
                                       "shipped": int(i in (4, 5)), "delivery": int(i in (4, 5)),
                                       "logable": int(i in (2, 3, 4, 5, 9, 11))} for i, n in STATE_NAMES.items()}
        self._next: dict[str, int] = {}
        self._refs: dict[str, tuple[int, int]] = {}         # reference -> (id_product, id_product_attribute)
        self._stock_at: dict[tuple[int, int], int] = {}     # (id_product, id_product_attribute) -> stock id
        self._combos_of: dict[int, list[int]] = {}          # id_product -> stock ids of its combinations
        super().__init__()

    # --- the shop's own clock (wall clock of its time zone, no offset) ------------------------------------------
    def now(self, at: dt.datetime | None = None) -> str:
        moment = at or self.clock()
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def _new_id(self, table: str) -> int:
        rows = self.db[table]
        new = self._next.get(table) or max(rows, default=0) + 1
        while new in rows:          # a test may have put a row in by hand
            new += 1
        self._next[table] = new + 1
        return new

    # --- contract ------------------------------------------------------------------------------------------------
    def add_item(self, sku: str, quantity: int, *, title: str | None = None, product_of: str | None = None) -> str:
        """A product with reference `sku`, or (product_of=parent reference) a combination of that product."""
        with self.lock:
            if product_of is None:
                pid = self._add_product(sku, title or sku)
                self._add_stock(pid, 0, quantity)
                return f"{pid}:0"
            parent = self._refs.get(product_of)
            pid = parent[0] if parent else self._add_product(product_of, title or product_of)
            if parent is None:
                self._add_stock(pid, 0, 0)
            cid = self._new_id("combinations")
            self.db["combinations"][cid] = {"id": cid, "id_product": pid, "reference": sku, "ean13": ""}
            self._refs[sku] = (pid, cid)
            self._add_stock(pid, cid, quantity)
            self._sum_parent(pid)
            return f"{pid}:{cid}"

    def _add_product(self, reference: str, title: str) -> int:
        pid = self._new_id("products")
        self.db["products"][pid] = {"id": pid, "reference": reference, "ean13": "", "name": {1: title, 2: title},
                                    "active": 1, "date_add": self.now(), "date_upd": self.now()}
        self._refs.setdefault(reference, (pid, 0))
        return pid

    def _add_stock(self, pid: int, cid: int, quantity: int) -> None:
        sid = self._new_id("stock_availables")
        self.db["stock_availables"][sid] = {"id": sid, "id_product": pid, "id_product_attribute": cid, "id_shop": 1,
                                            "id_shop_group": 0, "quantity": quantity, "depends_on_stock": 0,
                                            "out_of_stock": 2, "location": ""}
        self._stock_at[(pid, cid)] = sid
        if cid:
            self._combos_of.setdefault(pid, []).append(sid)

    def _stock_row(self, pid: int, cid: int) -> dict[str, Any] | None:
        sid = self._stock_at.get((pid, cid))
        return self.db["stock_availables"].get(sid) if sid is not None else None

    def _sum_parent(self, pid: int) -> None:
        combos = [self.db["stock_availables"][sid] for sid in self._combos_of.get(pid, [])]
        parent = self._stock_row(pid, 0)
        if combos and parent is not None:
            parent["quantity"] = sum(s["quantity"] for s in combos)

    def _item_of(self, sku: str) -> tuple[int, int, dict[str, Any]]:
        pid, cid = self._refs[sku]
        return pid, cid, self.db["products"][pid]

    def stock_of(self, sku: str) -> int:
        with self.lock:
            pid, cid, _ = self._item_of(sku)
            row = self._stock_row(pid, cid)
            return max(0, row["quantity"]) if row else 0

    def checkout(self, sku: str, quantity: int, *, email: str = "c@example.com", carrier: int = 2,
                 delivery: dict[str, str] | None = None) -> str | None:
        """A customer's checkout. `delivery` overrides fields of the delivery address, as a relay-point carrier
        module does when it swaps the order's address for the point's (alias, other, company, address ...)."""
        with self.lock:
            pid, cid, product = self._item_of(sku)
            row = self._stock_row(pid, cid)
            if row is None or row["quantity"] < quantity:
                return None
            row["quantity"] -= quantity
            self._sum_parent(pid)
            customer = next((c for c in self.db["customers"].values() if c["email"] == email), None)
            if customer is None:
                cust_id = self._new_id("customers")
                customer = {"id": cust_id, "id_lang": 1, "email": email, "firstname": "Camille", "lastname": "Martin"}
                self.db["customers"][cust_id] = customer
            addr_id = self._new_id("addresses")
            self.db["addresses"][addr_id] = {
                "id": addr_id, "id_customer": customer["id"], "id_country": 8, "alias": "Mon adresse", "company": "",
                "lastname": customer["lastname"], "firstname": customer["firstname"], "address1": "12 rue des Lilas",
                "address2": "", "postcode": "69003", "city": "Lyon", "other": "", "phone": "",
                "phone_mobile": "0612345678", **(delivery or {})}
            oid = self._new_id("orders")
            stamp = self.now()
            price = "19.900000"
            total = f"{19.9 * quantity + 4.9:.6f}"
            self.db["orders"][oid] = {
                "id": oid, "id_address_delivery": addr_id, "id_address_invoice": addr_id, "id_cart": oid,
                "id_currency": 1, "id_lang": customer["id_lang"], "id_customer": customer["id"], "id_carrier": carrier,
                "current_state": 2, "module": "ps_wirepayment", "invoice_number": 0, "invoice_date": "0000-00-00 00:00:00",
                "delivery_number": 0, "delivery_date": "0000-00-00 00:00:00", "valid": 1, "date_add": stamp,
                "date_upd": stamp, "shipping_number": "", "id_shop_group": 1, "id_shop": 1,
                "secure_key": "0" * 32, "payment": "Bank wire", "total_discounts": "0.000000", "total_paid": total,
                "total_paid_tax_incl": total, "total_paid_tax_excl": total, "total_paid_real": total,
                "total_products": price, "total_products_wt": price, "total_shipping": "4.900000",
                "conversion_rate": "1.000000", "reference": f"XKB{oid:06d}",
                "rows": [{"id": oid * 100 + 1,
                          "product_id": pid, "product_attribute_id": cid, "product_quantity": quantity,
                          "product_name": product["name"][1], "product_reference": sku, "product_ean13": "",
                          "product_upc": "", "product_price": "16.583333", "unit_price_tax_incl": price,
                          "unit_price_tax_excl": "16.583333"}]}
            ocid = self._new_id("order_carriers")
            self.db["order_carriers"][ocid] = {"id": ocid, "id_order": oid, "id_carrier": carrier, "id_order_invoice": 0,
                                               "weight": "0.500000", "shipping_cost_tax_excl": "4.900000",
                                               "shipping_cost_tax_incl": "4.900000", "tracking_number": "",
                                               "date_add": stamp}
            self._history(oid, 2)
            return str(oid)

    def _history(self, oid: int, state: int, at: dt.datetime | None = None) -> None:
        hid = self._new_id("order_histories")
        stamp = self.now(at)
        self.db["order_histories"][hid] = {"id": hid, "id_employee": 0, "id_order_state": state, "id_order": oid,
                                           "date_add": stamp}
        order = self.db["orders"][oid]
        previous = order["current_state"]
        order["current_state"] = state
        order["date_upd"] = stamp
        if state in (6, 7) and previous not in (6, 7):
            for row in order["rows"]:   # the core reinjects the quantities of a cancelled order
                stock = self._stock_row(row["product_id"], row["product_attribute_id"])
                if stock is not None:
                    stock["quantity"] += row["product_quantity"]
                    self._sum_parent(row["product_id"])

    def set_state(self, external_id: str, state: int, *, at: dt.datetime | None = None) -> None:
        """The merchant changes the order's state in the back office (`at` backdates date_upd)."""
        with self.lock:
            self._history(int(external_id), state, at)

    def touch(self, external_id: str, *, at: dt.datetime | None = None) -> None:
        """The order is edited (date_upd moves to `at`, default now, as a late-committing PHP request stamps it)."""
        with self.lock:
            self.db["orders"][int(external_id)]["date_upd"] = self.now(at)

    def cancel(self, external_id: str) -> None:
        self.set_state(external_id, 6)

    def refund(self, external_id: str) -> None:
        self.set_state(external_id, 7)

    def tracking_of(self, external_id: str) -> list[str]:
        with self.lock:
            return [c["tracking_number"] for c in self.db["order_carriers"].values()
                    if c["id_order"] == int(external_id) and c["tracking_number"]]

    def order_state(self, external_id: str) -> str:
        with self.lock:
            return STATE_NAMES[self.db["orders"][int(external_id)]["current_state"]]

    def stock_row(self, item_key: str) -> dict[str, Any]:
        pid, _, cid = item_key.partition(":")
        with self.lock:
            row = self._stock_row(int(pid), int(cid or 0))
            assert row is not None
            return dict(row)

    def connector_config(self) -> ConnectorConfig:
        return ConnectorConfig(base_url=self.url, credentials={"webservice_key": self.key},
                               options={"shop_timezone": str(self.tz)}, timeout=5.0)

    # --- HTTP ----------------------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.before_request(self._gate)
        app.add_url_rule("/api/", "index", self._index, methods=["GET"])
        app.add_url_rule("/api/<resource>", "collection", self._collection, methods=["GET", "POST", "PUT"])
        app.add_url_rule("/api/<resource>/<int:rid>", "item", self._item, methods=["GET", "PUT", "POST", "DELETE"])
        app.register_error_handler(PsError, lambda e: error_response(e.status, (e.code, e.message)))
        app.register_error_handler(404, self._no_route)
        app.register_error_handler(405, self._no_route)

    def _no_route(self, exc: Exception) -> Response:
        self.violation(f"no such webservice route ({exc})")
        return error_response(400, (19, "Method or resource not found"))

    def _gate(self) -> Response | None:
        """Host throttling first (a host answers before PHP runs), then the webservice key."""
        if self.throttle is not None:
            wait = self.throttle.take()
            if wait is not None:
                return Response("<html><body>Too many requests</body></html>", status=self.throttle_status,
                                content_type="text/html", headers={"Retry-After": str(max(1, round(wait)))})
        auth = request.authorization
        key = request.args.get("ws_key") or (auth.username if auth and auth.type == "basic" else None)
        if key is None:
            return error_response(401, (16, "Please enter the authentication key as the login. No password required"))
        if len(key) != 32:
            return error_response(401, (18, "Invalid authentication key format"))
        if key != self.key:
            return error_response(401, (20, "Authentification key is not active"),
                                  (21, "No permission for this authentication key"))
        return None

    def _index(self) -> Response:
        self._check_query(None)
        root = Element("prestashop", {"xmlns:xlink": XLINK})
        api = SubElement(root, "api", {"shopName": self.shop_name})
        for resource, methods in sorted(self.permissions.items()):
            attrs = {f"{{{XLINK}}}href": f"{self.url}/api/{resource}"}
            attrs.update({m: "true" if m in methods else "false" for m in ("get", "put", "post", "patch", "delete", "head")})
            node = SubElement(api, resource, attrs)
            SubElement(node, "description").text = resource.replace("_", " ")
        return xml_response(root)

    def _allowed(self, resource: str, method: str) -> None:
        if resource not in QUERIES["resources"]:
            self.violation(f"no resource {resource} in the webservice")
            raise PsError(400, 19, f"Resource of type \"{resource}\" not found")
        if method.lower() not in self.permissions.get(resource, set()):
            raise PsError(405, 22, f"Method {method} is not allowed for the resource {resource} with this authentication key")

    def _collection(self, resource: str) -> Response:
        self._allowed(resource, request.method)
        self._check_query(resource)
        if request.method == "GET":
            return self._list(resource)
        if request.method == "PUT":
            raise PsError(400, 90, "You have to set the resource id in the URL to modify it")
        return self._write(resource, None)

    def _item(self, resource: str, rid: int) -> Response:
        self._allowed(resource, request.method)
        self._check_query(resource)
        with self.lock:
            row = self.db[resource].get(rid)
        if row is None:
            raise PsError(404, 87, f"Id(s) not exists: {rid}")
        if request.method == "GET":
            root = Element("prestashop", {"xmlns:xlink": XLINK})
            self._render(SubElement(root, "_"), resource, row, request.args.get("display", "full"))
            root[0].tag = singular(resource)
            return xml_response(root)
        if request.method == "PUT":
            return self._write(resource, rid)
        raise PsError(405, 22, f"Method {request.method} is not allowed for the resource {resource}")

    # --- query validation and listing ----------------------------------------------------------------------------
    def _check_query(self, resource: str | None) -> None:
        rules = QUERIES["resources"].get(resource or "", {"fields": [], "date_fields": []})
        allowed = set(QUERIES["params"]) | set(QUERIES["method_params"].get(f"{request.method} {resource}", []))
        problems = []
        for name, values in request.args.lists():
            if len(values) > 1:
                problems.append(f"parameter {name} given {len(values)} times")
            value = values[-1]
            match = re.fullmatch(r"filter\[(\w+)\]", name)
            if match:
                problems += self._filter_problems(resource, rules, match.group(1), value)
            elif name not in allowed:
                problems.append(f"unknown parameter {name}")
            elif name in QUERIES["values"] and not re.fullmatch(QUERIES["values"][name], value):
                problems.append(f"{name}={value!r} is not valid")
            elif name == "display" and value != "full":
                fields = re.fullmatch(r"\[([\w,]+)\]", value)
                unknown = set(fields.group(1).split(",")) - set(rules["fields"]) if fields else {value}
                if unknown:
                    problems.append(f"display={value!r}: unknown field(s) {sorted(unknown)}")
            elif name == "sort":
                for part in value.strip("[]").split(","):
                    field, _, way = part.rpartition("_")
                    if field not in rules["fields"] or way not in ("ASC", "DESC"):
                        problems.append(f"sort={value!r}: {part!r} is not field_ASC or field_DESC")
        if request.args.get("output_format", "XML") != "XML":
            problems.append("this stand-in (and the connector) speak XML only")
        for p in problems:
            self.violation(p)
        if problems:
            raise PsError(400, 32, "; ".join(problems))

    def _filter_problems(self, resource: str | None, rules: dict[str, Any], field: str, value: str) -> list[str]:
        if request.method != "GET" or resource is None:
            return [f"filter[{field}] on {request.method}"]
        if field not in rules["fields"] or field in rules.get("not_filterable", []):
            return [f"filter[{field}]: not a filterable field of {resource}"]
        match = FILTER.fullmatch(value)
        if not match:
            return [f"filter[{field}]={value!r} is not [..] syntax"]
        if field in rules["date_fields"]:
            if request.args.get("date") != "1":
                return [f"filter[{field}] on a date without date=1 (PrestaShop ignores it)"]
            parts = re.split(r"[|,]", match.group("body"))
            bad = [p for p in parts if not re.fullmatch(QUERIES["date_format"], p)]
            if bad:
                return [f"filter[{field}]: {bad} are not YYYY-MM-DD HH:MM:SS dates"]
        if "," in match.group("body") and len(match.group("body").split(",")) != 2:
            return [f"filter[{field}]={value!r}: an interval has two ends"]
        return []

    def _list(self, resource: str) -> Response:
        args = request.args
        filters = [(m.group(1), value) for name, value in args.items()
                   if (m := re.fullmatch(r"filter\[(\w+)\]", name))]
        with self.lock:
            rows = [dict(r) for r in self.db[resource].values() if all(matches(r.get(f), v) for f, v in filters)]
        for part in reversed(args.get("sort", "[id_ASC]").strip("[]").split(",")):
            field, _, way = part.rpartition("_")
            rows.sort(key=lambda r, f=field: sort_key(r.get(f)), reverse=way == "DESC")
        if "limit" in args:
            first, _, count = args["limit"].partition(",")
            start, size = (int(first), int(count)) if count else (0, int(first))
            rows = rows[start:start + size]
        root = Element("prestashop", {"xmlns:xlink": XLINK})
        box = SubElement(root, resource)
        display = args.get("display")
        for row in rows:
            node = SubElement(box, singular(resource))
            if display is None:
                node.set("id", str(row["id"]))
                node.set(f"{{{XLINK}}}href", f"{self.url}/api/{resource}/{row['id']}")
            else:
                self._render(node, resource, row, display)
        return xml_response(root)

    def _render(self, node: Element, resource: str, row: dict[str, Any], display: str) -> None:
        fields = QUERIES["resources"][resource]["fields"]
        wanted = fields if display == "full" else display.strip("[]").split(",")
        for field in wanted:
            value = row.get(field, "")
            child = SubElement(node, field)
            if isinstance(value, dict):
                for lang, txt in value.items():
                    SubElement(child, "language", {"id": str(lang)}).text = str(txt)
            else:
                child.text = str(value)
        if resource == "orders" and display == "full":
            rows = SubElement(SubElement(node, "associations"), "order_rows",
                              {"nodeType": "order_row", "virtualEntity": "true"})
            for line in row["rows"]:
                item = SubElement(rows, "order_row")
                for key, value in line.items():
                    SubElement(item, key).text = str(value)

    # --- writes --------------------------------------------------------------------------------------------------
    def _write(self, resource: str, rid: int | None) -> Response:
        target = WRITES.get((request.method, resource))
        if target is None:
            self.violation(f"{request.method} {resource} is not a write the connector is meant to make")
            raise PsError(405, 22, f"Method {request.method} is not allowed for the resource {resource}")
        schema, node_name = target
        if not (request.content_type or "").startswith(("text/xml", "application/xml")):
            self.violation(f"body sent as {request.content_type!r}, not XML")
        try:
            root = SafeET.fromstring(request.get_data())
        except (ParseError, DefusedXmlException, ValueError) as exc:
            self.violation(f"body is not XML ({exc})")
            raise PsError(400, 127, "XML error : String could not be parsed as XML") from exc
        doc = {root.tag: body_as_dict(root)}
        if self.check(schema, doc):
            raise PsError(400, 85, f"Validation error: the {node_name} document breaks the webservice schema")
        fields = doc["prestashop"][node_name]
        with self.lock:
            if rid is not None and int(fields["id"]) != rid:
                self.violation(f"body id {fields['id']} is not the URL's {rid}")
                raise PsError(400, 89, "The id of the document does not match the URL")
            handler = getattr(self, f"_{request.method.lower()}_{node_name}")
            row = handler(fields, rid)
        out = Element("prestashop", {"xmlns:xlink": XLINK})
        self._render(SubElement(out, node_name), resource, row, "full")
        return xml_response(out, 200 if request.method == "PUT" else 201)

    def _put_stock_available(self, fields: dict[str, str], rid: int) -> dict[str, Any]:
        row = self.db["stock_availables"][rid]
        if int(fields["id_product"]) != row["id_product"] or int(fields["id_product_attribute"]) != row["id_product_attribute"]:
            self.violation(f"stock_available {rid} PUT with another product/combination")
            raise PsError(400, 85, "Validation error: id_product/id_product_attribute cannot change")
        row.update(quantity=int(fields["quantity"]), depends_on_stock=int(fields["depends_on_stock"]),
                   out_of_stock=int(fields["out_of_stock"]), location=fields.get("location", ""))
        self._sum_parent(row["id_product"])
        return row

    def _put_order_carrier(self, fields: dict[str, str], rid: int) -> dict[str, Any]:
        row = self.db["order_carriers"][rid]
        if int(fields["id_order"]) != row["id_order"]:
            self.violation(f"order_carrier {rid} PUT with another order")
            raise PsError(400, 85, "Validation error: id_order cannot change")
        self._known("carriers", fields["id_carrier"])
        row.update(id_carrier=int(fields["id_carrier"]), tracking_number=fields["tracking_number"])
        if request.args.get("sendemail") == "1":
            self.emails_sent.append((str(row["id_order"]), "in_transit"))
        self.db["orders"][row["id_order"]]["date_upd"] = self.now()
        return row

    def _post_order_carrier(self, fields: dict[str, str], _rid: None) -> dict[str, Any]:
        self._known("orders", fields["id_order"])
        self._known("carriers", fields["id_carrier"])
        ocid = self._new_id("order_carriers")
        row = {"id": ocid, "id_order": int(fields["id_order"]), "id_carrier": int(fields["id_carrier"]),
               "id_order_invoice": 0, "weight": fields.get("weight") or "0", "shipping_cost_tax_excl": "0.000000",
               "shipping_cost_tax_incl": "0.000000", "tracking_number": fields["tracking_number"],
               "date_add": self.now()}
        self.db["order_carriers"][ocid] = row
        return row

    def _post_order_history(self, fields: dict[str, str], _rid: None) -> dict[str, Any]:
        oid, state = int(fields["id_order"]), int(fields["id_order_state"])
        self._known("orders", fields["id_order"])
        self._known("order_states", fields["id_order_state"])
        self._history(oid, state)
        if request.args.get("sendemail") == "1":
            self.emails_sent.append((str(oid), STATE_NAMES[state].lower()))
        return self.db["order_histories"][max(self.db["order_histories"])]

    def _known(self, table: str, rid: str) -> None:
        if int(rid) not in self.db[table]:
            self.violation(f"{table} {rid} does not exist")
            raise PsError(400, 85, f"Validation error: {table} {rid} does not exist")


def singular(resource: str) -> str:
    special = {"addresses": "address", "order_histories": "order_history", "currencies": "currency",
               "countries": "country", "stock_availables": "stock_available"}
    return special.get(resource, resource[:-1])


def sort_key(value: Any) -> tuple[int, Any]:
    text = str(value)
    return (0, int(text)) if text.lstrip("-").isdigit() else (1, text)


def matches(value: Any, flt: str) -> bool:
    """PrestaShop's filter operators on one field value (case-insensitive, numbers compared as numbers)."""
    match = FILTER.fullmatch(flt)
    if match is None or value is None:
        return False
    have = str(value).lower()
    body, op = match.group("body").lower(), match.group("op")
    if match.group("pre") or match.group("post"):
        return (have.startswith(body) if match.group("post") and not match.group("pre") else
                have.endswith(body) if match.group("pre") and not match.group("post") else body in have)
    if op in ("<", ">"):
        return sort_key(have) > sort_key(body) if op == ">" else sort_key(have) < sort_key(body)
    if op == "!":
        return have != body
    if "|" in body:
        return have in body.split("|")
    if "," in body:
        low, high = body.split(",")
        return sort_key(low) <= sort_key(have) <= sort_key(high)
    return have == body
