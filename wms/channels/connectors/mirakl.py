"""Mirakl connector: the Mirakl Marketplace Platform (MMP) seller API, REST `/api`, JSON, one adapter for every
Mirakl marketplace (Leroy Merlin, Fnac Darty, Carrefour, Decathlon, Conforama...: each is its own instance URL).

Followed from the published seller API reference (developer.mirakl.com, `mmp/rest/seller/openapi3`, read
2026-12-02 through the `search` tool; API codes as Mirakl names them):

- Auth: security scheme `shop_api_key`, the key itself in the `Authorization` header (no "Bearer"); every call
  takes an optional `shop_id` query parameter "when your user has access to several shops" (option `shop_id`).
- OR11 `GET /api/orders` "List orders with pagination": `start_update_date` (ISO 8601; "Mirakl will subtract a
  time delta to ensure no orders are missed"), `order_state_codes` (comma list), `order_ids`, offset pagination
  (`max` up to 100, `offset`, answer `{"orders": [...], "total_count": N}`), sorted by `dateCreated` ascending by
  default: new orders land at the end, so an offset walk is not shifted by orders created while we page.
  Call frequency: recommended every 5 minutes (asynchronous), maximum once per minute.
- OR21 `PUT /api/orders/{order_id}/accept` `{"order_lines": [{"id", "accepted"}]}` (each line accepted or refused).
- OR23 `PUT /api/orders/{order_id}/tracking` `{carrier_code}` for a carrier the operator knows, else
  `{carrier_name, carrier_url}`, plus `tracking_number`; OR24 `PUT /api/orders/{order_id}/ship` (no body).
  Both: "at each update", no fixed maximum.
- Delivered: nothing is sent. OR23/OR24 are the seller's last order calls (OR24 moves the order to SHIPPED); the
  RECEIVED state is the customer's or the operator's to set, and the seller API reference searched (2026-12-04)
  shows no seller call to declare a delivery. `pushes_delivered` stays False: no job is queued for it.
- OF21 `GET /api/offers` (offset pagination, `max`/`offset`, `{"offers": [...], "total_count"}`).
- OF24 `POST /api/offers` `{"offers": [...]}`: "You must send all offer fields. Offer fields that are not sent are
  reset to their default value." Recommended every 5 minutes, maximum once per minute. It answers an `import_id`;
  the import runs asynchronously: OF02 `GET /api/offers/imports/{import}` (status WAITING_SYNCHRONIZATION_PRODUCT,
  WAITING, RUNNING, COMPLETE, FAILED; `lines_in_error`, `has_error_report`, `reason_status`; max once per minute)
  and OF03 `GET /api/offers/imports/{import}/error_report` (a file; max once per minute).
- A01 `GET /api/account` (shop information) for "test connection" (documented: once per day).
- Errors: standard HTTP codes with a JSON body `{"message": ..., "status": N}`; "If you make too many calls, you
  might receive an HTTP 429 ... The response will contain a Retry-After header".

How we use it. Every stock push re-reads the offers it touches from OF21 and sends each one back whole through
OF24 with only `quantity` changed (a cached copy could undo a price the seller changed in the back office since).
The connector then waits for its import (OF02, at its documented frequency, up to `import_wait_s`) and reports
the lines the error report (OF03) names as failed; an import still pending when the wait ends is reported as not
done (the core retries; quantities are absolute, a second send is harmless). Each API with a documented maximum
frequency has its own process-wide bucket (one call per interval, plus a small margin for clock skew), so paging
OR11 waits between pages instead of meeting a 429. `pacing_scale` (option, default 1) shrinks those intervals
for the test stand-in only.

Relay points: OR11's `shipping_pudo_id` (the pick-up point the customer chose on the marketplace) is the order's
relay point id, as the marketplace's carrier names it. Line prices: `order_lines[].price_unit` (the offer's unit
price the customer paid, shipping apart; marketplace prices are shown taxes included on the European operators),
else `price / quantity`; the currency is the order's `currency_iso_code`.

Not verified against a live instance (none is reachable): the OF03 report layout for a JSON OF24 import (we read
a `;`-separated CSV with a `shop_sku`/`sku` column and an error column), the `shipping_pudo_id` relay point field,
and `customer_notification_email` as the customer's email. A shipment with several tracking numbers sends the
first through OR23 (OR23 carries one; Mirakl's multi-shipment API ST01 is not used).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

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
    ConnectorError,
    Fulfilment,
    OrderPage,
    OrderState,
    RateLimit,
    RateLimited,
    Rejected,
    StockResult,
    StockUpdate,
    utc_moment,
)
from wms.channels.connectors.http import PlatformHttp, TokenBucket, bucket_for, retry_after_s

log = logging.getLogger(__name__)

PAGE_SIZE = 100                  # OR11 / OF21 `max`
OFFERS_PER_IMPORT = 10_000       # our choice: the pages read give OF24 no per-call maximum
MINUTE = 60.0                    # "Maximum usage: once per minute" (OR11, OF24, OF02, OF03)
PACED_APIS = ("OR11", "OF24", "OF02", "OF03")
SKEW_MARGIN = 1.10               # pace 10 % slower than the documented maximum, plus SKEW_PAD seconds
SKEW_PAD = 0.2

STATES = {
    "STAGING": OrderState.PENDING_PAYMENT,
    "WAITING_ACCEPTANCE": OrderState.AWAITING_ACCEPTANCE,
    "WAITING_DEBIT": OrderState.PENDING_PAYMENT,
    "WAITING_DEBIT_PAYMENT": OrderState.PENDING_PAYMENT,
    "SHIPPING": OrderState.OPEN,
    "SHIPPED": OrderState.CLOSED,
    "TO_COLLECT": OrderState.CLOSED,
    "RECEIVED": OrderState.CLOSED,
    "CLOSED": OrderState.CLOSED,
    "REFUSED": OrderState.CANCELLED,
    "CANCELED": OrderState.CANCELLED,
}
OPEN_STATES = "STAGING,WAITING_ACCEPTANCE,WAITING_DEBIT,WAITING_DEBIT_PAYMENT,SHIPPING"
DEAD_LINE_STATES = ("REFUSED", "CANCELED")
IMPORT_DONE = ("COMPLETE", "FAILED")

# OF24 offer fields, each sent on every update (an omitted one is reset), with where OF21 holds it.
OFFER_FIELDS = ("shop_sku", "product_id", "product_id_type", "price", "quantity", "state_code", "update_delete",
                "description", "internal_description", "price_additional_info", "leadtime_to_ship",
                "logistic_class", "min_quantity_alert", "available_started", "available_ended", "discount",
                "allow_quote_requests", "min_order_quantity", "max_order_quantity", "package_quantity",
                "offer_additional_fields")


def _date(value: Any, what: str = "date") -> dt.datetime:
    return utc_moment(value, "mirakl", what)


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise BadPayload(f"mirakl: not an amount: {value!r}") from exc


def offer_for_update(offer: Mapping[str, Any], quantity: int) -> dict[str, Any]:
    """The OF24 body of one offer read from OF21, every field carried over, only `quantity` new."""
    logistic = offer.get("logistic_class")
    discount = offer.get("discount")
    product_id, product_id_type = offer.get("product_sku"), "SKU"
    if not product_id:
        refs = offer.get("product_references") or []
        if not refs:
            raise BadPayload(f"mirakl: offer {offer.get('shop_sku')!r} names no product")
        product_id, product_id_type = refs[0].get("reference"), refs[0].get("reference_type")
    body = {
        "shop_sku": offer["shop_sku"],
        "product_id": product_id,
        "product_id_type": product_id_type,
        "price": offer.get("price"),
        "quantity": int(quantity),
        "state_code": offer.get("state_code"),
        "update_delete": "update",
        "description": offer.get("description"),
        "internal_description": offer.get("internal_description"),
        "price_additional_info": offer.get("price_additional_info"),
        "leadtime_to_ship": offer.get("leadtime_to_ship"),
        "logistic_class": logistic.get("code") if isinstance(logistic, Mapping) else logistic,
        "min_quantity_alert": offer.get("min_quantity_alert"),
        "available_started": offer.get("available_start_date"),
        "available_ended": offer.get("available_end_date"),
        "discount": ({"price": discount.get("discount_price", discount.get("price")),
                      "start_date": discount.get("start_date"), "end_date": discount.get("end_date")}
                     if isinstance(discount, Mapping) else None),
        "allow_quote_requests": bool(offer.get("allow_quote_requests", False)),
        "min_order_quantity": offer.get("min_order_quantity"),
        "max_order_quantity": offer.get("max_order_quantity"),
        "package_quantity": offer.get("package_quantity"),
        "offer_additional_fields": [{"code": f.get("code"), "value": f.get("value")}
                                    for f in offer.get("offer_additional_fields") or []],
    }
    assert tuple(body) == OFFER_FIELDS
    return body


class MiraklConnector(Connector):
    kind = "mirakl"
    api_version = "Mirakl Marketplace Platform seller API (MMP REST /api: OR11, OR21, OR23, OR24, OF21, OF24, OF02)"
    rate_limit: ClassVar[RateLimit] = RateLimit(
        rate=1 / MINUTE, burst=1, items_per_call=OFFERS_PER_IMPORT,
        source="developer.mirakl.com MMP seller API, OF24 'Call Frequency: recommended every 5 minutes, maximum "
               "once per minute' (OR11, OF02, OF03 the same); 429 + Retry-After when exceeded; offers per OF24 "
               "call: our choice (no documented maximum)")
    general_limit: ClassVar[RateLimit] = RateLimit(
        rate=5.0, burst=10, items_per_call=1,
        source="our own choice for OR21/OR23/OR24/OF21/A01 ('at each update' in the docs, no fixed maximum)")
    credential_fields = ("api_key",)
    option_fields = ("shop_id", "carrier_codes", "import_wait_s", "pacing_scale")
    # One OF24 import (and one OF21 read of the offers) per push: batches of 500 would mean one once-a-minute
    # import per 500 offers and the whole offer list read again for each.
    push_batch = OFFERS_PER_IMPORT
    has_webhooks = False
    needs_acceptance = True
    poll_interval_s = 300          # OR11 "recommended usage: every 5 minutes"
    overlap_s = 120

    def __init__(self, config: ConnectorConfig) -> None:
        super().__init__(config)
        options = config.options
        self.shop_id = str(options["shop_id"]) if options.get("shop_id") not in (None, "") else None
        self.carrier_codes = dict(options.get("carrier_codes") or {})
        self.pacing_scale = float(options.get("pacing_scale", 1.0))
        self.import_wait_s = float(options.get("import_wait_s", 3.5 * MINUTE * self.pacing_scale))
        self.http = PlatformHttp(self.kind, config.base_url, self.general_limit, timeout=config.timeout,
                                 headers={"Authorization": config.credentials.get("api_key", ""),
                                          "Accept": "application/json"})
        interval = MINUTE * self.pacing_scale * SKEW_MARGIN + SKEW_PAD
        self.api_buckets: dict[str, TokenBucket] = {
            code: bucket_for(f"{self.kind}:{code}", self.http.base_url, RateLimit(1 / interval, 1, 1, "OF24"))
            for code in PACED_APIS}
        self.imports: list[dict[str, Any]] = []     # OF02 answers of the imports this connector made

    # --- HTTP ------------------------------------------------------------------------------------------------
    def _call(self, api: str, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Any = None) -> requests.Response:
        """One call of Mirakl API `api` (OR11...), paced by its documented frequency; errors mapped."""
        if not self.config.credentials.get("api_key"):
            raise AuthFailed("mirakl: no shop API key configured")
        bucket = self.api_buckets.get(api)
        if bucket is not None:
            bucket.take()
        query = dict(params or {})
        if self.shop_id:
            query["shop_id"] = self.shop_id
        kwargs: dict[str, Any] = {"params": query, "allow_redirects": method == "GET"}
        if body is not None:
            kwargs["json"] = body
        resp = self.http.request(method, path, ok=tuple(range(300, 500)), **kwargs)
        if resp.status_code < 300:
            return resp
        message = _message_of(resp)
        where = f"mirakl: {api} {method} {path} answered {resp.status_code}: {message}"
        if resp.status_code == 429:
            wait = retry_after_s(resp.headers.get("Retry-After"), MINUTE * self.pacing_scale)
            self.http.bucket.drain_for(wait)
            if bucket is not None:
                bucket.drain_for(wait)
            raise RateLimited(where, status=429, retry_after=wait, body=resp.text[:2000])
        if resp.status_code in (401, 403):
            raise AuthFailed(where, status=resp.status_code, body=resp.text[:2000])
        raise Rejected(where, status=resp.status_code, body=resp.text[:2000])

    def _json(self, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError as exc:
            raise BadPayload(f"mirakl: {resp.request.method} {resp.url.split('?')[0]} answered "
                             f"{resp.status_code} with no JSON ({resp.text[:80]!r})", body=resp.text[:2000]) from exc

    # --- connection ----------------------------------------------------------------------------------------------
    def test_connection(self) -> str:
        account = self._json(self._call("A01", "GET", "/api/account"))
        if not isinstance(account, Mapping):
            raise BadPayload("mirakl: A01 answered no shop")
        return f"{account.get('shop_name') or 'Mirakl shop'} (shop {account.get('shop_id')})"

    # --- orders --------------------------------------------------------------------------------------------------
    def pull_orders(self, updated_since: dt.datetime | None, cursor: str | None = None) -> OrderPage:
        try:
            offset = int(cursor) if cursor else 0
        except ValueError as exc:
            raise BadPayload(f"mirakl: not a page cursor: {cursor!r}") from exc
        params: dict[str, Any] = {"max": PAGE_SIZE, "offset": offset}
        if updated_since is not None:
            params["start_update_date"] = _iso(updated_since)
        else:
            params["order_state_codes"] = OPEN_STATES
        answer = self._json(self._call("OR11", "GET", "/api/orders", params=params))
        raw_orders, total = _orders_of(answer)
        orders = tuple(self.order_of(o) for o in raw_orders)
        seen = offset + len(raw_orders)
        return OrderPage(orders, str(seen) if raw_orders and seen < total else None)

    def fetch_order(self, external_id: str) -> ChannelOrder | None:
        if not external_id or "," in external_id:
            raise Rejected(f"mirakl: not an order id: {external_id!r}")
        answer = self._json(self._call("OR11", "GET", "/api/orders",
                                       params={"order_ids": external_id, "max": 1, "offset": 0}))
        raw_orders, _total = _orders_of(answer)
        found = [o for o in raw_orders if o.get("order_id") == external_id]
        return self.order_of(found[0]) if found else None

    def order_of(self, raw: Any) -> ChannelOrder:
        """One OR11 order as a ChannelOrder (refused and cancelled lines left out)."""
        if not isinstance(raw, Mapping) or not raw.get("order_id") or not raw.get("order_state"):
            raise BadPayload(f"mirakl: an order without order_id/order_state: {str(raw)[:200]}")
        state = STATES.get(str(raw["order_state"]))
        if state is None:   # Mirakl may add states ("allow for new values in enumeration fields"): hold, log
            log.warning("mirakl: order %s has an unknown state %r; read as not payable yet", raw["order_id"],
                        raw["order_state"])
            state = OrderState.PENDING_PAYMENT
        customer = raw.get("customer") if isinstance(raw.get("customer"), Mapping) else {}
        email = raw.get("customer_notification_email") or customer.get("email")
        lines = []
        for line in raw.get("order_lines") or []:
            if not isinstance(line, Mapping) or not line.get("order_line_id") or not line.get("offer_sku"):
                raise BadPayload(f"mirakl: order {raw['order_id']} has a line without id/offer_sku")
            if line.get("order_line_state") in DEAD_LINE_STATES:
                continue
            try:
                quantity = int(line["quantity"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BadPayload(f"mirakl: order {raw['order_id']} line {line['order_line_id']} has no "
                                 "quantity") from exc
            unit = _money(line.get("price_unit"))
            if unit is None and (total := _money(line.get("price"))) is not None and quantity:
                unit = total / quantity
            lines.append(ChannelOrderLine(ref=str(line["order_line_id"]), item_key=str(line["offer_sku"]),
                                          sku=str(line["offer_sku"]), quantity=quantity, unit_price=unit,
                                          title=line.get("product_title")))
        locale = customer.get("locale")
        return ChannelOrder(
            external_id=str(raw["order_id"]), state=state,
            updated_at=_date(raw.get("last_updated_date"), "last_updated_date"), lines=tuple(lines),
            ship_to=_address(customer.get("shipping_address"), email), customer_email=email,
            customer_language=str(locale).split("_")[0].lower() if locale else None,
            shipping_method=raw.get("shipping_type_code") or raw.get("shipping_carrier_code"),
            relay_point_id=raw.get("shipping_pudo_id") or None,
            placed_at=_date(raw["created_date"], "created_date") if raw.get("created_date") else None,
            total=_money(raw.get("total_price")), currency=raw.get("currency_iso_code"),
            platform_ref=raw.get("commercial_id"), raw=dict(raw))

    def accept_orders(self, orders: Iterable[tuple[ChannelOrder, bool]]) -> None:
        for order, accepted in orders:
            self.accept_lines(order.external_id, {line.ref: accepted for line in order.lines})

    def accept_lines(self, external_id: str, decisions: Mapping[str, bool]) -> None:
        """OR21 with a decision per order line (accept some lines, refuse others)."""
        if not decisions:
            raise Rejected(f"mirakl: order {external_id} has no line to accept or refuse")
        body = {"order_lines": [{"id": ref, "accepted": bool(ok)} for ref, ok in decisions.items()]}
        self._call("OR21", "PUT", f"/api/orders/{_order_path(external_id)}/accept", body=body)

    # --- offers / stock ------------------------------------------------------------------------------------------
    def _offers(self) -> Iterator[Mapping[str, Any]]:
        offset = 0
        while True:
            answer = self._json(self._call("OF21", "GET", "/api/offers", params={"max": PAGE_SIZE,
                                                                                  "offset": offset}))
            if not isinstance(answer, Mapping) or not isinstance(answer.get("offers"), list):
                raise BadPayload("mirakl: OF21 answered no offers list")
            for offer in answer["offers"]:
                if isinstance(offer, Mapping) and offer.get("shop_sku"):
                    yield offer
            offset += len(answer["offers"])
            if not answer["offers"] or offset >= int(answer.get("total_count") or 0):
                return

    def list_items(self) -> Iterable[ChannelItem]:
        return [ChannelItem(item_key=str(o["shop_sku"]), sku=str(o["shop_sku"]), title=o.get("product_title"),
                            barcode=_barcode(o), quantity=o.get("quantity")) for o in self._offers()]

    def push_stock(self, updates: list[StockUpdate]) -> list[StockResult]:
        if not updates:
            return []
        wanted = {u.item_key: u for u in updates}
        current = {str(o["shop_sku"]): o for o in self._offers() if str(o["shop_sku"]) in wanted}
        results = {k: StockResult(k, False, "no such offer on the marketplace (OF21)") for k in wanted
                   if k not in current}
        chunk: list[dict[str, Any]] = []
        for key, update in wanted.items():
            if key in current:
                chunk.append(offer_for_update(current[key], max(0, update.quantity)))
        for start in range(0, len(chunk), OFFERS_PER_IMPORT):
            batch = chunk[start:start + OFFERS_PER_IMPORT]
            try:
                results.update(self._import(batch))
            except ConnectorError as err:
                if not err.transient:
                    raise
                results.update({o["shop_sku"]: StockResult(o["shop_sku"], False, str(err)) for o in batch})
        return [results[u.item_key] for u in updates]

    def _import(self, batch: list[dict[str, Any]]) -> dict[str, StockResult]:
        """OF24 one batch, then follow its import (OF02, OF03) until it is done or the wait is over."""
        answer = self._json(self._call("OF24", "POST", "/api/offers", body={"offers": batch}))
        if not isinstance(answer, Mapping) or answer.get("import_id") is None:
            raise BadPayload("mirakl: OF24 answered no import_id")
        import_id = answer["import_id"]
        keys = [o["shop_sku"] for o in batch]
        deadline = time.monotonic() + self.import_wait_s
        status: Mapping[str, Any] = {}
        while True:
            status = self._json(self._call("OF02", "GET", f"/api/offers/imports/{int(import_id)}"))
            if not isinstance(status, Mapping):
                raise BadPayload("mirakl: OF02 answered no import")
            if status.get("status") in IMPORT_DONE or time.monotonic() >= deadline:
                break
        self.imports.append(dict(status))
        state = status.get("status")
        if state == "FAILED":
            why = f"mirakl: offer import {import_id} failed: {status.get('reason_status') or 'no reason given'}"
            return {k: StockResult(k, False, why) for k in keys}
        if state != "COMPLETE":
            why = f"mirakl: offer import {import_id} still {state or 'unknown'} after {self.import_wait_s:g} s"
            return {k: StockResult(k, False, why) for k in keys}
        errors: dict[str, str] = {}
        if status.get("has_error_report") or int(status.get("lines_in_error") or 0):
            errors = self._error_report(int(import_id))
            if not errors:   # lines failed but the report names none of them: no line can be trusted
                why = f"mirakl: offer import {import_id} has {status.get('lines_in_error')} lines in error"
                return {k: StockResult(k, False, why) for k in keys}
        return {k: StockResult(k, k not in errors, errors.get(k)) for k in keys}

    def _error_report(self, import_id: int) -> dict[str, str]:
        """OF03: the offers of an import in error, shop_sku -> message."""
        resp = self._call("OF03", "GET", f"/api/offers/imports/{import_id}/error_report")
        reader = csv.DictReader(io.StringIO(resp.text), delimiter=";")
        errors: dict[str, str] = {}
        for row in reader:
            sku = row.get("shop_sku") or row.get("sku") or row.get("offer-sku")
            message = row.get("error-message") or row.get("error_message") or row.get("errors") or "refused"
            if sku:
                errors[sku] = f"mirakl: offer import {import_id}: {message}"
        return errors

    # --- fulfilment ----------------------------------------------------------------------------------------------
    def push_fulfilment(self, fulfilment: Fulfilment) -> None:
        path = f"/api/orders/{_order_path(fulfilment.external_id)}"
        if fulfilment.tracking_numbers:
            body: dict[str, Any] = {"tracking_number": fulfilment.tracking_numbers[0]}
            code = self.carrier_codes.get(fulfilment.carrier_code)
            if code:
                body["carrier_code"] = code
            else:
                body["carrier_name"] = fulfilment.carrier_name
                if fulfilment.tracking_url:
                    body["carrier_url"] = fulfilment.tracking_url
            self._call("OR23", "PUT", f"{path}/tracking", body=body)
        if not fulfilment.complete:
            return       # OR24 ships the whole order: a partial shipment keeps it in SHIPPING
        try:
            self._call("OR24", "PUT", f"{path}/ship")
        except Rejected:
            order = self.fetch_order(fulfilment.external_id)   # a retried write-back: already shipped is done
            if order is None or order.state != OrderState.CLOSED:
                raise


def _order_path(external_id: str) -> str:
    if not external_id or any(c in external_id for c in "/?#%") or external_id.strip() != external_id:
        raise Rejected(f"mirakl: not an order id: {external_id!r}")
    return external_id


def _message_of(resp: requests.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or "(no body)"
    if isinstance(body, Mapping) and body.get("message"):
        return str(body["message"])[:500]
    return str(body)[:200]


def _orders_of(answer: Any) -> tuple[list[Any], int]:
    if not isinstance(answer, Mapping) or not isinstance(answer.get("orders"), list):
        raise BadPayload("mirakl: OR11 answered no orders list")
    try:
        total = int(answer.get("total_count", len(answer["orders"])))
    except (TypeError, ValueError) as exc:
        raise BadPayload("mirakl: OR11 total_count is not a number") from exc
    return answer["orders"], total


def _address(raw: Any, email: str | None) -> Address | None:
    if not isinstance(raw, Mapping) or not raw.get("street_1"):
        return None
    name = " ".join(p for p in (raw.get("firstname"), raw.get("lastname")) if p) or raw.get("company") or ""
    return Address(name=name, line1=str(raw["street_1"]), line2=raw.get("street_2") or None,
                   postcode=str(raw.get("zip_code") or ""), city=str(raw.get("city") or ""),
                   country=_country(raw.get("country_iso_code")), phone=raw.get("phone") or None, email=email)


_ALPHA3 = {"FRA": "FR", "BEL": "BE", "DEU": "DE", "ESP": "ES", "ITA": "IT", "LUX": "LU", "NLD": "NL", "PRT": "PT",
           "CHE": "CH", "GBR": "GB", "AUT": "AT", "IRL": "IE", "POL": "PL", "USA": "US", "CAN": "CA", "MCO": "MC"}


def _country(code: Any) -> str:
    """Mirakl's country_iso_code is ISO 3166-1 alpha-3 ("FRA"); ours is alpha-2."""
    text = str(code or "").upper()
    if len(text) == 2:
        return text
    if text in _ALPHA3:
        return _ALPHA3[text]
    raise BadPayload(f"mirakl: unknown country code {code!r}")


def _barcode(offer: Mapping[str, Any]) -> str | None:
    for ref in offer.get("product_references") or []:
        if isinstance(ref, Mapping) and str(ref.get("reference_type", "")).upper() in ("EAN", "UPC", "GTIN"):
            return str(ref.get("reference"))
    return None
