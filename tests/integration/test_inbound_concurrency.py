"""Two receivers at once cannot together receive beyond the tolerance, nor fill one lane beyond its capacity."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.conftest import _truncate_all, make_test_app
from tests.integration.inbound_world import BBD, build_inbound, on_hand
from tests.integration.test_replenishment import _make_user_in
from wms.auth.models import User
from wms.catalog.models import Product
from wms.db import db
from wms.inbound import putaway, receiving
from wms.inbound.errors import LaneFull, OverReceipt
from wms.inbound.models import PurchaseOrderLine, Receipt, ReceiptLine
from wms.stock.services import ledger_balance
from wms.tasks.models import Task


@pytest.fixture
def busy_app(database_url: str):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 10})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def _at_once(app, jobs: list[Callable[[], object]]) -> list[object]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        with app.app_context():  # its own session and connection
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
        t.join(timeout=60)
    return outcomes


def test_two_receipts_at_once_never_exceed_the_tolerance(busy_app):  # type: ignore[no-untyped-def]
    with busy_app.app_context():
        w = build_inbound(_make_user_in)
        codes = [receiving.open_receipt(w.po, w.receiver, dock_code="RCV-01").code for _ in range(2)]
        db.session.commit()
        receiver_id = w.receiver.id

    def receive(code: str) -> Callable[[], object]:
        return lambda: receiving.receive(receiving.get_receipt(code), receiving.Receiving("MUG", 8),
                                         db.session.get(User, receiver_id))

    outcomes = _at_once(busy_app, [receive(c) for c in codes])
    assert sorted(type(o).__name__ if o != "done" else "done" for o in outcomes) == ["OverReceipt", "done"]
    assert any(isinstance(o, OverReceipt) for o in outcomes)
    with busy_app.app_context():
        assert db.session.scalar(select(PurchaseOrderLine.received).where(PurchaseOrderLine.line_no == 1)) == 8
        mug = db.session.scalar(select(Product).where(Product.sku == "MUG"))
        dock = db.session.scalar(select(Receipt)).dock_location
        assert on_hand(mug, dock) == 8 == ledger_balance(mug, dock)[0]


def test_two_put_aways_into_one_lane_at_once_respect_its_capacity(busy_app):  # type: ignore[no-untyped-def]
    with busy_app.app_context():
        w = build_inbound(_make_user_in)
        receipt = receiving.open_receipt(w.po, w.receiver)
        lines = [receiving.receive(receipt, receiving.Receiving("MUG", 5), w.receiver),
                 receiving.receive(receipt, receiving.Receiving("CHEESE", 5, lot_code="L1",
                                                                best_before=BBD), w.receiver)]
        [first] = putaway.create_putaway_tasks(lines[0])[0]
        [second] = putaway.create_putaway_tasks(lines[1])[0]
        # two products bound for one lane (a supervisor moved the second task there)
        second.location_id = first.location_id
        w.lanes[0].capacity_units = 8  # the lane turned out smaller: only one of the two fits
        lane_code, receiver_id = w.lanes[0].code, w.receiver.id
        task_ids = [first.id, second.id]
        db.session.commit()

    def complete(task_id: int, sku: str) -> Callable[[], object]:
        return lambda: putaway.complete_putaway(db.session.get(Task, task_id), db.session.get(User, receiver_id),
                                                lane_scan="R:" + lane_code, item_scan=sku, quantity=5)

    outcomes = _at_once(busy_app, [complete(task_ids[0], "MUG"), complete(task_ids[1], "CHEESE")])
    assert sorted("done" if o == "done" else type(o).__name__ for o in outcomes) == ["LaneFull", "done"]
    assert any(isinstance(o, LaneFull) for o in outcomes)
    with busy_app.app_context():
        assert sorted(db.session.scalars(select(ReceiptLine.put_away))) == [0, 5]
