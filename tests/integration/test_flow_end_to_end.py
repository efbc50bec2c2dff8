"""The whole flow on the demo warehouse, through the JSON API and the handheld services, on PostgreSQL:

PO → receive → put away → order → wave → pick → pack → carrier label (its barcodes decoded equal the SSCC and the
tracking number) → staged → dock slot → manifest → departure (shipped webhook with tracking) → return → restock.

After every step the stock ledger balances: for every quant, the sum of its ledger rows equals its on-hand and
reserved units, and the product's total moved as the step says.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from wms.auth.models import User
from wms.auth.tokens import issue_token
from wms.catalog.models import Product
from wms.db import db
from wms.demo.seed import seed_demo
from wms.enums import TokenPurpose
from wms.layout.models import Location, Resource, Zone
from wms.orders.models import Channel, ChannelKind, Order, OrderStatus
from wms.picking import services as ps
from wms.picking.context import ScanContext
from wms.printing.models import PrintJob
from wms.stock.models import Quant
from wms.stock.services import ledger_balance
from wms.waves.models import PickOrder, TimeSlot
from wms.webhooks.models import WebhookEvent

SKU = "DEMO-005"  # "Café ^XZ^XA~JA_x": the field data must reach every label literally
NASTY_NAME = "Jeanne ^XZ^XA~JA Martin_"


class Flow:
    def __init__(self, client, make_token, channel: Channel) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        users = {u.username: u for u in db.session.scalars(select(User))}
        self.users = users
        self.auth = {name: {"Authorization": f"Bearer {make_token('user', user=users[name])}"}
                     for name in ("supervisor", "receiver", "packer")}
        token, raw = issue_token(name=channel.code, purpose=TokenPurpose.CHANNEL, warehouse_id=channel.warehouse_id)
        token.channel_id = channel.id
        self.auth["channel"] = {"Authorization": f"Bearer {raw}"}
        db.session.commit()

    def call(self, who: str, method: str, path: str, body: Any = None, status: int | tuple[int, ...] = (200, 201)
             ) -> Any:
        headers = dict(self.auth[who])
        if method != "GET":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        r = self.client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
        wanted = (status,) if isinstance(status, int) else status
        assert r.status_code in wanted, (method, path, r.status_code, r.get_json())
        return r.get_json()


def product() -> Product:
    return db.session.scalar(select(Product).where(Product.sku == SKU))


def ledger_balances() -> None:
    """Every quant equals the sum of its ledger rows; no quant is negative (the database also refuses it)."""
    db.session.expire_all()
    for q in db.session.scalars(select(Quant)):
        p, loc = db.session.get(Product, q.product_id), db.session.get(Location, q.location_id)
        assert ledger_balance(p, loc) == (q.on_hand, q.reserved), (p.sku, loc.code)
        assert q.on_hand >= 0 and 0 <= q.reserved <= q.on_hand


def on_hand_by_zone_kind() -> dict[str, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Zone.kind, func.sum(Quant.on_hand)).join(Location, Location.id == Quant.location_id)
        .join(Zone, Zone.id == Location.zone_id).where(Quant.product_id == product().id).group_by(Zone.kind)).all()
    return {kind.value: int(n) for kind, n in rows if n}


def total_on_hand() -> int:
    return sum(on_hand_by_zone_kind().values())


@pytest.fixture
def flow(app, client, make_token):  # type: ignore[no-untyped-def]
    with app.app_context():
        warehouse = seed_demo(echo=lambda _line: None)
        channel = Channel(code="SHOP", name="Demo shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse.id,
                          webhook_url="https://shop.example.test/hooks", webhook_secret="s" * 32)
        db.session.add(channel)
        db.session.commit()
        yield Flow(client, make_token, channel)



def _free_hour_at_door(door: str, *, after: dt.datetime) -> dt.datetime:
    """The first whole hour from `after` with the door free for 45 minutes (the demo books DOOR-2 at 16:00 and
    17:00 Paris: a pick-up at now + 3 h clashed with them in the early afternoon)."""
    resource_id = db.session.scalar(select(Resource.id).where(Resource.code == door))
    at = after.replace(minute=0, second=0, microsecond=0)
    while db.session.scalar(select(TimeSlot.id).where(
            TimeSlot.resource_id == resource_id, TimeSlot.starts_at < at + dt.timedelta(minutes=45),
            TimeSlot.ends_at > at).limit(1)) is not None:
        at += dt.timedelta(hours=1)
    return at

def test_po_to_restock_through_every_step_with_the_ledger_balanced(flow: Flow) -> None:  # noqa: PLR0915
    ledger_balances()
    start = total_on_hand()

    # 1. Purchase order and receipt at the dock.
    flow.call("supervisor", "POST", "/warehouses/DEMO/purchase-orders",
              {"number": "PO-FLOW-1", "supplier": "DEMO-SUP", "lines": [{"sku": SKU, "quantity": 10}]})
    receipt = flow.call("receiver", "POST", "/purchase-orders/PO-FLOW-1/receipts", {})
    # An item not on the PO is refused and changes nothing.
    flow.call("receiver", "POST", f"/receipts/{receipt['code']}/lines", {"code": "DEMO-001", "quantity": 1},
              status=422)
    flow.call("receiver", "POST", f"/receipts/{receipt['code']}/lines", {"code": SKU, "quantity": 10})
    ledger_balances()
    assert total_on_hand() == start + 10 and on_hand_by_zone_kind()["receiving_dock"] == 10
    assert flow.call("supervisor", "GET", "/purchase-orders/PO-FLOW-1")["status"] == "received"

    # 2. Put away from the replenish face (the pick-face label is refused).
    line_id = flow.call("receiver", "GET", f"/receipts/{receipt['code']}")["lines"][0]["id"]
    tasks = flow.call("receiver", "POST", f"/receipt-lines/{line_id}/putaway-tasks")["tasks"]
    assert sum(t["quantity"] for t in tasks) == 10
    for task in tasks:
        flow.call("receiver", "POST", f"/putaway-tasks/{task['id']}/complete",
                  {"lane": task["lane"], "item": SKU, "quantity": task["quantity"]}, status=409)
        flow.call("receiver", "POST", f"/putaway-tasks/{task['id']}/complete",
                  {"lane": task["lane_scan"], "item": SKU, "quantity": task["quantity"]})
    ledger_balances()
    assert total_on_hand() == start + 10 and "receiving_dock" not in on_hand_by_zone_kind()
    rack_before_order = on_hand_by_zone_kind()["rack"]

    # 3. An order from the channel reserves the units in the pick lane.
    order = flow.call("channel", "POST", "/channels/SHOP/orders", {
        "external_id": "FLOW-1", "lines": [{"sku": SKU, "quantity": 3}], "carrier": "own-fleet",
        "ship_to": {"name": NASTY_NAME, "line1": "3 rue des Lilas", "postcode": "75011", "city": "Paris",
                    "country": "FR"}})
    assert order["status"] == "allocated"
    ledger_balances()

    # 4. Wave: planned and released (the OP goes to the printer at the head of its zone).
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
    wave = flow.call("supervisor", "POST", "/warehouses/DEMO/waves",
                     {"orders": [{"channel": "SHOP", "external_id": "FLOW-1"}], "starts_at": starts})
    flow.call("supervisor", "POST", f"/waves/{wave['id']}/release")
    assert db.session.scalar(select(func.count()).select_from(PrintJob).where(PrintJob.wave_id == wave["id"])) >= 1

    # 5. Pick on the handheld services, in route order, then drop the tote at the sas.
    picker = db.session.scalar(select(User).where(User.username == "picker"))
    op = db.session.scalar(select(PickOrder).where(PickOrder.wave_id == wave["id"]))
    taken, event = ps.take_next_pick_order(picker, db.session.get(Zone, op.zone_id), _ctx(picker))
    assert taken is not None and taken.id == op.id, event.message
    while (state := ps.pick_state(op)).line is not None:
        line = state.line
        for result in (ps.scan_location(op, line.location.code, _ctx(picker), line_id=line.id),
                       ps.scan_item(op, product().barcodes[0].code, _ctx(picker), line_id=line.id),
                       ps.scan_tote(op, line.tote or "", _ctx(picker), line_id=line.id),
                       ps.confirm_quantity(op, line.quantity, _ctx(picker), line_id=line.id)):
            assert not result.refused, result.message
    tote = op.lines[0].tote
    assert not ps.drop_at_sas(op, "SAS-01", _ctx(picker)).refused
    db.session.commit()
    ledger_balances()
    assert on_hand_by_zone_kind()["rack"] == rack_before_order - 3  # picked units left the ledgered stock
    assert db.session.scalar(select(Order.status).where(Order.external_id == "FLOW-1")) == OrderStatus.PICKED

    _pack_ship_and_return(flow, tote, start)


def _ctx(user: User) -> ScanContext:
    return ScanContext(user=user, device_id="flow-test", idempotency_key=str(uuid.uuid4()))


def _pack_ship_and_return(flow: Flow, tote: str, start: int) -> None:
    from tests.unit.labels.reading import decode_labels, field_values

    # 6. Pack at station PS-1: a mis-scan is refused, the item verified, box, weight, carrier label printed.
    shipment = flow.call("packer", "POST", "/warehouses/DEMO/packing", {"station": "PS-1", "tote": tote})
    sid = shipment["id"]
    flow.call("packer", "POST", f"/shipments/{sid}/items", {"code": "DEMO-001"}, status=(409, 422))
    barcode = product().barcodes[0].code
    flow.call("packer", "POST", f"/shipments/{sid}/items", {"code": barcode, "quantity": 3})
    flow.call("packer", "POST", f"/shipments/{sid}/items", {"code": barcode}, status=(409, 422))  # over-scan
    state = flow.call("packer", "GET", f"/shipments/{sid}")
    assert state["complete"] and state["suggested_box"]["box"]
    flow.call("packer", "POST", f"/shipments/{sid}/box", {"box": state["suggested_box"]["box"]})
    expected = flow.call("packer", "GET", f"/shipments/{sid}")["expected_weight_g"]
    flow.call("packer", "POST", f"/shipments/{sid}/weight", {"weight_g": expected * 3}, status=(409, 422))
    flow.call("packer", "POST", f"/shipments/{sid}/weight", {"weight_g": expected})
    done = flow.call("packer", "POST", f"/shipments/{sid}/finish", {})
    assert done["status"] == "labelled" and done["order_status"] == "packed"
    parcel = done["parcels"][0]
    job = db.session.get(PrintJob, parcel["label_print_job_id"])
    printer = job.printer.code
    assert printer == "PR-PS1" and job.document_kind.value == "carrier_label"
    label = job.payload.decode("ascii")
    decoded = {d.text for page in decode_labels(label) for d in page}
    assert parcel["tracking_number"] in decoded
    assert any(parcel["sscc"] in text for text in decoded), decoded  # GS1-128 (00) + SSCC
    # The customer's name with ZPL commands in it prints literally and ends no label early.
    assert label.count("^XZ") == len(done["parcels"]) and NASTY_NAME in field_values(label)
    ledger_balances()

    # 7. Staged at the shipping sas, a pick-up booked at door 2 (an overlapping one refused), manifest, departure.
    flow.call("packer", "POST", "/warehouses/DEMO/dock/staging", {"parcel": f"(00){parcel['sscc']}",
                                                                   "location": "SHIP-01"})
    at = _free_hour_at_door("DOOR-2", after=dt.datetime.now(dt.UTC) + dt.timedelta(hours=3))
    pickup = flow.call("supervisor", "POST", "/warehouses/DEMO/pickups", {
        "carrier": "own-fleet", "door": "DOOR-2", "starts_at": at.isoformat(),
        "ends_at": (at + dt.timedelta(minutes=30)).isoformat()})
    clash = flow.call("supervisor", "POST", "/warehouses/DEMO/pickups", {
        "carrier": "gs1", "door": "DOOR-2", "starts_at": (at + dt.timedelta(minutes=15)).isoformat(),
        "ends_at": (at + dt.timedelta(minutes=45)).isoformat()}, status=409)
    assert "DOOR-2" in clash["detail"] or "door" in clash["detail"].lower()
    manifest = flow.call("supervisor", "POST", "/warehouses/DEMO/manifests",
                         {"carrier": "own-fleet", "pickup_id": pickup["id"]})
    assert manifest["parcel_count"] == 1
    flow.call("supervisor", "POST", f"/pickups/{pickup['id']}/depart")
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.external_id == "FLOW-1"))
    assert order.status == OrderStatus.SHIPPED
    shipped = [e for e in db.session.scalars(select(WebhookEvent).where(WebhookEvent.topic == "order.status_changed"))
               if e.payload["data"]["status"] == "shipped"]
    assert len(shipped) == 1 and parcel["tracking_number"] in str(shipped[0].payload)
    ledger_balances()

    # 8. Return: something never shipped is refused; the shipped units come back and are restocked.
    flow.call("channel", "POST", "/channels/SHOP/returns", {
        "external_id": "RMA-X", "order_id": "FLOW-1", "lines": [{"sku": SKU, "quantity": 4, "reason": "not_wanted"}]},
        status=(409, 422))
    rma = flow.call("channel", "POST", "/channels/SHOP/returns", {
        "external_id": "RMA-1", "order_id": "FLOW-1", "lines": [{"sku": SKU, "quantity": 3, "reason": "not_wanted"}]})
    flow.call("supervisor", "POST", f"/warehouses/DEMO/returns/{rma['code']}/receive",
              {"lines": [{"sku": SKU, "quantity": 3}]})
    ledger_balances()
    assert on_hand_by_zone_kind()["returns"] == 3
    rack_before = on_hand_by_zone_kind()["rack"]
    inspected = flow.call("supervisor", "POST", f"/warehouses/DEMO/returns/{rma['code']}/inspect",
                          {"lines": [{"sku": SKU, "quantity": 3, "disposition": "restock"}]})
    assert inspected["status"] == "inspected" and inspected["refund_status"] == "approved"
    ledger_balances()
    assert on_hand_by_zone_kind()["rack"] == rack_before + 3 and "returns" not in on_hand_by_zone_kind()
    # Received 10, sold and shipped 3, restocked 3: the warehouse holds what it held plus the 10 received.
    assert total_on_hand() == start + 10
    db.session.expire_all()
    assert db.session.scalar(select(Order.status).where(Order.external_id == "FLOW-1")) == OrderStatus.RETURNED
    topics = set(db.session.scalars(select(WebhookEvent.topic)))
    assert {"order.status_changed", "stock.changed"} <= topics
    statuses = [e.payload["data"]["status"] for e in db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.topic == "order.status_changed").order_by(WebhookEvent.id))]
    assert statuses == ["accepted", "allocated", "picking", "picked", "packed", "shipped", "returned"]
