"""`wms channels`: sales channels and their platforms from the command line (docs/channels.md), on the
services the pages and the jobs share (wms.channels.services). Errors are messages with a nonzero exit."""

from __future__ import annotations

import click

from wms.channels.cli import connect, status, sync


@click.group("channels")
def channels_cli() -> None:
    """Sales channels and their platforms: add, test, sync now, SKU mapping, held orders, sync log.

    Credentials: --credential NAME=VALUE, one option per field (--consumer-key ...), the environment
    (WMS_CHANNEL_<FIELD>), or typed at a hidden prompt; never printed. Refusals are messages with exit 1 and
    write nothing; `sync` and `test` exit 1 when the platform failed. list, show, sync and log take --json.
    """


for command in (connect.add, connect.set_, status.list_, status.show, sync.test, sync.sync, sync.map_,
                sync.import_, sync.held, status.log):
    channels_cli.add_command(command)
