"""The `wms` command: Flask's CLI for this app plus the WMS command groups."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register_cli(app: Flask) -> None:
    """Attach every area's command group to the app's CLI."""
    from wms.auth.cli import users_cli
    from wms.channels.cli import channels_cli
    from wms.cryptocli import secrets_cli
    from wms.csvio.cli import export_cli, import_cli
    from wms.dbcli import db_cli
    from wms.demo.cli import demo_cli
    from wms.jobs.cli import jobs_cli
    from wms.layout.cli import layout_cli
    from wms.printing.cli import printing_cli
    from wms.webhooks.cli import webhooks_cli

    for group in (db_cli, layout_cli, users_cli, demo_cli, webhooks_cli, import_cli, export_cli, printing_cli,
                  secrets_cli, jobs_cli, channels_cli):
        app.cli.add_command(group)


def _create_app() -> Flask:
    from wms import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False, load_dotenv=False)
def main() -> None:
    """Rack-zone WMS command line."""
