"""The demo's print routes: documents whose place has no printer of its own still find one."""

from __future__ import annotations

from collections.abc import Callable

from wms.layout.models import Warehouse
from wms.printing import services

# Pick orders and tote labels need no rule: they go to the printer at the head of their rack zone,
# carrier labels at pack station PS-1 to the printer standing there (PR-PS1); manifests print at the shipping
# dock (PR-SHIP).
DEMO_PRINT_ROUTES = (
    services.RouteSpec("receipt_label", "RCV", None, "PR-RCV"),
    services.RouteSpec("product_label", "RCV", None, "PR-RCV"),
    services.RouteSpec("location_label", None, None, "PR-RCV"),
    services.RouteSpec("carrier_label", None, None, "PR-PS1"),
    services.RouteSpec("manifest", None, None, "PR-SHIP"),
)


def seed_print_routes(warehouse: Warehouse, echo: Callable[[str], None] = print) -> None:
    """Add the demo's routing rules once; a rule already there is left as the supervisor set it."""
    created = 0
    for spec in DEMO_PRINT_ROUTES:
        kind, zone_id, resource_id, _printer = services.resolve_spec(warehouse, spec)
        if services.find_route(warehouse, kind, zone_id, resource_id) is None:
            services.set_route(warehouse, spec)
            created += 1
    echo(f"print routes: {created} created, {len(DEMO_PRINT_ROUTES) - created} already there")
