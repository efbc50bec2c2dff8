"""The timeline picture: one row per resource, one bar per slot in its row, labels escaped, a now-line."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from wms.waves.timeline import Bar, Row, timeline_svg

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
NS = {"s": "http://www.w3.org/2000/svg"}


def _h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_bars_sit_in_their_rows_at_their_times_and_labels_are_escaped() -> None:
    rows = [Row("A/P1", "P1 · pick aisle", "Zone A"), Row("A/R0", "R0 · replenish aisle", "Zone A"),
            Row("DOOR-1", "Dock door 1", "Docks")]
    bars = [Bar(1, "A/P1", _h(1), _h(2), "pick", "OP-1-001"), Bar(2, "DOOR-1", _h(3), _h(4), "dock", "<truck & co>"),
            Bar(3, "NOWHERE", _h(1), _h(2), "other", "not drawn"), Bar(4, "A/R0", _h(7), _h(8), "replenish", "late")]
    svg = timeline_svg(rows, bars, T0, _h(6), now=_h(0.5))
    root = ET.fromstring(svg)  # well-formed, so every label was escaped
    slots = {g.get("data-slot-id"): g for g in root.iterfind(".//s:g[@class]", NS) if g.get("data-slot-id")}
    assert set(slots) == {"1", "2"}  # unknown resource and out-of-window slots are not drawn
    assert slots["2"].get("data-label") == "<truck & co>"
    row_y = {g.get("data-resource"): float(g.find("s:rect", NS).get("y")) for g in root.iterfind(".//s:g", NS)
             if g.get("class") == "tl-row"}
    bar_rect = slots["1"].find("s:rect", NS)
    assert row_y["A/P1"] < float(bar_rect.get("y")) < row_y["A/R0"]
    x0, width = float(bar_rect.get("x")), float(bar_rect.get("width"))
    assert abs(width - 900 / 6) < 0.5 and abs(x0 - (170 + 900 / 6)) < 0.5
    assert root.find(".//s:g[@class='tl-now']", NS) is not None


def test_no_now_line_outside_the_window() -> None:
    svg = timeline_svg([Row("A/P1", "P1", "Zone A")], [], T0, _h(2), now=_h(5))
    assert "tl-now" not in svg
