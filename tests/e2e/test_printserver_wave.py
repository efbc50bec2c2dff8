"""A released wave's pick orders arrive, byte-exact and in order, at the printer at the head of their zone; read
back with zplkit and zxing-cpp, every barcode is the OP code or a location the WMS routed the picker to."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.printserver_support import (
    DaemonProcess,
    Site,
    WmsServer,
    daemon_env,
    delivered,
    site_token,
    wait_until,
)
from tests.fakes.zebra import FakeZebra
from tests.unit.labels.reading import decode_labels, texts
from tests.wave_data import NOW, build_site
from wms.db import db
from wms.labels.documents.pick_order import LINES_PER_PAGE
from wms.printing.models import JobState, Printer, PrintJob
from wms.waves import services
from wms.waves.models import PickOrder

pytestmark = pytest.mark.slow


def test_a_released_waves_ops_arrive_at_the_printer_at_the_head_of_their_zone(app, tmp_path):
    zebras = {"A": FakeZebra().start(), "B": FakeZebra().start()}
    daemon = None
    server = WmsServer(app).start()
    try:
        with app.app_context():
            wave_site = build_site()
            for printer in db.session.scalars(select(Printer).where(Printer.warehouse_id == wave_site.warehouse.id)):
                printer.connection = f"socket://127.0.0.1:{zebras[printer.code[-1]].port}"
            wave = services.create_and_plan(wave_site.warehouse, wave_site.orders, starts_at=NOW)
            db.session.commit()
            site = Site(app, wave_site.warehouse.id, {z: zone.id for z, zone in wave_site.zones.items()})
            zone_code = {zone.id: code for code, zone in wave_site.zones.items()}
            wave_id = wave.id
        daemon = DaemonProcess(tmp_path / "state",
                               daemon_env(server.url, site_token(app, site), tmp_path / "state")).start()
        with app.app_context():
            services.release_wave(services.get_wave(wave_id), None)
            db.session.commit()
            ops = {op.id: (op.code, zone_code[op.zone_id], [ln.location.code for ln in sorted(op.lines, key=lambda x: x.seq)])
                   for op in db.session.scalars(select(PickOrder).where(PickOrder.wave_id == wave_id))}
            jobs = [(j.id, j.pick_order_id, j.payload) for j in db.session.scalars(
                select(PrintJob).where(PrintJob.wave_id == wave_id).order_by(PrintJob.id))]
        assert len(jobs) == len(ops) >= 2
        wait_until(lambda: site.all_final([j for j, _op, _p in jobs]), 60, "every OP printed")

        rows = site.jobs()
        for zone, zebra in zebras.items():
            mine = [(job_id, op_id, payload) for job_id, op_id, payload in jobs if ops[op_id][1] == zone]
            assert mine, f"zone {zone} has an OP"
            assert delivered(zebra) == b"".join(payload for _j, _o, payload in mine)  # byte-exact, in order
            for job_id, op_id, payload in mine:
                code, _zone, locations = ops[op_id]
                assert rows[job_id]["state"] == JobState.PRINTED
                assert rows[job_id]["printed_by"] == f"PRN-{zone}"
                for page, decoded in enumerate(decode_labels(payload.decode("ascii"))):
                    found = texts(decoded)
                    assert found[0] == code  # the OP barcode first
                    assert found[1:] == locations[page * LINES_PER_PAGE:(page + 1) * LINES_PER_PAGE]
    finally:
        if daemon is not None:
            if daemon.alive():
                daemon.terminate()
            print(daemon.text())
        server.stop()
        for zebra in zebras.values():
            zebra.stop()
