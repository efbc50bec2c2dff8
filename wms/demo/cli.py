"""`wms demo` commands."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

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
@click.option("--till-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where the demo till's token is written (mode 0600). Default: the DEMO_TILL_TOKEN_FILE "
                   "setting, else instance/demo/till-token.")
@with_appcontext
def seed(reset: bool, yes: bool, till_token_file: Path | None) -> None:
    """Create the demo warehouse, people, products and stock, and the shop SHOP with its till TILL (a second run
    changes nothing)."""
    from alembic import command

    from wms.dbcli import alembic_config
    from wms.demo.seed import seed_demo
    from wms.demo.shop import default_token_file

    url = current_app.config["DATABASE_URL"]
    if reset:
        if not yes:
            click.confirm(f"Erase every row of {_safe(url)}?", abort=True)
        db.engine(current_app).dispose()
        command.downgrade(alembic_config(url), "base")
        command.upgrade(alembic_config(url), "head")
        click.echo("database erased and migrated to head")
    warehouse = seed_demo(echo=click.echo, till_token_file=(till_token_file or default_token_file()).absolute())
    db.session.commit()
    click.echo(f"demo warehouse {warehouse.code} ready")


@demo_cli.command("banner")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--till-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The till token file the seed wrote (default as for `wms demo seed`).")
@with_appcontext
def banner(base_url: str, till_token_file: Path | None) -> None:
    """Print where the demo runs, how to sign in, and how the shop's till calls the API."""
    from wms.demo.shop import default_token_file
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
    lines += till_lines(base, (till_token_file or default_token_file()).absolute())
    click.echo("\n".join(lines))


def till_lines(base: str, token_file: Path) -> list[str]:
    """The banner's part on the shop's till: where its token is and curl lines that use it (docs/pos.md)."""
    from wms.demo.shop import SHOP_CODE, TILL_CODE

    lines = ["", f"The shop {SHOP_CODE} (stock on one shelf) sells at the till: channel {TILL_CODE} (docs/pos.md)."]
    if not token_file.is_file():
        return lines + [f"  Its token file {token_file} is missing: `wms demo seed` makes a new token there."]
    auth = f'-H "Authorization: Bearer $(cat {shlex.quote(str(token_file))})"'
    sale = json.dumps({"reference": "T-0001", "lines": [{"sku": "DEMO-040", "quantity": 1}]}, separators=(",", ":"))
    stock = f"{base}/api/v1/warehouses/{SHOP_CODE}"
    return lines + [
        f"  Its token is in {token_file} (mode 0600). A sale (same key again: replayed, not sold twice):",
        f"    curl -sS -X POST {stock}/sales {auth} -H 'Idempotency-Key: demo-T-0001' "
        f"-H 'Content-Type: application/json' -d '{sale}'",
        "  The shelf now, and a cursor to follow from:",
        f"    curl -sS '{stock}/stock/changes' {auth}",
        "  What changes after that cursor (waits up to 25 s; pass each answer's cursor as the next `after`):",
        f"    curl -sS '{stock}/stock/changes?after=CURSOR&wait=25' {auth}",
    ]


def _safe(url: str) -> str:
    """The URL without its password, for prompts."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
