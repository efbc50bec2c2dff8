"""The `wms` command: Flask's CLI for this app plus the WMS command groups."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_cli(app: Flask) -> None:
    """Attach every area's command group to the app's CLI."""
    from wms.dbcli import db_cli

    app.cli.add_command(db_cli)
    for module, name in (
        ("wms.layout.cli", "layout_cli"),
        ("wms.auth.cli", "users_cli"),
        ("wms.demo", "demo_cli"),
    ):
        try:
            mod = __import__(module, fromlist=[name])
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        app.cli.add_command(getattr(mod, name))


def _create_app() -> Flask:
    from wms import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Rack-zone WMS command line."""
