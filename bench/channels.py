"""Issue 14's channel figures in one run: `channel_oversell.py` (the oversell window p50/p99 and the units oversold
without and with the advised buffers), then `channel_sync.py` (stock push of 10,000 SKUs per platform next to
its limit's minimum time, and order pull throughput). Each runs as its own process, one after the other, so
neither measures while the other loads the machine; both print the load with each figure.

    .venv/bin/python bench/channels.py [--rounds 3] [--platform P ...]

About 16 minutes on 2 cores. Arguments: `--rounds` goes to channel_oversell.py, `--platform` to channel_sync.py.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", default="3")
    ap.add_argument("--platform", action="append", default=[])
    args = ap.parse_args()
    status = 0
    runs = [[HERE / "channel_oversell.py", "--rounds", args.rounds],
            [HERE / "channel_sync.py", *(a for p in args.platform for a in ("--platform", p))]]
    for argv in runs:
        print(f"\n=== {argv[0].name} {' '.join(map(str, argv[1:]))}", flush=True)
        status = subprocess.run([sys.executable, *map(str, argv)], check=False).returncode or status
    sys.exit(status)


if __name__ == "__main__":
    main()
