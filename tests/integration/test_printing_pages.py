"""Supervisor printing pages: the fleet on the warehouse picture, jobs with history, reprint with CSRF, routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import make_test_app
from tests.factories import sign_in_client
from wms.db import db
from wms.layout.importer import import_layout_file
from wms.layout.services import get_warehouse
from wms.printing import jobs
from wms.printing.jobs import ZPL, Outcome, PrinterStatusReport
from wms.printing.models import DocumentKind, JobState, PrintJob, PrintRoute
from wms.supervisor.layout_svg import ERROR_COLOUR, HEALTH_COLOURS, WARNING_COLOUR

DEMO = Path(__file__).resolve().parents[2] / "wms" / "demo" / "warehouse.yaml"
LABEL = b"^XA^CI28^PW800^LL400^LH0,0^FO20,20^A0N,40,40^FH^FDOP-0001^FS^XZ\n"


@pytest.fixture
def demo(session, commit):  # type: ignore[no-untyped-def]
    import_layout_file(DEMO)
    wh = get_warehouse("DEMO")
    commit()
    return wh


@pytest.fixture
def supervisor(make_user, commit, demo):  # type: ignore[no-untyped-def]
    user = make_user("boss", roles=("supervisor",), totp=True, warehouses=(demo,))
    commit()
    return user


def _zone_id(code: str) -> int:
    from wms.layout.models import Zone

    return db.session.scalar(select(Zone.id).where(Zone.code == code))


def _job(demo, key: str = "op-1", zone: str = "A") -> PrintJob:  # type: ignore[no-untyped-def]
    return jobs.enqueue_job(warehouse_id=demo.id, kind=DocumentKind.PICK_ORDER, reference=f"OP-{key}",
                            payload=LABEL, content_type=ZPL, idempotency_key=key, zone_id=_zone_id(zone))


def _printer_glyph(page: str, code: str) -> str:
    match = re.search(rf'<g class="printer" data-printer="{re.escape(code)}"[^>]*>.*?</g>', page, re.S)
    assert match, f"printer {code} is drawn on the picture"
    return match.group(0)


def test_the_fleet_page_draws_every_printer_coloured_by_its_status(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    jobs.record_printer_status(demo.id, "d1", [PrinterStatusReport("PR-A", "ready"),
                                               PrinterStatusReport("PR-B", "paper_out", "out of labels"),
                                               PrinterStatusReport("PR-PS1", "offline")])
    _job(demo, "1")
    _job(demo, "2")
    commit()
    sign_in_client(client.application, client, supervisor)
    resp = client.get("/warehouses/DEMO/printers")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "<svg" in page
    expected = {"PR-A": ("ok", HEALTH_COLOURS["ok"]), "PR-B": ("warning", WARNING_COLOUR),
                "PR-PS1": ("down", ERROR_COLOUR), "PR-RCV": ("unknown", HEALTH_COLOURS["unknown"])}
    for code, (health, colour) in expected.items():
        glyph = _printer_glyph(page, code)
        assert f'data-health="{health}"' in glyph and f'fill="{colour}"' in glyph
    assert "2 waiting" in _printer_glyph(page, "PR-A")
    assert "out of labels" in page
    # the auto-refresh fragment carries the same picture without the page around it
    fragment = client.get("/warehouses/DEMO/printers?fragment=1")
    assert fragment.headers["X-Fleet-Fragment"] == "1" and "<svg" in fragment.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)


def test_a_status_not_confirmed_lately_shows_as_unknown(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    import datetime as dt

    (printer,) = jobs.record_printer_status(demo.id, "d1", [PrinterStatusReport("PR-A", "ready")])
    printer.last_seen_at = printer.last_seen_at - dt.timedelta(hours=1)
    commit()
    sign_in_client(client.application, client, supervisor)
    page = client.get("/warehouses/DEMO/printers").get_data(as_text=True)
    assert 'data-health="unknown"' in _printer_glyph(page, "PR-A")


def test_the_jobs_page_filters_and_the_job_page_shows_history_and_failure(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    failed = _job(demo, "1")
    _job(demo, "2", zone="B")
    jobs.claim_jobs(demo.id, "d1", max_jobs=1)
    jobs.report(failed, "d1", Outcome.FAILED, "PR-A", "head open for 5 min; backup PR-B refused the connection")
    commit()
    sign_in_client(client.application, client, supervisor)
    page = client.get("/warehouses/DEMO/print-jobs?state=failed").get_data(as_text=True)
    assert f'data-job="{failed.id}"' in page and "OP-2" not in page
    assert "backup PR-B refused the connection" in page
    page = client.get("/warehouses/DEMO/print-jobs?printer=PR-B").get_data(as_text=True)
    assert "OP-2" in page and "OP-1" not in page
    bad = client.get("/warehouses/DEMO/print-jobs?state=exploded&printer=NOPE")
    assert bad.status_code == 200 and "Unknown state" in bad.get_data(as_text=True)
    detail = client.get(f"/print-jobs/{failed.id}").get_data(as_text=True)
    for state in ("queued", "claimed", "failed"):
        assert f"job-state-{state}" in detail
    assert "head open for 5 min" in detail and "d1" in detail
    assert f'src="/print-jobs/{failed.id}/preview.png"' in detail


def test_the_label_preview_is_drawn_from_the_jobs_bytes(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    pytest.importorskip("zplkit")
    job = _job(demo)
    commit()
    sign_in_client(client.application, client, supervisor)
    resp = client.get(f"/print-jobs/{job.id}/preview.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.data.startswith(b"\x89PNG")


def test_a_pick_order_over_several_labels_previews_every_label(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    pytest.importorskip("zplkit")
    job = jobs.enqueue_job(warehouse_id=demo.id, kind=DocumentKind.PICK_ORDER, reference="OP-LONG",
                           payload=LABEL + LABEL.replace(b"OP-0001", b"OP-0001 2/2"), content_type=ZPL,
                           idempotency_key="long", zone_id=_zone_id("A"))
    commit()
    sign_in_client(client.application, client, supervisor)
    page = client.get(f"/print-jobs/{job.id}").get_data(as_text=True)
    assert f'src="/print-jobs/{job.id}/preview.png"' in page and f'src="/print-jobs/{job.id}/preview.png?page=2"' in page
    first, second = (client.get(f"/print-jobs/{job.id}/preview.png?page={n}") for n in (1, 2))
    assert first.status_code == second.status_code == 200 and first.data != second.data
    assert client.get(f"/print-jobs/{job.id}/preview.png?page=3").status_code == 409


def test_reprint_from_the_page_needs_the_csrf_token_and_queues_a_new_job(app, database_url, supervisor, demo,  # type: ignore[no-untyped-def]
                                                                         commit):
    job = _job(demo)
    jobs.claim_jobs(demo.id, "d1", max_jobs=1)
    jobs.report(job, "d1", Outcome.FAILED, "PR-A", "jammed")
    commit()
    job_id = job.id
    strict = make_test_app(database_url, WTF_CSRF_ENABLED=True)
    try:
        client = strict.test_client()
        sign_in_client(strict, client, supervisor)
        refused = client.post(f"/print-jobs/{job_id}/reprint", data={})
        assert refused.status_code in (400, 403)
        page = client.get(f"/print-jobs/{job_id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        resp = client.post(f"/print-jobs/{job_id}/reprint", data={"csrf_token": token})
        assert resp.status_code == 302
        with strict.app_context():
            new = db.session.scalar(select(PrintJob).where(PrintJob.reprint_of_id == job_id))
            assert new is not None and new.state == JobState.QUEUED and new.created_by_id == supervisor.id
            assert resp.headers["Location"].endswith(f"/print-jobs/{new.id}")
            assert db.session.scalar(select(func.count()).select_from(PrintJob)) == 2
    finally:
        db.engine(strict).dispose()


def test_cancel_from_the_page_and_a_refused_cancel_is_a_message(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    queued = _job(demo, "1")
    printed = _job(demo, "2")
    jobs.claim_jobs(demo.id, "d1", max_jobs=2)
    jobs.report(printed, "d1", Outcome.PRINTED, "PR-A")
    commit()
    sign_in_client(client.application, client, supervisor)
    assert client.post(f"/print-jobs/{queued.id}/cancel").status_code == 302
    resp = client.post(f"/print-jobs/{printed.id}/cancel", follow_redirects=True)
    assert "already printed" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PrintJob, queued.id).state == JobState.CANCELLED
    assert db.session.get(PrintJob, printed.id).state == JobState.PRINTED


def test_the_routes_page_sets_a_rule_and_shows_where_documents_print(client, supervisor, demo, commit):  # type: ignore[no-untyped-def]
    sign_in_client(client.application, client, supervisor)
    page = client.get("/warehouses/DEMO/print-routes").get_data(as_text=True)
    assert "PR-A" in page
    resp = client.post("/warehouses/DEMO/print-routes",
                       data={"document_kind": "receipt_label", "place": "zone:RCV", "printer": "PR-RCV"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert jobs.resolve_printer(demo.id, DocumentKind.RECEIPT_LABEL, zone_id=_zone_id("RCV")).code == "PR-RCV"
    bad = client.post("/warehouses/DEMO/print-routes", data={"document_kind": "receipt_label", "place": "zone:NOPE",
                                                             "printer": "PR-RCV"}, follow_redirects=True)
    assert bad.status_code == 200 and "does not exist" in bad.get_data(as_text=True)
    route = db.session.scalar(select(PrintRoute))
    assert client.post(f"/warehouses/DEMO/print-routes/{route.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(PrintRoute)) == 0


def test_a_test_label_from_the_fleet_page_is_queued_once_per_click(client, supervisor, demo):  # type: ignore[no-untyped-def]
    sign_in_client(client.application, client, supervisor)
    for _ in range(2):  # a double click sends the same nonce
        assert client.post("/warehouses/DEMO/printers/PR-B/test", data={"nonce": "n1"}).status_code == 302
    db.session.expire_all()
    (job,) = db.session.scalars(select(PrintJob)).all()
    assert job.document_kind == DocumentKind.TEST_PAGE and job.printer.code == "PR-B"


def test_pickers_and_other_warehouses_are_refused(client, make_user, demo, make_warehouse, commit):  # type: ignore[no-untyped-def]
    picker = make_user("picky", roles=("picker",), warehouses=(demo,))
    other = make_warehouse("OTHER")
    outsider = make_user("outsider", roles=("supervisor",), totp=True, warehouses=(other,))
    job = _job(demo)
    commit()
    sign_in_client(client.application, client, picker)
    assert client.get("/warehouses/DEMO/printers").status_code == 403
    sign_in_client(client.application, client, outsider)
    assert client.get("/warehouses/DEMO/printers").status_code == 403
    assert client.get(f"/print-jobs/{job.id}").status_code == 403
    assert client.post(f"/print-jobs/{job.id}/reprint").status_code == 403
