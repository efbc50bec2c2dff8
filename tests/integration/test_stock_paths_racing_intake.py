"""Put-away, replenishment and return restocks racing intake while orders wait: one lock order, so no deadlock.

Both moves used to lock their two quants in location order, then serve backorders (quant order), while intake
locks in quant order. The lanes' quants are created last lane first, so the two orders differ, as they do in any
warehouse with a history. Each job runs as its own transaction on its own connection, as a request would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.conftest import _truncate_all, make_test_app
from tests.integration.inbound_world import build_inbound
from tests.integration.race_world import assert_stock_consistent
from tests.integration.stock_world import put
from tests.integration.test_replenishment import _make_user_in
from wms.auth.models import User
from wms.db import db
from wms.inbound import putaway, receiving
from wms.orders.models import Channel, ChannelKind
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.replenishment import services as replenishment
from wms.stock import levels_services as levels
from wms.tasks.models import Task


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 16, "max_overflow": 8})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _at_once(app, jobs: list[Callable[[], object]]) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        with app.app_context():  # its own session, connection and transaction
            try:
                barrier.wait()
                jobs[i]()
                db.session.commit()
                outcomes[i] = "done"
            except Exception as exc:  # noqa: BLE001  (the outcome is what the test looks at)
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def test_put_away_and_replenishment_racing_intake_never_deadlock_nor_over_reserve(busy_app) -> None:  # type: ignore[no-untyped-def]
    with busy_app.app_context():
        w = build_inbound(_make_user_in)
        for lane in w.lanes:
            lane.capacity_units = 100
        put(w.mug, w.reserve[0], 200)
        for lane in reversed(w.lanes):  # quant ids in the reverse of location order
            put(w.mug, lane, 1)
        channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=w.warehouse.id)
        db.session.add(channel)
        db.session.flush()
        for i in range(6):  # take the 6 lane units and wait for 18 more
            create_order(channel, OrderRequest(f"wait-{i}", [LineRequest("MUG", 4)]))
        for lane in w.lanes[:3]:
            levels.set_level(w.warehouse, "MUG", min_qty=5, max_qty=8, lane_code=lane.code)
        replenish = [t.id for t in replenishment.plan_replenishment(w.warehouse).created]
        receipt = receiving.open_receipt(w.po, w.receiver)
        away = []
        for _ in range(2):
            line = receiving.receive(receipt, receiving.Receiving("MUG", 4), w.receiver)
            away += [(t.id, t.location.code) for t in putaway.create_putaway_tasks(line)[0]]
        receiver_id, channel_id = w.receiver.id, channel.id
        db.session.commit()
    assert len(replenish) == 3 and len(away) >= 2

    def replenished(task_id: int) -> Callable[[], object]:
        def job() -> object:
            task = db.session.get(Task, task_id)
            return replenishment.complete_replenishment(task, db.session.get(User, receiver_id), task.quantity)
        return job

    def put_away(task_id: int, lane: str) -> Callable[[], object]:
        def job() -> object:
            task = db.session.get(Task, task_id)
            return putaway.complete_putaway(task, db.session.get(User, receiver_id), lane_scan="R:" + lane,
                                            item_scan="MUG", quantity=task.quantity)
        return job

    def intake(i: int) -> Callable[[], object]:
        return lambda: create_order(db.session.get(Channel, channel_id), OrderRequest(f"new-{i}",
                                                                                      [LineRequest("MUG", 2)]))

    jobs = [replenished(t) for t in replenish] + [put_away(t, lane) for t, lane in away]
    jobs += [intake(i) for i in range(6)]
    outcomes = _at_once(busy_app, jobs)
    assert [o for o in outcomes if o != "done"] == []
    assert_stock_consistent(busy_app)
    with busy_app.app_context():
        assert db.session.scalar(select(Task.id).where(Task.id.in_(replenish + [t for t, _ in away]),
                                                       Task.status != "done")) is None


def test_returns_restocked_racing_intake_of_both_their_products_never_deadlock(busy_app) -> None:  # type: ignore[no-untyped-def]
    from tests.integration import test_returns_world as rw
    from wms.returns import services as returns
    from wms.returns.models import Disposition, Rma
    from wms.stock import operations as ops

    with busy_app.app_context():
        w = rw.build_world(_make_user_in)
        for lane in (w.lanes[1], w.lanes[0]):  # quant ids in the reverse of location order
            rw.put(w.mug, lane, 1)
        for lane in (w.lanes[3], w.lanes[2]):
            rw.put(w.tea, lane, 1)
        for i in range(4):  # take the 4 lane units and wait for 12 more, of both products
            create_order(w.channel, OrderRequest(f"wait-{i}", [LineRequest("MUG", 2), LineRequest("TEA", 2)]))
        rmas = []
        for i in range(4):  # two returns list MUG first, two TEA first: restocked line by line, they crossed
            products = [(w.mug, 2), (w.tea, 2)] if i % 2 else [(w.tea, 2), (w.mug, 2)]
            order = rw.shipped_order(w, f"shipped-{i}", products)
            lines = [returns.LineRequest(2, sku=p.sku) for p, _ in products]
            rma, _ = returns.authorize_return(order, lines, external_id=f"R-{i}")
            returns.receive_return(rma, lines, ops.Actor(user=w.receiver))
            rmas.append((rma.id, [p.sku for p, _ in products]))
        channel_id, receiver_id = w.channel.id, w.receiver.id
        db.session.commit()

    def restock(rma_id: int, skus: list[str]) -> Callable[[], object]:
        def job() -> object:
            rma = db.session.get(Rma, rma_id)
            return returns.inspect_return(rma, [returns.Disposal(returns.LineRequest(2, sku=sku), Disposition.RESTOCK)
                                                for sku in skus], ops.Actor(user=db.session.get(User, receiver_id)))
        return job

    def intake(i: int) -> Callable[[], object]:
        lines = [LineRequest("MUG", 1), LineRequest("TEA", 1)] if i % 2 else [LineRequest("TEA", 1)]
        return lambda: create_order(db.session.get(Channel, channel_id), OrderRequest(f"new-{i}", lines))

    outcomes = _at_once(busy_app, [restock(*r) for r in rmas] + [intake(i) for i in range(6)])
    assert [o for o in outcomes if o != "done"] == []
    assert_stock_consistent(busy_app)


@pytest.mark.parametrize("kind", ["empty", "damaged"])
def test_a_lane_exception_racing_intake_and_arrivals_of_its_product_never_deadlocks(busy_app, kind) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.handheld_support import build_world as build_pick_world
    from wms.layout.models import Location
    from wms.picking import services as ps
    from wms.picking.context import ScanContext
    from wms.stock import operations as ops
    from wms.waves.models import PickOrder

    with busy_app.app_context():
        w = build_pick_world(quarantine=True)
        op, _event = ps.take_next_pick_order(w.picker, w.site.zones["A"], ScanContext(w.picker, "dev-1", "take"))
        assert op is not None
        line = ps.pick_state(op).line
        product, zone_id = line.product, op.zone_id
        others = list(db.session.scalars(select(Location).where(Location.zone_id == zone_id, Location.level == 2)
                                         .order_by(Location.id.desc()).limit(2)))
        for lane in others:  # two more lanes of the product, newer quants than its own lane
            put(product, lane, 1)
        channel = db.session.scalar(select(Channel).where(Channel.id == w.site.channel.id))
        for i in range(3):  # orders already waiting for it
            create_order(channel, OrderRequest(f"wait-{i}", [LineRequest(product.sku, 3)]))
        ids = (op.id, line.id, w.picker.id, channel.id)
        sku, lanes = product.sku, [(lane.warehouse_id, lane.code) for lane in others]
        db.session.commit()

    def exception() -> object:
        op_id, line_id, picker_id, _ = ids
        picker = db.session.get(User, picker_id)
        result = ps.report_exception(db.session.get(PickOrder, op_id), kind, ScanContext(picker, "dev-1", kind),
                                     quantity=2 if kind == "damaged" else 0, line_id=line_id)
        assert not result.refused, result.message
        return result

    def intake(i: int) -> Callable[[], object]:
        return lambda: create_order(db.session.get(Channel, ids[3]), OrderRequest(f"new-{i}", [LineRequest(sku, 1)]))

    def arrival(wh_id: int, code: str) -> Callable[[], object]:
        from wms.layout.models import Warehouse

        return lambda: ops.adjust(db.session.get(Warehouse, wh_id), sku, code, delta=2, counted=None,
                                  actor=ops.Actor())

    outcomes = _at_once(busy_app, [exception] + [intake(i) for i in range(6)] + [arrival(*lane) for lane in lanes])
    assert [o for o in outcomes if o != "done"] == []
    assert_stock_consistent(busy_app)


def test_csv_stock_receipts_racing_intake_never_deadlock_nor_over_reserve(busy_app) -> None:  # type: ignore[no-untyped-def]
    import io

    from tests.integration.race_world import seed
    from wms.csvio.importing import run_import
    from wms.csvio.stock import StockImporter
    from wms.layout.models import Location
    from wms.stock.operations import product_by_sku

    world = seed(busy_app)
    with busy_app.app_context():
        mug = product_by_sku("MUG")
        for code in reversed(world.lanes[:6]):  # quant ids in the reverse of location order
            put(mug, db.session.scalar(select(Location).where(Location.code == code)), 1)
        channel = db.session.scalar(select(Channel).where(Channel.code == "SHOP"))
        for i in range(6):
            create_order(channel, OrderRequest(f"wait-{i}", [LineRequest("MUG", 4)]))
        db.session.commit()

    def receipt(i: int) -> Callable[[], object]:
        lanes = world.lanes[i % 3:6:2]
        rows = "".join(f"WH,{code},MUG,2\n" for code in (lanes if i % 2 else reversed(lanes)))
        body = io.BytesIO(("warehouse,location,sku,quantity\n" + rows).encode())

        def job() -> object:
            result = run_import(body, StockImporter("receipt", filename=f"delivery-{i}.csv"))
            assert result.applied, (result.file_problems, result.row_problems)
            return result
        return job

    def intake(i: int) -> Callable[[], object]:
        return lambda: create_order(db.session.scalar(select(Channel).where(Channel.code == "SHOP")),
                                    OrderRequest(f"new-{i}", [LineRequest("MUG", 2)]))

    outcomes = _at_once(busy_app, [receipt(i) for i in range(4)] + [intake(i) for i in range(6)])
    assert [o for o in outcomes if o != "done"] == []
    assert_stock_consistent(busy_app)
