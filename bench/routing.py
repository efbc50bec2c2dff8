"""Picker routing: route length above the optimum and routing time, single-block and two-block zones."""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wms.planning.routing import (  # noqa: E402
    Pick,
    RackZoneLayout,
    Route,
    route_heuristic,
    route_largest_gap,
    route_picks,
    route_s_shape,
)

SEED = 20261123
INSTANCES = 250
AISLES = 20
PICKS = 60
AISLE_LENGTH_M = 30.0
AISLE_WIDTH_M = 3.0

Router = Callable[[RackZoneLayout, list[Pick]], Route]
METHODS: list[tuple[str, Router]] = [
    ("exact DP (our router)", route_picks),
    ("heuristic NN+2opt+Or-opt", lambda layout, picks: route_heuristic(layout, picks)),
    ("heuristic, 20 kicks", lambda layout, picks: route_heuristic(layout, picks, restarts=20)),
    ("S-shape", route_s_shape),
    ("largest gap", route_largest_gap),
]


def random_picks(rng: random.Random) -> list[Pick]:
    """Sixty picks spread uniformly over the zone, positions on a 10 cm grid."""
    return [
        Pick(rng.randrange(AISLES), round(rng.uniform(0, AISLE_LENGTH_M), 1), f"p{i}") for i in range(PICKS)
    ]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def run(layout: RackZoneLayout, title: str) -> None:
    """Route the same random pick lists with every method and print the table."""
    rng = random.Random(SEED)
    gaps: dict[str, list[float]] = {name: [] for name, _ in METHODS}
    times: dict[str, list[float]] = {name: [] for name, _ in METHODS}
    for _ in range(INSTANCES):
        picks = random_picks(rng)
        lengths = {}
        for name, router in METHODS:
            start = time.perf_counter()
            route = router(layout, picks)
            times[name].append((time.perf_counter() - start) * 1000)
            lengths[name] = route.length_m
        optimum = lengths[METHODS[0][0]]
        for name, _ in METHODS:
            gaps[name].append(100 * (lengths[name] / optimum - 1))
    print(
        f"\n{title}: {AISLES} aisles x {AISLE_LENGTH_M:g} m, {PICKS} picks, {INSTANCES} instances, seed {SEED}"
    )
    print("optimum = exact frontier DP (proved equal to Held-Karp on small instances by the unit tests)")
    header = f"{'method':<26} {'mean gap %':>10} {'max gap %':>10} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for name, _ in METHODS:
        print(
            f"{name:<26} {statistics.fmean(gaps[name]):>10.2f} {max(gaps[name]):>10.2f} "
            f"{percentile(times[name], 50):>8.2f} {percentile(times[name], 99):>8.2f}"
        )


def main() -> None:
    """Print both tables."""
    started = time.perf_counter()
    run(RackZoneLayout(AISLES, AISLE_LENGTH_M, AISLE_WIDTH_M), "single block")
    run(
        RackZoneLayout(AISLES, AISLE_LENGTH_M, AISLE_WIDTH_M, middle_cross_aisles_m=(AISLE_LENGTH_M / 2,)),
        "two blocks (middle cross aisle at L/2)",
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\ntotal bench time {time.perf_counter() - started:.1f} s, 1-minute load average {load:.1f}")
    print("times are wall-clock (time.perf_counter) and grow with the machine's load")


if __name__ == "__main__":
    main()
