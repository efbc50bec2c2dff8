"""`wms layout` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import IntegrityError

from wms.db import db
from wms.errors import NotFound, from_integrity_error


@click.group("layout")
def layout_cli() -> None:
    """Warehouse layout import and export (YAML/JSON)."""


@layout_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Remove what the database has and the file no longer lists.")
@click.option("--dry-run", is_flag=True, help="Check and report, then roll back.")
@with_appcontext
def import_command(file: Path, prune: bool, dry_run: bool) -> None:
    """Create or update a warehouse from a layout FILE (YAML or JSON)."""
    from wms.layout.importer import import_layout_file
    from wms.layout.layoutfile import LayoutFileInvalid, parse_layout

    try:
        zones = len(parse_layout(file.read_text(encoding="utf-8"), file.name).zones)
        with click.progressbar(length=zones, label=f"Importing {file.name}", file=sys.stderr,
                               item_show_func=lambda z: z) as bar:
            report = import_layout_file(file, prune=prune, progress=lambda zone: bar.update(1, zone))
    except LayoutFileInvalid as exc:
        db.session.rollback()
        click.echo(f"{file}: {len(exc.problems)} problem(s), nothing was written:", err=True)
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    except IntegrityError as exc:
        # Rows the layout does not own (ledger lines, tasks) can still point at what --prune would remove.
        db.session.rollback()
        click.echo(f"{file}: the database refused the change, nothing was written: "
                   f"{from_integrity_error(exc).detail}", err=True)
        sys.exit(2)
    except UnicodeDecodeError as exc:
        click.echo(f"{file}: not UTF-8 text ({exc.reason}); nothing was written.", err=True)
        sys.exit(2)
    except BaseException:
        db.session.rollback()
        raise
    for line in report.summary_lines():
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("dry run: nothing was written")
    else:
        db.session.commit()


@layout_cli.command("export")
@click.option("--warehouse", "code", required=True, help="Warehouse code.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="File to write (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default=None,
              help="Default: from the output suffix, else yaml.")
@with_appcontext
def export_command(code: str, output: Path | None, fmt: str | None) -> None:
    """Write a warehouse as a layout file."""
    from wms.layout.exporter import dump_json, dump_yaml, export_layout
    from wms.layout.services import get_warehouse

    try:
        warehouse = get_warehouse(code)
    except NotFound as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
    fmt = fmt or ("json" if output is not None and output.suffix.lower() == ".json" else "yaml")
    layout = export_layout(warehouse)
    text = dump_json(layout) if fmt == "json" else dump_yaml(layout)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
