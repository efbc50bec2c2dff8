"""Layout file rules: every broken rule is reported with its line and path, all at once, YAML and JSON alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from wms.layout.layoutfile import LayoutFileInvalid, Problem, parse_layout

DEMO = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"

BASE = """\
warehouse:
  code: T1
  name: Test
  timezone: Europe/Paris
zones:
  - code: A
    kind: rack
    aisle_length_m: 10
    cross_aisles_m: [5]
    aisles:
      - {code: AR0, face: replenish}
      - {code: AP1, face: pick}
      - {code: AR2, face: replenish}
    racks:
      - {code: A01, pick_aisle: AP1, replenish_aisle: AR0, bays: 4, levels: 2, bay_width_m: 1.0}
      - {code: A02, pick_aisle: AP1, replenish_aisle: AR2, bays: 4, levels: 2, bay_width_m: 1.0, start_m: 5}
  - code: DOCK
    kind: receiving_dock
    locations: [D-01, {code: D-02, capacity_units: 40}]
    resources: [{code: DOOR-1, kind: dock_door}]
printers:
  - {code: P1, place: rack_head, zone: A, connection: "virtual://P1", backup: P2}
  - {code: P2, place: receiving_dock, zone: DOCK, resource: DOOR-1, connection: "socket://10.0.0.5:9100"}
"""


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(LayoutFileInvalid) as caught:
        parse_layout(text, "t.yaml")
    return caught.value.problems


def as_json(text: str) -> str:
    return json.dumps(yaml.safe_load(text), indent=2)


def json_line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_base_file_and_the_demo_file_are_valid() -> None:
    assert [z.code for z in parse_layout(BASE).zones] == ["A", "DOCK"]
    assert len(parse_layout(DEMO.read_text()).printers) == 5


def test_a_replenish_aisle_given_as_pick_aisle_is_named_with_its_line() -> None:
    text = BASE.replace("{code: A02, pick_aisle: AP1", "{code: A02, pick_aisle: AR2")
    assert problems_of(text) == [Problem(16, "zones[0].racks[1].pick_aisle", "AR2 is a replenish aisle")]
    assert str(problems_of(text)[0]) == "line 16 (zones[0].racks[1].pick_aisle): AR2 is a replenish aisle"


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = (BASE.replace("{code: A02, pick_aisle: AP1", "{code: A02, pick_aisle: AR2")
            .replace("zone: A, connection", "zone: DOCK, connection").replace("backup: P2", "backup: P9"))
    assert [(p.line, p.path) for p in problems_of(text)] == [
        (16, "zones[0].racks[1].pick_aisle"), (22, "printers[0].backup"), (22, "printers[0].zone")]


def test_a_rack_between_aisles_that_are_not_neighbours_is_refused() -> None:
    text = BASE.replace("      - {code: AR2, face: replenish}\n",
                        "      - {code: AR2, face: replenish}\n      - {code: AR3, face: replenish}\n"
                        ).replace("replenish_aisle: AR2", "replenish_aisle: AR3")
    [problem] = problems_of(text)
    assert problem.line == 17 and problem.path == "zones[0].racks[1].replenish_aisle"
    assert "not neighbours" in problem.reason


def test_an_unknown_aisle_is_refused() -> None:
    [problem] = problems_of(BASE.replace("replenish_aisle: AR0", "replenish_aisle: ZZ"))
    assert (problem.line, problem.reason) == (15, "zone A has no aisle ZZ")


def test_a_rack_longer_than_the_aisles_is_refused() -> None:
    [problem] = problems_of(BASE.replace("bays: 4, levels: 2, bay_width_m: 1.0, start_m: 5",
                                         "bays: 6, levels: 2, bay_width_m: 1.0, start_m: 5"))
    assert (problem.line, problem.path) == (16, "zones[0].racks[1].bays")
    assert "ends at 11 m, beyond the 10 m aisles" in problem.reason


def test_racks_overlapping_on_the_same_side_of_an_aisle_are_refused() -> None:
    text = BASE.replace("replenish_aisle: AR2, bays: 4, levels: 2, bay_width_m: 1.0, start_m: 5",
                        "replenish_aisle: AR0, bays: 4, levels: 2, bay_width_m: 1.0, start_m: 3")
    [problem] = problems_of(text)
    assert (problem.line, problem.path) == (16, "zones[0].racks[1].start_m")
    assert "overlaps rack A01" in problem.reason


def test_racks_facing_each_other_across_an_aisle_may_share_positions() -> None:
    parse_layout(BASE.replace("start_m: 5", "start_m: 0"))


def test_duplicate_codes_are_refused_at_the_second_occurrence() -> None:
    text = BASE.replace("{code: AR2, face: replenish}", "{code: AR0, face: replenish}")
    problems = problems_of(text)
    assert Problem(13, "zones[0].aisles[2].code", "aisle AR0 is already defined at zones[0].aisles[0].code") in problems
    text = BASE.replace("locations: [D-01,", "locations: [A01-01-1,")
    assert [(p.line, p.path) for p in problems_of(text)] == [(19, "zones[1].locations[0]")]
    text = BASE.replace("- code: DOCK", "- code: A")
    assert any(p.path == "zones[1].code" and p.line == 17 for p in problems_of(text))


def test_rack_things_in_a_floor_zone_are_refused() -> None:
    text = BASE.replace("    kind: receiving_dock\n", "    kind: receiving_dock\n    aisle_length_m: 4\n"
                        "    aisles: [{code: X1, face: pick}]\n")
    paths = {p.path: p.line for p in problems_of(text)}
    assert paths == {"zones[1].aisle_length_m": 19, "zones[1].aisles": 20}


def test_a_cross_aisle_outside_the_racks_is_refused() -> None:
    [problem] = problems_of(BASE.replace("cross_aisles_m: [5]", "cross_aisles_m: [5, 10]"))
    assert (problem.line, problem.path) == (9, "zones[0].cross_aisles_m[1]")


def test_a_rack_zone_needs_its_aisle_length() -> None:
    [problem] = problems_of(BASE.replace("    aisle_length_m: 10\n    cross_aisles_m: [5]\n", ""))
    assert (problem.line, problem.path) == (7, "zones[0].kind")


def test_a_rack_head_printer_names_a_rack_zone() -> None:
    [problem] = problems_of(BASE.replace("zone: A, connection", "zone: DOCK, connection"))
    assert problem == Problem(22, "printers[0].zone", "DOCK is a receiving_dock zone, not a rack zone")


def test_a_backup_names_a_printer_of_the_file() -> None:
    [problem] = problems_of(BASE.replace("backup: P2", "backup: PX"))
    assert problem == Problem(22, "printers[0].backup", "backup PX is not a printer of the file")


def test_a_printer_resource_must_exist_and_connection_must_have_a_known_scheme() -> None:
    text = BASE.replace("resource: DOOR-1", "resource: DOOR-9").replace('"socket://10.0.0.5:9100"', '"http://x"')
    assert {p.path for p in problems_of(text)} == {"printers[1].resource", "printers[1].connection"}


def test_unknown_keys_and_bad_values_are_refused_with_their_lines() -> None:
    text = BASE.replace("    kind: rack\n", "    kind: rack\n    colour: blue\n").replace("levels: 2, bay_width_m: 1.0}",
                                                                                      "levels: 0, bay_width_m: 1.0}")
    problems = problems_of(text)
    assert (8, "zones[0].colour", "unknown key 'colour'") in problems
    assert any(p.line == 16 and p.path == "zones[0].racks[0].levels" for p in problems)


def test_an_unknown_enum_value_lists_the_choices() -> None:
    [problem] = problems_of(BASE.replace("kind: receiving_dock", "kind: garage"))
    assert problem.line == 18 and "'garage' is not one of" in problem.reason


def test_a_bad_time_zone_is_refused() -> None:
    assert problems_of(BASE.replace("Europe/Paris", "Mars/Olympus")) == [
        Problem(4, "warehouse.timezone", "'Mars/Olympus' is not an IANA time zone")]


def test_a_repeated_key_is_refused() -> None:
    [problem] = problems_of(BASE.replace("  name: Test\n", "  name: Test\n  name: Again\n"))
    assert (problem.line, problem.reason) == (4, "key 'name' is repeated")


def test_a_syntax_error_names_its_line() -> None:
    [problem] = problems_of(BASE.replace("      - {code: AP1, face: pick}", "      - {code: AP1, face: pick"))
    assert problem.line in (12, 13) and "cannot be read" in problem.reason


def test_json_files_are_read_by_the_same_loader_with_lines() -> None:
    text = as_json(BASE.replace("{code: A02, pick_aisle: AP1", "{code: A02, pick_aisle: AR2"))
    [problem] = problems_of(text)
    assert problem.path == "zones[0].racks[1].pick_aisle"
    assert problem.line == json_line_of(text, '"pick_aisle": "AR2"')


def test_json_unknown_keys_and_overlaps_name_their_lines() -> None:
    data = yaml.safe_load(BASE)
    data["printers"][1]["colour"] = "red"
    data["zones"][0]["racks"][1]["replenish_aisle"] = "AR0"
    data["zones"][0]["racks"][1]["start_m"] = 2
    text = json.dumps(data, indent=2)
    problems = problems_of(text)
    assert [p.path for p in problems] == ["printers[1].colour"]
    assert problems[0].line == json_line_of(text, '"colour"')
    del data["printers"][1]["colour"]
    text = json.dumps(data, indent=2)
    [problem] = problems_of(text)
    assert problem.path == "zones[0].racks[1].start_m"
    assert problem.line == json_line_of(text, '"start_m": 2')


def test_a_file_that_is_not_a_mapping_is_refused() -> None:
    assert problems_of("- just\n- a list\n")[0].reason.startswith("the file must be a mapping")


def test_json_indented_with_tabs_is_read() -> None:
    text = json.dumps(yaml.safe_load(BASE), indent="\t")
    assert parse_layout(text, "layout.json").warehouse.code == "T1"
