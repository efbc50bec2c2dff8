"""The layout picture is plain SVG built from plain data: every lane has a tooltip, every rack head its printer."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wms.supervisor.layout_svg import (
    FACE_COLOURS,
    AisleData,
    LaneData,
    PrinterData,
    RackData,
    ZoneData,
    warehouse_svg,
)

NS = {"s": "http://www.w3.org/2000/svg"}


def rack(code: str, slot: int, bays: int = 2, levels: int = 2) -> RackData:
    return RackData(code, slot, 0.0, 1.5, bays, levels,
                    [LaneData(f"{code}-{b:02d}-{lv}", b, lv, (b - 0.5) * 1.5) for b in range(1, bays + 1)
                     for lv in range(1, levels + 1)])


ZONES = [
    ZoneData("A", "Fast <movers>", "rack", 6.0, [3.0],
             [AisleData("AR0", "replenish", 0), AisleData("AP1", "pick", 1), AisleData("AR2", "replenish", 2)],
             [rack("A01", 0), rack("A02", 1, bays=3)], printers=[PrinterData("PR-A", "paper_out", "Head A")]),
    ZoneData("RCV", "Receiving", "receiving_dock", locations=["RCV-01"], resources=[("DOOR-1", "dock_door")],
             printers=[PrinterData("PR-R", "ok")]),
]


def parsed() -> ET.Element:
    return ET.fromstring(warehouse_svg(ZONES))


def test_the_picture_is_well_formed_svg_with_escaped_text() -> None:
    root = parsed()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "Fast <movers>" in "".join(root.itertext())


def test_every_lane_is_a_cell_with_its_code_as_tooltip() -> None:
    lanes = parsed().findall(".//s:g[@class='lane']", NS)
    codes = {g.get("data-lane") for g in lanes}
    assert codes == {lane.code for z in ZONES for r in z.racks for lane in r.lanes}
    for g in lanes:
        assert g.find("s:rect/s:title", NS).text == g.get("data-lane")


def test_aisles_are_coloured_by_face() -> None:
    fills = {r.find("s:title", NS).text: r.get("fill") for r in parsed().findall(".//s:rect", NS)
             if (r.get("class") or "").startswith("aisle ") and r.find("s:title", NS) is not None}
    assert fills == {"AR0 (replenish)": FACE_COLOURS["replenish"], "AP1 (pick)": FACE_COLOURS["pick"],
                     "AR2 (replenish)": FACE_COLOURS["replenish"]}


def test_the_rack_head_printer_stands_below_the_zone_head_with_its_status() -> None:
    root = parsed()
    zone = root.find(".//s:g[@data-zone='A']", NS)
    head = next(r for r in zone.findall("s:rect", NS) if r.get("class") == "zone-head")
    printer = zone.find("s:g[@data-printer='PR-A']", NS)
    assert printer is not None
    assert "PR-A · paper_out" in "".join(printer.itertext())
    icon_top = min(float(r.get("y")) for r in printer.findall("s:rect", NS))
    assert icon_top > float(head.get("y"))


def test_lanes_near_the_head_are_drawn_lower_than_lanes_further_down_the_aisle() -> None:
    root = parsed()

    def y(code: str) -> float:
        return float(root.find(f".//s:g[@data-lane='{code}']/s:rect", NS).get("y"))

    assert y("A02-01-1") > y("A02-03-1")


def test_floor_zones_list_their_locations_resources_and_printers() -> None:
    box = parsed().find(".//s:g[@data-zone='RCV']", NS)
    text = "".join(box.itertext())
    assert "RCV-01" in text and "DOOR-1" in text
    assert box.find("s:g[@data-printer='PR-R']", NS) is not None


def test_legend_labels_can_be_translated() -> None:
    svg = warehouse_svg(ZONES, {"pick": "allée de prélèvement"})
    assert "allée de prélèvement" in svg and "replenish aisle" in svg


def test_every_lane_cell_lies_inside_its_rack_and_above_the_zone_head() -> None:
    root = parsed()
    zone = root.find(".//s:g[@data-zone='A']", NS)
    head_y = float(next(r for r in zone.findall("s:rect", NS) if r.get("class") == "zone-head").get("y"))
    racks = {r.find("s:title", NS).text.split()[-1]: r for r in zone.findall("s:rect", NS) if r.get("class") == "rack"}
    for g in zone.findall("s:g[@class='lane']", NS):
        cell, frame = g.find("s:rect", NS), racks[g.get("data-lane")[:3]]
        x, y, w, h = (float(cell.get(k)) for k in ("x", "y", "width", "height"))
        fx, fy, fw, fh = (float(frame.get(k)) for k in ("x", "y", "width", "height"))
        assert fx <= x and x + w <= fx + fw and fy <= y and y + h <= fy + fh <= head_y
