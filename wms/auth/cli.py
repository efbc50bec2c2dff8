"""`wms users` commands."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from wms.enums import Role


@click.group("users")
def users_cli() -> None:
    """People and their roles, badges and second factors."""


def _stdin_line(what: str) -> str:
    """One line of stdin: secrets come through a pipe or a prompt, never through argv (visible in `ps`)."""
    if sys.stdin.isatty():
        return click.prompt(what, hide_input=True, err=True)
    line = sys.stdin.readline()
    if not line:
        raise click.UsageError(f"Expected the {what} on standard input.")
    return line.rstrip("\r\n")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]),
              help="A role; repeat for several.")
@click.option("--display-name", default="", help="Name shown in the interface (default: the username).")
@click.option("--all-warehouses", is_flag=True, help="Give access to every warehouse.")
@click.option("--warehouse", "warehouses", multiple=True, metavar="CODE", help="A warehouse code; repeat for several.")
@click.option("--badge", default=None, help="Badge code for handheld sign-in (needs --pin-stdin).")
@click.option("--pin-stdin", is_flag=True, help="Read the badge PIN from the line after the password on stdin.")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from the first line of stdin (required: never pass secrets as arguments).")
@with_appcontext
def create(username: str, roles: tuple[str, ...], display_name: str, all_warehouses: bool,
           warehouses: tuple[str, ...], badge: str | None, pin_stdin: bool, password_stdin: bool) -> None:
    """Create USERNAME with roles, warehouses, a password and optionally a badge + PIN."""
    from wms.auth import services
    from wms.db import db
    from wms.errors import DomainError

    if all_warehouses and warehouses:
        raise click.UsageError("Give either --all-warehouses or --warehouse, not both.")
    if bool(badge) != pin_stdin:
        raise click.UsageError("--badge and --pin-stdin go together.")
    password = _stdin_line("password")
    pin = _stdin_line("PIN") if pin_stdin else None
    try:
        user = services.create_user(
            username, roles=roles, display_name=display_name, password=password,
            warehouses=services.warehouses_by_code(warehouses), all_warehouses=all_warehouses,
            badge=badge, pin=pin,
        )
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.detail) from None
    db.session.commit()
    click.echo(f"created user {user.username} (id {user.id}) with roles {', '.join(sorted(user.roles))}")


def _user_named(username: str):  # type: ignore[no-untyped-def]
    """The user with this username, or a command-line error naming it."""
    from wms.auth import services

    user = services.find_user_by_username(username)
    if user is None:
        raise click.ClickException(f"No user {username}.")
    return user


@users_cli.command("reset-2fa")
@click.argument("username")
@with_appcontext
def reset_2fa(username: str) -> None:
    """Forget USERNAME's TOTP and recovery codes and end his sessions; he enrols again at next sign-in."""
    from wms.auth import services
    from wms.db import db

    user = _user_named(username)
    services.reset_second_factor(user)
    db.session.commit()
    click.echo(f"second factor of {user.username} reset; every session of theirs has ended")


@users_cli.command("sign-out-everywhere")
@click.argument("username")
@with_appcontext
def sign_out_everywhere(username: str) -> None:
    """End every session of USERNAME at once (pages, API and handhelds)."""
    from wms.auth import services
    from wms.db import db

    user = _user_named(username)
    ended = services.sign_out_everywhere(user)
    db.session.commit()
    click.echo(f"{user.username} is signed out everywhere ({ended} session(s) ended)")


@users_cli.command("list")
@click.option("--search", default="", help="Part of the username or display name.")
@with_appcontext
def list_users(search: str) -> None:
    """List users: username, roles, warehouses, badge, second factor, status."""
    from wms.auth import services

    for user in services.search_users(search, limit=10_000):
        codes = services.warehouse_codes(user)
        scope = "*" if codes is None else ",".join(codes) or "-"
        click.echo("\t".join([
            user.username,
            ",".join(sorted(user.roles)),
            scope,
            "badge" if user.badge_code else "-",
            "2fa" if user.has_totp else "-",
            "active" if user.active else "inactive",
        ]))
