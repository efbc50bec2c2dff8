"""Tote codes name one tote among all live ones: each wave's codes start with the wave, the database refuses a
second live tote with a code, and packing refuses a code that names more than one picked order."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tests.integration.test_packing_services import build_pack_world, ctx, pack_all, refused
from tests.unit.labels.reading import decode_labels, field_values, texts
from tests.wave_data import NOW, build_site
from wms.db import db
from wms.labels.documents import ToteLabel
from wms.orders.models import OrderLine, OrderStatus
from wms.outbound import packing_services as pk
from wms.printing.models import PrintJob
from wms.waves import services as waves
from wms.waves.models import PickOrder, PickOrderLine, Tote, Wave


def _first_tote(wave: Wave) -> str:
    op = db.session.scalar(select(PickOrder).where(PickOrder.wave_id == wave.id).order_by(PickOrder.seq).limit(1))
    assert op is not None
    return op.totes[0]


def _live_codes(wave: Wave) -> list[str]:
    return sorted(db.session.scalars(select(Tote.code).join(PickOrder, PickOrder.id == Tote.pick_order_id)
                                     .where(PickOrder.wave_id == wave.id, Tote.live.is_(True))))


def test_two_waves_label_their_first_tote_with_different_codes(session) -> None:  # type: ignore[no-untyped-def]
    site = build_site(orders=4)
    first = waves.create_and_plan(site.warehouse, site.orders[:2], starts_at=NOW)
    second = waves.create_and_plan(site.warehouse, site.orders[2:], starts_at=NOW)
    assert _first_tote(first) != _first_tote(second)
    assert _first_tote(first).startswith(f"W{first.id}-") and _first_tote(second).startswith(f"W{second.id}-")
    # Every tote on the OPs and their lines is a live row naming its order.
    for wave in (first, second):
        ops = list(db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave.id)))
        assert _live_codes(wave) == sorted(code for op in ops for code in op.totes)
        for op in ops:
            order_of = {t.code: t.order_id for t in op.tote_rows}
            for line in op.lines:
                assert order_of[line.tote] == db.session.get(OrderLine, line.order_line_id).order_id


def test_replanning_and_cancelling_a_wave_free_its_tote_codes(session) -> None:  # type: ignore[no-untyped-def]
    site = build_site(orders=2)
    wave = waves.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    codes = _live_codes(wave)
    waves.plan_wave(wave)  # the same codes again: the old OPs' totes went with them
    assert _live_codes(wave) == codes
    waves.cancel_wave(wave)
    assert _live_codes(wave) == []
    assert db.session.scalar(select(Tote.code).where(Tote.code == codes[0])) == codes[0]


def test_the_database_refuses_a_second_live_tote_with_the_same_code(session) -> None:  # type: ignore[no-untyped-def]
    site = build_site(orders=4)
    first = waves.create_and_plan(site.warehouse, site.orders[:2], starts_at=NOW)
    second = waves.create_and_plan(site.warehouse, site.orders[2:], starts_at=NOW)
    session.commit()
    taken = db.session.scalars(select(Tote).join(PickOrder, PickOrder.id == Tote.pick_order_id)
                               .where(PickOrder.wave_id == first.id)).first()
    other = db.session.scalars(select(Tote).join(PickOrder, PickOrder.id == Tote.pick_order_id)
                               .where(PickOrder.wave_id == second.id)).first()
    with pytest.raises(IntegrityError) as info:
        db.session.execute(update(Tote).where(Tote.id == other.id).values(code=taken.code))
    assert "uq_totes_live_code" in str(info.value)
    db.session.rollback()
    # Once the first is no longer live (its order packed, its wave cancelled), its code may name another tote.
    db.session.execute(update(Tote).where(Tote.id == taken.id).values(live=False))
    db.session.execute(update(Tote).where(Tote.id == other.id).values(code=taken.code))
    db.session.commit()


def _share_a_tote_code(w) -> str:  # type: ignore[no-untyped-def]
    """The lines of the world's second order put in the first order's tote, as two waves labelled their totes
    before codes named the wave (pick order lines hold the code the OP printed)."""
    first, second = w.pick.site.orders[:2]
    second_lines = select(OrderLine.id).where(OrderLine.order_id == second.id)
    db.session.execute(update(PickOrderLine).where(PickOrderLine.order_line_id.in_(second_lines))
                       .values(tote=w.tote))
    db.session.commit()
    assert first.status == second.status == OrderStatus.PICKED
    return second.external_id


def test_packing_a_tote_code_that_names_two_picked_orders_is_refused(session) -> None:  # type: ignore[no-untyped-def]
    w = build_pack_world(orders=2)
    other = _share_a_tote_code(w)
    err = refused(lambda: pk.start_packing(w.station, w.tote, ctx(w)), pk.ToteAmbiguous)
    assert err.status == 409 and err.slug == "tote-ambiguous"
    assert w.tote in err.detail and w.order.external_id in err.detail and other in err.detail
    assert sorted(err.extra["orders"]) == sorted([w.order.external_id, other])


def test_a_shared_tote_code_is_refused_over_the_api_as_a_problem(app, client, sign_in, session) -> None:  # type: ignore[no-untyped-def]
    w = build_pack_world(orders=2)
    _share_a_tote_code(w)
    sign_in(client, w.packer)
    resp = client.post("/api/v1/warehouses/WH/packing", json={"station": "PACK-1", "tote": w.tote},
                       headers={"Idempotency-Key": str(uuid.uuid4()), "X-Device-Id": "hh-7"})
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"].endswith("/tote-ambiguous")


def test_packing_an_order_ends_its_totes_life(session) -> None:  # type: ignore[no-untyped-def]
    w = build_pack_world()
    assert db.session.scalars(select(Tote.live).where(Tote.order_id == w.order.id)).all() == [True, True]
    shipment = pk.start_packing(w.station, w.tote, ctx(w))
    pack_all(w, shipment)
    pk.finish_packing(shipment, ctx(w))
    assert db.session.scalars(select(Tote.live).where(Tote.order_id == w.order.id)).all() == [False, False]


def test_the_printed_op_and_the_tote_label_carry_the_waves_tote_code(session) -> None:  # type: ignore[no-untyped-def]
    site = build_site(orders=2)
    wave = waves.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    waves.release_wave(wave, None)
    op = db.session.scalar(select(PickOrder).where(PickOrder.wave_id == wave.id).order_by(PickOrder.seq).limit(1))
    job = db.session.scalar(select(PrintJob).where(PrintJob.pick_order_id == op.id))
    printed = field_values(job.payload.decode())
    for line in op.lines:
        assert line.tote.startswith(f"W{wave.id}-") and line.tote in printed, printed
    (page,) = decode_labels(ToteLabel(op.totes[0]).to_zpl())
    assert texts(page, "Code 128") == [op.totes[0]] and texts(page, "QR Code") == [op.totes[0]]
