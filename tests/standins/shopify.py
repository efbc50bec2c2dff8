"""A Shopify shop as the Admin GraphQL API 2026-01 shows it: one endpoint, a cost bucket, signed webhooks.

It cannot be a whole GraphQL server, so it reads what Shopify reads: the document is parsed (a small parser of
the GraphQL syntax the connectors send: operations, variables, arguments, aliases, inline fragments,
directives), every field and argument is checked against `schemas/shopify/types.json` (an unknown one is answered
with Shopify's `undefinedField` / `argumentNotAccepted` error), the arguments of every root field are validated
against `schemas/shopify/<field>.json`, the requested cost is computed as shopify.dev documents it (object 1,
connection 2 + first x node, mutation 10) and taken from a leaky bucket (THROTTLED when short), then the
selection is resolved against the shop's state: inventory per item and location (available / committed /
on_hand), orders with fulfillment orders and fulfilments, `inventorySetQuantities` with exact compare-and-set
(`changeFromQuantity`, and the deprecated `compareQuantity` / `ignoreCompareQuantity`), `fulfillmentCreate`,
`fulfillmentEventCreate` (a DELIVERED event makes the fulfillment's `displayStatus` DELIVERED).
Checkouts decrement `available` and send signed `orders/create` webhooks; cancels restock and send
`orders/cancelled`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Flask, Response, request

from tests.standins.base import StandIn, load_schema, schema_errors
from wms.channels.connectors.base import ConnectorConfig

API_VERSION = "2026-01"
MAX_QUERY_COST = 1000
MUTATION_COST = 10
REASONS = frozenset({"correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
                     "movement_received", "movement_canceled", "other", "promotion", "quality_control",
                     "received", "reservation_created", "reservation_deleted", "reservation_updated",
                     "restock", "safety_stock", "shrinkage"})
GIDS = re.compile(r"^gid://shopify/([A-Za-z]+)/([0-9]+)$")


# --- a GraphQL reader for the documents connectors send ------------------------------------------------------
class GraphQLSyntaxError(Exception):
    pass


@dataclass
class Var:
    name: str


class Enum(str):
    pass


@dataclass
class Field:
    name: str
    alias: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    selections: list[Any] | None = None
    line: int = 1


@dataclass
class InlineFragment:
    type_condition: str
    selections: list[Any]


@dataclass
class Operation:
    kind: str
    name: str | None
    variables: dict[str, str]
    selections: list[Any]


TOKEN = re.compile(r'(?P<skip>[\s,\ufeff]+|#[^\n]*)|(?P<spread>\.\.\.)|(?P<punct>[!$():=@\[\]{}|])'
                   r'|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
                   r'|(?P<name>[_A-Za-z][_0-9A-Za-z]*)')


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        pos, line = 0, 1
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if not m:
                raise GraphQLSyntaxError(f"Parse error on {text[pos:pos + 10]!r} (line {line})")
            if m.lastgroup != "skip":
                self.tokens.append((m.lastgroup or "", m.group(), line))
            line += m.group().count("\n")
            pos = m.end()
        self.i = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        if self.i >= len(self.tokens):
            return False
        k, v, _ = self.tokens[self.i]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if not self.peek(value, kind):
            got = self.tokens[self.i][1] if self.i < len(self.tokens) else "end of file"
            raise GraphQLSyntaxError(f"Parse error on \"{got}\", expected {value or kind}")
        self.i += 1
        return self.tokens[self.i - 1][1]

    def document(self) -> list[Operation]:
        operations = []
        while self.i < len(self.tokens):
            if self.peek("{"):
                operations.append(Operation("query", None, {}, self.selection_set()))
                continue
            kind = self.take(kind="name")
            if kind not in ("query", "mutation"):
                raise GraphQLSyntaxError(f"Parse error on \"{kind}\": only query and mutation operations")
            name = self.take(kind="name") if self.peek(kind="name") else None
            variables = self.variable_definitions() if self.peek("(") else {}
            self.directives()
            operations.append(Operation(kind, name, variables, self.selection_set()))
        return operations

    def variable_definitions(self) -> dict[str, str]:
        self.take("(")
        found = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name")
            self.take(":")
            found[name] = self.type_ref()
            if self.peek("="):
                self.take("=")
                self.value()
        self.take(")")
        return found

    def type_ref(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = self.type_ref()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name")
        if self.peek("!"):
            self.take("!")
            text += "!"
        return text

    def directives(self) -> None:
        while self.peek("@"):
            self.take("@")
            self.take(kind="name")
            if self.peek("("):
                self.arguments()

    def selection_set(self) -> list[Any]:
        self.take("{")
        selections: list[Any] = []
        while not self.peek("}"):
            if self.peek("..."):
                self.take("...")
                if not self.peek("on"):
                    raise GraphQLSyntaxError("named fragments are not read by this stand-in")
                self.take("on")
                type_condition = self.take(kind="name")
                selections.append(InlineFragment(type_condition, self.selection_set()))
                continue
            line = self.tokens[self.i][2] if self.i < len(self.tokens) else 0
            name = self.take(kind="name")
            alias = None
            if self.peek(":"):
                self.take(":")
                alias, name = name, self.take(kind="name")
            args = self.arguments() if self.peek("(") else {}
            self.directives()
            sub = self.selection_set() if self.peek("{") else None
            selections.append(Field(name, alias, args, sub, line))
        self.take("}")
        return selections

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args = {}
        while not self.peek(")"):
            name = self.take(kind="name")
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        if self.peek("$"):
            self.take("$")
            return Var(self.take(kind="name"))
        if self.peek("["):
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value())
            self.take("]")
            return items
        if self.peek("{"):
            self.take("{")
            obj = {}
            while not self.peek("}"):
                key = self.take(kind="name")
                self.take(":")
                obj[key] = self.value()
            self.take("}")
            return obj
        if self.peek(kind="string"):
            return json.loads(self.take(kind="string"))
        if self.peek(kind="number"):
            text = self.take(kind="number")
            return float(text) if any(c in text for c in ".eE") else int(text)
        word = self.take(kind="name")
        return {"true": True, "false": False, "null": None}.get(word, Enum(word))


def bind(value: Any, variables: dict[str, Any]) -> Any:
    """An argument's value with its variables put in."""
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [bind(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: bind(v, variables) for k, v in value.items()}
    return str(value) if isinstance(value, Enum) else value


def variables_in(value: Any) -> list[str]:
    if isinstance(value, Var):
        return [value.name]
    if isinstance(value, list):
        return [n for v in value for n in variables_in(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in variables_in(v)]
    return []


def gql_error(message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if code:
        error["extensions"] = {"code": code, **extra}
    return error


def stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def uncursor(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(text.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Invalid cursor: {text}") from exc


# --- the shop ------------------------------------------------------------------------------------------------
class ShopifyStandIn(StandIn):
    platform = "shopify"

    def __init__(self, *, bucket_size: float = 1000, restore_rate: float = 50, access_token: str = "shpat_standin",
                 app_secret: str = "shpss_standin_secret", shop: str = "wms-standin.myshopify.com") -> None:
        self.types: dict[str, Any] = load_schema("shopify", "types")
        self.access_token, self.app_secret, self.shop = access_token, app_secret, shop
        self.bucket_size, self.restore_rate = float(bucket_size), float(restore_rate)
        self.level = float(bucket_size)
        self.level_at = dt.datetime.now(dt.UTC).timestamp()
        self.location = "gid://shopify/Location/7001"
        self.items: dict[str, dict[str, Any]] = {}          # sku -> variant/item ids, title, stock per location
        self.item_skus: dict[str, str] = {}                  # inventory item gid -> sku
        self.variant_skus: dict[str, str] = {}               # variant gid -> sku
        self.orders: dict[int, dict[str, Any]] = {}
        self.ids = itertools.count(1001)
        self.throttled = 0                                    # THROTTLED answers given
        self.blind_writes = 0                                 # quantities set with the compare check opted out
        self.stale_answers = 0                                # compare-and-set refusals
        self.notified: list[bool] = []                        # notifyCustomer of each fulfilment
        self.fulfillment_events: list[tuple[str, str]] = []   # (order id, status) of each fulfillmentEventCreate
        self.client_id = "standin-client-id"
        self.granted: dict[str, float] = {}                   # tokens bought by the client credentials grant
        self.webhook_url: str | None = None
        self.last_webhook: tuple[bytes, dict[str, str]] | None = None
        super().__init__()

    # --- the stand-in contract -------------------------------------------------------------------------------
    def add_item(self, sku: str, quantity: int, *, title: str | None = None) -> str:
        with self.lock:
            n = next(self.ids)
            item = {"variant": f"gid://shopify/ProductVariant/{40000 + n}", "item": f"gid://shopify/InventoryItem/"
                    f"{50000 + n}", "product": f"gid://shopify/Product/{30000 + n}", "title": title or sku,
                    "available": {self.location: int(quantity)}, "committed": {self.location: 0}}
            self.items[sku] = item
            self.item_skus[item["item"]] = sku
            self.variant_skus[item["variant"]] = sku
            return item["item"]

    def stock_of(self, sku: str) -> int:
        with self.lock:
            return self.items[sku]["available"][self.location]

    def set_available(self, sku: str, quantity: int) -> None:
        """The merchant edits the quantity in the Shopify admin."""
        with self.lock:
            self.items[sku]["available"][self.location] = quantity

    def checkout(self, sku: str, quantity: int, *, email: str = "c@example.com",
                 note_attributes: dict[str, str] | None = None) -> str | None:
        """A customer's checkout; `note_attributes` are what a relay-point app of the shop wrote on the order."""
        with self.lock:
            item = self.items[sku]
            if item["available"][self.location] < quantity:
                return None
            item["available"][self.location] -= quantity
            item["committed"][self.location] += quantity
            order = self._new_order(email, [(sku, quantity)], note_attributes)
            body = self._webhook_body(order)
        self._send("orders/create", body)
        return str(order["id"])

    def cancel(self, external_id: str) -> None:
        with self.lock:
            order = self.orders[int(external_id)]
            if order["cancelled"] is None:
                order["cancelled"] = order["updated"] = self._now()
                for fo in order["fulfillment_orders"]:
                    for fl in fo["lines"]:
                        line = self._line(order, fl["line"])
                        stock = self.items[line["sku"]]
                        stock["committed"][self.location] -= fl["remaining"]
                        stock["available"][self.location] += fl["remaining"]   # restocked, as the admin's default
                        fl["remaining"] = 0
                    fo["status"] = "CLOSED"
            body = self._webhook_body(order)
        self._send("orders/cancelled", body)

    def tracking_of(self, external_id: str) -> list[str]:
        with self.lock:
            order = self.orders[int(external_id)]
            return [t["number"] for f in order["fulfillments"] for t in f["tracking"] if t.get("number")]

    def order_state(self, external_id: str) -> str:
        """CANCELLED, or the order's displayFulfillmentStatus (UNFULFILLED, PARTIALLY_FULFILLED, FULFILLED)."""
        with self.lock:
            order = self.orders[int(external_id)]
            return "CANCELLED" if order["cancelled"] else self._fulfillment_status(order)

    def expire_granted_tokens(self) -> None:
        """Every token bought by the client credentials grant is refused from now on (24 h went by)."""
        with self.lock:
            self.granted.clear()

    def connector_config(self) -> ConnectorConfig:
        return ConnectorConfig(base_url=self.url, credentials={"access_token": self.access_token,
                                                               "app_secret": self.app_secret},
                               options={"location_id": self.location}, timeout=10.0)

    # --- webhooks ------------------------------------------------------------------------------------------------
    def webhook_request(self, topic: str, external_id: str, *, secret: str | None = None,
                        webhook_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The raw body and headers Shopify would send for `topic` about an order (signed with `secret`)."""
        with self.lock:
            body = self._webhook_body(self.orders[int(external_id)])
        return self._signed(topic, body, secret=secret, webhook_id=webhook_id)

    def send_forged_webhook(self, topic: str, external_id: str, *, secret: str = "not-the-app-secret") -> int | None:
        """A webhook signed with the wrong secret, posted to webhook_url."""
        assert self.webhook_url, "set webhook_url first"
        body, headers = self.webhook_request(topic, external_id, secret=secret)
        return self.send_webhook(self.webhook_url, body, headers)

    def redeliver_last_webhook(self) -> int | None:
        """Shopify retries a delivery with the same X-Shopify-Webhook-Id."""
        assert self.webhook_url and self.last_webhook
        return self.send_webhook(self.webhook_url, *self.last_webhook)

    def _signed(self, topic: str, body: bytes, *, secret: str | None = None, webhook_id: str | None = None
                ) -> tuple[bytes, dict[str, str]]:
        digest = hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256).digest()
        return body, {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                      "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(), "X-Shopify-Shop-Domain": self.shop,
                      "X-Shopify-API-Version": API_VERSION, "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
                      "X-Shopify-Event-Id": str(uuid.uuid4()), "X-Shopify-Triggered-At": stamp(self._now())}

    def _send(self, topic: str, body: bytes) -> None:
        if not self.webhook_url:
            return
        errors = schema_errors(load_schema("shopify", "webhook_order"), json.loads(body))
        assert not errors, errors   # the stand-in's own webhooks keep the documented shape
        signed = self._signed(topic, body)
        with self.lock:
            self.last_webhook = signed
        self.send_webhook(self.webhook_url, *signed)

    def _webhook_body(self, order: dict[str, Any]) -> bytes:
        status = self._fulfillment_status(order)
        return json.dumps({
            "id": order["id"], "admin_graphql_api_id": f"gid://shopify/Order/{order['id']}", "name": order["name"],
            "email": order["email"], "contact_email": order["email"], "created_at": stamp(order["created"]),
            "updated_at": stamp(order["updated"]),
            "cancelled_at": stamp(order["cancelled"]) if order["cancelled"] else None,
            "financial_status": order["financial"].lower(), "currency": "EUR",
            "fulfillment_status": {"UNFULFILLED": None, "FULFILLED": "fulfilled"}.get(status, "partial"),
            "customer_locale": "fr-FR", "total_price": str(order["total"]),
            "shipping_address": order["address"], "shipping_lines": [{"title": "Colissimo", "code": "colissimo"}],
            "note_attributes": [{"name": k, "value": v} for k, v in order["attributes"].items()],
            "line_items": [{"id": li["id"], "admin_graphql_api_id": f"gid://shopify/LineItem/{li['id']}",
                            "variant_id": int(self.items[li["sku"]]["variant"].rsplit("/", 1)[1]),
                            "sku": li["sku"], "name": self.items[li["sku"]]["title"], "quantity": li["quantity"],
                            "price": "10.00"} for li in order["lines"]],
        }).encode()

    # --- state -----------------------------------------------------------------------------------------------
    @staticmethod
    def _now() -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)

    def _new_order(self, email: str, lines: list[tuple[str, int]],
                   note_attributes: dict[str, str] | None = None) -> dict[str, Any]:
        n = next(self.ids)
        now = self._now()
        order = {"id": 820000 + n, "name": f"#{n}", "created": now, "updated": now, "cancelled": None,
                 "financial": "PAID", "email": email, "total": Decimal("10.00") * sum(q for _, q in lines),
                 "address": {"name": "Camille Martin", "first_name": "Camille", "last_name": "Martin",
                             "address1": "3 rue des Lilas", "address2": None, "zip": "69003", "city": "Lyon",
                             "country_code": "FR", "phone": None},
                 "lines": [], "fulfillment_orders": [], "fulfillments": [],
                 "attributes": dict(note_attributes or {})}
        fo = {"id": 610000 + n, "status": "OPEN", "lines": []}
        for sku, quantity in lines:
            line_id = next(self.ids) + 900000
            order["lines"].append({"id": line_id, "sku": sku, "quantity": quantity})
            fo["lines"].append({"id": next(self.ids) + 700000, "line": line_id, "total": quantity,
                                "remaining": quantity})
        order["fulfillment_orders"].append(fo)
        self.orders[order["id"]] = order
        return order

    def add_order(self, lines: list[tuple[str, int]], *, email: str = "c@example.com",
                  note_attributes: dict[str, str] | None = None) -> str:
        """An order placed without touching stock (a test's fixture), no webhook."""
        with self.lock:
            return str(self._new_order(email, lines, note_attributes)["id"])

    def touch(self, external_id: str, at: dt.datetime) -> None:
        with self.lock:
            self.orders[int(external_id)]["updated"] = at

    @staticmethod
    def _line(order: dict[str, Any], line_id: int) -> dict[str, Any]:
        return next(li for li in order["lines"] if li["id"] == line_id)

    @staticmethod
    def _fulfillment_status(order: dict[str, Any]) -> str:
        remaining = sum(fl["remaining"] for fo in order["fulfillment_orders"] for fl in fo["lines"])
        if not order["fulfillments"]:
            return "UNFULFILLED"
        return "FULFILLED" if remaining == 0 else "PARTIALLY_FULFILLED"

    # --- GraphQL objects -------------------------------------------------------------------------------------
    def _level(self, sku: str, location: str) -> dict[str, Any] | None:
        stock = self.items[sku]
        if location not in stock["available"]:
            return None
        values = {"available": stock["available"][location], "committed": stock["committed"][location]}
        values["on_hand"] = values["available"] + values["committed"]
        return {"id": f"gid://shopify/InventoryLevel/{stock['item'].rsplit('/', 1)[1]}",
                "location": {"id": location, "name": "Entrepôt"},
                "quantities": lambda a: [{"name": n, "quantity": values.get(n, 0)} for n in a.get("names") or []]}

    def _item_obj(self, sku: str) -> dict[str, Any]:
        stock = self.items[sku]
        return {"__typename": "InventoryItem", "id": stock["item"], "sku": sku, "tracked": True,
                "legacyResourceId": stock["item"].rsplit("/", 1)[1],
                "inventoryLevel": lambda a: self._level(sku, a.get("locationId"))}

    def _variant_obj(self, sku: str) -> dict[str, Any]:
        stock = self.items[sku]
        return {"__typename": "ProductVariant", "id": stock["variant"], "sku": sku, "title": "Default Title",
                "displayName": f"{stock['title']} - Default Title", "barcode": None,
                "legacyResourceId": stock["variant"].rsplit("/", 1)[1],
                "inventoryQuantity": sum(stock["available"].values()), "inventoryItem": self._item_obj(sku),
                "product": {"id": stock["product"], "title": stock["title"], "handle": sku.lower()}}

    def _order_obj(self, order: dict[str, Any]) -> dict[str, Any]:
        a = order["address"]
        money = {"shopMoney": {"amount": str(order["total"]), "currencyCode": "EUR"}}
        lines = {li["id"]: {"id": f"gid://shopify/LineItem/{li['id']}", "sku": li["sku"],
                            "name": self.items[li["sku"]]["title"], "title": self.items[li["sku"]]["title"],
                            "quantity": li["quantity"], "currentQuantity": li["quantity"],
                            "variant": self._variant_obj(li["sku"]),
                            "originalUnitPriceSet": {"shopMoney": {"amount": "10.00", "currencyCode": "EUR"}}}
                 for li in order["lines"]}
        fos = [{"__typename": "FulfillmentOrder", "id": f"gid://shopify/FulfillmentOrder/{fo['id']}",
                "status": fo["status"],
                "assignedLocation": {"name": "Entrepôt", "location": {"id": self.location, "name": "Entrepôt"}},
                "lineItems": [{"id": f"gid://shopify/FulfillmentOrderLineItem/{fl['id']}",
                               "remainingQuantity": fl["remaining"], "totalQuantity": fl["total"],
                               "sku": lines[fl["line"]]["sku"], "lineItem": lines[fl["line"]]} for fl in fo["lines"]]}
               for fo in order["fulfillment_orders"]]
        return {
            "__typename": "Order", "id": f"gid://shopify/Order/{order['id']}", "name": order["name"],
            "legacyResourceId": str(order["id"]), "createdAt": stamp(order["created"]),
            "processedAt": stamp(order["created"]), "updatedAt": stamp(order["updated"]),
            "cancelledAt": stamp(order["cancelled"]) if order["cancelled"] else None,
            "cancelReason": "CUSTOMER" if order["cancelled"] else None, "closed": False,
            "displayFinancialStatus": order["financial"], "displayFulfillmentStatus": self._fulfillment_status(order),
            "email": order["email"], "phone": None, "customerLocale": "fr-FR", "currencyCode": "EUR",
            "totalPriceSet": {**money, "presentmentMoney": money["shopMoney"]},
            "shippingAddress": {"name": a["name"], "firstName": a["first_name"], "lastName": a["last_name"],
                                "company": None, "address1": a["address1"], "address2": a["address2"],
                                "zip": a["zip"], "city": a["city"], "province": None, "provinceCode": None,
                                "country": "France", "countryCodeV2": a["country_code"], "phone": a["phone"]},
            "shippingLines": [{"id": f"gid://shopify/ShippingLine/{order['id']}", "title": "Colissimo",
                               "code": "colissimo", "source": "shopify", "carrierIdentifier": None}],
            "lineItems": list(lines.values()), "fulfillmentOrders": fos,
            "customAttributes": [{"key": k, "value": v} for k, v in order["attributes"].items()],
            "fulfillments": [{"id": f"gid://shopify/Fulfillment/{f['id']}", "status": "SUCCESS",
                              "createdAt": stamp(f["created"]),
                              "displayStatus": f["events"][-1]["status"] if f.get("events") else "FULFILLED",
                              "deliveredAt": next((e["happenedAt"] for e in f.get("events") or ()
                                                   if e["status"] == "DELIVERED"), None),
                              "trackingInfo": [dict(t) for t in f["tracking"]]} for f in order["fulfillments"]],
        }

    def _node(self, gid: str) -> dict[str, Any] | None:
        m = GIDS.match(gid)
        if not m:
            return None
        kind, number = m.groups()
        if kind == "InventoryItem" and gid in self.item_skus:
            return self._item_obj(self.item_skus[gid])
        if kind == "ProductVariant" and gid in self.variant_skus:
            return self._variant_obj(self.variant_skus[gid])
        if kind == "Order" and int(number) in self.orders:
            return self._order_obj(self.orders[int(number)])
        if kind == "Location" and gid == self.location:
            return {"__typename": "Location", "id": gid, "name": "Entrepôt"}
        return None

    # --- root fields -----------------------------------------------------------------------------------------
    def _root_query(self, name: str, args: dict[str, Any]) -> Any:
        if name == "shop":
            return {"id": "gid://shopify/Shop/1", "name": "Stand-in shop", "myshopifyDomain": self.shop,
                    "currencyCode": "EUR", "email": "shop@example.com"}
        if name == "order":
            found = self.orders.get(int(args["id"].rsplit("/", 1)[1]))
            return self._order_obj(found) if found else None
        if name == "nodes":
            return [self._node(gid) for gid in args["ids"]]
        if name == "inventoryItem":
            sku = self.item_skus.get(args["id"])
            return self._item_obj(sku) if sku else None
        if name == "location":
            return {"id": self.location, "name": "Entrepôt"}
        if name == "productVariants":
            return [self._variant_obj(sku) for sku in sorted(self.items, key=lambda s: self.items[s]["variant"])]
        if name == "orders":
            return self._orders(args)
        raise AssertionError(name)

    def _orders(self, args: dict[str, Any]) -> dict[str, Any]:
        """orders(query, sortKey: UPDATED_AT, first, after): keyset pages over (updatedAt, id)."""
        keep = self._search(args.get("query") or "")
        key = (lambda o: (stamp(o["updated"]), o["id"])) if args.get("sortKey") == "UPDATED_AT" \
            else (lambda o: ("", o["id"]))
        rows = sorted((o for o in self.orders.values() if keep(o)), key=key)
        after = uncursor(args.get("after"))
        if after is not None:
            rows = [o for o in rows if list(key(o)) > after]
        first = args.get("first") or 50
        page = rows[:first]
        return {"nodes": [self._order_obj(o) for o in page], "cursors": [cursor_of(list(key(o))) for o in page],
                "hasNextPage": len(rows) > first}

    def _search(self, text: str):  # type: ignore[no-untyped-def]
        tests = []
        for term in re.findall(r"(?:[^\s']+|'[^']*')+", text):
            if term.upper() in ("AND",):
                continue
            m = re.fullmatch(r"updated_at:(>=|>|<=|<)?'?([0-9T:\-.Z+]+)'?", term)
            if m:
                op, at = m.group(1) or ">=", dt.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
                tests.append(lambda o, op=op, at=at: {">=": o["updated"] >= at, ">": o["updated"] > at,
                                                       "<=": o["updated"] <= at, "<": o["updated"] < at}[op])
            elif term in ("status:open", "status:any"):
                tests.append(lambda o, t=term: t == "status:any" or (not o["cancelled"] and
                                                                       self._fulfillment_status(o) != "FULFILLED"))
            elif term.startswith("name:"):
                wanted = term[5:].strip("'")
                tests.append(lambda o, n=wanted: o["name"] == n)
            else:
                self.violation(f"orders query term the stand-in does not know: {term}")
        return lambda o: all(t(o) for t in tests)

    def _mutate(self, name: str, args: dict[str, Any]) -> Any:
        if name == "inventorySetQuantities":
            return self._set_quantities(args["input"])
        if name == "fulfillmentCreate":
            return self._fulfillment_create(args["fulfillment"])
        if name == "fulfillmentEventCreate":
            return self._fulfillment_event_create(args["fulfillmentEvent"])
        raise AssertionError(name)

    def _fulfillment_event_create(self, given: dict[str, Any]) -> dict[str, Any]:
        """A tracking event on a fulfillment; DELIVERED makes its displayStatus DELIVERED (shopify.dev)."""
        fid = int(given["fulfillmentId"].rsplit("/", 1)[1])
        found = next(((o, f) for o in self.orders.values() for f in o["fulfillments"] if f["id"] == fid), None)
        if found is None:
            return {"fulfillmentEvent": None,
                    "userErrors": [{"field": ["fulfillmentEvent", "fulfillmentId"], "message": "Fulfillment does not exist."}]}
        order, fulfilment = found
        event = {"id": next(self.ids), "status": given["status"], "happenedAt": given.get("happenedAt")}
        fulfilment.setdefault("events", []).append(event)
        self.fulfillment_events.append((str(order["id"]), given["status"]))
        order["updated"] = self._now()
        return {"fulfillmentEvent": {"id": f"gid://shopify/FulfillmentEvent/{event['id']}", "status": event["status"],
                                     "happenedAt": event["happenedAt"], "message": None}, "userErrors": []}

    def _set_quantities(self, given: dict[str, Any]) -> dict[str, Any]:
        errors = []
        if given["name"] not in ("available", "on_hand"):
            errors.append(("INVALID_NAME", ["input", "name"], "The quantity name must be either 'available' or "
                                                               "'on_hand'."))
        if given["reason"] not in REASONS:
            errors.append(("INVALID_REASON", ["input", "reason"], "The specified reason is invalid."))
        seen, plan, blind = set(), [], 0
        for i, q in enumerate(given["quantities"]):
            where = ["input", "quantities", str(i)]
            sku = self.item_skus.get(q["inventoryItemId"])
            if sku is None:
                errors.append(("INVALID_INVENTORY_ITEM", [*where, "inventoryItemId"],
                               "The specified inventory item could not be found."))
                continue
            if q["locationId"] != self.location:
                errors.append(("INVALID_LOCATION", [*where, "locationId"], "The specified location could not be found."))
                continue
            if (sku, q["locationId"]) in seen:
                errors.append(("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", [*where, "inventoryItemId"],
                               "The combination of inventoryItemId and locationId must be unique."))
                continue
            seen.add((sku, q["locationId"]))
            if q["quantity"] < 0 and given["name"] == "on_hand":
                errors.append(("INVALID_QUANTITY_NEGATIVE", [*where, "quantity"], "The quantity can't be negative."))
                continue
            current = self.items[sku]["available"][self.location]
            if given["name"] == "on_hand":
                current += self.items[sku]["committed"][self.location]
            if "changeFromQuantity" in q:          # 2026-01: explicit null opts out, a number is compared
                if q["changeFromQuantity"] is None:
                    blind += 1
                elif q["changeFromQuantity"] != current:
                    errors.append(("CHANGE_FROM_QUANTITY_STALE", [*where, "changeFromQuantity"],
                                   "The changeFromQuantity argument no longer matches the persisted quantity."))
                    continue
            elif given.get("ignoreCompareQuantity"):
                blind += 1
            elif q.get("compareQuantity") is None:
                errors.append(("COMPARE_QUANTITY_REQUIRED", [*where, "compareQuantity"],
                               "The compareQuantity argument must be given to each quantity or ignored using "
                               "ignoreCompareQuantity."))
                continue
            elif q["compareQuantity"] != current:
                errors.append(("COMPARE_QUANTITY_STALE", [*where, "compareQuantity"],
                               "The compareQuantity value does not match persisted value."))
                continue
            plan.append((sku, q["quantity"]))
        if errors:
            self.stale_answers += sum(1 for e in errors if e[0].endswith("_STALE"))
            return {"inventoryAdjustmentGroup": None,
                    "userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors]}
        for sku, quantity in plan:
            stock = self.items[sku]
            if given["name"] == "on_hand":
                quantity -= stock["committed"][self.location]
            stock["available"][self.location] = quantity
        self.blind_writes += blind
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{next(self.ids)}", "createdAt": stamp(self._now()),
                 "reason": given["reason"], "referenceDocumentUri": given.get("referenceDocumentUri")}
        return {"inventoryAdjustmentGroup": group, "userErrors": []}

    def _fulfillment_create(self, given: dict[str, Any]) -> dict[str, Any]:
        def refused(message: str) -> dict[str, Any]:
            return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": message}]}

        plan, owner = [], None
        for group in given["lineItemsByFulfillmentOrder"]:
            fo_id = int(group["fulfillmentOrderId"].rsplit("/", 1)[1])
            found = next(((o, fo) for o in self.orders.values() for fo in o["fulfillment_orders"]
                          if fo["id"] == fo_id), None)
            if found is None:
                return refused("Fulfillment order does not exist.")
            order, fo = found
            if owner is not None and owner is not order:
                return refused("Fulfillment orders must belong to the same order.")
            owner = order
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return refused(f"Fulfillment order {group['fulfillmentOrderId']} has an unfulfillable status= "
                               f"{fo['status'].lower()}.")
            wanted = group.get("fulfillmentOrderLineItems")
            if not wanted:
                plan += [(fl, fl["remaining"]) for fl in fo["lines"] if fl["remaining"]]
                continue
            for w in wanted:
                fl = next((fl for fl in fo["lines"] if f"gid://shopify/FulfillmentOrderLineItem/{fl['id']}" == w["id"]),
                          None)
                if fl is None:
                    return refused("Fulfillment order line item does not exist.")
                if w["quantity"] > fl["remaining"]:
                    return refused("Invalid fulfillment order line item quantity requested.")
                plan.append((fl, w["quantity"]))
        if not plan or owner is None:
            return refused("Fulfillment has nothing to fulfil.")
        for fl, quantity in plan:
            fl["remaining"] -= quantity
            self.items[self._line(owner, fl["line"])["sku"]]["committed"][self.location] -= quantity
        for fo in owner["fulfillment_orders"]:
            if any(fl is p for fl in fo["lines"] for p, _ in plan):
                fo["status"] = "CLOSED" if all(fl["remaining"] == 0 for fl in fo["lines"]) else "IN_PROGRESS"
        info = given.get("trackingInfo") or {}
        numbers = list(info.get("numbers") or ([info["number"]] if info.get("number") else []))
        urls = list(info.get("urls") or ([info["url"]] if info.get("url") else []))
        tracking = [{"company": info.get("company"), "number": n, "url": urls[i] if i < len(urls) else None}
                    for i, n in enumerate(numbers)]
        fulfilment = {"id": next(self.ids), "created": self._now(), "tracking": tracking}
        owner["fulfillments"].append(fulfilment)
        owner["updated"] = self._now()
        self.notified.append(bool(given.get("notifyCustomer", False)))
        return {"fulfillment": {"id": f"gid://shopify/Fulfillment/{fulfilment['id']}", "status": "SUCCESS",
                                "createdAt": stamp(fulfilment["created"]), "trackingInfo": tracking},
                "userErrors": []}

    # --- the endpoint ----------------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        @app.post("/admin/oauth/access_token")
        def access_token() -> Response:
            # shopify.dev client credentials grant: form grant_type, client_id, client_secret
            form = request.form
            if (request.mimetype or "") != "application/x-www-form-urlencoded":
                self.violation(f"token request as {request.mimetype!r}, not a form")
            if form.get("grant_type") != "client_credentials" or set(form) != {"grant_type", "client_id",
                                                                               "client_secret"}:
                self.violation(f"token request fields {sorted(form)}")
                return self._json({"error": "invalid_request"}, 400)
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.app_secret:
                return self._json({"error": "invalid_client", "error_description": "Client authentication "
                                                                                   "failed"}, 401)
            token = f"shpat_{uuid.uuid4().hex}"
            with self.lock:
                self.granted[token] = dt.datetime.now(dt.UTC).timestamp() + 86399
            return self._json({"access_token": token, "scope": "read_orders,write_inventory", "expires_in": 86399},
                              200)

        @app.post("/admin/api/<version>/graphql.json")
        def graphql(version: str) -> Response:
            given = request.headers.get("X-Shopify-Access-Token")
            with self.lock:
                granted = given in self.granted and self.granted[given] > dt.datetime.now(dt.UTC).timestamp()
            if given != self.access_token and not granted:
                return self._json({"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                                             "password)"}, 401)
            if version != API_VERSION:
                self.violation(f"API version {version}, the connector pins {API_VERSION}")
            if (request.mimetype or "") != "application/json":
                self.violation(f"Content-Type {request.mimetype!r}, not application/json")
            try:
                envelope = json.loads(request.get_data())
            except ValueError:
                self.violation("body is not JSON")
                return self._json({"errors": [gql_error("Bad Request: the body is not JSON")]}, 400)
            if self.check("graphql_request", envelope):
                return self._json({"errors": [gql_error("Bad Request: not a GraphQL request")]}, 400)
            return self._json(self.run(envelope["query"], envelope.get("variables") or {},
                                       envelope.get("operationName")), 200)

        @app.errorhandler(404)
        def not_found(_exc: Exception) -> Response:
            self.violation("no such endpoint")
            return self._json({"errors": "Not Found"}, 404)

    @staticmethod
    def _json(doc: Any, status: int) -> Response:
        return Response(json.dumps(doc), status=status, content_type="application/json")

    def run(self, text: str, variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
        """Parse, validate, cost, throttle and resolve one GraphQL document."""
        try:
            operations = Parser(text).document()
        except GraphQLSyntaxError as exc:
            return self._refuse([gql_error(str(exc))])
        chosen = [o for o in operations if operation_name is None or o.name == operation_name]
        if len(chosen) != 1:
            return self._refuse([gql_error(f"An operation name is required: {len(chosen)} operations match")])
        op = chosen[0]
        root = "QueryRoot" if op.kind == "query" else "Mutation"
        errors = self._validate(op.selections, root, op.variables, [])
        if not errors:
            errors = self._validate_roots(op, variables)
        if errors:
            return self._refuse(errors)
        requested = self._cost(op.selections, root, variables, mutation=op.kind == "mutation")
        if requested > MAX_QUERY_COST:
            return self._refuse([gql_error(f"Query cost is {requested}, which exceeds the single query max cost "
                                           f"limit ({MAX_QUERY_COST}).", "MAX_COST_EXCEEDED", cost=requested,
                                           maxCost=MAX_QUERY_COST)])
        with self.lock:
            available = self._bucket_now()
            if requested > available:
                self.throttled += 1
                return {"errors": [gql_error("Throttled", "THROTTLED",
                                             documentation="https://shopify.dev/api/usage/rate-limits")],
                        "extensions": {"cost": self._cost_doc(requested, None)}}
            self.level = available - requested
            data, actual = {}, 0
            for sel in op.selections:
                args = {k: bind(v, variables) for k, v in sel.args.items()}
                raw = self._root_query(sel.name, args) if op.kind == "query" else self._mutate(sel.name, args)
                ftype = self.types[root]["fields"][sel.name]["type"]
                value, spent = self._resolve(raw, ftype, sel, args, variables)
                data[sel.alias or sel.name] = value
                actual += MUTATION_COST if op.kind == "mutation" else spent
            actual = min(actual, requested)
            self.level = min(self.bucket_size, self.level + requested - actual)   # the difference is refunded
            return {"data": data, "extensions": {"cost": self._cost_doc(requested, actual)}}

    def _refuse(self, errors: list[dict[str, Any]]) -> dict[str, Any]:
        for e in errors:
            self.violation(e["message"])
        return {"errors": errors}

    def _bucket_now(self) -> float:
        now = dt.datetime.now(dt.UTC).timestamp()
        self.level = min(self.bucket_size, self.level + (now - self.level_at) * self.restore_rate)
        self.level_at = now
        return self.level

    def _cost_doc(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": self.bucket_size, "currentlyAvailable": round(self.level, 1),
                                   "restoreRate": self.restore_rate}}

    # --- validation and cost ---------------------------------------------------------------------------------
    def _fields(self, type_name: str) -> dict[str, Any]:
        spec = self.types[type_name]
        if "connection_of" in spec:
            node = spec["connection_of"]
            return {"pageInfo": {"type": "PageInfo"}, "nodes": {"type": f"[{node}]"},
                    "edges": {"type": f"[{node}Edge]"}}
        return spec["fields"]

    def _object_type(self, type_name: str) -> str | None:
        bare = type_name.strip("[]!")
        if bare.endswith("Edge") and bare[:-4] in self.types:
            return bare
        return bare if bare in self.types else None

    def _validate(self, selections: list[Any], type_name: str, declared: dict[str, str], path: list[str]
                  ) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        if type_name.endswith("Edge") and type_name not in self.types:
            fields = {"cursor": {"type": "String"}, "node": {"type": type_name[:-4]}}
        else:
            fields = self._fields(type_name)
        for sel in selections:
            if isinstance(sel, InlineFragment):
                allowed = self.types.get(type_name, {}).get("interface", [type_name])
                if sel.type_condition not in allowed:
                    errors.append(gql_error(f"Fragment on {sel.type_condition} can't be spread inside {type_name}",
                                            "cannotSpreadFragment"))
                else:
                    errors += self._validate(sel.selections, sel.type_condition, declared, path)
                continue
            if sel.name == "__typename":
                continue
            spec = fields.get(sel.name)
            where = [*path, sel.alias or sel.name]
            if spec is None:
                errors.append(gql_error(f"Field '{sel.name}' doesn't exist on type '{type_name}'", "undefinedField",
                                        typeName=type_name, fieldName=sel.name) | {"path": where})
                continue
            accepted = spec.get("args", {})
            for arg, value in sel.args.items():
                if arg not in accepted:
                    errors.append(gql_error(f"Field '{sel.name}' doesn't accept argument '{arg}'",
                                            "argumentNotAccepted", name=sel.name, argumentName=arg) | {"path": where})
                for var in variables_in(value):
                    if var not in declared:
                        errors.append(gql_error(f"Variable ${var} is used by {sel.name} but not declared",
                                                "variableNotDefined", variableName=var))
                    elif arg in accepted and declared[var].replace("!", "") != accepted[arg].replace("!", "") \
                            and not isinstance(value, list | dict):
                        errors.append(gql_error(f"Type mismatch on variable ${var} and argument {arg} "
                                                f"({declared[var]} / {accepted[arg]})", "variableMismatch"))
            for arg, kind in accepted.items():
                if kind.endswith("!") and arg not in sel.args:
                    errors.append(gql_error(f"Field '{sel.name}' is missing required arguments: {arg}",
                                            "missingRequiredArguments") | {"path": where})
            sub_type = self._object_type(spec["type"])
            if sub_type is None and sel.selections is not None:
                errors.append(gql_error(f"Selections can't be made on scalars (field '{sel.name}' returns "
                                        f"{spec['type']})", "selectionMismatch") | {"path": where})
            elif sub_type is not None and not sel.selections:
                errors.append(gql_error(f"Field must have selections (field '{sel.name}' returns {spec['type']} "
                                        "but has no selections)", "selectionMismatch") | {"path": where})
            elif sub_type is not None:
                errors += self._validate(sel.selections or [], sub_type, declared, where)
        return errors

    def _validate_roots(self, op: Operation, variables: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        for name in set(variables) - set(op.variables):
            errors.append(gql_error(f"Variable ${name} is given but not declared by the operation"))
        for var, kind in op.variables.items():
            if kind.endswith("!") and variables.get(var) is None:
                errors.append(gql_error(f"Variable ${var} of type {kind} was provided invalid value",
                                        "INVALID_VARIABLE", value=None, problems=[{"path": [], "explanation":
                                                                                  "Expected value to not be null"}]))
        for sel in op.selections:
            if sel.name == "__typename":
                continue
            args = {k: bind(v, variables) for k, v in sel.args.items()}
            for problem in schema_errors(load_schema("shopify", sel.name), args):
                errors.append(gql_error(f"Invalid arguments for {sel.name}: {problem}", "INVALID_VARIABLE",
                                        problems=[{"explanation": problem}]))
            errors += self._nested_limits(sel.selections or [], variables)
        return errors

    def _nested_limits(self, selections: list[Any], variables: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        for sel in selections:
            inner = sel.selections
            if isinstance(sel, Field):
                first = bind(sel.args.get("first"), variables)
                if first is not None and not (isinstance(first, int) and 1 <= first <= 250):
                    errors.append(gql_error(f"The 'first' argument of {sel.name} must be between 1 and 250"))
            errors += self._nested_limits(inner or [], variables)
        return errors

    def _cost(self, selections: list[Any], type_name: str, variables: dict[str, Any], *, mutation: bool = False
              ) -> int:
        if mutation:
            return MUTATION_COST * len(selections)
        total = 0
        for sel in selections:
            if isinstance(sel, InlineFragment):
                total += self._cost(sel.selections, sel.type_condition, variables)
                continue
            if sel.name == "__typename":
                continue
            spec = self._spec(type_name, sel.name)
            sub_type = self._object_type(spec["type"])
            if sub_type is None:
                continue
            args = {k: bind(v, variables) for k, v in sel.args.items()}
            if "connection_of" in self.types.get(sub_type, {}):
                node_cost = sum(self._cost(s.selections or [], self._object_type(self._fields(sub_type)[s.name]
                                                                                  ["type"]) or "", variables)
                                + 1 for s in sel.selections or [] if isinstance(s, Field) and s.name == "nodes")
                node_cost += sum(1 + self._cost(s.selections or [], sub_type[:-10] + "Edge", variables)
                                 for s in sel.selections or [] if isinstance(s, Field) and s.name == "edges")
                total += 2 + int(args.get("first") or args.get("last") or 0) * node_cost
            elif spec["type"].startswith("["):
                count = len(args["ids"]) if "ids" in args else int(args.get("first") or 1)
                total += count * (1 + self._cost(sel.selections or [], sub_type, variables))
            else:
                total += 1 + self._cost(sel.selections or [], sub_type, variables)
        return total

    def _spec(self, type_name: str, name: str) -> dict[str, Any]:
        if type_name.endswith("Edge") and type_name not in self.types:
            return {"cursor": {"type": "String"}, "node": {"type": type_name[:-4]}}[name]
        return self._fields(type_name)[name]

    # --- resolution ------------------------------------------------------------------------------------------
    def _resolve(self, raw: Any, ftype: str, sel: Field, args: dict[str, Any], variables: dict[str, Any]
                 ) -> tuple[Any, int]:
        """The value of one selected field, pruned to its selection, and what it actually cost."""
        if callable(raw):
            raw = raw(args)
        sub_type = self._object_type(ftype)
        if sub_type is None or raw is None:
            return raw, 0
        if "connection_of" in self.types.get(sub_type, {}):
            return self._connection(raw, sub_type, sel, args, variables)
        if ftype.startswith("["):
            items = raw[:args["first"]] if isinstance(args.get("first"), int) else raw
            out, cost = [], 0
            for item in items:
                if item is None:
                    out.append(None)
                    continue
                value, spent = self._select(item, sel.selections or [], sub_type, variables)
                out.append(value)
                cost += 1 + spent
            return out, cost
        value, spent = self._select(raw, sel.selections or [], sub_type, variables)
        return value, 1 + spent

    def _connection(self, raw: Any, conn_type: str, sel: Field, args: dict[str, Any], variables: dict[str, Any]
                    ) -> tuple[dict[str, Any], int]:
        node_type = self.types[conn_type]["connection_of"]
        if isinstance(raw, dict):
            nodes, cursors, has_next = raw["nodes"], raw["cursors"], raw["hasNextPage"]
        else:
            start = int(uncursor(args.get("after")) or -1) + 1
            first = int(args.get("first") or args.get("last") or 0)
            nodes = raw[start:start + first]
            cursors = [cursor_of(start + i) for i in range(len(nodes))]
            has_next = start + first < len(raw)
        out: dict[str, Any] = {}
        cost = 2
        for s in sel.selections or []:
            key = s.alias or s.name
            if s.name == "pageInfo":
                info = {"hasNextPage": has_next, "hasPreviousPage": bool(args.get("after")),
                        "startCursor": cursors[0] if cursors else None,
                        "endCursor": cursors[-1] if cursors else None}
                out[key] = {f.alias or f.name: info.get(f.name) for f in s.selections or []}
            elif s.name == "nodes":
                out[key] = []
                for node in nodes:
                    value, spent = self._select(node, s.selections or [], node_type, variables)
                    out[key].append(value)
                    cost += 1 + spent
            elif s.name == "edges":
                out[key] = []
                for node, cursor in zip(nodes, cursors, strict=True):
                    edge: dict[str, Any] = {}
                    for e in s.selections or []:
                        if e.name == "cursor":
                            edge[e.alias or "cursor"] = cursor
                        elif e.name == "node":
                            edge[e.alias or "node"], spent = self._select(node, e.selections or [], node_type,
                                                                          variables)
                            cost += 1 + spent
                    out[key].append(edge)
        return out, cost

    def _select(self, obj: dict[str, Any], selections: list[Any], type_name: str, variables: dict[str, Any]
                ) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        cost = 0
        for sel in selections:
            if isinstance(sel, InlineFragment):
                if obj.get("__typename", type_name) == sel.type_condition:
                    value, spent = self._select(obj, sel.selections, sel.type_condition, variables)
                    out.update(value)
                    cost += spent
                continue
            if sel.name == "__typename":
                out[sel.alias or sel.name] = obj.get("__typename", type_name)
                continue
            args = {k: bind(v, variables) for k, v in sel.args.items()}
            value, spent = self._resolve(obj.get(sel.name), self._spec(type_name, sel.name)["type"], sel, args,
                                         variables)
            out[sel.alias or sel.name] = value
            cost += spent
        return out, cost
