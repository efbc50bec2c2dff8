"""`wms demo` commands."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from wms.db import db


@click.group("demo")
def demo_cli() -> None:
    """The demo warehouse (seed, reset)."""


@demo_cli.command("seed")
@click.option("--reset", is_flag=True,
              help="First erase EVERY row of this database (schema down to base and up to head again).")
@click.option("--yes", is_flag=True, help="Do not ask before --reset erases the database.")
@with_appcontext
def seed(reset: bool, yes: bool) -> None:
    """Create the demo warehouse, people, products and stock (a second run changes nothing)."""
    from alembic import command

    from wms.dbcli import alembic_config
    from wms.demo.seed import seed_demo

    url = current_app.config["DATABASE_URL"]
    if reset:
        if not yes:
            click.confirm(f"Erase every row of {_safe(url)}?", abort=True)
        db.engine(current_app).dispose()
        command.downgrade(alembic_config(url), "base")
        command.upgrade(alembic_config(url), "head")
        click.echo("database erased and migrated to head")
    warehouse = seed_demo(echo=click.echo)
    db.session.commit()
    click.echo(f"demo warehouse {warehouse.code} ready")


@demo_cli.command("banner")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True)
def banner(base_url: str) -> None:
    """Print where the demo runs and how to sign in."""
    from wms.demo.users import DEMO_USERS

    base = base_url.rstrip("/")
    lines = [
        "",
        "Rack-zone WMS demo is running (plain HTTP, so the demo turns off Secure cookies; never do that in production)",
        f"  supervisor pages  {base}/",
        f"  handheld          {base}/hh/",
        f"  API description   {base}/api/v1/openapi.json",
        "",
        "Demo sign-ins (password; badge + PIN on the handheld):",
    ]
    for user in DEMO_USERS:
        badge = f"  badge {user.badge} PIN {user.pin}" if user.badge else ""
        totp = "  (enrols an authenticator app (TOTP) at first sign-in)" if user.enrols_totp else ""
        lines.append(f"  {user.role.value:<11}{user.username:<12}{user.password:<22}{badge}{totp}")
    lines += [
        "",
        "The site print daemon runs with virtual printers: each label becomes a file under instance/printserver/labels/",
        f"  (printer fleet: {base}/warehouses/DEMO/printers). The webhook worker delivers channel events.",
    ]
    click.echo("\n".join(lines))


def _safe(url: str) -> str:
    """The URL without its password, for prompts."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
