"""The last way out, end to end: the pack station's Zebra and its backup Zebra refuse connections, so the WMS
reroutes the carrier label as a PDF of its ZPL to the office laser (a real cupsd raw queue to the laser's port
9100, a TCP peer that keeps every byte); the daemon prints it there, once, and the PDF is the label (the same
pixels as its ZPL rendered, the tracking barcode readable)."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image

from tests.e2e.printserver_support import (
    Cupsd,
    DaemonProcess,
    WmsServer,
    cups_available,
    daemon_env,
    delivered,
    make_site,
    site_token,
    wait_until,
)
from tests.fakes.zebra import FakeZebra, Mode
from wms.db import db
from wms.enums import PrinterLanguage, PrinterPlace, ResourceKind, ZoneKind
from wms.labels.documents.shipping import Address, CarrierLabel
from wms.labels.preview import png_from_zpl
from wms.layout import services as layout
from wms.layout.models import Warehouse
from wms.printing import jobs
from wms.printing.models import DocumentKind, JobState, PrintJob

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not cups_available(), reason="needs cupsd and pycups")]

TRACKING = "6A12345678901"
LABEL = CarrierLabel(Address("ACME Flow Racks", ("1 Rack Road",), "75001", "Paris", "FR"),
                     Address("Jean Dupont", ("12 rue de la Paix",), "69001", "Lyon", "FR"),
                     "Colissimo", "DOM", 1200, TRACKING, "106141411234567897", "SO-42")


@pytest.fixture
def world(app, tmp_path):
    zebras = [FakeZebra().start(), FakeZebra().start()]
    laser = FakeZebra().start()  # only as a JetDirect-style port 9100 that keeps what it is sent
    cupsd = Cupsd().start()
    cupsd.raw_queue("OFFICE", f"socket://127.0.0.1:{laser.port}")
    site = make_site(app, zones=())
    with app.app_context():
        wh = db.session.get(Warehouse, site.warehouse_id)
        pack = layout.add_zone(wh, "PK", ZoneKind.PACK)
        station = layout.add_resource(pack, "PS1", ResourceKind.PACK_STATION)
        zb2 = layout.add_printer(wh, "ZB-2", place=PrinterPlace.PACK_STATION, zone=pack, resource=station,
                                 connection=f"socket://127.0.0.1:{zebras[1].port}")
        layout.add_printer(wh, "ZB-1", place=PrinterPlace.PACK_STATION, zone=pack, resource=station,
                           connection=f"socket://127.0.0.1:{zebras[0].port}", backup=zb2)
        layout.add_printer(wh, "DOC-1", place=PrinterPlace.OFFICE, language=PrinterLanguage.PDF,
                           connection=f"cups://{cupsd.server}/OFFICE")
        db.session.commit()
        station_id = station.id
    for zebra in zebras:
        zebra.set_mode(Mode.REFUSE)
    app.config["PRINT_PDF_FALLBACK_GRACE_SECONDS"] = 1
    server = WmsServer(app).start()
    daemon = DaemonProcess(tmp_path / "state", daemon_env(server.url, site_token(app, site), tmp_path / "state",
                                                          failover_after_seconds=1, cups_confirm_seconds=5))
    try:
        yield site, station_id, zebras, cupsd, laser, daemon.start()
    finally:
        if daemon.alive():
            daemon.terminate()
        print(daemon.text())
        print(cupsd.logs())
        server.stop()
        cupsd.remove()
        for zebra in (*zebras, laser):
            zebra.stop()


def _completed_cups_jobs(cupsd: Cupsd) -> list[int]:
    import cups

    cups.setServer("127.0.0.1")
    cups.setPort(cupsd.port)
    return sorted(cups.Connection(host="127.0.0.1", port=cupsd.port).getJobs(which_jobs="completed"))


def test_a_label_whose_zebras_are_both_down_comes_out_once_as_a_pdf_on_the_office_laser(app, world, tmp_path):
    site, station_id, zebras, cupsd, laser, _daemon = world
    zpl = LABEL.to_zpl()
    with app.app_context():
        job = jobs.enqueue_job(warehouse_id=site.warehouse_id, kind=DocumentKind.CARRIER_LABEL,
                               reference=f"SO-42 {TRACKING}", payload=zpl.encode("ascii"), content_type=jobs.ZPL,
                               idempotency_key=f"carrier-label:1:{TRACKING}", resource_id=station_id)
        db.session.commit()
        job_id = job.id
        assert job.printer.code == "ZB-1"

    wait_until(lambda: site.jobs()[job_id]["state"] == JobState.PRINTED, 90, "the label printed somewhere")
    assert site.jobs()[job_id]["printed_by"] == "DOC-1"
    events = site.events(job_id)
    assert sum(1 for _s, detail in events if (detail or "").startswith("rerouted as PDF to document printer DOC-1")) \
        == 1
    assert [s for s, _d in events].count("printed") == 1
    assert all(zebra.printed == [] for zebra in zebras)
    assert len(_completed_cups_jobs(cupsd)) == 1  # one CUPS job: printed once
    wait_until(lambda: b"%%EOF" in delivered(laser), 20, "the PDF at the laser")
    pdf = delivered(laser)
    assert pdf.startswith(b"%PDF") and pdf.count(b"%PDF") == 1 and pdf.count(b"%%EOF") == 1
    out_file = tmp_path / "office.pdf"
    out_file.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(out_file)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info

    # the page is the label: the very pixels of its ZPL rendered, and the tracking barcode reads back
    subprocess.run(["pdfimages", "-png", str(out_file), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page-000.png").convert("1")
    rendered = png_from_zpl(zpl, width=813, height=1219, dpi=203).pages
    import zxingcpp

    expected = Image.open(io.BytesIO(rendered[0])).convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1")
    assert page.size == expected.size and page.tobytes() == expected.tobytes()
    assert TRACKING in {barcode.text for barcode in zxingcpp.read_barcodes(page.convert("L"))}
    with app.app_context():
        stored = db.session.get(PrintJob, job_id)
        assert stored.content_type == jobs.PDF and stored.idempotency_key == f"carrier-label:1:{TRACKING}"
