"""Random rack zones and pick lists for the routing tests."""

from __future__ import annotations

import random

from wms.planning.routing import Pick, RackZoneLayout


def random_instance(
    rng: random.Random, max_aisles: int, max_picks: int, middles: tuple[float, ...] = ()
) -> tuple[RackZoneLayout, list[Pick]]:
    """A zone of length 10 with picks often on cross aisles, at the ends and stacked on one place."""
    aisles = rng.randint(1, max_aisles)
    layout = RackZoneLayout(aisles, 10.0, rng.choice([1.0, 2.5, 6.0]), rng.randrange(aisles), middles)
    special = [0.0, 10.0, *middles]
    picks = [
        Pick(
            rng.randrange(aisles),
            rng.choice([*special, round(rng.uniform(0, 10), 2), round(rng.uniform(0, 10), 2)]),
            f"p{i}",
        )
        for i in range(rng.randint(0, max_picks))
    ]
    return layout, picks
