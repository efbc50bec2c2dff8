"""The demo's returns: one authorised return on the first shipped order, so the returns pages have something."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from wms.db import db
from wms.errors import DomainError
from wms.layout.models import Warehouse
from wms.orders.models import Order
from wms.outbound.models import Shipment
from wms.returns import services
from wms.returns.models import Rma

DEMO_PREFIX = "DEMO-RMA-"


def seed_returns(warehouse: Warehouse, echo: Callable[[str], None] = print) -> None:
    """Authorise one unit of the first shipped order to come back, once; nothing when nothing was shipped yet."""
    if db.session.scalar(select(Rma.id).where(Rma.warehouse_id == warehouse.id,
                                              Rma.external_id.like(f"{DEMO_PREFIX}%")).limit(1)) is not None:
        echo("returns: demo return already there")
        return
    orders = db.session.scalars(
        select(Order).join(Shipment, Shipment.order_id == Order.id)
        .where(Order.warehouse_id == warehouse.id, Shipment.status.in_(services.SHIPPED_STATUSES))
        .order_by(Order.id))
    for order in orders:
        returnable = services.returnable_units(order)
        line = next((ln for ln in order.lines if returnable.get(ln.id, 0) > 0), None)
        if line is None:
            continue
        try:
            rma, _created = services.authorize_return(
                order, [services.LineRequest(quantity=1, reason="not_wanted", line_no=line.line_no)],
                external_id=f"{DEMO_PREFIX}{order.external_id}", reason="demo: the customer changed their mind")
        except DomainError as err:
            echo(f"returns: not seeded ({err.detail})")
            return
        echo(f"returns: {rma.code} authorised on order {order.external_id}")
        return
    echo("returns: no shipped order yet, no demo return")
