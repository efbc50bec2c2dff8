"""Every revision upgrades and downgrades on both backends, and the models match the migrated schema."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests import pg
from wms.db import make_engine
from wms.dbcli import alembic_config


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, pg_admin_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"wms_migrations_{os.getpid()}"
    url = pg.create_database(pg_admin_url, name)
    yield url
    pg.drop_database(pg_admin_url, name)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_and_upgrade_again(empty_database: str) -> None:
    cfg = alembic_config(empty_database)
    command.upgrade(cfg, "head")
    assert "stock_ledger" in _tables(empty_database)
    command.check(cfg)  # raises if models and schema differ
    command.downgrade(cfg, "base")
    assert _tables(empty_database) == set()
    command.upgrade(cfg, "head")
    command.check(cfg)


def test_each_revision_steps_down_and_up_one_at_a_time(empty_database: str) -> None:
    cfg = alembic_config(empty_database)
    revisions = list(reversed(list(ScriptDirectory.from_config(cfg).walk_revisions())))
    for rev in revisions:
        command.upgrade(cfg, rev.revision)
    for rev in reversed(revisions):
        command.downgrade(cfg, rev.down_revision or "base")
        command.upgrade(cfg, rev.revision)
        command.downgrade(cfg, rev.down_revision or "base")
    assert _tables(empty_database) == set()


def test_revision_files_are_date_prefixed_and_single_headed() -> None:
    cfg = alembic_config("sqlite://")
    script = ScriptDirectory.from_config(cfg)
    assert len(script.get_heads()) == 1
    for path in Path(script.versions).glob("*.py"):
        stamp = path.name.split("_")[0]
        assert len(stamp) == 8 and stamp.isdigit(), path.name
