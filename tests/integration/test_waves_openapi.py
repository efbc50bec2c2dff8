"""Generated requests against the wave and slot operations, with a planned wave and slots in the database so
that cases reach the success paths too: never a 5xx, only documented statuses and bodies."""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

from tests.integration.test_openapi_schemathesis import run_operation
from tests.wave_data import NOW, build_site
from wms.db import db
from wms.waves import services


def test_wave_and_slot_operations_survive_generated_requests(app, session, make_user, make_token, commit):  # type: ignore[no-untyped-def]
    site = build_site(orders=4)
    wave = services.create_and_plan(site.warehouse, site.orders[:2], starts_at=NOW)
    slot_id = wave.pick_orders[0].slots[0].id if wave.pick_orders[0].slots else 1
    db.session.commit()
    known = {"code": "WH", "wave_id": wave.id, "slot_id": slot_id}

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [op for op in operations if "/waves" in op.path or "/slots" in op.path]
    assert len(operations) == 10
    for operation in operations:
        supervisor = make_user(roles=("supervisor",), warehouses=(site.warehouse,), totp=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        commit()
        names = {p.name for p in operation.path_parameters}
        strategy = st.one_of(operation.as_strategy(),
                             operation.as_strategy(path_parameters={k: v for k, v in known.items() if k in names}))
        run_operation(strategy, headers)
