"""The demo's shipping boxes, from a padded envelope to a large carton for the 6-bottle water packs.

Carriers need no rows: own-fleet and GS1 labels are built in (wms/outbound/carriers_registry.py) and work with
their defaults (GS1 company prefix 0614141, own-fleet prefix RZ, Paris rounds plus a national one); pack station
PS-1 prints carrier labels on PR-PS1 (route in wms/demo/printing.py).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from wms.db import db
from wms.layout.models import Warehouse
from wms.outbound.boxes import create_box
from wms.outbound.models import Box

# code, name, inner length x width x height (mm), gross weight limit (g), empty weight (g)
DEMO_BOXES = (
    ("ENV", "Padded envelope", (250, 180, 30), 1_000, 20),
    ("S", "Small carton", (200, 150, 100), 3_000, 110),
    ("M", "Medium carton", (300, 200, 150), 8_000, 200),
    ("L", "Large carton", (400, 300, 300), 15_000, 380),
    ("XL", "Extra-large carton", (600, 400, 400), 25_000, 650),
    ("TUBE", "Long carton (yoga mats, posters)", (700, 200, 200), 10_000, 300),
)


def seed_outbound(warehouse: Warehouse, echo: Callable[[str], None] = print) -> None:
    """Add the demo boxes once; a box already there is left as the supervisor set it."""
    created = 0
    for code, name, (length, width, height), limit, tare in DEMO_BOXES:
        if db.session.scalar(select(Box.id).where(Box.code == code)) is not None:
            continue
        create_box(code, name, length, width, height, max_weight_g=limit, tare_weight_g=tare)
        created += 1
    echo(f"boxes: {created} created, {len(DEMO_BOXES) - created} already there")
