"""The packing and boxes operations under generated requests (schemathesis over WSGI), with a picked order and a
shipment being packed so that generated cases also reach the success paths: no 5xx, documented statuses,
bodies conforming to the served document."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

from tests.integration.test_openapi_schemathesis import run_operation
from tests.integration.test_packing_services import build_pack_world, ctx
from wms.outbound import packing_services as pk

MINE = ("/api/v1/shipments/{shipment_id}", "/api/v1/boxes", "/api/v1/warehouses/{code}/packing")


def test_packing_operations_survive_generated_requests(app, session, make_user, make_token, commit) -> None:  # type: ignore[no-untyped-def]
    w = build_pack_world()
    shipment = pk.start_packing(w.station, w.tote, ctx(w))
    commit()
    known = {"code": "WH", "shipment_id": shipment.id}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if op.path.startswith(MINE)]
    assert len(operations) == 10
    for operation in operations:
        supervisor = make_user(roles=("supervisor",), warehouses=(w.pick.site.warehouse,), totp=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        commit()
        strategy = operation.as_strategy()
        names = {p.name for p in operation.path_parameters}
        if names:
            strategy = st.one_of(strategy, operation.as_strategy(
                path_parameters={k: v for k, v in known.items() if k in names}))
        run_operation(strategy, headers)
