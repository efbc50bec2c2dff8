"""`wms users` commands."""

from __future__ import annotations

import click


@click.group("users")
def users_cli() -> None:
    """People and their roles, badges and second factors."""
