"""`wms printing` commands: site tokens for print daemons, and a look at recent jobs."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from wms.printing.models import JobState


@click.group("printing")
def printing_cli() -> None:
    """Print daemons and print jobs."""


@printing_cli.command("site-token")
@click.option("--warehouse", "warehouse_code", required=True, metavar="CODE", help="The site the daemon serves.")
@click.option("--name", required=True, help="What the token is for, e.g. 'printserver hall 1'.")
@with_appcontext
def site_token(warehouse_code: str, name: str) -> None:
    """Create a print_site token for one warehouse and print it (shown only this once) on stdout."""
    from wms.auth.tokens import issue_token
    from wms.db import db
    from wms.enums import TokenPurpose
    from wms.errors import DomainError
    from wms.layout.services import get_warehouse

    try:
        warehouse = get_warehouse(warehouse_code)
        token, raw = issue_token(name=name, purpose=TokenPurpose.PRINT_SITE, warehouse_id=warehouse.id)
    except DomainError as err:
        db.session.rollback()
        raise click.ClickException(err.detail) from None
    db.session.commit()
    click.echo(f"print_site token {token.prefix} for {warehouse.code} created", err=True)
    click.echo(raw)


@printing_cli.command("jobs")
@click.option("--warehouse", "warehouse_code", default=None, metavar="CODE", help="Default: every warehouse.")
@click.option("--state", type=click.Choice([s.value for s in JobState]), default=None)
@click.option("--printer", "printer_code", default=None, metavar="CODE")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@with_appcontext
def list_jobs(warehouse_code: str | None, state: str | None, printer_code: str | None, limit: int) -> None:
    """Recent print jobs, newest first: id, warehouse, state, printer (-> the one that printed it), attempts,
    kind, reference, possible duplicate, last error."""
    from sqlalchemy import select

    from wms.db import db
    from wms.errors import DomainError
    from wms.layout.models import Warehouse
    from wms.layout.services import get_warehouse
    from wms.printing import services

    try:
        warehouse = get_warehouse(warehouse_code) if warehouse_code else None
        found = services.list_jobs(warehouse, state=state, printer_code=printer_code, limit=limit)
    except DomainError as err:
        raise click.ClickException(err.detail) from None
    codes = {wid: code for wid, code in db.session.execute(select(Warehouse.id, Warehouse.code))}
    for job in found:
        printer = job.printer.code
        if job.printed_by is not None and job.printed_by_id != job.printer_id:
            printer += f"->{job.printed_by.code}"
        click.echo("\t".join([
            str(job.id), codes[job.warehouse_id], job.state.value, printer, str(job.attempts),
            job.document_kind.value, job.reference,
            "dup?" if job.possible_duplicate else "-", (job.last_error or "-").replace("\n", " ")[:120],
        ]))
