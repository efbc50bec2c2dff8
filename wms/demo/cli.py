"""`wms demo` commands."""

from __future__ import annotations

import click


@click.group("demo")
def demo_cli() -> None:
    """The demo warehouse (seed, reset)."""
