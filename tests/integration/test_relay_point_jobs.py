"""The relay point check as a job, on PostgreSQL with the real job engine and the Mondial Relay stand-in: the
commit of an intake defers `shipping.check_relay_point`, a real worker runs it and holds an order whose point the
carrier does not know; a carrier away leaves the order unchecked (the job fails, kept in the failures) and the
dispatcher defers the check again, which passes once the carrier answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.test_relay_points import SHIP_TO, mr_settings
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (jobs is a fixture)
from tests.standins.mondial_relay import MondialRelayStandIn, Point
from wms.catalog.models import Product
from wms.db import db
from wms.orders.models import Channel, ChannelKind, Order
from wms.orders.services import LineRequest, OrderRequest, create_order
from wms.outbound import relay_points


@pytest.fixture
def mr() -> Iterator[MondialRelayStandIn]:
    standin = MondialRelayStandIn(enseigne="CC20RZ01")
    standin.points = {"066974": Point("066974", "Tabac de la Gare", "8 rue de Paris", "75010", "Paris")}
    with standin:
        yield standin
    assert standin.violations == []


def test_intake_defers_the_check_a_worker_holds_a_bad_point_and_the_dispatcher_retries_a_carrier_away(
        app, session, jobs, mr, make_warehouse, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for key, value in mr_settings(mr).items():
        monkeypatch.setitem(app.config, key, value)
    warehouse = make_warehouse("PAR")
    channel = Channel(code="SHOP", name="Shop", kind=ChannelKind.WEB_SHOP, warehouse_id=warehouse.id)
    db.session.add_all([channel, Product(sku="MUG-1", name="Mug", weight_g=1200)])
    db.session.flush()

    def take_in(external_id: str, point: str) -> int:
        order = create_order(channel, OrderRequest(external_id=external_id, lines=[LineRequest("MUG-1", 1)],
                                                   carrier_code="mondial-relay", ship_to=dict(SHIP_TO),
                                                   relay_point_id=point)).order
        db.session.commit()  # the check is deferred after this commit
        return order.id

    bad = take_in("SO-1", "999999")
    drain(app, queues=[relay_points.QUEUE])
    assert job_counts(app)[(relay_points.TASK, "succeeded")] == 1
    db.session.expire_all()
    assert db.session.get(Order, bad).hold_kind == "relay_point"

    mr.next_stat = "98"  # Mondial Relay away for the next call
    good = take_in("SO-2", "066974")
    drain(app, queues=[relay_points.QUEUE])
    assert job_counts(app)[(relay_points.TASK, "failed")] == 1
    db.session.expire_all()
    order = db.session.get(Order, good)
    assert not order.held and order.relay_checked_at is None

    assert relay_points.defer_due() == [good]  # the 20-minute dispatcher: the unchecked order again
    drain(app, queues=[relay_points.QUEUE])
    assert job_counts(app)[(relay_points.TASK, "succeeded")] == 2
    db.session.expire_all()
    order = db.session.get(Order, good)
    assert not order.held and order.relay_point["name"] == "Tabac de la Gare"
