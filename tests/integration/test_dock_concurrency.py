"""Two supervisors print the same carrier's manifest at the same moment: one manifest, every parcel on it once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import _truncate_all, make_test_app
from tests.integration.test_dock_world import build_dock, labelled_shipment
from wms.auth.tokens import issue_token
from wms.db import db
from wms.enums import TokenPurpose
from wms.outbound import dock
from wms.outbound.models import Manifest, Shipment, ShipmentStatus


@pytest.fixture
def busy_app(database_url):  # type: ignore[no-untyped-def]
    app = make_test_app(database_url, DATABASE_ENGINE_OPTIONS={"pool_size": 5, "max_overflow": 5})
    yield app
    _truncate_all(app)
    db.engine(app).dispose()


def test_two_manifests_of_one_carrier_at_once_make_exactly_one(busy_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from wms.auth.services import create_user

    with busy_app.app_context():
        site = build_dock(lambda name, **kw: create_user(name, roles=list(kw["roles"]),
                                                        password="correct horse battery staple",
                                                        all_warehouses=True))
        shipments = [labelled_shipment(site, f"C-{n}", (900,)) for n in range(3)]
        for shipment in shipments:
            dock.stage_parcel(site.warehouse, shipment.parcels[0].sscc, "SHIP-01")
        tokens = []
        for n in range(2):  # one token each: a shared token's last_used_at would serialise the requests
            user = create_user(f"boss{n}", roles=["supervisor"], password="correct horse battery staple",
                               all_warehouses=True)
            tokens.append(issue_token(name="t", purpose=TokenPurpose.USER, user=user)[1])
        db.session.commit()

    barrier = threading.Barrier(2, timeout=30)
    real = dock.carrier_for

    def carrier_then_wait(*args, **kwargs):  # type: ignore[no-untyped-def]
        carrier = real(*args, **kwargs)
        barrier.wait()  # both requests go for the staged shipments together
        return carrier

    monkeypatch.setattr(dock, "carrier_for", carrier_then_wait)

    def manifest(token: str):  # type: ignore[no-untyped-def]
        client = busy_app.test_client()
        return client.post("/api/v1/warehouses/WH/manifests", json={"carrier": "own-fleet"},
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = [f.result(timeout=60) for f in [pool.submit(manifest, t) for t in tokens]]

    assert sorted(r.status_code for r in responses) == [201, 409], [r.json for r in responses]
    won = next(r for r in responses if r.status_code == 201).json
    lost = next(r for r in responses if r.status_code == 409).json
    # The row locks made the second one wait, then find nothing staged any more.
    assert lost["type"].endswith("/nothing-to-manifest"), lost
    assert won["parcel_count"] == 3
    with busy_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Manifest)) == 1
        rows = db.session.execute(select(Shipment.status, Shipment.manifest_id)).all()
        assert rows and all(status == ShipmentStatus.MANIFESTED and mid == won["id"] for status, mid in rows)
