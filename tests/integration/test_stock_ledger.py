"""Stock changes go through one service: the ledger explains every unit, and nothing goes below zero."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from wms.catalog.models import Barcode, Product
from wms.db import db
from wms.enums import StockReason, Symbology
from wms.errors import ValidationFailed, from_integrity_error
from wms.layout.models import Location
from wms.stock import services as stock
from wms.stock.errors import InsufficientStock
from wms.stock.models import LedgerEntry, Quant


@pytest.fixture
def warehouse(session, make_warehouse, make_rack_zone):  # type: ignore[no-untyped-def]
    wh = make_warehouse()
    make_rack_zone(wh, "A")
    return wh


@pytest.fixture
def lanes(session, warehouse):  # type: ignore[no-untyped-def]
    return session.scalars(select(Location).where(Location.warehouse_id == warehouse.id)
                           .order_by(Location.code)).all()


@pytest.fixture
def product(session):  # type: ignore[no-untyped-def]
    item = Product(sku="SKU-1", name="Stainless bottle 750 ml")
    item.barcodes = [Barcode(code="4006381333931", normalized="04006381333931", symbology=Symbology.EAN13)]
    session.add(item)
    session.flush()
    return item


def test_ledger_sums_equal_the_quant_after_many_changes(session, lanes, product):  # type: ignore[no-untyped-def]
    lane = lanes[0]
    for delta in (12, -5, 7, -14, 3):
        stock.adjust_stock(product, lane, delta, reason=StockReason.ADJUSTMENT)
    quant = session.scalar(select(Quant).where(Quant.product_id == product.id, Quant.location_id == lane.id))
    assert quant.on_hand == 3
    assert stock.ledger_balance(product, lane) == (quant.on_hand, quant.reserved)
    assert session.scalar(select(text("count(*)")).select_from(LedgerEntry)) == 5


def test_every_change_records_who_why_and_the_reference(session, lanes, product, make_user):  # type: ignore[no-untyped-def]
    receiver = make_user(roles=("receiver",))
    entry = stock.adjust_stock(product, lanes[0], 4, reason=StockReason.RECEIPT, actor_user=receiver,
                               idempotency_key="rcv-1", reference="PO-77", note="first pallet")
    stored = session.get(LedgerEntry, entry.id)
    assert (stored.actor_user_id, stored.reason, stored.idempotency_key, stored.reference, stored.note) == (
        receiver.id, StockReason.RECEIPT, "rcv-1", "PO-77", "first pallet")
    assert (stored.delta_on_hand, stored.delta_reserved) == (4, 0)


def test_stock_of_reports_each_location_and_the_total(session, lanes, product, warehouse):  # type: ignore[no-untyped-def]
    stock.adjust_stock(product, lanes[0], 10, reason=StockReason.ADJUSTMENT)
    stock.adjust_stock(product, lanes[3], 6, reason=StockReason.ADJUSTMENT)
    session.execute(update(Quant).where(Quant.location_id == lanes[3].id).values(reserved=2))
    level = stock.stock_of(product, warehouse)
    assert [(loc.location_code, loc.on_hand, loc.reserved, loc.available) for loc in level.locations] == [
        (lanes[0].code, 10, 0, 10), (lanes[3].code, 6, 2, 4)]
    assert (level.on_hand, level.reserved, level.available) == (16, 2, 14)


def test_stock_of_a_product_in_another_warehouse_is_empty(session, lanes, product, make_warehouse):  # type: ignore[no-untyped-def]
    stock.adjust_stock(product, lanes[0], 10, reason=StockReason.ADJUSTMENT)
    other = make_warehouse()
    level = stock.stock_of(product, other)
    assert (level.locations, level.on_hand, level.available) == ((), 0, 0)


def test_service_refuses_to_go_below_zero_and_writes_nothing(session, lanes, product):  # type: ignore[no-untyped-def]
    stock.adjust_stock(product, lanes[0], 3, reason=StockReason.ADJUSTMENT)
    with pytest.raises(InsufficientStock) as caught:
        stock.adjust_stock(product, lanes[0], -4, reason=StockReason.PICK)
    assert caught.value.status == 409
    assert stock.ledger_balance(product, lanes[0]) == (3, 0)
    with pytest.raises(InsufficientStock):
        stock.adjust_stock(product, lanes[1], -1, reason=StockReason.PICK)
    assert session.scalar(select(Quant).where(Quant.location_id == lanes[1].id)) is None


def test_service_refuses_to_take_reserved_units(session, lanes, product):  # type: ignore[no-untyped-def]
    stock.adjust_stock(product, lanes[0], 5, reason=StockReason.ADJUSTMENT)
    session.execute(update(Quant).where(Quant.location_id == lanes[0].id).values(reserved=4))
    with pytest.raises(InsufficientStock, match="reserved"):
        stock.adjust_stock(product, lanes[0], -2, reason=StockReason.ADJUSTMENT)
    stock.adjust_stock(product, lanes[0], -1, reason=StockReason.ADJUSTMENT)
    assert stock.stock_of(product, lanes[0].zone.warehouse).available == 0


@pytest.mark.parametrize("delta", [0, True, 1.5])
def test_service_refuses_a_change_that_is_not_a_whole_number_of_units(session, lanes, product, delta):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        stock.adjust_stock(product, lanes[0], delta, reason=StockReason.ADJUSTMENT)
    assert session.scalar(select(text("count(*)")).select_from(LedgerEntry)) == 0


def test_database_refuses_negative_stock_written_around_the_service(session, lanes, product):  # type: ignore[no-untyped-def]
    stock.adjust_stock(product, lanes[0], 2, reason=StockReason.ADJUSTMENT)
    quant = session.scalar(select(Quant).where(Quant.location_id == lanes[0].id))
    quant.on_hand = -1
    with pytest.raises(IntegrityError, match="ck_quants_on_hand_not_negative") as caught:
        session.flush()
    explained = from_integrity_error(caught.value)
    assert isinstance(explained, InsufficientStock)
    assert explained.status == 409


def test_ledger_refuses_update(session, lanes, product):  # type: ignore[no-untyped-def]
    entry = stock.adjust_stock(product, lanes[0], 2, reason=StockReason.ADJUSTMENT)
    with pytest.raises(IntegrityError, match="stock_ledger_append_only"):
        session.execute(update(LedgerEntry).where(LedgerEntry.id == entry.id).values(delta_on_hand=200))


def test_ledger_refuses_delete(session, lanes, product):  # type: ignore[no-untyped-def]
    entry = stock.adjust_stock(product, lanes[0], 2, reason=StockReason.ADJUSTMENT)
    with pytest.raises(IntegrityError, match="stock_ledger_append_only"):
        session.execute(delete(LedgerEntry).where(LedgerEntry.id == entry.id))


def test_two_pickers_cannot_take_the_same_last_units(app, session, lanes, product, commit):  # type: ignore[no-untyped-def]
    stock.adjust_stock(product, lanes[0], 5, reason=StockReason.ADJUSTMENT)
    commit()
    lane_id, product_id = lanes[0].id, product.id
    first_holds_lock = threading.Event()
    outcome: dict[str, object] = {}

    def second_picker() -> None:
        with app.app_context():
            first_holds_lock.wait(timeout=30)
            try:
                stock.adjust_stock(db.session.get(Product, product_id), db.session.get(Location, lane_id), -4,
                                   reason=StockReason.PICK)
                db.session.commit()
                outcome["second"] = "took"
            except (InsufficientStock, DBAPIError) as exc:
                db.session.rollback()
                outcome["second"] = type(exc).__name__

    worker = threading.Thread(target=second_picker)
    worker.start()
    stock.adjust_stock(product, lanes[0], -4, reason=StockReason.PICK)
    first_holds_lock.set()
    # The second picker now waits on the row lock; it reads the committed quantity only after this commit.
    worker.join(timeout=0.5)
    commit()
    worker.join(timeout=60)
    assert outcome == {"second": "InsufficientStock"}
    assert stock.ledger_balance(product, lanes[0]) == (1, 0)
