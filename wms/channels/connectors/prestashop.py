"""PrestaShop 1.7 / 8.x webservice (XML) connector: orders in by `date_upd` checkpoint, stock out to
`stock_availables`, tracking back to `order_carriers` and the shipped state to `order_histories`.

Followed: the PrestaShop devdocs for 1.7 and 8 (webservice reference, resources orders, order_details,
stock_availables, combinations, products, order_carriers, order_histories, order_states, addresses, customers,
carriers; "Additional list parameters" and the cheat sheet for `display`, `filter[...]`, `sort`, `limit`, `date=1`,
`output_format`) and the core's own sources for what the docs leave out: `classes/order/Order.php` (the
`order_rows` association: id, product_id, product_attribute_id, product_quantity, product_reference,
unit_price_tax_incl), `WebserviceOutputXML.php` (every document is `<prestashop xmlns:xlink=...>` around the
resource; errors are `<prestashop><errors><error><code/><message/></error></errors></prestashop>`) and
`WebserviceRequest.php` (the key is the HTTP Basic user with an empty password; 401 codes 16/17/18/20/21; 404
"Id(s) not exists" code 87). Verified against tests/standins/prestashop.py, a stand-in written from the same
pages, whose request checks live in tests/standins/schemas/prestashop/.

What PrestaShop does not have, and how we live with it:
- No signed webhooks in core (modules vary): `has_webhooks` is False; orders are polled every 5 minutes with a
  checkpoint on `date_upd`, re-reading `overlap_s` before it each pull (a PHP request stamps `date_upd` when it
  starts, and commits later: an order can appear with a date older than one already read).
- Dates are the shop's wall clock without an offset: the shop time zone is the `shop_timezone` option
  (default Europe/Paris); when clocks go back, the lower bound is moved back by the hour repeated.
- No documented rate limit: we pace at 5 calls/s (burst 10) -- our own choice -- and treat 429/503 from the host
  as RateLimited/Unavailable.
- Stock: the absolute quantity is PUT in the whole `stock_available` document read just before (PrestaShop has
  no PATCH in 1.7 and a partial PUT resets fields); the quantity read is never used to compute what is sent.
- One tracking number per `order_carrier`: the first goes into the order's empty one, others get new ones.
  The customer is told by the shipped state's mail (`order_histories?sendemail=1`), or for a partial shipment
  by the "in transit" mail of `PUT order_carriers?sendemail=1` (OrderCarrier::updateWs).
- Delivered: PrestaShop's stock "Delivered" state (id 5 in install/data/xml/order_state.xml; option
  `delivered_state`) through the same `POST order_histories?sendemail=1` (devdocs resource order_histories:
  id_order, id_order_state required), once every shipment of the order is delivered (a state is the order's, not
  a parcel's); an order already in it, or cancelled on the shop, is left as it is.
- Held / released / relay point changed: not written. A private note in the webservice is a `customer_messages`
  row (`private=1`) in a `customer_threads` row that must be created first with the customer, contact, language,
  shop and a token, and two more resources the key must grant: not simple, so the shop hears nothing of holds
  (webhook channels still get order.held / order.released / order.relay_point_changed).
- `external_id` is the order id (unique); the order reference (shared by the orders of one split cart) is
  `platform_ref`.
- Relay (pick-up) points belong to carrier modules, whose own tables (`mondialrelay_selected_relay`,
  `colissimo_pickup_point`, ...) the webservice does not expose. What the two modules read for this connector do
  (their sources, not their docs) is swap the order's delivery address for one that names the point, and that
  address the webservice does serve (`addresses`, `display=full`):
  * Mondial Relay (module `mondialrelay` 3.x, `SelectRelayActions::setAddressFields`): `alias` and `other` are
    "Point Mondial Relay : <country>-<number>", `company` the relay's name, address lines its address. We read
    "<country>-<number>" (e.g. "FR-012345"), what the Mondial Relay carrier adapter takes.
  * Colissimo (module `colissimo`, `ColissimoTools::createAddressFromPickupPoint`): `alias` is "COLISSIMO POINT
    PICKUP <the module's row id>" and `other` the Colissimo pick-up point id; we read `other`.
  The option `relay_point_rules` replaces these two defaults (`off`: read none). Rules are separated by `;` or
  new lines; each is `<field>~<regex>` (the id is the regex's first group, else the whole match, of that address
  field) or `<field>~<regex>-><field>` (when the regex matches, the id is the second field's text). The first
  rule that gives an id wins. Not covered: a module that keeps the point only in its own tables or in an order
  message (Sendcloud documents that its PrestaShop integration does not save the service point id in the shop;
  order messages are not read), and a shop whose webservice does not serve an address the module marked deleted
  (the Colissimo module saves it with `deleted = 1`; not checked against a real shop). The ship-to of such an
  order is the point's address, as the shop holds it.
- Line prices: `order_rows[].unit_price_tax_incl` (the unit price the customer paid, taxes included, after the
  catalogue's specific prices; cart rules are order-level and not spread on lines), in the order's currency
  (`id_currency` -> `currencies.iso_code`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from wms.channels.connectors.base import (
    Address,
    BadPayload,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    Connector,
    ConnectorConfig,
    ConnectorError,
    Delivery,
    Fulfilment,
    OrderPage,
    OrderState,
    RateLimit,
    Rejected,
    StockResult,
    StockUpdate,
)
from wms.channels.connectors.http import PlatformHttp

XLINK = "http://www.w3.org/1999/xlink"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
FIRST_DATE = "2000-01-01 00:00:00"
PAGE_SIZE = 50
# PrestaShop's default order states (install/data/xml/order_state.xml); every set can be changed per shop.
DEFAULT_STATES = {
    "pending_payment_states": "1,8,10,12,13",  # check, payment error, bank wire, backorder unpaid, COD
    "open_states": "2,3,9,11",                  # payment accepted, processing, backorder paid, remote payment
    "cancelled_states": "6,7",                  # canceled, refunded
    "closed_states": "4,5",                     # shipped, delivered
}
NEEDED_RESOURCES = {"orders": ("get",), "stock_availables": ("get", "put"), "order_carriers": ("get", "put", "post"),
                    "order_histories": ("post",), "products": ("get",), "combinations": ("get",),
                    "addresses": ("get",), "customers": ("get",), "carriers": ("get",), "countries": ("get",),
                    "currencies": ("get",), "languages": ("get",)}


def parse_xml(text: str | bytes, what: str) -> Element:
    """The `<prestashop>` root of an answer, parsed without entities; BadPayload when it is not one."""
    try:
        root = SafeET.fromstring(text)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise BadPayload(f"prestashop: {what} is not readable XML ({exc})") from exc
    if root.tag != "prestashop":
        raise BadPayload(f"prestashop: {what} is not a webservice document (root <{root.tag}>)")
    return root


def ps_errors(body: str | None) -> str | None:
    """The messages of a PrestaShop error document, 'code: message; ...' (None when it is not one)."""
    if not body:
        return None
    try:
        root = SafeET.fromstring(body)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    found = [f"{(e.findtext('code') or '').strip()}: {(e.findtext('message') or '').strip()}"
             for e in root.iterfind("errors/error")]
    return "; ".join(found) or None


@dataclass(frozen=True)
class RelayRule:
    """Where a carrier module leaves the relay point in the delivery address it gives the order."""

    field: str                     # the address field the pattern is matched against
    pattern: re.Pattern[str]
    take: str | None = None        # the field holding the id when the pattern matches (else: the match itself)


# What the Mondial Relay and Colissimo modules write (see the module docstring).
DEFAULT_RELAY_RULES = r"alias~^Point Mondial Relay : ([A-Z]{2}-\d{1,6})$; alias~^COLISSIMO POINT PICKUP \d+$->other"
ADDRESS_FIELDS = frozenset({"alias", "other", "company", "address1", "address2", "lastname", "firstname",
                            "postcode", "city", "dni", "vat_number"})


def relay_rules(option: Any) -> tuple[RelayRule, ...]:
    """The `relay_point_rules` option read (default: the two modules'); a rule we cannot read is refused."""
    value = str(option).strip() if option not in (None, "") else DEFAULT_RELAY_RULES
    if value.lower() in ("off", "none", "no"):
        return ()
    rules = []
    for raw in re.split(r"[;\n]", value):
        raw = raw.strip()
        if not raw:
            continue
        field, sep, rest = raw.partition("~")
        pattern, arrow, take = rest.rpartition("->") if "->" in rest else (rest, "", "")
        field, take = field.strip(), take.strip()
        if not sep or field not in ADDRESS_FIELDS or (arrow and take not in ADDRESS_FIELDS):
            raise Rejected(f"prestashop: relay point rule {raw!r} is not <field>~<regex>[-><field>] with address "
                           f"fields among {', '.join(sorted(ADDRESS_FIELDS))}")
        try:
            compiled = re.compile(pattern.strip())
        except re.error as exc:
            raise Rejected(f"prestashop: relay point rule {raw!r}: not a regular expression ({exc})") from exc
        rules.append(RelayRule(field, compiled, take or None))
    return tuple(rules)


def relay_point_of(address: Element | None, rules: Iterable[RelayRule]) -> str | None:
    """The relay point id the first matching rule finds in the delivery address (at most 64 characters)."""
    if address is None:
        return None
    for rule in rules:
        match = rule.pattern.search(text(address, rule.field).strip())
        if match is None:
            continue
        found = text(address, rule.take).strip() if rule.take else (
            match.group(1) if match.re.groups else match.group(0)).strip()
        if found:
            return found[:64]
    return None


def text(node: Element | None, name: str, default: str = "") -> str:
    child = node.find(name) if node is not None else None
    if child is None:
        return default
    languages = child.findall("language")
    value = languages[0].text if languages else child.text
    return (value or "").strip() or default


def to_dict(node: Element) -> Any:
    """An element as plain data for the audit copy: leaves are strings, repeated children lists."""
    children = list(node)
    if not children:
        return (node.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = to_dict(child)
        key = child.tag if child.tag != "language" else f"language_{child.get('id')}"
        if key in out:
            out[key] = out[key] if isinstance(out[key], list) else [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    return out


def document(resource: str, fields: Mapping[str, str]) -> bytes:
    """A webservice request body: `<prestashop xmlns:xlink><resource><field>..</field>..</resource></prestashop>`."""
    root = Element("prestashop", {"xmlns:xlink": XLINK})
    node = SubElement(root, resource)
    for name, value in fields.items():
        SubElement(node, name).text = value
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="utf-8")


def id_list(ids: Iterable[str]) -> str:
    return "[" + "|".join(sorted(set(ids), key=lambda v: int(v) if v.isdigit() else 0)) + "]"


class PrestaShopConnector(Connector):
    """One PrestaShop shop through its webservice key (polling only: PrestaShop core signs no webhooks)."""

    kind = "prestashop"
    api_version = "PrestaShop webservice 1.7/8.x (XML)"
    rate_limit = RateLimit(rate=5.0, burst=10, items_per_call=1,
                           source="our own choice: PrestaShop documents no webservice limit; 5 calls/s leaves a "
                                  "shared PHP host room for shoppers (docs/connectors/prestashop.md)")
    credential_fields = ("webservice_key",)
    option_fields = ("shop_timezone", "shipped_state", "delivered_state", "id_shop", "relay_point_rules", *DEFAULT_STATES)
    has_webhooks = False
    poll_interval_s = 300
    overlap_s = 300

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        key = config.credentials.get("webservice_key", "")
        self.http = PlatformHttp(self.kind, self._api_root(config.base_url), self.rate_limit,
                                 timeout=config.timeout, auth=(key, ""))
        opts = config.options
        try:
            self.tz = ZoneInfo(str(opts.get("shop_timezone") or "Europe/Paris"))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Rejected(f"prestashop: unknown shop time zone {opts.get('shop_timezone')!r}") from exc
        self.shipped_state = str(opts.get("shipped_state") or 4)
        self.delivered_state = str(opts.get("delivered_state") or 5)
        self.id_shop = str(opts["id_shop"]) if opts.get("id_shop") else None
        self.states = {name: {s.strip() for s in str(opts.get(name) or default).split(",") if s.strip()}
                       for name, default in DEFAULT_STATES.items()}
        self.relay_rules = relay_rules(opts.get("relay_point_rules"))
        self._lookups: dict[str, dict[str, str]] = {}

    @staticmethod
    def _api_root(base_url: str) -> str:
        base = base_url.rstrip("/")
        return base if base.endswith("/api") else f"{base}/api"

    # --- transport -------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: bytes | None = None,
              ok: tuple[int, ...] = ()) -> Element | None:
        query = {"output_format": "XML", **(params or {})}
        headers = {"Content-Type": "text/xml; charset=utf-8"} if body is not None else None
        try:
            resp = self.http.request(method, path, params=query, data=body, headers=headers, ok=ok)
        except ConnectorError as exc:
            detail = ps_errors(exc.body)
            if detail:
                raise type(exc)(f"{exc} -- {detail}", status=exc.status, retry_after=exc.retry_after,
                                body=exc.body) from exc
            raise
        if resp.status_code in ok and resp.status_code >= 300:
            return None
        return parse_xml(resp.content, f"{method} {path}")

    def _list(self, resource: str, params: Mapping[str, str]) -> list[Element]:
        root = self._call("GET", resource, params=params)
        container = root.find(resource) if root is not None else None
        if container is None:
            # An empty list is `<prestashop><orders/></prestashop>`; PrestaShop 1.7 sometimes sends `<prestashop/>`.
            if root is not None and len(root):
                raise BadPayload(f"prestashop: GET {resource} answered without <{resource}>")
            return []
        return list(container)

    def _all(self, resource: str, params: Mapping[str, str]) -> Iterable[Element]:
        offset = 0
        while True:
            rows = self._list(resource, {**params, "sort": "[id_ASC]", "limit": f"{offset},{PAGE_SIZE}"})
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _lookup(self, resource: str, field: str, wanted: str) -> str | None:
        """`field` of one row of a small resource (carriers, languages, currencies, countries), read once and
        read again once when a row appears that we have not seen (a carrier added since)."""
        key = f"{resource}.{field}"
        table = self._lookups.get(key)
        if table is None or (wanted not in table and f"{key}!" not in self._lookups):
            if table is not None:
                self._lookups[f"{key}!"] = {}
            table = {text(n, "id"): text(n, field) for n in self._all(resource, {"display": f"[id,{field}]"})}
            self._lookups[key] = table
        return table.get(wanted) or None

    # --- dates -----------------------------------------------------------------------------------------------
    def shop_time(self, moment: dt.datetime) -> str:
        """A moment as the shop's wall clock, moved back by the hour repeated when the clocks just went back."""
        local = moment.astimezone(self.tz)
        earlier = (moment - dt.timedelta(hours=3)).astimezone(self.tz)
        back = (earlier.utcoffset() or dt.timedelta()) - (local.utcoffset() or dt.timedelta())
        wall = local.replace(tzinfo=None) - max(back, dt.timedelta())
        return wall.strftime(DATE_FORMAT)

    def from_shop_time(self, value: str, what: str) -> dt.datetime:
        """The shop's wall clock as an aware moment (the earlier one when the hour is repeated)."""
        try:
            return dt.datetime.strptime(value, DATE_FORMAT).replace(tzinfo=self.tz, fold=0).astimezone(dt.UTC)
        except ValueError as exc:
            raise BadPayload(f"prestashop: {what} {value!r} is not a date") from exc

    # --- connection ------------------------------------------------------------------------------------------
    def test_connection(self) -> str:
        root = self._call("GET", "")
        api = root.find("api") if root is not None else None
        if api is None:
            raise BadPayload("prestashop: GET /api/ did not list the shop's resources")
        missing = []
        for resource, methods in NEEDED_RESOURCES.items():
            node = api.find(resource)
            lacking = [m for m in methods if node is None or node.get(m) != "true"]
            if lacking:
                missing.append(f"{resource} ({', '.join(m.upper() for m in lacking)})")
        if missing:
            raise Rejected("prestashop: the webservice key lacks permissions: " + "; ".join(missing))
        return api.get("shopName") or "PrestaShop"

    # --- orders ----------------------------------------------------------------------------------------------
    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        if cursor:
            try:
                state = json.loads(cursor)
                start, skip, upto, only_live = state["from"], int(state["skip"]), state["to"], bool(state["live"])
            except (ValueError, KeyError, TypeError) as exc:
                raise BadPayload(f"prestashop: cursor {cursor!r} is not ours") from exc
        else:
            only_live = updated_since is None
            start = FIRST_DATE if updated_since is None else self.shop_time(
                updated_since - dt.timedelta(seconds=self.overlap_s))
            # A day ahead: the shop's clock may run ahead of ours; orders past it are read by the next pull.
            upto = self.shop_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
            skip = 0
        params = {"display": "full", "filter[date_upd]": f"[{start},{upto}]", "date": "1",
                  "sort": "[date_upd_ASC,id_ASC]", "limit": f"{skip},{PAGE_SIZE}"}
        if only_live:
            params["filter[current_state]"] = id_list(self.states["pending_payment_states"] | self.states["open_states"])
        if self.id_shop:
            params["filter[id_shop]"] = f"[{self.id_shop}]"
        nodes = self._list("orders", params)
        orders = self._read_orders(nodes)
        if len(nodes) < PAGE_SIZE:
            return OrderPage(orders=orders, cursor=None)
        # Keyset on date_upd, with an offset only among orders of the same second: an order updated while we
        # read moves to the end instead of shifting the pages under us.
        last = text(nodes[-1], "date_upd")
        same = sum(1 for n in nodes if text(n, "date_upd") == last)
        nxt = {"from": last, "skip": skip + same if last == start else same, "to": upto, "live": only_live}
        return OrderPage(orders=orders, cursor=json.dumps(nxt))

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        if not external_id.isdigit():
            return None
        root = self._call("GET", f"orders/{external_id}", ok=(404,))
        if root is None:
            return None
        node = root.find("order")
        if node is None:
            raise BadPayload(f"prestashop: GET orders/{external_id} answered without <order>")
        return self._read_orders([node])[0]

    def _read_orders(self, nodes: list[Element]) -> tuple[ChannelOrder, ...]:
        if not nodes:
            return ()
        for node in nodes:
            if node.tag != "order" or not text(node, "id").isdigit():
                raise BadPayload("prestashop: an order without an id")
        addresses = {text(a, "id"): a for a in self._list("addresses", {
            "display": "full", "filter[id]": id_list(text(n, "id_address_delivery") for n in nodes)})}
        customers = {text(c, "id"): c for c in self._list("customers", {
            "display": "[id,email,id_lang]", "filter[id]": id_list(text(n, "id_customer") for n in nodes)})}
        return tuple(self._order(n, addresses, customers) for n in nodes)

    def _state(self, state_id: str) -> OrderState:
        if state_id in self.states["cancelled_states"]:
            return OrderState.CANCELLED
        if state_id in self.states["closed_states"] or state_id == self.shipped_state:
            return OrderState.CLOSED
        if state_id in self.states["open_states"]:
            return OrderState.OPEN
        # Awaiting payment, and any state this shop added that we were not told about: held, never shipped.
        return OrderState.PENDING_PAYMENT

    def _order(self, node: Element, addresses: Mapping[str, Element], customers: Mapping[str, Element]
               ) -> ChannelOrder:
        order_id = text(node, "id")
        lines = []
        for row in node.iterfind("associations/order_rows/order_row"):
            product, combination = text(row, "product_id"), text(row, "product_attribute_id", "0")
            # An unreadable line does not stop the page: the order is read with a line the intake holds (a
            # quantity of 0 is "bad data", a listing "unreadable:<row>" is unknown), so a supervisor sees it.
            try:
                quantity = int(text(row, "product_quantity"))
            except ValueError:
                quantity = 0
            item_key = (f"{product}:{combination}" if product.isdigit() and combination.isdigit()
                        else f"unreadable:{text(row, 'id') or len(lines) + 1}")
            lines.append(ChannelOrderLine(
                ref=text(row, "id"), item_key=item_key, sku=text(row, "product_reference") or None,
                quantity=quantity, unit_price=_decimal(text(row, "unit_price_tax_incl")),
                title=text(row, "product_name") or None))
        customer = customers.get(text(node, "id_customer"))
        email = text(customer, "email") or None
        lang_id = text(node, "id_lang") or text(customer, "id_lang")
        language = self._lookup("languages", "iso_code", lang_id)
        return ChannelOrder(
            external_id=order_id,
            state=self._state(text(node, "current_state")),
            updated_at=self.from_shop_time(text(node, "date_upd"), f"order {order_id} date_upd"),
            lines=tuple(lines),
            ship_to=self._address(addresses.get(text(node, "id_address_delivery")), email),
            customer_email=email,
            customer_language=language,
            shipping_method=self._lookup("carriers", "name", text(node, "id_carrier")),
            relay_point_id=relay_point_of(addresses.get(text(node, "id_address_delivery")), self.relay_rules),
            placed_at=self.from_shop_time(text(node, "date_add"), f"order {order_id} date_add")
            if text(node, "date_add") else None,
            total=_decimal(text(node, "total_paid_tax_incl") or text(node, "total_paid")),
            currency=self._lookup("currencies", "iso_code", text(node, "id_currency")),
            platform_ref=text(node, "reference") or None,
            raw=to_dict(node),
        )

    def _address(self, node: Element | None, email: str | None) -> Address | None:
        if node is None:
            return None
        name = " ".join(p for p in (text(node, "firstname"), text(node, "lastname")) if p)
        company = text(node, "company")
        return Address(
            name=f"{name} ({company})" if company and name else (name or company),
            line1=text(node, "address1"), line2=text(node, "address2") or None,
            postcode=text(node, "postcode"), city=text(node, "city"),
            country=(self._lookup("countries", "iso_code", text(node, "id_country")) or "").upper(),
            phone=text(node, "phone_mobile") or text(node, "phone") or None, email=email)

    # --- catalogue and stock ---------------------------------------------------------------------------------
    def list_items(self) -> Iterable[ChannelItem]:
        stock = {f"{text(s, 'id_product')}:{text(s, 'id_product_attribute', '0')}": text(s, "quantity")
                 for s in self._all("stock_availables", self._shop({"display": "[id,id_product,id_product_attribute,"
                                                                               "quantity]"}))}
        products = {text(p, "id"): p for p in self._all("products", {"display": "[id,reference,ean13,name]"})}
        with_combinations: set[str] = set()
        items = []
        for comb in self._all("combinations", {"display": "[id,id_product,reference,ean13]"}):
            product_id = text(comb, "id_product")
            with_combinations.add(product_id)
            key = f"{product_id}:{text(comb, 'id')}"
            items.append(ChannelItem(item_key=key, sku=text(comb, "reference") or None,
                                     title=text(products.get(product_id), "name") or None,
                                     barcode=text(comb, "ean13") or None, quantity=_int(stock.get(key))))
        for product_id, product in products.items():
            if product_id not in with_combinations:
                key = f"{product_id}:0"
                items.append(ChannelItem(item_key=key, sku=text(product, "reference") or None,
                                         title=text(product, "name") or None, barcode=text(product, "ean13") or None,
                                         quantity=_int(stock.get(key))))
        return items

    def _shop(self, params: dict[str, str]) -> dict[str, str]:
        return {**params, "filter[id_shop]": f"[{self.id_shop}]"} if self.id_shop else params

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        results: dict[int, StockResult] = {}
        by_product: dict[str, list[tuple[int, StockUpdate]]] = {}
        for i, update in enumerate(updates):
            product, _, combination = update.item_key.partition(":")
            if not product.isdigit() or not (combination or "0").isdigit():
                results[i] = StockResult(update.item_key, ok=False, error="not a PrestaShop product:combination")
            else:
                by_product.setdefault(product, []).append((i, update))
        # One read of the stock_available documents per 50 products, then one PUT per listing.
        for chunk in _chunks(sorted(by_product), PAGE_SIZE):
            found: dict[str, Element] = {}
            for node in self._list("stock_availables", self._shop({
                    "display": "full", "filter[id_product]": id_list(chunk)})):
                found.setdefault(f"{text(node, 'id_product')}:{text(node, 'id_product_attribute', '0')}", node)
            for product in chunk:
                for i, update in by_product[product]:
                    results[i] = self._put_stock(update, found)
        return [results[i] for i in range(len(updates))]

    def _put_stock(self, update: StockUpdate, found: Mapping[str, Element]) -> StockResult:
        product, _, combination = update.item_key.partition(":")
        node = found.get(f"{product}:{combination or '0'}")
        if node is None:
            return StockResult(update.item_key, ok=False, error="no stock_available for this product/combination")
        if text(node, "depends_on_stock") == "1":
            return StockResult(update.item_key, ok=False, error="quantity follows advanced stock management "
                                                                "(depends_on_stock=1); PrestaShop computes it")
        fields = {child.tag: (child.text or "").strip() for child in node if not len(child)}
        fields["quantity"] = str(max(0, update.quantity))
        try:
            self._call("PUT", f"stock_availables/{fields['id']}", body=document("stock_available", fields))
        except (Rejected, BadPayload) as exc:
            return StockResult(update.item_key, ok=False, error=str(exc)[:500])
        return StockResult(update.item_key, ok=True)

    # --- fulfilment ------------------------------------------------------------------------------------------
    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        order_id = fulfilment.external_id
        if not order_id.isdigit():
            raise Rejected(f"prestashop: {order_id!r} is not an order id")
        carriers = self._list("order_carriers", {"display": "full", "filter[id_order]": f"[{order_id}]"})
        if not carriers:
            raise Rejected(f"prestashop: order {order_id} has no order_carrier to write tracking to")
        written = {n for c in carriers for n in [text(c, "tracking_number")] if n}
        empty = [c for c in carriers if not text(c, "tracking_number")]
        for number in fulfilment.tracking_numbers:
            if number in written:
                continue  # written by an earlier attempt of this shipment
            if empty:
                node = empty.pop(0)
                fields = {child.tag: (child.text or "").strip() for child in node if not len(child)}
                fields["tracking_number"] = number
                # A partial shipment changes no state: the "in transit" mail is the customer's only news of it.
                mail = {"sendemail": "1"} if fulfilment.notify_customer and not fulfilment.complete else {}
                self._call("PUT", f"order_carriers/{fields['id']}", params=mail,
                           body=document("order_carrier", fields))
            else:
                base = carriers[0]
                fields = {"id_order": order_id, "id_carrier": text(base, "id_carrier"), "weight": "0",
                          "tracking_number": number}
                self._call("POST", "order_carriers", body=document("order_carrier", fields))
            written.add(number)
        if fulfilment.complete:
            self._mark_shipped(order_id, fulfilment.notify_customer)

    pushes_delivered = True

    def push_delivered(self, delivery: Delivery) -> None:
        order_id = delivery.external_id
        if not order_id.isdigit():
            raise Rejected(f"prestashop: {order_id!r} is not an order id")
        if not delivery.order_delivered:
            return   # a shipment of several: the order's state waits for the last one
        current = self._current_state(order_id)
        if current == self.delivered_state:
            return   # told already (a retried job)
        if current in self.states["cancelled_states"]:
            raise Rejected(f"prestashop: order {order_id} is cancelled on the shop; not marked delivered")
        params = {"sendemail": "1"} if delivery.notify_customer else {}
        self._call("POST", "order_histories", params=params, body=document(
            "order_history", {"id_order": order_id, "id_order_state": self.delivered_state}))

    def _current_state(self, order_id: str) -> str:
        root = self._call("GET", f"orders/{order_id}", params={"display": "[id,current_state]"})
        node = root.find("order") if root is not None else None
        if node is None:
            raise BadPayload(f"prestashop: GET orders/{order_id} answered without <order>")
        return text(node, "current_state")

    def _mark_shipped(self, order_id: str, notify: bool) -> None:
        root = self._call("GET", f"orders/{order_id}", params={"display": "[id,current_state]"})
        node = root.find("order") if root is not None else None
        if node is None:
            raise BadPayload(f"prestashop: GET orders/{order_id} answered without <order>")
        current = text(node, "current_state")
        if current == self.shipped_state or current in self.states["closed_states"]:
            return
        if current in self.states["cancelled_states"]:
            raise Rejected(f"prestashop: order {order_id} is cancelled on the shop; not marked shipped")
        params = {"sendemail": "1"} if notify else {}
        self._call("POST", "order_histories", params=params, body=document(
            "order_history", {"id_order": order_id, "id_order_state": self.shipped_state}))


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _chunks(values: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]
