"""Layout files onto PostgreSQL: the demo imports, re-imports change nothing, round trips are exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from wms.db import db
from wms.layout.exporter import dump_json, dump_yaml, export_layout
from wms.layout.importer import import_layout, import_layout_file
from wms.layout.layoutfile import LayoutFileInvalid
from wms.layout.models import Aisle, Location, LocationFace, Rack, Resource, Warehouse, Zone
from wms.layout.services import get_warehouse
from wms.printing.models import Printer

DEMO = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"
TABLES = (Warehouse, Zone, Aisle, Rack, Location, LocationFace, Resource, Printer)


def canonical_dump(code: str) -> dict[str, Any]:
    """Everything the layout holds, by codes, independent of ids and of the warehouse code."""
    wh = get_warehouse(code)
    zones = {z.id: z for z in db.session.scalars(select(Zone).where(Zone.warehouse_id == wh.id))}
    aisles = {a.id: a for a in db.session.scalars(select(Aisle).where(Aisle.zone_id.in_(zones)))}
    racks = {r.id: r for r in db.session.scalars(select(Rack).where(Rack.zone_id.in_(zones)))}
    resources = {r.id: r for r in db.session.scalars(select(Resource).where(Resource.warehouse_id == wh.id))}
    printers = {p.id: p for p in db.session.scalars(select(Printer).where(Printer.warehouse_id == wh.id))}
    locations = db.session.scalars(select(Location).where(Location.warehouse_id == wh.id)).all()
    return {
        "warehouse": (wh.name, wh.timezone, wh.address),
        "zones": sorted((z.code, z.name, z.kind.value, z.seq, z.aisle_length_m, list(z.cross_aisles_m))
                        for z in zones.values()),
        "aisles": sorted((zones[a.zone_id].code, a.code, a.face.value, a.seq) for a in aisles.values()),
        "racks": sorted((zones[r.zone_id].code, r.code, aisles[r.pick_aisle_id].code,
                         aisles[r.replenish_aisle_id].code, r.bays, r.levels, r.bay_width_m, r.start_m)
                        for r in racks.values()),
        "locations": sorted((loc.code, zones[loc.zone_id].code, racks[loc.rack_id].code if loc.rack_id else None,
                             loc.bay, loc.level, loc.aisle_index, loc.position_m, loc.capacity_units, loc.active,
                             sorted((f.face.value, aisles[f.aisle_id].code) for f in loc.faces))
                            for loc in locations),
        "resources": sorted((r.code, r.kind.value, r.name, zones[r.zone_id].code if r.zone_id else None,
                             aisles[r.aisle_id].code if r.aisle_id else None) for r in resources.values()),
        "printers": sorted((p.code, p.name, p.place.value, zones[p.zone_id].code if p.zone_id else None,
                            resources[p.resource_id].code if p.resource_id else None, p.language.value,
                            p.connection, printers[p.backup_printer_id].code if p.backup_printer_id else None)
                           for p in printers.values()),
    }


def row_counts() -> dict[str, int]:
    return {t.__tablename__: db.session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def test_demo_file_imports_every_lane_and_printer(session):  # type: ignore[no-untyped-def]
    report = import_layout_file(DEMO)
    assert report.counts["zones"]["created"] == 9
    assert report.counts["racks"]["created"] == 7
    lanes = 4 * 6 * 3 + 2 * 3 * 4 + 6 * 4
    floor = 2 + 3 + 1 + 1 + 2 + 4  # receiving, sas, shipping, quarantine, returns, reserve
    assert report.counts["locations"]["created"] == lanes + floor
    assert session.scalar(select(func.count()).select_from(Location)) == lanes + floor
    lane = session.scalar(select(Location).where(Location.code == "B02-02-3"))
    assert lane.position_m == pytest.approx(8.5 + 1.5 * 2.5)
    assert {f.face.value: f.aisle.code for f in lane.faces} == {"pick": "BP1", "replenish": "BR0"}
    backup = session.scalar(select(Printer).where(Printer.code == "PR-A")).backup
    assert backup.code == "PR-B"


def test_reimporting_the_same_file_changes_nothing(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    session.commit()
    before = canonical_dump("DEMO")
    report = import_layout_file(DEMO)
    assert not report.changed
    assert report.absent == []
    for kind, counts in report.counts.items():
        assert counts["created"] == counts["updated"] == counts["removed"] == 0, kind
        assert counts["unchanged"] > 0, kind
    assert canonical_dump("DEMO") == before


@pytest.mark.parametrize("dump", [dump_yaml, dump_json], ids=["yaml", "json"])
def test_export_then_import_into_a_new_code_rebuilds_the_same_warehouse(session, dump):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    exported = export_layout(get_warehouse("DEMO"))
    exported["warehouse"]["code"] = "COPY"
    import_layout(dump(exported), "copy.json" if dump is dump_json else "copy.yaml")
    assert canonical_dump("COPY") == canonical_dump("DEMO")
    again = export_layout(get_warehouse("COPY"))
    again["warehouse"]["code"] = "DEMO"
    assert dump_yaml(again) == dump_yaml(export_layout(get_warehouse("DEMO")))


def test_export_writes_racks_not_lanes_and_floor_locations_as_lists(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    text = dump_yaml(export_layout(get_warehouse("DEMO")))
    assert "A01-01-1" not in text
    assert "locations: [SAS-01, SAS-02, SAS-03]" in text
    assert yaml.safe_load(text)["zones"][1]["cross_aisles_m"] == [8]


def _edited_demo(edit) -> str:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEMO.read_text())
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def test_changes_update_in_place_and_absent_entities_are_only_reported(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    lane_id = session.scalar(select(Location.id).where(Location.code == "A01-01-1"))

    def edit(data):  # type: ignore[no-untyped-def]
        zone_a = data["zones"][0]
        zone_a["racks"] = [r for r in zone_a["racks"] if r["code"] != "A04"]
        zone_a["racks"][0]["bays"] = 5
        data["zones"][2]["locations"] = ["RCV-01", "RCV-03"]
        data["printers"][0]["connection"] = "socket://192.0.2.7:9100"

    report = import_layout(_edited_demo(edit), "edited.yaml")
    assert ("rack", "A/A04") in report.absent
    assert ("location", "RCV-02") in report.absent
    assert ("location", "A01-06-1") in report.absent
    assert report.counts["printers"]["updated"] == 1
    assert report.counts["racks"]["removed"] == 0
    assert session.scalar(select(Location.id).where(Location.code == "A01-01-1")) == lane_id
    assert session.scalar(select(Location.id).where(Location.code == "A04-01-1")) is not None
    assert session.scalar(select(Location.id).where(Location.code == "RCV-03")) is not None


def test_prune_removes_what_the_file_no_longer_has(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)

    def edit(data):  # type: ignore[no-untyped-def]
        data["zones"] = [z for z in data["zones"] if z["code"] != "QUA"]
        zone_a = data["zones"][0]
        zone_a["aisles"] = zone_a["aisles"][:3]
        zone_a["racks"] = zone_a["racks"][:2]
        data["printers"] = [p for p in data["printers"] if p["code"] != "PR-RCV"]

    report = import_layout(_edited_demo(edit), "smaller.yaml", prune=True)
    assert report.counts["zones"]["removed"] == 1
    assert report.counts["racks"]["removed"] == 2
    assert report.counts["aisles"]["removed"] == 2
    assert report.counts["printers"]["removed"] == 1
    codes = set(session.scalars(select(Location.code)))
    assert "QUA-01" not in codes and "A03-01-1" not in codes and "A02-01-1" in codes
    assert session.scalar(select(Resource.id).where(Resource.code == "A/AP3")) is None
    assert canonical_dump("DEMO") == _fresh_dump(session, _edited_demo(edit))


def _fresh_dump(session, text: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(text)
    data["warehouse"]["code"] = "FRESH"
    import_layout(yaml.safe_dump(data, sort_keys=False), "fresh.yaml")
    return canonical_dump("FRESH")


def test_renumbered_aisles_keep_their_lanes(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)

    def edit(data):  # type: ignore[no-untyped-def]
        zone_b = data["zones"][1]
        zone_b["aisles"] = list(reversed(zone_b["aisles"]))

    report = import_layout(_edited_demo(edit), "mirrored.yaml")
    assert report.counts["aisles"]["updated"] == 2
    assert canonical_dump("DEMO") == _fresh_dump(session, _edited_demo(edit))


def test_an_inconsistent_file_writes_nothing(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    session.commit()
    before = row_counts()

    def edit(data):  # type: ignore[no-untyped-def]
        data["zones"][0]["racks"][0]["bays"] = 2
        data["zones"][1]["racks"][1]["pick_aisle"] = "BR2"

    with pytest.raises(LayoutFileInvalid) as caught:
        import_layout(_edited_demo(edit), "broken.yaml")
    assert [p.path for p in caught.value.problems] == ["zones[1].racks[1].pick_aisle"]
    assert row_counts() == before


def test_a_face_change_of_an_existing_aisle_is_refused_before_writing(session):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    session.commit()
    before = canonical_dump("DEMO")

    def edit(data):  # type: ignore[no-untyped-def]
        zone_b = data["zones"][1]
        zone_b["aisles"] = [{"code": "BR0", "face": "pick"}, {"code": "BP1", "face": "replenish"},
                            {"code": "BR2", "face": "pick"}]
        for rack in zone_b["racks"]:
            rack["pick_aisle"], rack["replenish_aisle"] = rack["replenish_aisle"], "BP1"
        zone_b["racks"] = zone_b["racks"][:1]
        data["zones"][0]["name"] = "renamed"

    with pytest.raises(LayoutFileInvalid) as caught:
        import_layout(_edited_demo(edit), "flipped.yaml")
    assert "zones[1].aisles[0].face" in [p.path for p in caught.value.problems]
    session.rollback()
    assert canonical_dump("DEMO") == before


def test_cli_imports_reports_and_exports(runner, app, tmp_path):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["layout", "import", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "zones" in result.stdout and "created    7" in result.stdout
    out = tmp_path / "demo.json"
    result = runner.invoke(args=["layout", "export", "--warehouse", "DEMO", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("{")
    result = runner.invoke(args=["layout", "import", str(out)])
    assert result.exit_code == 0, result.output
    assert "created    0  updated    0" in result.stdout
    result = runner.invoke(args=["layout", "export", "--warehouse", "DEMO"])
    assert "- {code: A01, pick_aisle: AP1, replenish_aisle: AR0" in result.stdout


def test_cli_dry_run_writes_nothing(runner, app):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["layout", "import", "--dry-run", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Warehouse)) == 0


def test_cli_lists_every_problem_of_an_invalid_file_and_exits_2(runner, app, tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO.read_text().replace("replenish_aisle: AR2, bays: 6", "replenish_aisle: AP3, bays: 6", 1)
                   .replace("zone: B,", "zone: SAS,"))
    result = runner.invoke(args=["layout", "import", str(bad)])
    assert result.exit_code == 2
    assert "line 19 (zones[0].racks[1].replenish_aisle): AP3 is a pick aisle" in result.stderr
    assert "(printers[1].zone): SAS is a sas zone, not a rack zone" in result.stderr
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Warehouse)) == 0


def test_cli_export_of_an_unknown_warehouse_exits_2(runner):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["layout", "export", "--warehouse", "NOPE"])
    assert result.exit_code == 2
    assert "NOPE" in result.stderr


def test_prune_refuses_to_remove_a_location_that_holds_stock(session):  # type: ignore[no-untyped-def]
    from wms.catalog.services import create_product
    from wms.enums import StockReason
    from wms.layout.services import find_location
    from wms.stock.services import adjust_stock

    import_layout_file(DEMO)
    adjust_stock(create_product("SKU-Q", "Dented can"), find_location(get_warehouse("DEMO"), "QUA-01"), 3,
                 reason=StockReason.ADJUSTMENT)
    session.commit()
    before = row_counts()

    def edit(data):  # type: ignore[no-untyped-def]
        data["zones"] = [z for z in data["zones"] if z["code"] != "QUA"]

    with pytest.raises(LayoutFileInvalid) as caught:
        import_layout(_edited_demo(edit), "no-quarantine.yaml", prune=True)
    assert [p.reason for p in caught.value.problems] == [
        "location QUA-01 holds stock (3 units); move it before removing the location"]
    session.rollback()
    assert row_counts() == before
    report = import_layout(_edited_demo(edit), "no-quarantine.yaml")
    assert report.absent == [("zone", "QUA")]
