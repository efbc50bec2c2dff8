"""Which pick lanes serve an order line: a pure rule, unit-tested without a database.

The rule, in order:
1. Only pick-face lanes of rack zones in the order's warehouse, with available units (on hand - reserved).
2. If one lane holds the whole line, take the lane with the FEWEST available units among those that can
   (it empties small lanes first and keeps full lanes for big lines); ties go to the lane first on the route
   (pick aisle, then position from the zone head, then level).
3. Otherwise take lanes by MOST available first (fewest lanes touched), ties again by route position.
4. What no lane can give stays backordered and is allocated when stock arrives.
Flow-rack lanes are first-in first-out by construction; expiry-first (FEFO) joins this rule with lots.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LaneStock:
    quant_id: int
    available: int
    aisle_index: int = 0
    position_m: float = 0.0
    level: int = 0

    @property
    def route_key(self) -> tuple[int, float, int]:
        return (self.aisle_index, self.position_m, self.level)


def choose_lanes(lanes: list[LaneStock], quantity: int) -> list[tuple[int, int]]:
    """(quant_id, units) to reserve for `quantity` units; may give fewer when stock is short."""
    if quantity <= 0:
        return []
    usable = [lane for lane in lanes if lane.available > 0]
    whole = [lane for lane in usable if lane.available >= quantity]
    if whole:
        best = min(whole, key=lambda lane: (lane.available, lane.route_key))
        return [(best.quant_id, quantity)]
    taken: list[tuple[int, int]] = []
    remaining = quantity
    for lane in sorted(usable, key=lambda lane: (-lane.available, lane.route_key)):
        if remaining == 0:
            break
        units = min(lane.available, remaining)
        taken.append((lane.quant_id, units))
        remaining -= units
    return taken
