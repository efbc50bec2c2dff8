"""Generated requests against the shipping dock operations, with staged shipments, a pick-up and a manifest in the
database so that cases reach the success paths too: never a 5xx, only documented statuses and bodies."""

from __future__ import annotations

import datetime as dt

import schemathesis
from hypothesis import strategies as st

from tests.integration.test_dock_world import build_dock, labelled_shipment
from tests.integration.test_openapi_schemathesis import run_operation
from wms.db import db, utcnow
from wms.outbound import dock as services


def test_dock_operations_survive_generated_requests(app, session, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    site = build_dock(make_user)
    shipments = [labelled_shipment(site, f"G-{n}", (1000, 500)) for n in range(3)]
    for shipment in shipments:
        for parcel in shipment.parcels:
            services.stage_parcel(site.warehouse, parcel.sscc, "SHIP-01")
    pickup = services.book_pickup(site.warehouse, "own-fleet", "DOOR-2", utcnow(), utcnow() + dt.timedelta(hours=1))
    manifest = services.create_manifest(site.warehouse, "own-fleet", pickup=pickup).manifest
    db.session.commit()
    known = {"code": "WH", "pickup_id": pickup.id, "manifest_id": manifest.id}

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if any(part in op.path for part in (
        "/dock/", "/pickups", "/manifests", "/shipments/delivered"))]
    assert len(operations) == 13
    for operation in operations:
        supervisor = make_user(roles=("supervisor",), warehouses=(site.warehouse,), totp=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        commit()
        names = {p.name for p in operation.path_parameters}
        strategy = st.one_of(operation.as_strategy(),
                             operation.as_strategy(path_parameters={k: v for k, v in known.items() if k in names}))
        run_operation(strategy, headers)
