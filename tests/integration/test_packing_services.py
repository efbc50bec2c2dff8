"""Packing services on PostgreSQL: an order picked through the picking services, packed from its tote at a pack
station; every refusal leaves the database as it was; SSCC and tracking numbers never repeat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.e2e.handheld_support import PickWorld, build_world, ean_for, person
from wms.catalog import services as catalog
from wms.catalog.barcodes import parse
from wms.db import db
from wms.enums import PrinterPlace, ResourceKind, Role
from wms.errors import ValidationFailed
from wms.labels import gs1
from wms.layout import services as layout
from wms.layout.models import Resource
from wms.orders.models import Order, OrderStatus
from wms.outbound import carriers_registry as registry
from wms.outbound import packing_services as pk
from wms.outbound.boxes import create_box
from wms.outbound.models import NumberSequence, Parcel, ParcelLine, Shipment, ShipmentStatus
from wms.picking import services as ps
from wms.picking.context import ScanContext
from wms.printing.models import DocumentKind, PrintJob
from wms.shipping import sscc as sscc_rules
from wms.webhooks.models import WebhookEvent

SHIP_TO = {"name": "Jeanne Martin", "line1": "12 rue de la Paix", "postcode": "75002", "city": "Paris",
           "country": "FR", "phone": "+33 1 23 45 67 89"}


@dataclass
class PackWorld:
    pick: PickWorld
    order: Order
    tote: str
    station: Resource
    packer: Any
    other_packer: Any


def pick_everything(world: PickWorld) -> None:
    """Every OP of the wave picked and dropped at the sas through the picking services."""
    c = ScanContext(user=world.picker, device_id="dev-pick", idempotency_key=str(uuid.uuid4()))
    for zone in ("A", "B"):
        op, event = ps.take_next_pick_order(world.picker, world.site.zones[zone], c)
        assert op is not None, event.message
        while (state := ps.pick_state(op)).line is not None:
            line = state.line
            for result in (ps.scan_location(op, line.location.code, c, line_id=line.id),
                           ps.scan_item(op, ean_for(line.product), c, line_id=line.id),
                           ps.scan_tote(op, line.tote or "", c, line_id=line.id),
                           ps.confirm_quantity(op, line.quantity, c, line_id=line.id)):
                assert not result.refused, result.message
        assert not ps.drop_at_sas(op, world.sas.code, c).refused


def build_pack_world(*, orders: int = 1, carrier: str | None = None) -> PackWorld:
    """A released wave of `orders` orders, all picked; boxes; a pack station PACK-1 with its label printer."""
    world = build_world(orders=orders)
    for order in world.site.orders:
        order.ship_to = dict(SHIP_TO)
        order.carrier_code = order.carrier_used = carrier  # as if the channel had asked for it at intake
    pick_everything(world)
    station = db.session.scalar(select(Resource).where(Resource.code == "PACK-1",
                                                       Resource.kind == ResourceKind.PACK_STATION))
    assert station is not None
    layout.add_printer(world.site.warehouse, "PRN-PACK", place=PrinterPlace.PACK_STATION,
                       connection="virtual://pack", zone=station.zone, resource=station)
    create_box("S", "Small", 200, 150, 100, max_weight_g=2000, tare_weight_g=100)
    create_box("M", "Medium", 300, 200, 150, max_weight_g=5000, tare_weight_g=180)
    create_box("TINY", "Envelope", 120, 120, 20, max_weight_g=300, tare_weight_g=10)
    order = world.site.orders[0]
    assert order.status == OrderStatus.PICKED
    tote = next(ln.tote for op in world.ops() for ln in op.lines if ln.order_line.order_id == order.id)
    packer = person("paco", Role.PACKER, world.site.warehouse.id, "B-PACO")
    other = person("olga", Role.PACKER, world.site.warehouse.id, "B-OLGA")
    return PackWorld(world, order, tote, station, packer, other)


@pytest.fixture
def pw(session) -> PackWorld:  # type: ignore[no-untyped-def]
    w = build_pack_world()
    session.commit()
    return w


def ctx(w: PackWorld, user: Any = None) -> ScanContext:
    return ScanContext(user=user or w.packer, device_id="dev-pack", idempotency_key=str(uuid.uuid4()))


def products(w: PackWorld) -> list[tuple[Any, int]]:
    return [(ln.product, ln.quantity) for ln in sorted(w.order.lines, key=lambda ln: ln.line_no)]


def snapshot() -> dict[str, Any]:
    """Everything packing may write."""
    return {
        "shipments": db.session.execute(select(Shipment.id, Shipment.status, Shipment.tracking_number,
                                               Shipment.packed_by_id).order_by(Shipment.id)).all(),
        "parcels": db.session.execute(select(Parcel.id, Parcel.box_id, Parcel.weight_g, Parcel.sscc,
                                             Parcel.tracking_number).order_by(Parcel.id)).all(),
        "lines": db.session.execute(select(ParcelLine.id, ParcelLine.quantity).order_by(ParcelLine.id)).all(),
        "orders": db.session.execute(select(Order.id, Order.status).order_by(Order.id)).all(),
        "jobs": db.session.scalar(select(func.count()).select_from(PrintJob)),
        "webhooks": db.session.scalar(select(func.count()).select_from(WebhookEvent)),
        "counters": db.session.execute(select(NumberSequence.name, NumberSequence.next_value)
                                       .order_by(NumberSequence.name)).all(),
    }


def refused(call: Any, error: type[Exception]) -> Exception:
    """Run a refused call like a request does: the error, then the rollback; the database must be unchanged."""
    db.session.commit()
    before = snapshot()
    with pytest.raises(error) as info:
        call()
    db.session.rollback()
    assert snapshot() == before
    return info.value


def pack_all(w: PackWorld, shipment: Shipment, box: str = "M") -> None:
    c = ctx(w)
    for product, quantity in products(w):
        for _ in range(quantity):
            pk.scan_item(shipment, ean_for(product), c)
    pk.choose_box(shipment, box, c)
    pk.weigh_parcel(shipment, pk.pack_state(shipment).expected_weight_g or 0, c)


def test_an_order_is_packed_from_its_tote_labelled_printed_and_reported_with_its_tracking(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    state = pk.pack_state(shipment)
    assert state.order.id == pw.order.id and shipment.status == ShipmentStatus.PACKING
    assert [(ln.product.sku, ln.to_pack, ln.packed) for ln in state.lines] == [
        (p.sku, q, 0) for p, q in products(pw)]
    assert all(parse(ean_for(ln.product)).normalized in ln.barcodes for ln in state.lines)
    c = ctx(pw)
    for product, quantity in products(pw):
        for _ in range(quantity):
            pk.scan_item(shipment, ean_for(product), c)
    state = pk.pack_state(shipment)
    assert state.complete
    # three units of 100 x 100 x 50 mm, 200 g each: the small box (3 L, 2 kg) is the smallest that fits
    assert state.suggestion is not None and state.suggestion.box is not None
    assert state.suggestion.box.code == "S"
    pk.choose_box(shipment, "S", c)
    assert pk.pack_state(shipment).expected_weight_g == 3 * 200 + 100
    check = pk.weigh_parcel(shipment, 720, c)
    assert check is not None and check.accepted
    pk.finish_packing(shipment, c)
    db.session.commit()

    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.status == ShipmentStatus.LABELLED and shipment.carrier_code == "own-fleet"
    assert shipment.tracking_number and shipment.tracking_number.startswith(registry.DEFAULT_OWN_FLEET_PREFIX)
    parcel = shipment.parcels[0]
    assert sscc_rules.is_valid(parcel.sscc) and parcel.tracking_number == shipment.tracking_number
    assert parcel.weight_g == 720 and parcel.expected_weight_g == 700 and parcel.box.code == "S"
    job = db.session.get(PrintJob, parcel.label_print_job_id)
    assert job.document_kind == DocumentKind.CARRIER_LABEL and job.printer.code == "PRN-PACK"
    zpl = job.payload.decode()
    assert shipment.tracking_number in zpl and gs1.human_readable((("00", parcel.sscc),)) in zpl
    assert db.session.get(Order, pw.order.id).status == OrderStatus.PACKED
    # finishing again changes nothing
    again = pk.finish_packing(shipment, c)
    assert again.tracking_number == shipment.tracking_number
    assert db.session.scalar(select(func.count()).select_from(PrintJob).where(
        PrintJob.document_kind == DocumentKind.CARRIER_LABEL)) == 1


def test_the_packed_webhook_carries_carrier_and_tracking_numbers(pw) -> None:  # type: ignore[no-untyped-def]
    pw.pick.site.channel.webhook_url = "https://shop.example/hooks"
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    pack_all(pw, shipment)
    pk.finish_packing(shipment, ctx(pw))
    db.session.commit()
    event = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    data = event.payload["data"]
    assert data["status"] == "packed" and data["order_id"] == pw.order.external_id
    assert data["shipment"]["carrier"] == "own-fleet"
    assert data["shipment"]["tracking_number"] == shipment.tracking_number
    assert data["shipment"]["parcels"] == [{"seq": 1, "tracking_number": shipment.parcels[0].tracking_number,
                                            "sscc": shipment.parcels[0].sscc}]


def test_an_item_not_in_the_order_is_refused_and_nothing_changes(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    stranger = catalog.create_product("STRANGER", "Not in this order", weight_g=100)
    catalog.add_barcode(stranger, ean_for(stranger))
    err = refused(lambda: pk.scan_item(shipment, ean_for(stranger), ctx(pw)), pk.MisScan)
    assert "STRANGER" in err.detail and "not in order" in err.detail
    err = refused(lambda: pk.scan_item(shipment, "0000000000000", ctx(pw)), pk.MisScan)
    assert "no known item" in err.detail


def test_one_unit_more_than_the_order_has_is_refused_and_nothing_changes(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    product, quantity = products(pw)[0]
    for _ in range(quantity):
        pk.scan_item(shipment, ean_for(product), ctx(pw))
    err = refused(lambda: pk.scan_item(shipment, product.sku, ctx(pw)), pk.OverScan)
    assert f"has {quantity}, {quantity} already packed" in err.detail
    assert pk.pack_state(shipment).lines[0].packed == quantity


def test_a_box_the_items_do_not_fit_or_would_overload_is_refused_and_nothing_changes(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    for product, quantity in products(pw):
        for _ in range(quantity):
            pk.scan_item(shipment, ean_for(product), ctx(pw))
    err = refused(lambda: pk.choose_box(shipment, "TINY", ctx(pw)), pk.BoxRefused)
    assert "does not fit" in err.detail and "over the 0.30 kg limit" in err.detail


def test_a_parcel_weighing_over_its_box_limit_is_refused_and_nothing_changes(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    for product, quantity in products(pw):
        for _ in range(quantity):
            pk.scan_item(shipment, ean_for(product), ctx(pw))
    pk.choose_box(shipment, "S", ctx(pw))
    err = refused(lambda: pk.weigh_parcel(shipment, 2500, ctx(pw)), pk.WeightRefused)
    assert "over the 2000 g limit of box S" in err.detail and err.extra["verdict"] == "over_box_limit"


@pytest.mark.parametrize(("weight", "verdict"), [(560, "too_light"), (900, "too_heavy")])
def test_a_weight_out_of_tolerance_is_refused_with_the_figures_and_nothing_changes(pw, weight, verdict) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    for product, quantity in products(pw):
        for _ in range(quantity):
            pk.scan_item(shipment, ean_for(product), ctx(pw))
    pk.choose_box(shipment, "S", ctx(pw))
    err = refused(lambda: pk.weigh_parcel(shipment, weight, ctx(pw)), pk.WeightRefused)
    # expected 700 g, allowed 50 g + 5 % = 85 g
    assert err.extra == {"verdict": verdict, "measured_g": weight, "expected_g": 700, "tolerance_g": 85,
                         "parcel": 1}
    assert "we expected 700 g (± 85 g)" in err.detail


def test_an_unknown_tote_is_refused_and_nothing_changes(pw) -> None:  # type: ignore[no-untyped-def]
    err = refused(lambda: pk.start_packing(pw.station, "T-NOPE", ctx(pw)), pk.ToteUnknown)
    assert "T-NOPE" in err.detail


def test_a_tote_being_packed_by_someone_else_or_already_packed_is_refused(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    db.session.commit()
    err = refused(lambda: pk.start_packing(pw.station, pw.tote, ctx(pw, pw.other_packer)), pk.PackRefused)
    assert "someone else" in err.detail
    assert pk.start_packing(pw.station, pw.tote, ctx(pw)).id == shipment.id  # the same packer resumes
    pack_all(pw, shipment)
    pk.finish_packing(shipment, ctx(pw))
    err = refused(lambda: pk.start_packing(pw.station, pw.tote, ctx(pw)), pk.PackRefused)
    assert "already packed" in err.detail


def test_finishing_with_units_left_is_refused(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    product, _quantity = products(pw)[0]
    pk.scan_item(shipment, ean_for(product), ctx(pw))
    err = refused(lambda: pk.finish_packing(shipment, ctx(pw)), pk.PackRefused)
    assert "Not everything is packed" in err.detail


def test_an_order_goes_out_in_two_parcels_each_with_its_own_sscc_and_tracking(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    (first, n1), (second, n2) = products(pw)
    for _ in range(n1):
        pk.scan_item(shipment, ean_for(first), ctx(pw))
    pk.choose_box(shipment, "S", ctx(pw))
    pk.weigh_parcel(shipment, n1 * 200 + 100, ctx(pw))
    for _ in range(n2):
        pk.scan_item(shipment, ean_for(second), ctx(pw))
    pk.choose_box(shipment, "S", ctx(pw))
    pk.weigh_parcel(shipment, n2 * 200 + 100, ctx(pw))
    pk.finish_packing(shipment, ctx(pw))
    db.session.commit()
    parcels = db.session.get(Shipment, shipment.id).parcels
    assert [p.seq for p in parcels] == [1, 2]
    assert len({p.sscc for p in parcels}) == 2 and len({p.tracking_number for p in parcels}) == 2
    assert len({p.label_print_job_id for p in parcels}) == 1  # one job, one label per parcel
    assert db.session.get(PrintJob, parcels[0].label_print_job_id).payload.decode().count("^XA") == 2


def test_cancelling_the_label_goes_back_to_packing_and_a_new_label_gets_new_numbers(pw) -> None:  # type: ignore[no-untyped-def]
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    pack_all(pw, shipment)
    pk.finish_packing(shipment, ctx(pw))
    first = (shipment.tracking_number, shipment.parcels[0].sscc)
    pk.cancel_label(shipment, ctx(pw))
    assert shipment.status == ShipmentStatus.PACKING and shipment.tracking_number is None
    assert db.session.get(Order, pw.order.id).status == OrderStatus.PICKED
    job = db.session.scalars(select(PrintJob).where(PrintJob.document_kind == DocumentKind.CARRIER_LABEL)).one()
    assert job.state.value == "cancelled"
    pk.finish_packing(shipment, ctx(pw), carrier_code="gs1")
    db.session.commit()
    assert shipment.carrier_code == "gs1" and shipment.tracking_number == shipment.parcels[0].sscc
    assert shipment.tracking_number not in first and shipment.parcels[0].sscc != first[1]


def test_sscc_and_tracking_numbers_stay_unique_over_many_shipments(session) -> None:  # type: ignore[no-untyped-def]
    w = build_pack_world(orders=3)
    session.commit()
    numbers, ssccs = [], []
    for order in w.pick.site.orders:
        tote = next(ln.tote for op in w.pick.ops() for ln in op.lines if ln.order_line.order_id == order.id)
        shipment = pk.start_packing(w.station, tote, ctx(w))
        c = ctx(w)
        for ln in order.lines:
            for _ in range(ln.quantity):
                pk.scan_item(shipment, ean_for(ln.product), c)
        pk.choose_box(shipment, "M", c)
        pk.weigh_parcel(shipment, pk.pack_state(shipment).expected_weight_g or 0, c)
        pk.finish_packing(shipment, c)
        session.commit()
        numbers.append(shipment.tracking_number)
        ssccs.append(shipment.parcels[0].sscc)
    assert len(set(numbers)) == 3 and len(set(ssccs)) == 3
    own = registry.carrier_for("own-fleet")
    assert [own.validate_tracking(n) for n in numbers] == numbers
    assert all(sscc_rules.is_valid(s) for s in ssccs)
    values = [registry.next_value("test-counter") for _ in range(5)]
    assert values == [1, 2, 3, 4, 5]


def test_the_counters_work_on_sqlite_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from wms import create_app
    from wms.dbcli import alembic_config

    url = f"sqlite:///{tmp_path}/counters.db"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "sqlite-counters"})
    command.upgrade(alembic_config(url), "head")
    with app.app_context():
        assert [registry.next_value("sscc") for _ in range(3)] == [1, 2, 3]
        db.session.commit()
        issuer = registry.sscc_issuer()
        first, second = issuer.issue(), issuer.issue()
        db.session.commit()
        assert first != second and sscc_rules.is_valid(first) and sscc_rules.is_valid(second)
        assert registry.next_value("sscc") == 4
        db.session.rollback()
    db.engine(app).dispose()


def test_the_demo_boxes_are_seeded_once_and_hold_the_heaviest_demo_product(session) -> None:  # type: ignore[no-untyped-def]
    from wms.demo.outbound import DEMO_BOXES, seed_outbound
    from wms.demo.products import DEMO_PRODUCTS
    from wms.outbound.models import Box
    from wms.shipping import packing as rules

    seed_outbound(None, echo=lambda _line: None)
    seed_outbound(None, echo=lambda _line: None)
    boxes = [pk.box_rule(b) for b in session.scalars(select(Box))]
    assert len(boxes) == len(DEMO_BOXES)
    heaviest = max(DEMO_PRODUCTS, key=lambda p: p.weight_g)
    item = rules.Item(heaviest.sku, *heaviest.dims_mm, heaviest.weight_g, 1)
    assert rules.suggest_box([item], boxes).box is not None
    assert all(rules.suggest_box([rules.Item(p.sku, *p.dims_mm, p.weight_g, 1)], boxes).box is not None
               for p in DEMO_PRODUCTS)


def test_two_workers_taking_the_same_counter_at_once_never_get_the_same_value(app) -> None:  # type: ignore[no-untyped-def]
    import threading

    taken: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            with app.app_context():
                start.wait()  # both race for the row's creation too
                for _ in range(15):
                    taken.append(registry.next_value("race"))
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(taken) == list(range(1, 31))


@pytest.mark.parametrize("ship_to", [{}, {**SHIP_TO, "country": "DE", "postcode": "10115", "city": "Berlin"}])
def test_a_shipment_the_carrier_cannot_take_is_refused_at_finish_and_nothing_changes(pw, ship_to) -> None:  # type: ignore[no-untyped-def]
    from wms.shipping.errors import ShipmentRefused

    pw.order.ship_to = ship_to
    shipment = pk.start_packing(pw.station, pw.tote, ctx(pw))
    pack_all(pw, shipment)
    err = refused(lambda: pk.finish_packing(shipment, ctx(pw)), ShipmentRefused)
    # the carrier's own words are kept beside the packer's message
    assert ("no delivery address" in err.detail) if not ship_to else ("No own-fleet route" in err.extra["carrier_detail"])
    assert db.session.get(Shipment, shipment.id).status == ShipmentStatus.PACKING


def test_own_fleet_routes_come_from_configuration() -> None:
    routes = registry.own_fleet_routes("N:Karim:75017,92;LYON:Ana:69:FR")
    assert [(r.code, r.driver, r.postal_prefixes, r.country) for r in routes] == [
        ("N", "Karim", ("75017", "92"), "FR"), ("LYON", "Ana", ("69",), "FR")]
    assert registry.own_fleet_routes(None) == registry.DEFAULT_ROUTES
    with pytest.raises(ValidationFailed, match="is not CODE:Driver"):
        registry.own_fleet_routes("just-a-code")


def test_two_packers_scanning_the_same_tote_at_once_get_one_shipment(app, pw) -> None:  # type: ignore[no-untyped-def]
    import threading

    from wms.auth.models import User

    station_id, tote = pw.station.id, pw.tote
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def packer(user_id: int) -> None:
        with app.app_context():
            user = db.session.get(User, user_id)
            station = db.session.get(Resource, station_id)
            start.wait()
            try:
                pk.start_packing(station, tote, ScanContext(user=user, device_id=f"dev-{user_id}"))
                db.session.commit()
                outcomes.append("started")
            except pk.PackRefused as exc:
                db.session.rollback()
                outcomes.append(exc.detail)

    threads = [threading.Thread(target=packer, args=(u.id,)) for u in (pw.packer, pw.other_packer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes)[-1] == "started" and "someone else" in sorted(outcomes)[0], outcomes
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Shipment)) == 1
