"""`wms layout` commands."""

from __future__ import annotations

import click


@click.group("layout")
def layout_cli() -> None:
    """Warehouse layout import and export (YAML/JSON)."""
