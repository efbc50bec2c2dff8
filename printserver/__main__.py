"""`printserver` entry point."""

from __future__ import annotations

import sys


def main() -> int:
    sys.stderr.write("printserver: the site print daemon is not built yet (issue: the printer fleet).\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
