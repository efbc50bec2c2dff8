"""The embedded SQLite database: migrations run, the demo layout imports and exports."""

from __future__ import annotations

from pathlib import Path

import yaml
from alembic import command
from sqlalchemy import func, select

from wms import create_app
from wms.db import db
from wms.dbcli import alembic_config
from wms.layout.exporter import dump_yaml, export_layout
from wms.layout.importer import import_layout_file
from wms.layout.models import Location
from wms.layout.services import get_warehouse

DEMO = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"


def test_demo_layout_imports_and_exports_on_sqlite(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/x.db"
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "sqlite-smoke"})
    command.upgrade(alembic_config(url), "head")
    with app.app_context():
        report = import_layout_file(DEMO)
        db.session.commit()
        assert report.counts["zones"]["created"] == 9
        assert db.session.scalar(select(func.count()).select_from(Location)) == 72 + 24 + 24 + 7 + 2 + 4
        exported = yaml.safe_load(dump_yaml(export_layout(get_warehouse("DEMO"))))
        again = import_layout_file(DEMO)
        assert not again.changed
    assert exported == _normalised(yaml.safe_load(DEMO.read_text()))
    db.engine(app).dispose()


def _normalised(data):  # type: ignore[no-untyped-def]
    """The demo file with the defaults the exporter writes out."""
    for zone in data["zones"]:
        for rack in zone.get("racks", []):
            rack.setdefault("start_m", 0)
            rack["bay_width_m"] = int(rack["bay_width_m"]) if rack["bay_width_m"] == int(rack["bay_width_m"]) \
                else rack["bay_width_m"]
    return data
