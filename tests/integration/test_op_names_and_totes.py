"""Pick-order tables on supervisor pages name each line's product (loaded with the lines, not one query a line),
and the printed OP of a 2-tote batch says which tote each line goes into."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, select

from tests.e2e.handheld_support import build_world, person
from tests.unit.labels.reading import decode_labels, field_values, texts
from tests.wave_data import NOW, build_site
from wms.catalog.models import Product
from wms.db import db
from wms.enums import Role
from wms.picking import services as ps
from wms.picking.context import ScanContext
from wms.printing.models import PrintJob
from wms.waves import services
from wms.waves.models import PickOrder

LONG_NAME = "Chargeur" + "x" * 120 + " USB-C"


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_the_wave_page_names_each_lines_product_in_as_many_queries_for_two_or_four_orders(
        app, client, session, make_user, sign_in) -> None:  # type: ignore[no-untyped-def]
    site = build_site(orders=6)
    db.session.scalar(select(Product).where(Product.sku == "WH-A-00")).name = LONG_NAME
    small = services.create_and_plan(site.warehouse, site.orders[:2], starts_at=NOW)
    big = services.create_and_plan(site.warehouse, site.orders[2:], starts_at=NOW)
    user = make_user("boss", roles=("supervisor",), all_warehouses=True, totp=True)
    db.session.commit()
    names = {w.id: [line.product.name for op in w.pick_orders for line in op.lines] for w in (small, big)}
    ops = {w.id: len(w.pick_orders) for w in (small, big)}
    assert len(names[big.id]) == 2 * len(names[small.id]) and ops[big.id] == ops[small.id]
    assert LONG_NAME in names[small.id]
    sign_in(client, user)
    queries = {}
    for wave_id in names:
        client.get(f"/waves/{wave_id}")  # warm: the sign-in session's own first queries
        db.session.expunge_all()  # the client's requests share this session: nothing loaded beforehand
        with counted(app) as statements:
            page = client.get(f"/waves/{wave_id}")
        assert page.status_code == 200
        queries[wave_id] = len(statements)
        html = page.get_data(as_text=True)
        for name in names[wave_id]:
            assert f'<td class="product-name">{name}</td>' in html
    assert queries[small.id] == queries[big.id], queries  # twice the lines, not one query more


def test_the_pick_exceptions_page_names_the_product(app, client, session, sign_in) -> None:  # type: ignore[no-untyped-def]
    world = build_world(orders=2)
    boss = person("sam", Role.SUPERVISOR, world.site.warehouse.id, "B-SAM")
    db.session.commit()
    ctx = ScanContext(user=world.picker, device_id="tc-21", idempotency_key=str(uuid.uuid4()))
    op, _event = ps.take_next_pick_order(world.picker, world.site.zones["A"], ctx)
    line = ps.pick_state(op).line
    assert not ps.report_exception(op, "empty", ctx, line_id=line.id).refused
    db.session.commit()
    sign_in(client, boss)
    html = client.get(f"/warehouses/{world.site.warehouse.code}/pick-exceptions").get_data(as_text=True)
    assert f'<td class="product-name">{line.product.name}</td>' in html and line.product.sku in html
    assert '<th colspan="10">' in html


def test_a_released_two_tote_op_prints_which_tote_each_line_goes_into(session) -> None:  # type: ignore[no-untyped-def]
    site = build_site(orders=2)
    wave = services.create_and_plan(site.warehouse, site.orders, starts_at=NOW)
    services.release_wave(wave, None)
    db.session.commit()
    for op in db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave.id)):
        assert len(op.totes) == 2 and len({line.tote for line in op.lines}) == 2
        zpl = db.session.scalar(select(PrintJob.payload).where(PrintJob.pick_order_id == op.id)).decode()
        (page,) = decode_labels(zpl)
        route = sorted(op.lines, key=lambda ln: ln.seq)
        assert texts(page, "Code 128") == [op.code] + [ln.location.code for ln in route]
        printed = field_values(zpl)
        marks = [t.split("-")[2] for t in sorted(op.totes)]  # W<wave>-<batch>-<position>-<zone>
        assert marks == ["01", "02"] and "Picker - 2 totes: 01 02" in printed
        starts = [printed.index(ln.location.code) for ln in route] + [printed.index("Totes on the cart (2)")]
        for ln, begin, end in zip(route, starts[:-1], starts[1:], strict=True):
            mine = printed[begin:end]
            assert ln.tote in mine and ln.tote.split("-")[2] in mine
            assert not any(t in mine for t in op.totes if t != ln.tote)
        listed = printed[starts[-1]:]
        for tote in op.totes:
            order = next(ln.order_line.order.external_id for ln in op.lines if ln.tote == tote)
            at = listed.index(tote)
            assert listed[at - 1] == tote.split("-")[2] and listed[at + 1] == order
