"""A carrier label whose Zebra and backup Zebra cannot print goes, as a PDF of its very ZPL, to a document printer;
without one it waits and says so. The same job all along: one id, one idempotency key, printed once."""

from __future__ import annotations

import pytest

from wms.db import db
from wms.enums import PrinterLanguage, PrinterPlace, ResourceKind, ZoneKind
from wms.labels.documents.shipping import Address, CarrierLabel
from wms.layout import services as layout
from wms.printing import jobs
from wms.printing.jobs import PDF, ZPL, Outcome, PrinterStatusReport, ReportItem
from wms.printing.models import DocumentKind, JobState, Printer, PrintJob

LABEL = CarrierLabel(Address("ACME Flow Racks", ("1 Rack Road",), "75001", "Paris", "FR"),
                     Address("Jean Dupont", ("12 rue de la Paix",), "69001", "Lyon", "FR"),
                     "Colissimo", "DOM", 1200, "6A12345678901", "106141411234567897", "SO-42").to_zpl().encode()


@pytest.fixture
def station(app, make_warehouse):  # type: ignore[no-untyped-def]
    """Pack station PS1 with Zebra ZB-1 (backup ZB-2, standing there too) and an office laser DOC-1 on CUPS."""
    app.config["PRINT_PDF_FALLBACK_GRACE_SECONDS"] = 0  # a status counts at once here
    with app.app_context():
        wh = make_warehouse("W1")
        pack = layout.add_zone(wh, "PK", ZoneKind.PACK)
        ps1 = layout.add_resource(pack, "PS1", ResourceKind.PACK_STATION)
        zb2 = layout.add_printer(wh, "ZB-2", place=PrinterPlace.PACK_STATION, zone=pack, resource=ps1,
                                 connection="socket://10.0.0.2:9100")
        layout.add_printer(wh, "ZB-1", place=PrinterPlace.PACK_STATION, zone=pack, resource=ps1,
                           connection="socket://10.0.0.1:9100", backup=zb2)
        layout.add_printer(wh, "DOC-1", place=PrinterPlace.OFFICE, connection="cups://OFFICE",
                           language=PrinterLanguage.PDF)
        db.session.commit()
        return {"wh": wh.id, "PS1": ps1.id}


def _label(station, kind=DocumentKind.CARRIER_LABEL, key="carrier-label:1:6A12345678901"):  # type: ignore[no-untyped-def]
    return jobs.enqueue_job(warehouse_id=station["wh"], kind=kind, reference="SO-42 6A12345678901", payload=LABEL,
                            content_type=ZPL, idempotency_key=key, resource_id=station["PS1"])


def _fail(station, job, printer_code, *, batch=False):  # type: ignore[no-untyped-def]
    (claimed,) = jobs.claim_jobs(station["wh"], "site-1", max_jobs=1)
    assert claimed.id == job.id
    if batch:  # as the daemon reports when it has several: /print/reports
        assert jobs.report_many(station["wh"], "site-1", [
            ReportItem(job.id, Outcome.RETRY, printer_code, "connection refused", retry_after_seconds=0)]) \
            == [JobState.QUEUED]
    else:
        jobs.report(job, "site-1", Outcome.RETRY, printer_code, "connection refused", retry_after_seconds=0)


def test_a_label_whose_zebra_and_backup_keep_failing_prints_once_as_a_pdf_on_the_office_laser(app, station):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _label(station)
        assert job.printer.code == "ZB-1"
        for printer in ("ZB-1", "ZB-1", "ZB-2"):
            _fail(station, job, printer)
            assert job.content_type == ZPL and job.printer.code == "ZB-1"  # one printer left that may print
        _fail(station, job, "ZB-2", batch=True)  # the backup failed twice too: no Zebra left

        assert (job.state, job.printer.code, job.content_type) == (JobState.QUEUED, "DOC-1", PDF)
        assert job.payload.startswith(b"%PDF") and job.idempotency_key == "carrier-label:1:6A12345678901"
        rerouted = job.events[-1]
        assert rerouted.actor == "wms" and rerouted.printer_id == job.printer_id
        assert rerouted.detail.startswith("rerouted as PDF to document printer DOC-1 (cups://OFFICE, 1 page(s)")
        assert "site-1 reported a failed delivery" in rerouted.detail and "ZB-2 failed 2 deliveries" in rerouted.detail
        assert _label(station) is job  # the same key is the same job: queued once

        (claimed,) = jobs.claim_jobs(station["wh"], "site-1", max_jobs=1)
        assert claimed.printer.code == "DOC-1" and claimed.content_type == PDF
        jobs.report(job, "site-1", Outcome.PRINTED, "DOC-1", "delivered by CUPS")
        assert job.state == JobState.PRINTED and job.printed_by.code == "DOC-1"
        assert jobs.claim_jobs(station["wh"], "site-1") == []
        db.session.commit()
        assert db.session.query(PrintJob).count() == 1


def test_zebras_reported_offline_move_queued_labels_at_once_and_nothing_else(app, client, station, make_user,  # type: ignore[no-untyped-def]
                                                                             make_token):
    with app.app_context():
        label = _label(station)
        pick_order = _label(station, kind=DocumentKind.TOTE_LABEL, key="tote")  # not a carrier label: stays
        jobs.record_printer_status(station["wh"], "site-1", [PrinterStatusReport("ZB-1", "offline", "refused")])
        assert label.printer.code == "ZB-1"  # its backup may still print
        jobs.record_printer_status(station["wh"], "site-1", [PrinterStatusReport("ZB-2", "paper_out", "~HS")])
        assert (label.printer.code, label.content_type) == ("DOC-1", PDF)
        assert "ZB-1 is offline: refused; ZB-2 is paper out: ~HS" in label.events[-1].detail
        assert "site-1 reported printer status" in label.events[-1].detail
        assert (pick_order.printer.code, pick_order.content_type) == ("ZB-1", ZPL)
        job_id = label.id
        supervisor = make_user(roles=("supervisor",), all_warehouses=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        db.session.commit()
    answer = client.get(f"/api/v1/print-jobs/{job_id}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["printer"] == "DOC-1" and body["content_type"] == PDF
    assert body["events"][-1]["actor"] == "wms" and "rerouted as PDF" in body["events"][-1]["detail"]
    assert "rerouted as PDF to DOC-1" in body["last_error"]


def test_without_a_document_printer_the_label_waits_says_so_once_and_moves_when_one_is_ready(app, station):  # type: ignore[no-untyped-def]
    with app.app_context():
        doc = db.session.query(Printer).filter_by(code="DOC-1").one()
        doc.enabled = False
        job = _label(station)
        jobs.record_printer_status(station["wh"], "site-1", [PrinterStatusReport("ZB-1", "offline"),
                                                             PrinterStatusReport("ZB-2", "offline")])
        jobs.claim_jobs(station["wh"], "site-1", max_jobs=1)
        jobs.report(job, "site-1", Outcome.FAILED, "ZB-2", "gave up after 50 attempts")
        assert job.state == JobState.QUEUED and job.finished_at is None  # never given up while it waits
        assert job.content_type == ZPL and "no document printer (PDF) of W1 can take it" in job.last_error
        jobs.record_printer_status(station["wh"], "site-1", [PrinterStatusReport("ZB-1", "offline")])
        waiting = [e for e in job.events if (e.detail or "").startswith("waiting for a printer")]
        # said when the statuses came, and when the failed report was turned back into waiting; not again
        assert [e.actor for e in waiting] == ["wms", "wms"] and job.events[-1] is waiting[-1]

        doc.enabled = True
        jobs.record_printer_status(station["wh"], "site-1", [PrinterStatusReport("DOC-1", "ready")])
        assert (job.state, job.printer.code, job.content_type) == (JobState.QUEUED, "DOC-1", PDF)
