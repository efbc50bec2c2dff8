"""The daemon through a real cupsd on loopback (a raw queue to a fake Zebra): byte-exact delivery reported
honestly ("delivered by CUPS", not seen on paper), a stopped queue and a stopped cupsd are visible faults, and
the job prints once CUPS is back."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.e2e.printserver_support import (
    Cupsd,
    DaemonProcess,
    WmsServer,
    cups_available,
    daemon_env,
    make_site,
    site_token,
    wait_until,
)
from tests.fakes.zebra import FakeZebra
from tests.unit.labels.reading import decode_labels, texts
from wms.labels.documents import PickLine, PickOrderDocument
from wms.printing.models import JobState

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not cups_available(), reason="needs cupsd and pycups")]


@pytest.fixture
def world(app, tmp_path):
    zebra = FakeZebra().start()
    cupsd = Cupsd().start()
    cupsd.raw_queue("ZONE_A", f"socket://127.0.0.1:{zebra.port}")
    site = make_site(app)
    site.add_printer("PR-A", f"cups://{cupsd.server}/ZONE_A", zone="A")
    server = WmsServer(app).start()
    daemon = DaemonProcess(tmp_path / "state", daemon_env(server.url, site_token(app, site), tmp_path / "state",
                                                          cups_confirm_seconds=5, failover_after_seconds=3600))
    try:
        yield site, zebra, cupsd, daemon.start()
    finally:
        if daemon.alive():
            daemon.terminate()
        print(daemon.text())
        print(cupsd.logs())
        server.stop()
        cupsd.remove()
        zebra.stop()


def _op() -> PickOrderDocument:
    return PickOrderDocument("OP-CUPS-1", "A", "W-1", datetime(2026, 11, 23, 8), datetime(2026, 11, 23, 9),
                             tuple(PickLine(n, f"A-02-{n:02d}", f"SKU-{n}", f"Part {n}", n) for n in range(1, 4)))


def test_an_op_through_a_cups_raw_queue_arrives_byte_exact_and_is_reported_honestly(world):
    site, zebra, _cupsd, _daemon = world
    document = _op()
    payload = document.to_zpl().encode("ascii")
    job_id = site.enqueue(payload, zone="A", reference=document.op_number)
    wait_until(lambda: site.all_final([job_id]), 40, "the OP printed through CUPS")
    job = site.jobs()[job_id]
    assert job["state"] == JobState.PRINTED and job["printed_by"] == "PR-A"
    wait_until(lambda: zebra.received, 10, "the fake Zebra to receive the label")
    assert b"".join(bytes(c.raw) for c in zebra.connections) == payload  # CUPS added nothing, lost nothing
    (page,) = decode_labels(payload.decode("ascii"))
    assert {"OP-CUPS-1", "A-02-01", "A-02-02", "A-02-03"} <= set(texts(page))
    printed_detail = [d for s, d in site.events(job_id) if s == "printed"][0]
    assert "delivered by CUPS" in printed_detail and "not seen on paper" in printed_detail


def test_a_stopped_queue_and_a_stopped_cupsd_are_visible_and_the_job_prints_when_cups_is_back(world):
    site, zebra, cupsd, _daemon = world
    wait_until(lambda: site.printer_status("PR-A")[0] == "ready", 20, "PR-A ready")

    cupsd.run("/usr/sbin/cupsdisable", "-r", "maintenance", "ZONE_A")
    first = site.enqueue(b"^XA^FDqueue stopped^FS^XZ", printer="PR-A", reference="STOPPED-Q")
    wait_until(lambda: "is stopped" in (site.jobs()[first]["last_error"] or ""), 20, "the stopped queue shown")
    assert site.printer_status("PR-A")[0] == "offline"
    assert zebra.received == []
    cupsd.run("/usr/sbin/cupsenable", "ZONE_A")
    wait_until(lambda: site.jobs()[first]["state"] == JobState.PRINTED, 40, "printed once the queue is enabled")

    cupsd.stop()
    second = site.enqueue(b"^XA^FDcupsd down^FS^XZ", printer="PR-A", reference="NO-CUPSD")
    wait_until(lambda: "unreachable" in (site.jobs()[second]["last_error"] or ""), 20, "cupsd down shown")
    wait_until(lambda: site.printer_status("PR-A")[0] == "offline", 20, "PR-A offline")
    cupsd.start()
    wait_until(lambda: site.jobs()[second]["state"] == JobState.PRINTED, 40, "printed once cupsd is back")
    wait_until(lambda: len(zebra.received) == 2, 20, "both labels at the printer")
    assert zebra.received == [b"^XA^FDqueue stopped^FS^XZ", b"^XA^FDcupsd down^FS^XZ"]
    assert not any(site.jobs()[i]["possible_duplicate"] for i in (first, second))
