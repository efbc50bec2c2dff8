"""The print job queue: routing, idempotent enqueue, leases, reports, reprint, cancel, status, long-poll, auth."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import select

from wms.db import db, utcnow
from wms.enums import PrinterPlace, ResourceKind, ZoneKind
from wms.errors import Conflict, NoPrinter, ValidationFailed
from wms.layout import services as layout
from wms.printing import jobs
from wms.printing.jobs import ZPL, Outcome, PrinterStatusReport
from wms.printing.models import DocumentKind, JobState, PrintJob, PrintJobEvent, PrintRoute

PAYLOAD = b"^XA^FDhello^FS^XZ"


@pytest.fixture
def site(app, make_warehouse, make_rack_zone):  # type: ignore[no-untyped-def]
    """A warehouse with rack zones A and B, a pack station, and printers PR-A (backup PR-B), PR-B, PS-1."""
    with app.app_context():
        wh = make_warehouse("W1")
        zone_a = make_rack_zone(wh, "A")
        zone_b = make_rack_zone(wh, "B")
        pack = layout.add_zone(wh, "PK", ZoneKind.PACK)
        station = layout.add_resource(pack, "PS1", ResourceKind.PACK_STATION)
        pr_b = layout.add_printer(wh, "PR-B", place=PrinterPlace.RACK_HEAD, zone=zone_b, connection="virtual://b")
        pr_a = layout.add_printer(wh, "PR-A", place=PrinterPlace.RACK_HEAD, zone=zone_a, connection="virtual://a",
                                  backup=pr_b)
        ps_1 = layout.add_printer(wh, "PS-1", place=PrinterPlace.PACK_STATION, zone=pack, resource=station,
                                  connection="virtual://ps")
        db.session.commit()
        ids = {"wh": wh.id, "A": zone_a.id, "B": zone_b.id, "PK": pack.id, "station": station.id,
               "PR-A": pr_a.id, "PR-B": pr_b.id, "PS-1": ps_1.id}
    return ids


def _enqueue(site, key="k1", **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("kind", DocumentKind.PICK_ORDER)
    kw.setdefault("zone_id", site["A"])
    return jobs.enqueue_job(warehouse_id=site["wh"], reference=kw.pop("reference", "OP-1"), payload=PAYLOAD,
                            content_type=ZPL, idempotency_key=key, **kw)


def test_a_zone_document_goes_to_the_printer_at_the_head_of_the_zone(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        assert jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["A"]).code == "PR-A"
        assert jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["B"]).code == "PR-B"


def test_a_resource_document_goes_to_the_printer_standing_at_it(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        printer = jobs.resolve_printer(site["wh"], DocumentKind.CARRIER_LABEL, resource_id=site["station"])
        assert printer.code == "PS-1"


def test_a_route_for_the_place_wins_over_the_printer_standing_there(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.add(PrintRoute(warehouse_id=site["wh"], document_kind=DocumentKind.PICK_ORDER,
                                  zone_id=site["A"], printer_id=site["PS-1"]))
        assert jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["A"]).code == "PS-1"
        # other kinds at that zone still use the printer at the head
        assert jobs.resolve_printer(site["wh"], DocumentKind.TOTE_LABEL, zone_id=site["A"]).code == "PR-A"


def test_the_warehouse_default_route_serves_places_without_their_own(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.add(PrintRoute(warehouse_id=site["wh"], document_kind=DocumentKind.MANIFEST,
                                  printer_id=site["PS-1"]))
        assert jobs.resolve_printer(site["wh"], DocumentKind.MANIFEST, zone_id=site["B"]).code == "PS-1"
        assert jobs.resolve_printer(site["wh"], DocumentKind.MANIFEST).code == "PS-1"


def test_no_printer_at_a_place_is_a_409_naming_the_place(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        with pytest.raises(NoPrinter, match="zone PK") as err:
            jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["PK"])
        assert err.value.status == 409


def test_a_disabled_printer_hands_its_documents_to_its_enabled_backup(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        from wms.printing.models import Printer

        db.session.get(Printer, site["PR-A"]).enabled = False
        assert jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["A"]).code == "PR-B"
        db.session.get(Printer, site["PR-B"]).enabled = False
        with pytest.raises(NoPrinter, match="disabled"):
            jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["A"])


def test_enqueue_is_idempotent_per_key_and_writes_the_first_event(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        again = _enqueue(site, reference="OP-other")
        assert again.id == job.id
        assert job.state == JobState.QUEUED and job.printer.code == "PR-A"
        events = db.session.scalars(select(PrintJobEvent).where(PrintJobEvent.job_id == job.id)).all()
        assert [(e.state, e.printer_id) for e in events] == [(JobState.QUEUED, site["PR-A"])]


def test_enqueue_refuses_a_document_in_another_language_than_the_printer(app, site):  # type: ignore[no-untyped-def]
    with app.app_context(), pytest.raises(NoPrinter, match="speaks ZPL"):
        jobs.enqueue_job(warehouse_id=site["wh"], kind=DocumentKind.PICK_ORDER, reference="OP-1",
                         payload=b"%PDF-1.4", content_type=jobs.PDF, idempotency_key="pdf", zone_id=site["A"])


def test_claim_leases_the_oldest_jobs_and_counts_the_attempt(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        first, second, third = (_enqueue(site, key=f"k{i}") for i in range(3))
        claimed = jobs.claim_jobs(site["wh"], "d1", max_jobs=2, lease_seconds=30)
        assert [j.id for j in claimed] == [first.id, second.id]
        assert all(j.state == JobState.CLAIMED and j.lease_owner == "d1" and j.attempts == 1 for j in claimed)
        assert claimed[0].lease_expires_at > utcnow() + dt.timedelta(seconds=25)
        assert [j.id for j in jobs.claim_jobs(site["wh"], "d2", max_jobs=10)] == [third.id]
        assert jobs.claim_jobs(site["wh"], "d2", max_jobs=10) == []


def test_an_expired_lease_is_claimed_again_as_a_possible_duplicate(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        job.lease_expires_at = utcnow() - dt.timedelta(seconds=1)
        (again,) = jobs.claim_jobs(site["wh"], "d2", max_jobs=1)
        assert again.id == job.id and again.lease_owner == "d2" and again.attempts == 2
        assert again.possible_duplicate
        assert "may have printed" in job.events[-1].detail
        with pytest.raises(Conflict):
            jobs.report(job, "d1", Outcome.PRINTED, "PR-A")


def test_reports_move_the_job_and_replays_on_a_finished_job_change_nothing(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(job, "d1", Outcome.SENT, "PR-A", "12 bytes")
        assert job.state == JobState.SENT
        jobs.renew_lease(job, "d1", 30)  # the sender still holds it
        jobs.report(job, "d1", Outcome.PRINTED, "PR-A")
        assert job.state == JobState.PRINTED and job.printed_by.code == "PR-A" and job.finished_at is not None
        events = len(job.events)
        jobs.report(job, "d1", Outcome.FAILED, "PR-A", "late replay")
        assert job.state == JobState.PRINTED and len(job.events) == events
        assert [e.state for e in job.events] == [JobState.QUEUED, JobState.CLAIMED, JobState.SENT, JobState.PRINTED]


def test_a_daemon_that_does_not_hold_the_lease_gets_a_conflict(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        with pytest.raises(Conflict):
            jobs.report(job, "d1", Outcome.PRINTED, "PR-A")
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        with pytest.raises(Conflict, match="held by d1"):
            jobs.report(job, "intruder", Outcome.PRINTED, "PR-A")
        with pytest.raises(Conflict):
            jobs.renew_lease(job, "intruder")


def test_a_retry_waits_until_not_before_and_keeps_the_reason(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(job, "d1", Outcome.RETRY, "PR-A", "paper out", retry_after_seconds=60)
        assert job.state == JobState.QUEUED and job.last_error == "paper out" and job.lease_owner is None
        assert jobs.claim_jobs(site["wh"], "d1", max_jobs=1) == []
        job.not_before = utcnow() - dt.timedelta(seconds=1)
        assert jobs.claim_jobs(site["wh"], "d1", max_jobs=1) == [job]
        assert job.attempts == 2


def test_a_job_printed_by_the_backup_records_the_backup(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(job, "d1", Outcome.PRINTED, "PR-B", "PR-A head open for 60 s")
        assert job.printer.code == "PR-A" and job.printed_by.code == "PR-B"
        assert job.events[-1].printer_id == site["PR-B"]
        assert "backup printer PR-B" in job.events[-1].detail


def test_a_failed_job_stays_visible_with_its_reason(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(job, "d1", Outcome.FAILED, "PR-A", "connection refused; no backup")
        assert job.state == JobState.FAILED and job.last_error == "connection refused; no backup"
        assert jobs.claim_jobs(site["wh"], "d1", max_jobs=1) == []


def test_reprint_queues_a_new_job_pointing_at_the_original(app, site, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        user = make_user("sup", roles=("supervisor",))
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(job, "d1", Outcome.FAILED, "PR-A", "jammed")
        new = jobs.reprint(job, user)
        assert new.id != job.id and new.reprint_of_id == job.id and new.idempotency_key != job.idempotency_key
        assert new.state == JobState.QUEUED and new.payload == job.payload and new.created_by_id == user.id
        assert job.events[-1].detail == f"reprinted as job {new.id}" and job.events[-1].actor == "sup"


def test_cancel_stops_a_queued_job_and_refuses_a_printed_one(app, site, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        user = make_user("sup", roles=("supervisor",))
        job = _enqueue(site)
        jobs.cancel(job, user)
        assert job.state == JobState.CANCELLED and job.events[-1].actor == "sup"
        assert jobs.claim_jobs(site["wh"], "d1", max_jobs=1) == []
        done = _enqueue(site, key="k2")
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(done, "d1", Outcome.PRINTED, "PR-A")
        with pytest.raises(Conflict, match="already printed"):
            jobs.cancel(done, user)


def test_a_status_report_updates_the_printer_and_when_it_changed(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        (pr_a,) = jobs.record_printer_status(site["wh"], "d1", [PrinterStatusReport("PR-A", "paper_out", "~HS")])
        changed = pr_a.status_changed_at
        assert pr_a.status == "paper_out" and pr_a.last_seen_at is not None
        (pr_a,) = jobs.record_printer_status(site["wh"], "d1", [PrinterStatusReport("PR-A", "paper_out")])
        assert pr_a.status_changed_at == changed
        with pytest.raises(ValidationFailed):
            jobs.record_printer_status(site["wh"], "d1", [PrinterStatusReport("PR-A", "ready"),
                                                          PrinterStatusReport("NOPE", "ready")])
        assert pr_a.status == "paper_out"


def test_two_concurrent_claimers_never_get_the_same_job(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        for i in range(60):
            _enqueue(site, key=f"c{i}")
        db.session.commit()
    got: dict[str, list[int]] = {"d1": [], "d2": []}
    barrier = threading.Barrier(2)

    def claimer(name: str) -> None:
        with app.app_context():
            barrier.wait()
            while True:
                claimed = jobs.claim_jobs(site["wh"], name, max_jobs=3)
                ids = [j.id for j in claimed]
                db.session.commit()
                if not ids:
                    return
                got[name].extend(ids)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(got["d1"]) & set(got["d2"])
    assert len(got["d1"]) + len(got["d2"]) == 60
    with app.app_context():
        assert db.session.scalar(select(PrintJob.attempts).order_by(PrintJob.attempts.desc()).limit(1)) == 1


def test_enqueue_notifies_listeners_at_commit(app, site):  # type: ignore[no-untyped-def]
    import psycopg

    url = app.config["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN print_jobs")
        with app.app_context():
            _enqueue(site)
            assert list(listener.notifies(timeout=0.2, stop_after=1)) == []  # nothing before commit
            db.session.commit()
        (note,) = list(listener.notifies(timeout=5, stop_after=1))
        assert note.payload == str(site["wh"])
    time.sleep(0)
