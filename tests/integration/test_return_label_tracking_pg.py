"""Return-label tracking on PostgreSQL with the real job engine and the Colissimo stand-in: the dispatcher defers
the carrier's `shipping.track` job for a carrier that has only a return label to follow, and a real worker puts
the RMA in transit (the row locks and queries are PostgreSQL's here; tests/integration/test_return_labels.py runs
the rest on SQLite)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.integration.test_returns_world import build_world, shipped_order
from tests.jobs_support import drain, job_counts, jobs  # noqa: F401  (jobs is a fixture)
from tests.standins import colissimo as colissimo_standin
from wms.db import db, utcnow
from wms.outbound import tracking_jobs
from wms.outbound.models import TrackingEventRecord
from wms.returns import labels, services
from wms.returns.models import ReturnLabelStatus, Rma, RmaStatus


@pytest.fixture
def colissimo(app, monkeypatch) -> Iterator[colissimo_standin.ColissimoStandIn]:  # type: ignore[no-untyped-def]
    standin = colissimo_standin.ColissimoStandIn().start()
    for key, value in {"COLISSIMO_CONTRACT_NUMBER": colissimo_standin.CONTRACT,
                       "COLISSIMO_PASSWORD": colissimo_standin.PASSWORD, "COLISSIMO_BASE_URL": standin.sls_url,
                       "COLISSIMO_SUIVI_URL": standin.suivi_url, "COLISSIMO_RELAY_URL": standin.relay_url,
                       "COLISSIMO_SUIVI_KEY": colissimo_standin.SUIVI_KEY}.items():
        monkeypatch.setitem(app.config, key, value)
    yield standin
    standin.stop()
    assert standin.violations == []


def test_the_tracking_job_puts_a_return_in_transit_on_postgresql(
        app, session, make_user, jobs, colissimo) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    w = build_world(make_user)
    order = shipped_order(w, "O-9", [(w.mug, 1)])
    order.ship_to = {"name": "Amelie Lecon", "line1": "5 place de l'Eglise", "postcode": "75010", "city": "Paris",
                     "country": "FR", "phone": "0612345678"}
    rma, _ = services.authorize_return(order, [services.LineRequest(1, "not_wanted", sku="MUG")])
    label, created = labels.create_return_label(rma, labels.LabelRequest("colissimo", print_label=False))
    db.session.commit()
    assert created and label.status == ReturnLabelStatus.ISSUED
    colissimo.add_event(label.tracking_number, "PC1", "Pris en charge par La Poste",
                        utcnow().replace(microsecond=0) + dt.timedelta(minutes=5))

    assert tracking_jobs.defer_due() == ["colissimo"]     # no shipment in transit: the return label is enough
    db.session.commit()
    drain(app, queues=[tracking_jobs.QUEUE])
    assert job_counts(app)[(tracking_jobs.TASK, "succeeded")] == 1
    db.session.expire_all()
    assert db.session.get(Rma, rma.id).status == RmaStatus.IN_TRANSIT
    assert db.session.get(type(label), label.id).status == ReturnLabelStatus.IN_TRANSIT
    statuses = db.session.scalars(select(TrackingEventRecord.status)
                                  .where(TrackingEventRecord.return_label_id == label.id)
                                  .order_by(TrackingEventRecord.at))
    assert list(statuses) == ["label_created", "in_transit"]
