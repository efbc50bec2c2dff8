"""WooCommerce connector: WooCommerce REST API v3 (`/wp-json/wc/v3`, WooCommerce 3.5+, WordPress 4.4+) and the
Shipment Tracking extension's REST API (`/wp-json/wc-shipment-tracking/v3`).

Verified against the published documentation (woocommerce/woocommerce-rest-api-docs, wp-api-v3 pages, read
2026-12-02) and, where the docs are silent or stale, against WooCommerce's own PHP (the REST controllers and
`WC_Webhook` as shipped in the WordPress plugin tree):

- Auth: consumer key/secret as HTTP Basic over HTTPS, or as `consumer_key`/`consumer_secret` query parameters
  for hosts that strip the Authorization header (option `query_string_auth`). Keys are never sent over plain
  HTTP (WooCommerce wants OAuth 1.0a there), except to a loopback host, which is how the tests' stand-in runs.
- Orders: `GET /orders` with `modified_after` + `dates_are_gmt=true`, `orderby=modified` (in the controller's
  enum since WC 5.x, though the docs table omits it), `order=asc`, `per_page=100` (the controller's maximum);
  `X-WP-TotalPages` says whether more pages follow. Each pull re-reads `overlap_s` before the checkpoint (an order
  saved by a slow request is stamped before it commits); WordPress' date query compares `after` strictly and to
  the second, so we ask for one second more. Pages are read keyset-wise (each page restarts after
  the last second seen), so an order modified while we page cannot shift another one out of view.
- Statuses (docs): pending, processing, on-hold, completed, cancelled, refunded, failed, trash (+ the block
  checkout's checkout-draft).
- Stock: `POST /products/batch` and `POST /products/<id>/variations/batch` with
  `update: [{id, manage_stock: true, stock_quantity}]`, at most 100 objects per call
  (`woocommerce_rest_batch_items_limit`, 413 `woocommerce_rest_request_entity_too_large` beyond). A refused object
  comes back in place as `{id, error: {code, message, data}}`.
- Fulfilment: `POST .../orders/<id>/shipment-trackings` with `tracking_number`, `date_shipped` (YYYY-MM-DD) and
  either `tracking_provider` (a provider name of the store) or `custom_tracking_provider` +
  `custom_tracking_link`; then `PUT /orders/<id>` `{"status": "completed"}` when nothing is left to ship; a
  partial shipment stays `processing` and gets an order note. Trackings already on the order are not added again
  (a retried job after a half-done write-back). Without the extension (404 `rest_no_route`) the tracking goes into
  a customer order note instead.
- Delivered: WooCommerce has no delivered status (core statuses above; `completed` is set at shipped), so the
  delivery is a customer order note, `POST /orders/<id>/notes` `{"note", "customer_note": true}` (docs "Create an
  order note": `note` required, `customer_note` "If true, the note will be shown to customers and they will be
  notified"), in the customer's language (French when the order's WPML language is fr). No status change.
- Held / released / relay point changed: a private note, the same call with `customer_note: false` (staff only).
  Notes already on the order with the same text are not added again (a retried job).
- Webhooks (`WC_Webhook::deliver`): JSON body, `X-WC-Webhook-Signature` = base64(HMAC-SHA256(secret, raw body)),
  `X-WC-Webhook-Topic/-Resource/-Event/-ID/-Delivery-ID`; `order.deleted` carries only `{"id": N}`; the ping sent
  when a webhook is saved is a form body `webhook_id=N` with no signature and must be answered 200. The delivery
  id is `wp_hash(webhook id . current second)`: two deliveries of one webhook in the same second share it, so our
  delivery id adds a digest of the body (a replay keeps both, a second order in that second does not collide).
- Relay (pick-up) points: WooCommerce core has none; a relay-point plugin keeps the chosen point in order meta
  (`meta_data[]`) or shipping-line meta. The key read is the option `relay_point_meta_key` (default
  `relay_point_id`), looked for on the order first, then on its first shipping line. Sendcloud documents that its
  WooCommerce plugin does save the service point (the key it uses is not documented there: set the option to what
  the order shows).
- Line prices: WooCommerce stores a line's `total` (after coupons) without tax and its `total_tax`, whatever the
  shop's `prices_include_tax` setting; `price` is `total / quantity`, also without tax. The unit price we keep is
  what the customer paid for one unit, taxes included: `(total + total_tax) / quantity` (rounded to the cent by
  the intake), or `price` when a line has no `total`. The currency is the order's `currency`.
- Errors: `{"code": "woocommerce_rest_...", "message": ..., "data": {"status": N}}`.
- Rate limit: the REST API documents none (the Store API's optional limiter is 25 POSTs / 10 s per client, and
  hosts add their own), so 2 calls/s with a burst of 5 is our own conservative choice; a 429 is honoured with its
  `Retry-After` (or the Store API's `RateLimit-Retry-After`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from wms.channels.connectors.base import (
    Address,
    AuthFailed,
    BadPayload,
    ChannelItem,
    ChannelOrder,
    ChannelOrderLine,
    Connector,
    ConnectorConfig,
    Delivery,
    Fulfilment,
    OrderPage,
    OrderState,
    RateLimit,
    RateLimited,
    Rejected,
    StockResult,
    StockUpdate,
    WebhookCall,
    WebhookTopic,
    utc_moment,
)
from wms.channels.connectors.http import PlatformHttp, retry_after_s

API = "wp-json/wc/v3"
TRACKING_API = "wp-json/wc-shipment-tracking/v3"
PAGE_SIZE = 100          # the controllers' per_page maximum
BATCH_LIMIT = 100        # woocommerce_rest_batch_items_limit default

STATES = {
    "pending": OrderState.PENDING_PAYMENT,
    "on-hold": OrderState.PENDING_PAYMENT,
    "failed": OrderState.PENDING_PAYMENT,
    "checkout-draft": OrderState.PENDING_PAYMENT,
    "processing": OrderState.OPEN,
    "cancelled": OrderState.CANCELLED,
    "refunded": OrderState.CANCELLED,
    "trash": OrderState.CANCELLED,
    "completed": OrderState.CLOSED,
}
OPEN_STATUSES = "pending,processing,on-hold"
FINAL_STATUSES = ("cancelled", "refunded", "trash", "failed")
_PING = re.compile(rb"webhook_id=\d+")
_CLIENT_ERRORS = tuple(range(400, 500))
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _gmt(value: Any) -> dt.datetime:
    """A WooCommerce `*_gmt` field ("2026-12-02T10:00:00", no zone: it is GMT) as an aware datetime."""
    return utc_moment(value, "woocommerce")


def _iso(moment: dt.datetime) -> str:
    """What we send as a GMT date: second precision, no zone (dates_are_gmt=true says which)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise BadPayload(f"woocommerce: not an amount: {value!r}") from exc


def _unit_price(line: Mapping[str, Any]) -> Decimal | None:
    """One unit as the customer paid it, taxes included: (total + total_tax) / quantity; `price` (without tax)
    only when the line has no total."""
    total, tax = _money(line.get("total")), _money(line.get("total_tax"))
    quantity = int(line.get("quantity") or 0)
    if total is None or quantity <= 0:
        return _money(line.get("price"))
    return (total + (tax or 0)) / quantity


def item_key_of(product_id: Any, variation_id: Any = 0) -> str:
    """"<product_id>" or "<product_id>:<variation_id>"."""
    return f"{int(product_id)}:{int(variation_id)}" if variation_id else str(int(product_id))


def parse_item_key(item_key: str) -> tuple[int, int | None]:
    """(product id, variation id or None); ValueError when it is not one of ours."""
    head, _, tail = item_key.partition(":")
    product, variation = int(head), (int(tail) if tail else None)
    if product <= 0 or (variation is not None and variation <= 0):
        raise ValueError(item_key)
    return product, variation


class WooCommerceConnector(Connector):
    kind = "woocommerce"
    api_version = "wc/v3"
    rate_limit: ClassVar[RateLimit] = RateLimit(
        rate=2.0, burst=5, items_per_call=BATCH_LIMIT,
        source="our own choice: the WooCommerce REST API documents no limit (the Store API's optional limiter "
               "allows 25 POSTs per 10 s; hosts add theirs); 429 Retry-After is honoured")
    credential_fields = ("consumer_key", "consumer_secret", "webhook_secret")
    option_fields = ("query_string_auth", "relay_point_meta_key", "tracking_providers")
    has_webhooks = True
    poll_interval_s = 300
    overlap_s = 120

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        creds = config.credentials
        self._key, self._secret = creds.get("consumer_key", ""), creds.get("consumer_secret", "")
        options = config.options
        self.query_string_auth = str(options.get("query_string_auth", "")).lower() in ("1", "true", "yes", "on")
        self.relay_meta_key = str(options.get("relay_point_meta_key") or "relay_point_id")
        self.tracking_providers = _providers(options.get("tracking_providers"))
        self.http = PlatformHttp(self.kind, config.base_url, self.rate_limit, timeout=config.timeout,
                                 auth=None if self.query_string_auth else (self._key, self._secret))

    # --- HTTP ------------------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None,
              missing_ok: bool = False) -> requests.Response:
        """One call; client errors become the ConnectorError WooCommerce's `code` means (404 passes if asked)."""
        url = urlsplit(self.http.base_url)
        if url.scheme != "https" and url.hostname not in _LOOPBACK:
            raise Rejected("woocommerce: the shop URL must be https:// (keys are not sent over plain HTTP)")
        query = dict(params or {})
        if self.query_string_auth:
            query.update(consumer_key=self._key, consumer_secret=self._secret)
        # a redirected write would come back as a GET (requests turns 301/302 POSTs into GETs): refuse it instead
        kwargs: dict[str, Any] = {"params": query, "allow_redirects": method == "GET"}
        if body is not None:
            kwargs["json"] = body
        resp = self.http.request(method, path, ok=_CLIENT_ERRORS, **kwargs)
        if resp.status_code < 400 or (missing_ok and resp.status_code == 404):
            return resp
        code, message = _error_of(resp)
        where = f"woocommerce: {method} {path.split('?')[0]} answered {resp.status_code} {code}: {message}"
        if resp.status_code == 429:
            wait = retry_after_s(resp.headers.get("Retry-After") or resp.headers.get("RateLimit-Retry-After"))
            self.http.bucket.drain_for(wait)
            raise RateLimited(where, status=429, retry_after=wait, body=resp.text[:2000])
        if resp.status_code in (401, 403):
            raise AuthFailed(where, status=resp.status_code, body=resp.text[:2000])
        raise Rejected(where, status=resp.status_code, body=resp.text[:2000])

    def _json(self, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            raise BadPayload(f"woocommerce: {resp.request.method} {resp.url.split('?')[0]} answered "
                             f"{resp.status_code} with no JSON ({resp.text[:80]!r})", body=resp.text[:2000]) from exc

    def _get(self, path: str, **params: Any) -> Any:
        return self._json(self._call("GET", path, params=params))

    # --- connection ------------------------------------------------------------------------------------------
    def test_connection(self) -> str:
        self._get(f"{API}/orders", per_page=1)        # authenticated: refused keys raise AuthFailed here
        index = self._json(self._call("GET", "wp-json/"))
        name = index.get("name") if isinstance(index, dict) else None
        return f"{name or urlsplit(self.http.base_url).hostname} (WooCommerce REST API wc/v3)"

    # --- orders ----------------------------------------------------------------------------------------------
    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        state = self._cursor(updated_since, cursor)
        params: dict[str, Any] = {"orderby": "modified", "order": "asc", "per_page": PAGE_SIZE,
                                  "page": state["page"]}
        if state["after"] is not None:
            params.update(modified_after=state["after"], dates_are_gmt="true")
        if state["open"]:
            params["status"] = OPEN_STATUSES
        resp = self._call("GET", f"{API}/orders", params=params)
        rows = self._json(resp)
        if not isinstance(rows, list):
            raise BadPayload("woocommerce: the order list is not a list", body=resp.text[:2000])
        seen = set(state["seen"])
        orders = [self.map_order(row) for row in rows if not (isinstance(row, dict) and row.get("id") in seen)]
        try:
            pages = int(resp.headers.get("X-WP-TotalPages", "1"))
        except ValueError:
            pages = 1
        if state["page"] >= pages or not rows:
            return OrderPage(tuple(orders))
        return OrderPage(tuple(orders), self._next_cursor(state, rows))

    def _cursor(self, updated_since: dt.datetime | None, cursor: str | None) -> dict[str, Any]:
        if cursor:
            try:
                state = json.loads(cursor)
                return {"after": state["after"], "page": int(state["page"]), "open": bool(state["open"]),
                        "seen": [int(i) for i in state["seen"]]}
            except (ValueError, KeyError, TypeError) as exc:
                raise BadPayload(f"woocommerce: not a cursor of ours: {cursor[:80]!r}") from exc
        if updated_since is None:     # the first import: every order still to pay or to ship
            return {"after": None, "page": 1, "open": True, "seen": []}
        # The overlap: an order saved by a slow PHP request carries a date_modified from before its commit.
        # WordPress compares `after` strictly, to the second: one second more reads "at or after".
        after = _iso(updated_since - dt.timedelta(seconds=self.overlap_s + 1))
        return {"after": after, "page": 1, "open": False, "seen": []}

    @staticmethod
    def _next_cursor(state: dict[str, Any], rows: list[Any]) -> str:
        """Restart after the last second read (keyset), so an order modified meanwhile shifts nothing away."""
        last = max(_gmt(r.get("date_modified_gmt")) for r in rows)
        restart = _iso(last - dt.timedelta(seconds=1))
        if restart == state["after"]:   # a whole page within one second: page on inside it
            return json.dumps({**state, "page": state["page"] + 1, "seen": []})
        seen = [r["id"] for r in rows if _gmt(r.get("date_modified_gmt")) == last]
        return json.dumps({**state, "after": restart, "page": 1, "seen": seen})

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        if not external_id.isdigit():
            return None
        resp = self._call("GET", f"{API}/orders/{external_id}", missing_ok=True)
        return None if resp.status_code == 404 else self.map_order(self._json(resp))

    def map_order(self, row: Any) -> ChannelOrder:
        """A WooCommerce order (REST v3 / webhook payload) as our ChannelOrder; BadPayload when unreadable."""
        try:
            return self._map_order(row)
        except BadPayload:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadPayload(f"woocommerce: unreadable order ({exc.__class__.__name__}: {exc})") from exc

    def _map_order(self, row: Mapping[str, Any]) -> ChannelOrder:
        status = row["status"]
        lines = tuple(
            ChannelOrderLine(ref=str(int(li["id"])), item_key=item_key_of(li["product_id"], li.get("variation_id")),
                             sku=li.get("sku") or None, quantity=int(li["quantity"]),
                             unit_price=_unit_price(li), title=li.get("name") or None)
            for li in row.get("line_items") or ())
        billing = row.get("billing") or {}
        shipping_line = next(iter(row.get("shipping_lines") or ()), {})
        number = str(row.get("number") or row["id"])
        return ChannelOrder(
            external_id=str(int(row["id"])),
            state=STATES.get(status, OrderState.PENDING_PAYMENT),
            updated_at=_gmt(row.get("date_modified_gmt") or row.get("date_created_gmt")),
            lines=lines,
            ship_to=_address(row.get("shipping") or {}, billing),
            customer_email=billing.get("email") or None,
            customer_language=_meta(row, "wpml_language"),
            shipping_method=shipping_line.get("method_title") or shipping_line.get("method_id") or None,
            relay_point_id=_meta(row, self.relay_meta_key) or _meta(shipping_line, self.relay_meta_key),
            placed_at=_gmt(row["date_created_gmt"]) if row.get("date_created_gmt") else None,
            total=_money(row.get("total")),
            currency=row.get("currency") or None,
            platform_ref=number if number != str(row["id"]) else None,
            raw=row,
        )

    # --- catalogue and stock -----------------------------------------------------------------------------------
    def list_items(self) -> Iterable[ChannelItem]:
        for product in self._pages(f"{API}/products"):
            if product.get("type") in ("grouped", "external"):    # hold no stock of their own
                continue
            if product.get("type") == "variable":
                for variation in self._pages(f"{API}/products/{int(product['id'])}/variations"):
                    yield _item(variation, product["id"], variation["id"],
                                f"{product.get('name', '')} {_attributes(variation)}".strip())
            else:
                yield _item(product, product["id"], 0, product.get("name"))

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            resp = self._call("GET", path, params={"per_page": PAGE_SIZE, "page": page})
            rows = self._json(resp)
            if not isinstance(rows, list):
                raise BadPayload(f"woocommerce: {path} is not a list")
            yield from (r for r in rows if isinstance(r, dict))
            if not rows or page >= int(resp.headers.get("X-WP-TotalPages", "1") or 1):
                return
            page += 1

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        results: dict[str, StockResult] = {}
        groups: dict[str, list[tuple[int, StockUpdate]]] = {}
        for update in updates:
            try:
                product, variation = parse_item_key(update.item_key)
            except ValueError:
                results[update.item_key] = StockResult(update.item_key, False, "not a WooCommerce item key")
                continue
            path = f"{API}/products/batch" if variation is None else f"{API}/products/{product}/variations/batch"
            groups.setdefault(path, []).append((variation or product, update))
        for path, items in groups.items():
            for start in range(0, len(items), BATCH_LIMIT):
                results.update(self._push_batch(path, items[start:start + BATCH_LIMIT]))
        return [results[u.item_key] for u in updates]

    def _push_batch(self, path: str, items: list[tuple[int, StockUpdate]]) -> dict[str, StockResult]:
        body = {"update": [{"id": wid, "manage_stock": True, "stock_quantity": max(0, u.quantity)}
                           for wid, u in items]}
        try:
            answer = self._json(self._call("POST", path, body=body))
        except Rejected as exc:
            return {u.item_key: StockResult(u.item_key, False, str(exc)) for _, u in items}
        done = {}
        for row in (answer.get("update") if isinstance(answer, dict) else None) or ():
            if isinstance(row, dict) and "id" in row:
                done[int(row["id"])] = row
        out = {}
        for wid, u in items:
            row = done.get(wid)
            if row is None:
                out[u.item_key] = StockResult(u.item_key, False, "woocommerce: no answer for this id in the batch")
            elif isinstance(row.get("error"), dict):
                err = row["error"]
                out[u.item_key] = StockResult(u.item_key, False, f"{err.get('code')}: {err.get('message')}")
            else:
                out[u.item_key] = StockResult(u.item_key, True)
        return out

    # --- fulfilment --------------------------------------------------------------------------------------------
    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        order_id = fulfilment.external_id
        if not order_id.isdigit():
            raise Rejected(f"woocommerce: not an order id: {order_id!r}")
        resp = self._call("GET", f"{API}/orders/{order_id}", missing_ok=True)
        if resp.status_code == 404:
            raise Rejected(f"woocommerce: order {order_id} does not exist on the shop", status=404)
        status = self._json(resp).get("status")
        if status in FINAL_STATUSES:
            raise Rejected(f"woocommerce: order {order_id} is {status} on the shop; its shipment is not written")
        self._write_tracking(order_id, fulfilment)
        if fulfilment.complete:
            if status != "completed":
                self._call("PUT", f"{API}/orders/{order_id}", body={"status": "completed"})
        else:
            self._note_once(order_id, _partial_note(fulfilment), fulfilment.notify_customer)

    def _write_tracking(self, order_id: str, fulfilment: Fulfilment) -> None:
        path = f"{TRACKING_API}/orders/{order_id}/shipment-trackings"
        resp = self._call("GET", path, missing_ok=True)
        if resp.status_code == 404:
            code, message = _error_of(resp)
            if code != "rest_no_route":
                raise Rejected(f"woocommerce: trackings of order {order_id}: {code}: {message}", status=404)
            # the Shipment Tracking extension is not installed: the customer gets the tracking in a note
            self._note_once(order_id, _tracking_note(fulfilment), fulfilment.notify_customer)
            return
        existing = {str(t.get("tracking_number")) for t in self._json(resp) or () if isinstance(t, dict)}
        provider = self.tracking_providers.get(fulfilment.carrier_code)
        if provider is None and not fulfilment.tracking_url:
            raise Rejected(f"woocommerce: carrier {fulfilment.carrier_code} has no tracking URL and no Shipment "
                           "Tracking provider name (option tracking_providers)")
        shipped = fulfilment.shipped_at.astimezone(dt.UTC).date().isoformat()
        for number in fulfilment.tracking_numbers:
            if number in existing:
                continue
            body: dict[str, Any] = {"tracking_number": number, "date_shipped": shipped}
            if provider is not None:
                body["tracking_provider"] = provider
            else:
                body["custom_tracking_provider"] = fulfilment.carrier_name
                body["custom_tracking_link"] = _link_for(fulfilment, number)
            self._call("POST", path, body=body)

    # --- delivered and private notes -------------------------------------------------------------------------
    pushes_delivered = True
    takes_private_notes = True

    def push_delivered(self, delivery: Delivery) -> None:
        order_id = delivery.external_id
        if not order_id.isdigit():
            raise Rejected(f"woocommerce: not an order id: {order_id!r}")
        self._note_once(order_id, delivery.note, delivery.notify_customer)

    def add_private_note(self, external_id: str, note: str) -> None:
        if not external_id.isdigit():
            raise Rejected(f"woocommerce: not an order id: {external_id!r}")
        self._note_once(external_id, note, False)

    def _note_once(self, order_id: str, note: str, customer_note: bool) -> None:
        notes = self._get(f"{API}/orders/{order_id}/notes")
        if any(isinstance(n, dict) and n.get("note") == note for n in notes or ()):
            return
        self._call("POST", f"{API}/orders/{order_id}/notes", body={"note": note, "customer_note": customer_note})

    # --- webhooks ----------------------------------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        h = {k.lower(): v for k, v in headers.items()}
        signature = h.get("x-wc-webhook-signature")
        if signature is None:
            # the ping WooCommerce sends when a webhook is saved: unsigned, carries nothing but its id
            return _PING.fullmatch(body.strip()) is not None
        secret = self.config.credentials.get("webhook_secret") or ""
        if not secret:
            return False
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
        return hmac.compare_digest(expected, signature.strip().encode("latin-1", "replace"))

    def read_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookCall:
        h = {k.lower(): v for k, v in headers.items()}
        if "x-wc-webhook-signature" not in h and _PING.fullmatch(body.strip()):
            return WebhookCall(WebhookTopic.PING, f"ping:{body.strip().decode()}", None)
        topic = h.get("x-wc-webhook-topic", "")
        delivery = f"{h.get('x-wc-webhook-delivery-id', '')}:{hashlib.sha256(body).hexdigest()[:16]}"
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadPayload(f"woocommerce: webhook {topic or '?'} body is not JSON", body=body[:500].decode(
                "utf-8", "replace")) from exc
        if not topic.startswith("order.") or h.get("x-wc-webhook-resource", "order") != "order":
            return WebhookCall(WebhookTopic.OTHER, delivery, None)
        if not isinstance(payload, dict) or not str(payload.get("id", "")).isdigit():
            raise BadPayload(f"woocommerce: webhook {topic} carries no order id")
        external_id = str(int(payload["id"]))
        if topic == "order.deleted":   # only {"id": N}: the order is gone from the shop
            return WebhookCall(WebhookTopic.ORDER_CANCELLED, delivery, external_id)
        order = self.map_order(payload)
        if topic == "order.created":
            kind = WebhookTopic.ORDER_CREATED
        elif payload.get("status") == "refunded":
            kind = WebhookTopic.REFUND
        elif order.state is OrderState.CANCELLED:
            kind = WebhookTopic.ORDER_CANCELLED
        else:
            kind = WebhookTopic.ORDER_UPDATED
        return WebhookCall(kind, delivery, external_id, order)


# --- mapping helpers -----------------------------------------------------------------------------------------
def _providers(value: Any) -> dict[str, str]:
    """carrier code → Shipment Tracking provider name, from a mapping or "colissimo=Colissimo,dpd=DPD"."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    pairs = (p.partition("=") for p in str(value or "").split(",") if "=" in p)
    return {k.strip(): v.strip() for k, _, v in pairs if k.strip() and v.strip()}


def _meta(obj: Mapping[str, Any], key: str) -> str | None:
    for entry in obj.get("meta_data") or ():
        if isinstance(entry, dict) and entry.get("key") == key and entry.get("value") not in (None, ""):
            return str(entry["value"])
    return None


def _address(shipping: Mapping[str, Any], billing: Mapping[str, Any]) -> Address | None:
    source = shipping if shipping.get("address_1") else billing
    if not source.get("address_1"):
        return None
    name = " ".join(p for p in (source.get("first_name"), source.get("last_name")) if p) or source.get("company")
    return Address(name=name or "", line1=source["address_1"], line2=source.get("address_2") or None,
                   postcode=source.get("postcode") or "", city=source.get("city") or "",
                   country=(source.get("country") or "").upper(),
                   phone=shipping.get("phone") or billing.get("phone") or None, email=billing.get("email") or None)


def _item(row: Mapping[str, Any], product_id: Any, variation_id: Any, title: str | None) -> ChannelItem:
    quantity = row.get("stock_quantity") if row.get("manage_stock") is True else None
    return ChannelItem(item_key=item_key_of(product_id, variation_id), sku=row.get("sku") or None,
                       title=title or None, barcode=row.get("global_unique_id") or None,
                       quantity=int(quantity) if quantity is not None else None)


def _attributes(variation: Mapping[str, Any]) -> str:
    return " ".join(str(a.get("option")) for a in variation.get("attributes") or () if isinstance(a, dict))


def _link_for(fulfilment: Fulfilment, number: str) -> str:
    url = fulfilment.tracking_url or ""
    first = fulfilment.tracking_numbers[0] if fulfilment.tracking_numbers else ""
    return url.replace(first, number) if first and first in url else url


def _tracking_note(fulfilment: Fulfilment) -> str:
    link = f" {fulfilment.tracking_url}" if fulfilment.tracking_url else ""
    return f"Shipped with {fulfilment.carrier_name}: {', '.join(fulfilment.tracking_numbers)}{link}"


def _partial_note(fulfilment: Fulfilment) -> str:
    lines = ", ".join(f"{line.quantity} x item {line.ref}" for line in fulfilment.lines)
    return (f"Part of this order has shipped with {fulfilment.carrier_name} "
            f"({', '.join(fulfilment.tracking_numbers)}): {lines}. The rest follows.")


def _error_of(resp: requests.Response) -> tuple[str, str]:
    try:
        data = resp.json()
    except ValueError:
        return "?", resp.text[:200]
    if isinstance(data, dict):
        return str(data.get("code", "?")), str(data.get("message", ""))[:300]
    return "?", resp.text[:200]

