"""`printserver` entry point: `printserver --config /etc/wms/printserver.toml` (or PRINTSERVER_* variables)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from printserver.config import ConfigError, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="printserver", description="The WMS site print daemon.")
    parser.add_argument("--config", default=os.environ.get("PRINTSERVER_CONFIG"),
                        help="TOML file (PRINTSERVER_CONFIG); PRINTSERVER_* variables override it")
    parser.add_argument("--log-level", default=os.environ.get("PRINTSERVER_LOG_LEVEL", "INFO"))
    parser.add_argument("--check", action="store_true",
                        help="read the configuration, reach the WMS, list the site's printers, and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    try:
        settings = load(args.config)
    except ConfigError as exc:
        sys.stderr.write(f"printserver: {exc}\n")
        return 2

    from printserver.client import WmsClient, WmsRejected, WmsUnreachable
    from printserver.daemon import Daemon

    if args.check:
        try:
            printers = WmsClient(settings).printers()
        except (WmsUnreachable, WmsRejected) as exc:
            sys.stderr.write(f"printserver: {exc}\n")
            return 1
        for printer in printers:
            print(f"{printer['code']}\t{printer['connection']}\tbackup={printer.get('backup') or '-'}"
                  f"\t{printer.get('status', '?')}")
        return 0

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        logging.getLogger("printserver").info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon = Daemon(settings)
    daemon.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        daemon.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
