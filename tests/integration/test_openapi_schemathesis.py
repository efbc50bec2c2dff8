"""Property-based run of every documented operation against the in-process app (schemathesis over WSGI).

Checks: no 5xx, every status code documented, content types and bodies conform to the served document.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from wms.catalog import services as catalog

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 25
# The operations are spread over this many test items, so each stays well inside the per-test timeout.
CHUNKS = 6


# Path parameters that name seeded rows, so generated cases also reach the success paths.
KNOWN = {
    ("/api/v1/warehouses/", "code"): "WH-A",
    ("/api/v1/warehouses/", "loc_code"): "A01-01-1",
    ("/api/v1/warehouses/", "sku"): "SKU-1",
    ("/api/v1/products/", "sku"): "SKU-1",
    ("/api/v1/products/", "code"): "4006381333931",
    ("/api/v1/barcodes/", "code"): "4006381333931",
}


def known_path_parameters(operation) -> dict[str, str]:  # type: ignore[no-untyped-def]
    names = [p.name for p in operation.path_parameters]
    return {name: value for (prefix, name), value in KNOWN.items()
            if name in names and operation.path.startswith(prefix)}


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_operation_survives_generated_requests(chunk, app, session, make_warehouse, make_rack_zone, make_user,  # type: ignore[no-untyped-def]
                                                     make_token, commit):
    warehouse = make_warehouse("WH-A")
    make_rack_zone(warehouse, "A")
    catalog.create_product("SKU-1", "Widget", barcodes=[catalog.BarcodeSpec("4006381333931")])
    commit()

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations[chunk::CHUNKS]:
        # A fresh supervisor per operation: an earlier one may have revoked its own token or been changed.
        supervisor = make_user(roles=("supervisor",), warehouses=(warehouse,), totp=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        commit()
        strategy = operation.as_strategy()
        known = known_path_parameters(operation)
        if known:
            strategy = st.one_of(strategy, operation.as_strategy(path_parameters=known))

        run_operation(strategy, headers)


def run_operation(strategy, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    @given(case=strategy)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):  # type: ignore[no-untyped-def]
        g.pop("principal", None)  # requests share the app context (and its `g`) of the session fixture
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
