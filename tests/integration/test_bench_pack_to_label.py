"""bench/pack_to_label.py's core runs: one order packed over HTTP on PostgreSQL (the app served in this process,
where the bench uses gunicorn), labelled by a carrier stand-in, printed by the real print daemon at the fake Zebra,
with the stand-in's own answer time taken. No time is asserted: only that every figure was measured and that the
label at the printer is the carrier's (pack_one checks its bytes and tracking number)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from bench.pack_to_label import run

pytestmark = pytest.mark.slow


def test_one_round_for_one_carrier_measures_pack_to_label_and_the_stand_in(
        app: Flask, database_url: str, tmp_path: Path) -> None:  # the app fixture empties the database afterwards
    result = run(database_url, ["gls"], 1, warmup=0, pause=0, state_dir=tmp_path / "daemon", server="werkzeug",
                 long_poll=1)
    (one,) = result["rounds"]
    assert one.carrier == "gls" and one.tracking  # pack_one checked the tracking number is in the printed bytes
    assert one.calls >= 1 and one.standin > 0 and one.pack_to_label > 0 and one.finish > 0
    assert result["violations"] == []
