"""Every page (supervisor and handheld) is served with a strict Content-Security-Policy and holds nothing that
policy would refuse: no inline script (JSON data blocks excepted), no on*= handler, no style= attribute, no <style>
element (inline SVG included), no javascript: URL. The pages come from the url_map (every GET route that is not
the API or a static file), their arguments filled from a few worlds, signed in with every role and signed out.
The browser tests (tests/e2e) fail on any violation Chromium reports; this one needs no browser."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from wms.db import db

ALL_ROLES = ("admin", "supervisor", "picker", "receiver", "packer")
# GET routes that are not pages: JSON, files, the service worker, images
NOT_PAGES = ("/api/", "/hh/api/", "/static/", "/hh/static/")
NOT_PAGE_ENDPOINTS = {"handheld.manifest", "handheld.service_worker", "supervisor.print_job_preview",
                      "returns_pages.return_label_document",  # a label file to download, no page
                      "supervisor.item_labels_preview"}  # a PNG of a label
# a route's arguments are filled by the world that provides all of them
WORLD_ARGUMENTS = {
    "wave": {"code", "wave_id", "job_id", "sku", "user_id"},
    "returns": {"code", "rma_code"},
    "inbound": {"code", "number"},
    "channels": {"channel_code"},
    "relay": {"order_id"},
    "carrier_rules": {"rule_id"},
    "orders": {"code", "order_id"},
}


def directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def assert_strict_policy(header: str | None, where: str) -> None:
    assert header, f"{where}: no Content-Security-Policy header"
    policy = directives(header)
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, f"{where}: {header}"
    assert policy.get("default-src") == ["'self'"], f"{where}: {header}"
    for name in ("script-src", "style-src"):
        assert policy.get(name) == ["'self'"], f"{where}: {name} is {policy.get(name)}"
    assert policy.get("object-src") == ["'none'"] and policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("base-uri") == ["'self'"] and policy.get("form-action") == ["'self'"], where
    assert "*" not in " ".join(word for words in policy.values() for word in words), f"{where}: {header}"


class InlineFinder(HTMLParser):
    """What a policy without 'unsafe-inline' refuses, found in a page's markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script_line: int | None = None
        self._script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        named = {name.lower(): value for name, value in attrs}
        for name, value in named.items():
            if name.startswith("on"):
                self.found.append(f"line {line}: <{tag} {name}=...> handler attribute")
            if name == "style":
                self.found.append(f"line {line}: <{tag} style=...> attribute")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                    "javascript:"):
                self.found.append(f"line {line}: <{tag} {name}=javascript:...>")
        if tag == "style":
            self.found.append(f"line {line}: <style> element")
        if tag == "script" and "src" not in named and (named.get("type") or "").lower() != "application/json":
            self._script_line, self._script_text = line, ""

    def handle_data(self, data: str) -> None:
        if self._script_line is not None:
            self._script_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script_line is not None:
            self.found.append(f"line {self._script_line}: inline <script> {self._script_text.strip()[:60]!r}")
            self._script_line = None


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def page_routes(app: Flask) -> list[Any]:
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in (rule.methods or ()) and not rule.rule.startswith(NOT_PAGES)
                   and rule.endpoint not in NOT_PAGE_ENDPOINTS and rule.endpoint != "static"),
                  key=lambda rule: rule.rule)


# --- worlds: the data the pages with arguments need --------------------------------------------------------------

def wave_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from tests.e2e.handheld_support import build_world
    from wms.catalog.models import Product
    from wms.printing.models import PrintJob

    world = build_world(orders=2)
    job = db.session.scalar(select(PrintJob).order_by(PrintJob.id))
    product = db.session.scalar(select(Product).order_by(Product.id))
    assert job is not None and product is not None
    return {"code": world.site.warehouse.code, "wave_id": world.wave.id, "job_id": job.id, "sku": product.sku,
            "user_id": world.picker.id, "warehouse": world.site.warehouse}


def returns_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from tests.integration.test_returns_world import build_world, shipped_order
    from wms.returns.services import LineRequest, authorize_return

    world = build_world(make_user)
    order = shipped_order(world, "O-1", [(world.mug, 2)])
    rma, _created = authorize_return(order, [LineRequest(quantity=1, reason="defective", sku="MUG")])
    return {"code": world.warehouse.code, "rma_code": rma.code, "warehouse": world.warehouse}


def inbound_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from tests.integration.inbound_world import build_inbound

    world = build_inbound(make_user)
    return {"code": world.warehouse.code, "number": world.po.number, "warehouse": world.warehouse}


def channels_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from tests.integration.stock_world import build_world
    from wms.channels.models import ChannelListing, HeldChannelOrder
    from wms.channels.services import add_channel

    world = build_world(make_user)
    added = add_channel("WOO", "Woo", "woocommerce", world.warehouse, base_url="https://shop.example.com",
                        credentials={"consumer_key": "ck", "consumer_secret": "cs", "webhook_secret": "wh"})
    db.session.add_all([ChannelListing(channel_id=added.channel.id, item_key="7", channel_sku="ODD", dirty_version=0),
                        HeldChannelOrder(channel_id=added.channel.id, external_id="100", reason="unknown-sku",
                                         payload={"external_id": "100"})])
    db.session.flush()
    return {"channel_code": added.channel.code, "warehouse": world.warehouse}


def relay_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from wms.catalog.models import Product
    from wms.layout import services as layout
    from wms.orders import holds
    from wms.orders.models import Channel, ChannelKind, Order, OrderLine, OrderStatus

    warehouse = layout.create_warehouse("RLY", "Relay points")
    product = Product(sku="RLY-MUG", name="Mug", weight_g=300)
    channel = Channel(code="RLY", name="Relay shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse.id)
    db.session.add_all([product, channel])
    db.session.flush()
    order = Order(channel_id=channel.id, external_id="R-1", content_hash="r-1", warehouse_id=warehouse.id,
                  status=OrderStatus.ACCEPTED, carrier_code="mondial-relay", relay_point_id="999999",
                  ship_to={"name": "Ana", "line1": "1 rue A", "postcode": "75010", "city": "Paris", "country": "FR"},
                  lines=[OrderLine(line_no=1, product_id=product.id, quantity=1)])
    db.session.add(order)
    db.session.flush()
    holds.hold(order, holds.HoldKind.RELAY_POINT, "Mondial Relay has no relay point 999999 in FR")
    return {"order_id": order.id, "warehouse": warehouse}


def carrier_rules_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from wms.layout import services as layout
    from wms.outbound.models import CarrierRule

    warehouse = layout.create_warehouse("CRW", "Carrier rules")
    rule = CarrierRule(name="Heavy to GLS", warehouse_id=warehouse.id, carrier_code="gls", min_weight_g=10_000,
                       countries="DE,AT", before_time="15:00")
    db.session.add(rule)
    db.session.flush()
    return {"rule_id": rule.id, "warehouse": warehouse}


def orders_world(make_user: Callable[..., Any]) -> dict[str, Any]:
    from tests.integration.test_order_pages import build_orders

    built, world = build_orders(make_user)  # shipped in 2 parcels, in a wave, tracked; one backordered
    return {"code": built.warehouse_code, "order_id": built.shipped_id, "warehouse": world.warehouse}


WORLDS = {"wave": wave_world, "returns": returns_world, "inbound": inbound_world, "channels": channels_world,
          "relay": relay_world, "carrier_rules": carrier_rules_world, "orders": orders_world}


def test_every_page_route_is_reached_by_one_of_the_worlds(app):  # type: ignore[no-untyped-def]
    unreached = [rule.rule for rule in page_routes(app)
                 if not any(set(rule.arguments) <= given for given in WORLD_ARGUMENTS.values())]
    assert unreached == []


@pytest.mark.parametrize("world_name", sorted(WORLDS))
def test_every_page_is_served_with_a_strict_policy_and_no_inline_code(app, make_user, commit, sign_in,  # type: ignore[no-untyped-def]
                                                                       world_name):
    with app.app_context():
        values = WORLDS[world_name](make_user)
        warehouse = values.pop("warehouse")
        everyone = make_user("csp-everyone", roles=ALL_ROLES, warehouses=(warehouse,), totp=True, badge="B-CSP",
                             pin="2580")
        newcomer = make_user("csp-newcomer", roles=("supervisor",), warehouses=(warehouse,))  # yet to enrol TOTP
        commit()
        arguments = WORLD_ARGUMENTS[world_name]
        paths = [rule.build(values, append_unknown=False)[1] for rule in page_routes(app)
                 if set(rule.arguments) <= arguments and (rule.arguments or world_name == "wave")]
    assert len(paths) >= (30 if world_name == "wave" else 1)

    problems: list[str] = []
    pages = 0
    shown: set[str] = set()
    for who in ("signed out", "signed in", "enrolling"):
        client = app.test_client()
        if who == "signed in":
            sign_in(client, everyone)
        elif who == "enrolling":
            sign_in(client, newcomer, second_factor=False)
        for path in [*paths, "/no-such-page"]:
            resp = client.get(path, headers={"Accept": "text/html"})
            where = f"{path} ({who}, {resp.status_code})"
            assert resp.status_code < 500, where
            assert_strict_policy(resp.headers.get("Content-Security-Policy"), where)
            if resp.mimetype == "text/html":
                pages += 1
                if resp.status_code == 200:
                    shown.add(path)
                problems += [f"{where} {found}" for found in inline_code(resp.get_data(as_text=True))]
    assert pages >= len(paths)
    # every page was drawn at least once; these two send a person with one warehouse on to its own page
    assert set(paths) - shown <= {"/inbound/", "/stock-alerts"}
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("html, found", [
    ('<script>alert(1)</script>', "inline <script>"),
    ('<script type="module">import "./x.js";</script>', "inline <script>"),
    ('<button onclick="go()">go</button>', "onclick"),
    ('<p style="color:red">x</p>', "style=..."),
    ('<svg><style>.a{fill:red}</style></svg>', "<style> element"),
    ('<a href="javascript:go()">go</a>', "javascript:"),
])
def test_the_checker_finds_what_the_policy_refuses(html, found):  # type: ignore[no-untyped-def]
    assert found in " ".join(inline_code(html))


def test_the_checker_lets_data_blocks_and_script_files_through():  # type: ignore[no-untyped-def]
    html = ('<script type="application/json" id="t">{"a": "<b>"}</script><script src="/static/x.js"></script>'
            '<script type="module" src="/hh/static/js/app.js"></script><p data-width="40">x</p>')
    assert inline_code(html) == []


# --- the endpoint browsers report violations to ------------------------------------------------------------------

REPORT_URI_BODY = {"csp-report": {"document-uri": "https://wms.example/hh/pack", "violated-directive": "style-src",
                                  "effective-directive": "style-src-elem", "blocked-uri": "inline",
                                  "line-number": 14, "source-file": "https://wms.example/hh/pack"}}
REPORTING_API_BODY = [{"type": "csp-violation", "url": "https://wms.example/", "age": 3,
                       "body": {"documentURL": "https://wms.example/", "effectiveDirective": "script-src-elem",
                                "blockedURL": "inline", "lineNumber": 9, "disposition": "enforce"}}]


def test_the_policy_names_the_report_endpoint_and_a_violation_sent_there_is_logged(app, client, caplog):  # type: ignore[no-untyped-def]
    header = client.get("/auth/login").headers["Content-Security-Policy"]
    assert directives(header)["report-uri"] == ["/csp-report"] and directives(header)["report-to"] == ["csp"]
    assert client.get("/auth/login").headers["Reporting-Endpoints"] == 'csp="/csp-report"'
    with caplog.at_level("WARNING", logger="wms.csp"):
        resp = client.post("/csp-report", json=REPORT_URI_BODY, headers={"Content-Type": "application/csp-report"})
        assert resp.status_code == 204, resp.get_data(as_text=True)
        resp = client.post("/csp-report", json=REPORTING_API_BODY,
                           headers={"Content-Type": "application/reports+json"})
        assert resp.status_code == 204
    logged = [r.getMessage() for r in caplog.records if r.name == "wms.csp"]
    assert len(logged) == 2
    assert '"effective-directive": "style-src-elem"' in logged[0] and '"line-number": "14"' in logged[0]
    assert '"effectiveDirective": "script-src-elem"' in logged[1]


def test_a_report_needs_no_sign_in_and_no_csrf_token(database_url):  # type: ignore[no-untyped-def]
    from tests.conftest import make_test_app

    app = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        resp = app.test_client().post("/csp-report", json=REPORT_URI_BODY)
        assert resp.status_code == 204, resp.get_data(as_text=True)
    finally:
        db.engine(app).dispose()


@pytest.mark.parametrize("body, status", [
    (b"not json", 400),
    (b'{"something": "else"}', 400),
    (b'[{"type": "deprecation", "body": {}}]', 400),
    (b'{"csp-report": {"blocked-uri": "' + b"x" * 9000 + b'"}}', 413),
])
def test_a_report_that_is_not_a_small_csp_report_is_refused_with_a_problem(client, body, status, caplog):  # type: ignore[no-untyped-def]
    with caplog.at_level("WARNING", logger="wms.csp"):
        resp = client.post("/csp-report", data=body, headers={"Content-Type": "application/csp-report"})
    assert resp.status_code == status and resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == status
    assert not [r for r in caplog.records if r.name == "wms.csp"]


def test_reports_beyond_the_budget_of_a_minute_are_answered_429_and_not_logged(app, client, caplog):  # type: ignore[no-untyped-def]
    from wms.csp import _Budget

    now = [600.0]
    app.extensions["csp_report_budget"] = _Budget(3, clock=lambda: now[0])
    with caplog.at_level("WARNING", logger="wms.csp"):
        answers = [client.post("/csp-report", json=REPORT_URI_BODY) for _ in range(5)]
        assert [a.status_code for a in answers] == [204, 204, 204, 429, 429]
        assert answers[3].headers["Retry-After"] == "60"
        now[0] += 60  # the next minute has a new budget
        assert client.post("/csp-report", json=REPORT_URI_BODY).status_code == 204
    assert len([r for r in caplog.records if r.name == "wms.csp"]) == 4
