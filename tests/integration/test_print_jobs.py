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


def test_a_later_job_of_a_printer_waits_behind_an_older_one_in_backoff(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        first = _enqueue(site, key="k1")
        second = _enqueue(site, key="k2")
        other_printer = _enqueue(site, key="k3", zone_id=site["B"])
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.report(first, "d1", Outcome.RETRY, "PR-A", "paper out", retry_after_seconds=60)
        # PR-A's second label may not come out before its first; PR-B's work is not held up
        assert jobs.claim_jobs(site["wh"], "d1", max_jobs=10) == [other_printer]
        first.not_before = utcnow() - dt.timedelta(seconds=1)
        assert jobs.claim_jobs(site["wh"], "d1", max_jobs=10) == [first, second]


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


def test_a_cancelled_job_that_printed_anyway_says_so_in_its_history(app, site, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        jobs.claim_jobs(site["wh"], "d1", max_jobs=1)
        jobs.cancel(job, make_user("sup", roles=("supervisor",)))
        for _ in range(2):
            jobs.report(job, "d1", Outcome.PRINTED, "PR-A")
        assert job.state == JobState.CANCELLED and job.printed_by_id is None
        assert [e.detail for e in job.events].count("the daemon reported it printed on PR-A after it was cancelled") == 1


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


# --- the HTTP API (contract C) ------------------------------------------------------------------------------

def _site_headers(app, make_token, warehouse_id, key=None):  # type: ignore[no-untyped-def]
    from wms.layout.models import Warehouse

    with app.app_context():
        raw = make_token("print_site", warehouse=db.session.get(Warehouse, warehouse_id))
        db.session.commit()
    headers = {"Authorization": f"Bearer {raw}"}
    return headers


_keys = iter(range(10**9))


def _post(client, url, headers, body):  # type: ignore[no-untyped-def]
    return client.post(url, json=body, headers={**headers, "Idempotency-Key": f"key-{next(_keys)}"})


def _queue_committed(app, site, key="k1"):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site, key=key)
        db.session.commit()
        return job.id


def test_the_daemon_claims_reports_and_sees_the_job_printed(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    job_id = _queue_committed(app, site)
    resp = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    assert resp.status_code == 200, resp.json
    (job,) = resp.json["jobs"]
    assert job["id"] == job_id and job["attempt"] == 1 and job["printer"]["code"] == "PR-A"
    assert job["backup"]["code"] == "PR-B" and job["content_type"] == ZPL
    import base64
    assert base64.b64decode(job["payload_b64"]) == PAYLOAD
    assert resp.json["lease_seconds"] > 0
    resp = _post(client, f"/api/v1/print/jobs/{job_id}/lease", headers, {"daemon_id": "d1"})
    assert resp.status_code == 200 and resp.json["state"] == "claimed"
    resp = _post(client, f"/api/v1/print/jobs/{job_id}/report", headers,
                 {"daemon_id": "d1", "outcome": "printed", "printer_code": "PR-B", "detail": "failover"})
    assert resp.status_code == 200 and resp.json["state"] == "printed"
    replay = _post(client, f"/api/v1/print/jobs/{job_id}/report", headers,
                   {"daemon_id": "d1", "outcome": "failed", "printer_code": "PR-A"})
    assert replay.status_code == 200 and replay.json["state"] == "printed"
    with app.app_context():
        job = db.session.get(PrintJob, job_id)
        assert job.printed_by.code == "PR-B"


def test_a_report_from_a_daemon_without_the_lease_is_a_409(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    job_id = _queue_committed(app, site)
    _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    resp = _post(client, f"/api/v1/print/jobs/{job_id}/report", headers,
                 {"daemon_id": "d2", "outcome": "printed", "printer_code": "PR-A"})
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    resp = _post(client, f"/api/v1/print/jobs/{job_id}/lease", headers, {"daemon_id": "d2"})
    assert resp.status_code == 409


def test_the_daemon_reports_printer_status_and_reads_its_printers(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    resp = _post(client, "/api/v1/print/printers/status", headers,
                 {"daemon_id": "d1", "printers": [{"code": "PR-A", "status": "head_open", "detail": "~HS"}]})
    assert resp.status_code == 200, resp.json
    resp = client.get("/api/v1/print/printers", headers=headers)
    by_code = {p["code"]: p for p in resp.json["printers"]}
    assert by_code["PR-A"]["status"] == "head_open" and by_code["PR-A"]["backup"] == "PR-B"
    assert by_code["PR-A"]["zone"] == "A" and by_code["PR-A"]["place"] == "rack_head"
    assert by_code["PS-1"]["connection"] == "virtual://ps"
    bad = _post(client, "/api/v1/print/printers/status", headers,
                {"daemon_id": "d1", "printers": [{"code": "PR-A", "status": "on_fire"}]})
    assert bad.status_code == 422


def test_a_print_site_token_of_another_warehouse_sees_none_of_these_jobs(app, client, site, make_token,  # type: ignore[no-untyped-def]
                                                                        make_warehouse):
    with app.app_context():
        other = make_warehouse("W2")
        db.session.commit()
        other_id = other.id
    job_id = _queue_committed(app, site)
    headers = _site_headers(app, make_token, other_id)
    resp = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    assert resp.status_code == 200 and resp.json["jobs"] == []
    resp = _post(client, f"/api/v1/print/jobs/{job_id}/report", headers,
                 {"daemon_id": "d1", "outcome": "printed", "printer_code": "PR-A"})
    assert resp.status_code == 404
    resp = _post(client, "/api/v1/print/printers/status", headers,
                 {"daemon_id": "d1", "printers": [{"code": "PR-A", "status": "ready"}]})
    assert resp.status_code == 422
    assert client.get("/api/v1/warehouses/W1/printers", headers=headers).status_code == 403


def test_a_channel_token_or_a_person_cannot_call_the_daemon_operations(app, client, site, make_token, make_user):  # type: ignore[no-untyped-def]
    from wms.layout.models import Warehouse

    with app.app_context():
        channel = make_token("channel", warehouse=db.session.get(Warehouse, site["wh"]))
        supervisor = make_user(roles=("supervisor",), all_warehouses=True)
        personal = make_token("user", user=supervisor)
        db.session.commit()
    for raw in (channel, personal):
        headers = {"Authorization": f"Bearer {raw}"}
        assert _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"}).status_code == 403
        assert client.get("/api/v1/print/printers", headers=headers).status_code == 403
    # the supervisor reads the fleet; the channel may not
    assert client.get("/api/v1/warehouses/W1/printers",
                      headers={"Authorization": f"Bearer {personal}"}).status_code == 200
    assert client.get("/api/v1/warehouses/W1/printers",
                      headers={"Authorization": f"Bearer {channel}"}).status_code == 403


def test_the_claim_long_poll_returns_as_soon_as_a_job_is_queued(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])

    def enqueue_later() -> None:
        time.sleep(0.5)
        _queue_committed(app, site, key="late")

    thread = threading.Thread(target=enqueue_later)
    started = time.monotonic()
    thread.start()
    resp = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "wait_seconds": 30})
    elapsed = time.monotonic() - started
    thread.join()
    assert resp.status_code == 200 and len(resp.json["jobs"]) == 1
    assert elapsed < 20  # woken by the NOTIFY, long before the 30 s wait ran out


def test_an_empty_long_poll_ends_after_its_wait_holding_no_lock(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    resp = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "wait_seconds": 0.3})
    assert resp.status_code == 200 and resp.json["jobs"] == []


def test_a_replayed_claim_returns_the_same_jobs_without_claiming_again(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = {**_site_headers(app, make_token, site["wh"]), "Idempotency-Key": "claim-1"}
    _queue_committed(app, site)
    first = client.post("/api/v1/print/claim", json={"daemon_id": "d1", "wait_seconds": 5}, headers=headers)
    again = client.post("/api/v1/print/claim", json={"daemon_id": "d1", "wait_seconds": 5}, headers=headers)
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(select(PrintJob.attempts)) == 1


def test_supervisors_list_read_reprint_and_cancel_jobs(app, client, site, make_user, make_token):  # type: ignore[no-untyped-def]
    with app.app_context():
        supervisor = make_user(roles=("supervisor",), all_warehouses=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        db.session.commit()
    job_id = _queue_committed(app, site)
    listed = client.get("/api/v1/warehouses/W1/print-jobs?state=queued&printer=PR-A", headers=headers)
    assert listed.status_code == 200 and [j["id"] for j in listed.json] == [job_id]
    assert client.get("/api/v1/warehouses/W1/print-jobs?state=printed", headers=headers).json == []
    detail = client.get(f"/api/v1/print-jobs/{job_id}", headers=headers).json
    assert [e["state"] for e in detail["events"]] == ["queued"] and detail["events"][0]["printer"] == "PR-A"
    reprinted = _post(client, f"/api/v1/print-jobs/{job_id}/reprint", headers, {})
    assert reprinted.status_code == 201 and reprinted.json["reprint_of"] == job_id
    cancelled = _post(client, f"/api/v1/print-jobs/{job_id}/cancel", headers, {})
    assert cancelled.status_code == 200 and cancelled.json["state"] == "cancelled"
    fleet = client.get("/api/v1/warehouses/W1/printers", headers=headers).json
    assert {p["code"]: p["jobs_waiting"] for p in fleet} == {"PR-A": 1, "PR-B": 0, "PS-1": 0}


def test_print_routes_are_replaced_as_a_whole_and_refused_when_unknown(app, client, site, make_user, make_token):  # type: ignore[no-untyped-def]
    with app.app_context():
        supervisor = make_user(roles=("supervisor",), all_warehouses=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        db.session.commit()
    routes = [{"document_kind": "pick_order", "zone": "A", "printer": "PR-B"},
              {"document_kind": "carrier_label", "resource": "PS1", "printer": "PS-1"}]
    resp = client.put("/api/v1/warehouses/W1/print-routes", json={"routes": routes},
                      headers={**headers, "Idempotency-Key": "r1"})
    assert resp.status_code == 200, resp.json
    assert len(client.get("/api/v1/warehouses/W1/print-routes", headers=headers).json["routes"]) == 2
    bad = client.put("/api/v1/warehouses/W1/print-routes",
                     json={"routes": [{"document_kind": "pick_order", "zone": "NOPE", "printer": "PR-B"}]},
                     headers={**headers, "Idempotency-Key": "r2"})
    assert bad.status_code == 422
    assert len(client.get("/api/v1/warehouses/W1/print-routes", headers=headers).json["routes"]) == 2
    with app.app_context():
        assert jobs.resolve_printer(site["wh"], DocumentKind.PICK_ORDER, zone_id=site["A"]).code == "PR-B"


def test_a_test_label_is_queued_and_its_preview_is_rendered_from_its_bytes(app, client, site, make_user,  # type: ignore[no-untyped-def]
                                                                         make_token):
    pytest.importorskip("zplkit")
    with app.app_context():
        supervisor = make_user(roles=("supervisor",), all_warehouses=True)
        headers = {"Authorization": f"Bearer {make_token('user', user=supervisor)}"}
        db.session.commit()
    resp = _post(client, "/api/v1/warehouses/W1/printers/PS-1/test", headers, {})
    assert resp.status_code == 201 and resp.json["document_kind"] == "test_page"
    png = client.get(f"/api/v1/print-jobs/{resp.json['id']}/preview.png", headers=headers)
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_cli_creates_a_site_token_that_claims_jobs(app, client, runner, site):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["printing", "site-token", "--warehouse", "W1", "--name", "printserver hall 1"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip().splitlines()[-1]
    _queue_committed(app, site)
    resp = _post(client, "/api/v1/print/claim", {"Authorization": f"Bearer {raw}"}, {"daemon_id": "cli"})
    assert resp.status_code == 200 and len(resp.json["jobs"]) == 1
    listed = runner.invoke(args=["printing", "jobs", "--warehouse", "W1"])
    assert listed.exception is None, repr(listed.exception)
    assert listed.exit_code == 0 and "\tW1\tclaimed\tPR-A\t1\tpick_order\tOP-1" in listed.output
    assert runner.invoke(args=["printing", "jobs"]).output == listed.output
    unknown = runner.invoke(args=["printing", "site-token", "--warehouse", "NOPE", "--name", "x"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output


def test_the_demo_seed_routes_every_document_of_its_places_to_a_printer(app, runner):  # type: ignore[no-untyped-def]
    for _ in range(2):  # idempotent: the second run adds nothing
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code == 0, result.output
    assert "print routes: 0 created, 5 already there" in result.output
    from wms.layout.models import Resource, Zone
    from wms.layout.services import get_warehouse

    with app.app_context():
        wh = get_warehouse("DEMO")
        zone = {z.code: z.id for z in db.session.scalars(select(Zone).where(Zone.warehouse_id == wh.id))}
        station = db.session.scalar(select(Resource.id).where(Resource.code == "PS-1"))
        expect = [(DocumentKind.PICK_ORDER, {"zone_id": zone["A"]}, "PR-A"),
                  (DocumentKind.PICK_ORDER, {"zone_id": zone["B"]}, "PR-B"),
                  (DocumentKind.TOTE_LABEL, {"zone_id": zone["B"]}, "PR-B"),
                  (DocumentKind.CARRIER_LABEL, {"resource_id": station}, "PR-PS1"),
                  (DocumentKind.RECEIPT_LABEL, {"zone_id": zone["RCV"]}, "PR-RCV"),
                  (DocumentKind.LOCATION_LABEL, {"zone_id": zone["A"]}, "PR-RCV")]
        for kind, place, code in expect:
            assert jobs.resolve_printer(wh.id, kind, **place).code == code, (kind, place)


def test_the_daemon_cycle_works_on_the_embedded_sqlite_database(tmp_path):  # type: ignore[no-untyped-def]
    """No LISTEN there: the long-poll polls, and a job queued meanwhile is still handed out."""
    from alembic import command

    from wms import create_app
    from wms.auth.tokens import issue_token
    from wms.dbcli import alembic_config
    from wms.enums import TokenPurpose

    url = f"sqlite:///{tmp_path}/print.db"
    command.upgrade(alembic_config(url), "head")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "sqlite-print"})
    try:
        with app.app_context():
            wh = layout.create_warehouse("S1", "SQLite site")
            zone = layout.add_zone(wh, "A", ZoneKind.RACK, aisle_length_m=4)
            layout.add_printer(wh, "PR-A", place=PrinterPlace.RACK_HEAD, zone=zone, connection="virtual://a")
            _token, raw = issue_token(name="site", purpose=TokenPurpose.PRINT_SITE, warehouse_id=wh.id)
            db.session.commit()
            ids = {"wh": wh.id, "A": zone.id}
        headers = {"Authorization": f"Bearer {raw}"}

        def enqueue_later() -> None:
            time.sleep(0.4)
            with app.app_context():
                _enqueue(ids, key="sqlite-1")
                db.session.commit()

        thread = threading.Thread(target=enqueue_later)
        thread.start()
        client = app.test_client()
        resp = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "wait_seconds": 10})
        thread.join()
        assert resp.status_code == 200, resp.json
        (job,) = resp.json["jobs"]
        done = _post(client, f"/api/v1/print/jobs/{job['id']}/report", headers,
                     {"daemon_id": "d1", "outcome": "printed", "printer_code": "PR-A"})
        assert done.status_code == 200 and done.json["state"] == "printed"
    finally:
        db.engine(app).dispose()


def test_a_batch_of_reports_applies_each_item_once_and_refuses_items_one_by_one(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    first, second, third = (_queue_committed(app, site, key=f"b{i}") for i in range(3))
    claimed = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "max_jobs": 3})
    assert [j["id"] for j in claimed.json["jobs"]] == [first, second, third]
    retry = {"job_id": second, "key": "d1:second:1:retry", "outcome": "retry", "printer_code": "PR-A",
             "detail": "paper out", "retry_after_seconds": 30}
    body = {"daemon_id": "d1", "reports": [
        {"job_id": first, "key": "d1:first:1:sent", "outcome": "sent", "printer_code": "PR-A"},
        {"job_id": first, "key": "d1:first:1:printed", "outcome": "printed", "printer_code": "PR-A"},
        retry,
        {"job_id": 10**6, "key": "d1:ghost", "outcome": "printed", "printer_code": "PR-A"},
    ]}
    resp = _post(client, "/api/v1/print/reports", headers, body)
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [(r["job_id"], r["status"], r["state"]) for r in results] == [
        (first, 200, "sent"), (first, 200, "printed"), (second, 200, "queued"), (10**6, 404, None)]
    assert "No print job" in results[3]["detail"]

    # The second job is claimed again (attempt 2); the old retry report comes back in a new batch with a
    # report the third job's lease no longer allows: the replayed item changes nothing, the other is a 409.
    again = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    assert again.status_code == 200
    with app.app_context():
        job = db.session.get(PrintJob, second)
        job.not_before = None
        db.session.commit()
    again = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    assert [j["id"] for j in again.json["jobs"]] == [second]
    resp = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d2", "reports": [
        retry, {"job_id": third, "key": "d2:third:1:printed", "outcome": "printed", "printer_code": "PR-A"}]})
    assert resp.status_code == 200
    replayed, refused = resp.json["results"]
    assert replayed["replayed"] is True and replayed["state"] == "queued"
    assert refused["status"] == 409 and refused["state"] is None
    with app.app_context():
        assert db.session.get(PrintJob, second).state == JobState.CLAIMED  # the replay did not requeue attempt 2
        assert db.session.get(PrintJob, third).state == JobState.CLAIMED
        assert db.session.get(PrintJob, first).state == JobState.PRINTED


def test_a_batch_report_item_key_reused_for_another_report_is_refused_without_effect(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    job_id = _queue_committed(app, site)
    _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    item = {"job_id": job_id, "key": "same", "outcome": "sent", "printer_code": "PR-A"}
    assert _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": [item]}).status_code == 200
    other = {**item, "outcome": "failed", "detail": "x"}
    resp = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": [other]})
    assert resp.json["results"][0]["status"] == 409
    with app.app_context():
        assert db.session.get(PrintJob, job_id).state == JobState.SENT
    empty = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": []})
    assert empty.status_code == 422


def test_a_claim_takes_hundreds_of_jobs_at_once_in_order_each_with_its_claimed_event(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    with app.app_context():
        ids = [_enqueue(site, key=f"many-{n}", reference=f"OP-{n}").id for n in range(300)]
        db.session.commit()
    too_many = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "max_jobs": 501})
    assert too_many.status_code == 422
    resp = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "max_jobs": 250})
    assert resp.status_code == 200, resp.json
    claimed = resp.json["jobs"]
    assert [j["id"] for j in claimed] == ids[:250]
    assert {(j["attempt"], j["possible_duplicate"], j["state"]) for j in claimed} == {(1, False, "claimed")}
    assert [j["reference"] for j in claimed[:2]] == ["OP-0", "OP-1"]
    rest = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d2", "max_jobs": 250})
    assert [j["id"] for j in rest.json["jobs"]] == ids[250:]
    with app.app_context():
        events = db.session.execute(select(PrintJobEvent.job_id, PrintJobEvent.actor, PrintJobEvent.attempt).where(
            PrintJobEvent.state == JobState.CLAIMED).order_by(PrintJobEvent.job_id)).all()
        assert [tuple(e) for e in events] == [(i, "d1" if n < 250 else "d2", 1) for n, i in enumerate(ids)]


def test_claiming_in_a_session_that_holds_the_job_refreshes_it(app, site):  # type: ignore[no-untyped-def]
    with app.app_context():
        job = _enqueue(site)
        assert [e.state for e in job.events] == [JobState.QUEUED]
        (claimed,) = jobs.claim_jobs(site["wh"], "d1", max_jobs=5, lease_seconds=30)
        assert claimed is job and job.state == JobState.CLAIMED and job.lease_owner == "d1" and job.attempts == 1
        assert [e.state for e in job.events] == [JobState.QUEUED, JobState.CLAIMED]


def test_a_batch_applies_a_key_given_twice_once_and_refuses_a_bad_item_alone(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    first, second, third = (_queue_committed(app, site, key=f"twice{i}") for i in range(3))
    _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "max_jobs": 3})
    sent = {"job_id": first, "key": "d1:first:sent", "outcome": "sent", "printer_code": "PR-A"}
    resp = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": [
        sent,
        {"job_id": second, "key": "d1:second:printed", "outcome": "printed", "printer_code": "NO-SUCH"},
        {**sent, "outcome": "failed"},  # the same key for another report: refused, nothing applied
        sent,  # the same report again: answered as the first time
        {"job_id": third, "key": "d1:third:printed", "outcome": "printed", "printer_code": "PR-B",
         "possible_duplicate": True},
    ]})
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [(r["status"], r["state"], r["replayed"]) for r in results] == [
        (200, "sent", False), (422, None, False), (409, None, True), (200, "sent", True), (200, "printed", False)]
    with app.app_context():
        assert db.session.get(PrintJob, first).state == JobState.SENT
        assert db.session.get(PrintJob, second).state == JobState.CLAIMED
        job = db.session.get(PrintJob, third)
        assert job.state == JobState.PRINTED and job.printed_by.code == "PR-B" and job.possible_duplicate
        assert job.lease_owner is None and job.lease_expires_at is None
        assert job.events[-1].detail == "on backup printer PR-B instead of PR-A (possible duplicate)"
        assert [e.state for e in db.session.get(PrintJob, first).events] == [
            JobState.QUEUED, JobState.CLAIMED, JobState.SENT]
    # The sent job is printed in a later batch: its holder is found from its claim.
    later = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": [
        {"job_id": first, "key": "d1:first:printed", "outcome": "printed", "printer_code": "PR-A"}]})
    assert later.json["results"][0]["state"] == "printed"
    stranger = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d2", "reports": [
        {"job_id": second, "key": "d2:second:printed", "outcome": "printed", "printer_code": "PR-A"}]})
    assert stranger.json["results"][0]["status"] == 409


def test_a_batch_report_on_a_cancelled_job_says_in_its_history_that_it_printed(app, client, site, make_token,  # type: ignore[no-untyped-def]
                                                                                make_user):
    headers = _site_headers(app, make_token, site["wh"])
    job_id = _queue_committed(app, site)
    _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1"})
    with app.app_context():
        jobs.cancel(db.session.get(PrintJob, job_id), None)
        db.session.commit()
    resp = _post(client, "/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": [
        {"job_id": job_id, "key": "d1:c:printed", "outcome": "printed", "printer_code": "PR-A"}]})
    assert resp.json["results"][0] == {"job_id": job_id, "key": "d1:c:printed", "status": 200,
                                       "state": "cancelled", "detail": None, "replayed": False}
    with app.app_context():
        job = db.session.get(PrintJob, job_id)
        assert job.state == JobState.CANCELLED
        assert "reported it printed on PR-A after it was cancelled" in job.events[-1].detail


def _claim_six(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers = _site_headers(app, make_token, site["wh"])
    ids = [_queue_committed(app, site, key=f"race-{i}") for i in range(6)]
    claimed = _post(client, "/api/v1/print/claim", headers, {"daemon_id": "d1", "max_jobs": 6})
    assert sorted(j["id"] for j in claimed.json["jobs"]) == ids
    return headers, ids


def _all_at_once(app, calls):  # type: ignore[no-untyped-def]
    """Each (url, headers, body) from its own client, released together; the answers in call order."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(n: int) -> None:
        url, headers, body = calls[n]
        local = app.test_client()
        barrier.wait()
        resp = local.post(url, json=body, headers={**headers, "Idempotency-Key": f"race-{n}-{next(_keys)}"})
        answers[n] = (resp.status_code, resp.json)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _events(app, job_id, state):  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.execute(select(PrintJobEvent.actor, PrintJobEvent.detail).where(
            PrintJobEvent.job_id == job_id, PrintJobEvent.state == state).order_by(PrintJobEvent.id)).all()


def test_two_printed_reports_of_one_job_at_once_apply_once(app, client, site, make_token):  # type: ignore[no-untyped-def]
    """Six jobs, each reported printed twice at the same moment by the daemon holding it: singly for three, once
    singly and once in a batch for the other three. Every answer is a success; each job has one printed event."""
    headers, ids = _claim_six(app, client, site, make_token)
    printed = {"daemon_id": "d1", "outcome": "printed", "printer_code": "PR-A"}
    calls = []
    for n, job_id in enumerate(ids):
        single = (f"/api/v1/print/jobs/{job_id}/report", headers, printed)
        calls.append(single)
        calls.append(single if n < 3 else ("/api/v1/print/reports", headers, {"daemon_id": "d1", "reports": [
            {"job_id": job_id, "key": f"d1:{job_id}:printed", "outcome": "printed", "printer_code": "PR-A"}]}))
    answers = _all_at_once(app, calls)
    assert [status for status, _ in answers] == [200] * len(calls), answers
    for _status, body in answers:
        assert body.get("state", "printed") == "printed"
        assert all(r["status"] == 200 and r["state"] == "printed" for r in body.get("results", []))
    assert {job_id: len(_events(app, job_id, JobState.PRINTED)) for job_id in ids} == {job_id: 1 for job_id in ids}


def test_a_retry_reported_twice_at_once_queues_the_job_again_once(app, client, site, make_token):  # type: ignore[no-untyped-def]
    headers, ids = _claim_six(app, client, site, make_token)
    retry = {"daemon_id": "d1", "outcome": "retry", "printer_code": "PR-A", "detail": "paper out"}
    answers = _all_at_once(app, [(f"/api/v1/print/jobs/{job_id}/report", headers, retry)
                                 for job_id in ids for _ in range(2)])
    assert [(status, body["state"]) for status, body in answers] == [(200, "queued")] * 12, answers
    for job_id in ids:
        assert [e.detail for e in _events(app, job_id, JobState.QUEUED) if e.actor == "d1"] == ["paper out"]
