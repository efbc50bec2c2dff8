"""The oversell window and the units oversold, with the real sync: four platform stand-ins (PrestaShop,
WooCommerce, Shopify, Mirakl) and the till selling the same SKUs, the race harness of tests/channel_race.py.

Everything is what production runs, on one fresh PostgreSQL database: the WMS app served over HTTP (werkzeug's
threaded server, so the stand-ins' signed webhooks POST to /api/v1/channels/<code>/platform-webhooks and the
till POSTs /warehouses/DEMO/sales), the sync in a `wms jobs worker` subprocess (procrastinate, its periodic
dispatcher every 10 s), pulls due every `--poll` s (the connectors' option poll_interval_s; Mirakl's stand-in
enforces its documented OR11/OF24 frequency with its minute shrunk to 1.2 s, and the connector respects it).

1. The window, `--rounds` rounds: a one-unit sale on every origin at once (each on its own SKU), and the time until
   every OTHER channel's stand-in shows the new figure; p50/p99/max over all, and per origin. There is no faster
   path here to serve as a baseline, so the figures are absolute, printed with the machine's load (os.getloadavg)
   and beside what bounds each: the 1 s push debounce after a webhook or till sale; for a polled platform the wait
   for the dispatcher's next 10 s tick and the poll interval (and what the real platform allows: PrestaShop is
   polled every 300 s by default, Mirakl's OR11 at most once a minute).
2. Oversold, `--rounds` races without buffers and then as many with the buffer advised for the window (the
   longest measured, at least the polled bound): shoppers on every origin (2 per stand-in, 1 at the till) each
   buying every SKU in turn, a given SKU at most once per `--gap` × 0.9 s; the same stock in every race (`--left`
   units above the advised buffer), each race long enough for the demand to exceed it (at least `--race` s);
   after the sync converged, the units taken in beyond stock (backordered here) are counted. Between races the
   orders are cancelled here and the stock counted back.
Usage: python bench/channel_oversell.py [--rounds 3] [--race 20] [--gap 8] [--left 12] [--poll 1]
       (WMS_BENCH_PG_ADMIN_URL to pick the server)
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402

from tests.channel_race import DISPATCH_TICK_S, PLATFORMS, TILL, Probe, Race, diagnose, percentile  # noqa: E402
from wms import create_app  # noqa: E402
from wms.dbcli import alembic_config  # noqa: E402

ADMIN = os.environ.get("WMS_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "wms_bench_oversell"
PER_PLATFORM = 2
JITTER = 0.1


def fresh_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    url = ADMIN.rsplit("/", 1)[0] + "/" + DB
    command.upgrade(alembic_config(url), "head")
    from wms.jobs import admin

    admin.apply_schema(url)
    return url


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} CPUs"


def race_round(race: Race, buffer: int, stock: int, seconds: float, args: argparse.Namespace
               ) -> tuple[int, int, int, str]:
    """One race at `buffer` units: (units oversold, sales, refused checkouts, load at the end)."""
    race.cancel_open_orders()
    race.restock(stock)
    race.set_buffers(buffer)
    left = race.converge(60)
    if left:
        raise SystemExit(f"not converged before the race: {left[:5]}")
    result = race.run_shoppers(seconds, gap_s=args.gap, jitter=JITTER, per_platform=PER_PLATFORM)
    left = race.converge(90)
    if left:
        raise SystemExit(f"not converged after the race: {left[:5]}\n" + "\n".join(diagnose(race)))
    return sum(race.oversold().values()), len(result.sales), result.refused, load()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--race", type=float, default=20.0,
                    help="seconds each race lasts at least (longer when the demand needs it to exceed the stock)")
    ap.add_argument("--gap", type=float, default=8.0, help="seconds between one shopper's buys of one SKU")
    ap.add_argument("--left", type=int, default=12, help="units per SKU above the advised buffer")
    ap.add_argument("--poll", type=int, default=1, help="the connectors' poll_interval_s")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # a stop still stops the worker and drops the database
    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-oversell", "DATABASE_ENGINE_OPTIONS": {
        "pool_size": 12, "max_overflow": 8}})
    from wms.jobs import engine

    engine.bind_app(app)
    race = Race(app, skus=5, stock=30, poll_interval_s=args.poll).start()
    try:
        if race.converge(60):
            raise SystemExit("the first push never converged")
        print(f"oversell window, {args.rounds} rounds x {len(race.origins)} origins, pulls every {args.poll} s"
              " (dispatcher tick 10 s), push debounce 1 s")
        windows: dict[str, list[float]] = {o: [] for o in race.origins}
        all_probes: list[Probe] = []
        for n in range(args.rounds):
            race.restock(30)
            if race.converge(60):
                raise SystemExit("not converged between probes")
            probes = race.probe_round()
            all_probes += probes
            for p in probes:
                if p.window_s is None:
                    raise SystemExit(f"{p.origin}: the sale never reached every channel ({p.per_channel})")
                windows[p.origin].append(p.window_s)
            print(f"  round {n + 1}: " + ", ".join(f"{p.origin} {p.window_s:.2f} s" for p in probes)
                  + f"  ({load()})")
        every = [w for ws in windows.values() for w in ws]
        print(f"{'sale on':14}{'p50 s':>8}{'p99 s':>8}{'max s':>8}  what bounds it")
        floors = {"prestashop": f"pull waits 0-{DISPATCH_TICK_S:.0f} s for a tick, poll {args.poll} s"
                                " (a real shop: poll_interval_s 300 by default)",
                  "mirakl": f"pull waits 0-{DISPATCH_TICK_S:.0f} s for a tick, poll {args.poll} s (real OR11: at"
                            " most once a minute, advised every 5 min)",
                  "woocommerce": "webhook, then the 1 s push debounce", "shopify": "webhook, then the 1 s push debounce",
                  TILL: "the 1 s push debounce"}
        for origin in race.origins:
            ws = windows[origin]
            print(f"{origin:14}{percentile(ws, .5):8.2f}{percentile(ws, .99):8.2f}{max(ws):8.2f}  {floors[origin]}")
        print(f"{'all':14}{percentile(every, .5):8.2f}{percentile(every, .99):8.2f}{max(every):8.2f}  ({load()})")

        shoppers = race.shoppers(PER_PLATFORM)
        bound = race.window_bound(all_probes)
        advised = Race.advised_buffer(bound, shoppers=shoppers, gap_s=args.gap, jitter=JITTER)
        stock = advised + args.left
        rate = shoppers / args.gap
        seconds = max(args.race, 1.2 * stock / rate)     # long enough for the demand to exceed the stock
        print(f"oversold: {shoppers} shoppers ({PER_PLATFORM} per stand-in, 1 at the till), each SKU bought at up to"
              f" {rate:.2f} units/s over all channels, stock {stock} per SKU x {len(race.skus)} SKUs, races of"
              f" {seconds:.0f} s; window to cover {bound:.2f} s (max of the longest measured and tick"
              f" {DISPATCH_TICK_S:.0f} s + poll {args.poll} s + the longest pushed window);"
              f" advised buffer = {shoppers} x (floor(1.5 x {bound:.2f} s / "
              f"{args.gap * (1 - JITTER):.1f} s) + 1) = {advised} units")
        print(f"{'buffer_units':>12}{'round':>7}{'oversold':>10}{'sales':>7}{'refused':>9}")
        for buffer in (0, advised):
            total = 0
            for n in range(args.rounds):
                oversold, sales, refused, at = race_round(race, buffer, stock, seconds, args)
                total += oversold
                print(f"{buffer:12d}{n + 1:7d}{oversold:10d}{sales:7d}{refused:9d}  ({at})")
            print(f"{buffer:12d}{'all':>7}{total:10d}")
        bad = {kind: s.violations for kind, s in race.standins.items() if s.violations}
        if bad:
            print(f"stand-in schema violations: {bad}")
        print("platforms:", ", ".join(PLATFORMS), "+ the till; webhooks: woocommerce, shopify; polled: prestashop,"
              " mirakl")
    finally:
        race.stop()
        engine.close_pool()
        from wms.db import db

        db.engine(app).dispose()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
