"""Printer and network faults, end to end with the real WMS and the daemon process: every fault is visible in the
WMS with its reason, nothing prints on a printer that cannot print, the job prints once the fault is cleared,
the backup takes over after the configured time, and a WMS that goes away is re-synced."""

from __future__ import annotations

import pytest

from tests.e2e.printserver_support import (
    DaemonProcess,
    WmsServer,
    daemon_env,
    delivered,
    make_site,
    site_token,
    wait_until,
)
from tests.fakes.zebra import FakeZebra, Mode
from wms.printing.models import JobState

pytestmark = pytest.mark.slow

LABEL = b"^XA^CI28^FO20,20^A0N,40,40^FH^FDFAULT TEST^FS^XZ"


@pytest.fixture
def world(app, tmp_path):
    """The WMS on 127.0.0.1, a site with PR-A (backup PR-B) and PR-B on two fake Zebras; daemons stopped after."""
    zebras = {"A": FakeZebra(close_after_bytes=60).start(), "B": FakeZebra().start()}
    site = make_site(app)
    site.add_printer("PR-B", f"socket://127.0.0.1:{zebras['B'].port}", zone="B")
    site.add_printer("PR-A", f"socket://127.0.0.1:{zebras['A'].port}", zone="A", backup="PR-B")
    server = WmsServer(app).start()
    token = site_token(app, site)
    started: list[DaemonProcess] = []

    def start_daemon(**timing: object) -> DaemonProcess:
        process = DaemonProcess(tmp_path / "state", daemon_env(server.url, token, tmp_path / "state", **timing))
        started.append(process.start())
        return process

    try:
        yield site, zebras, server, start_daemon
    finally:
        for process in started:
            if process.alive():
                process.terminate()
        print(started[0].text() if started else "")
        server.stop()
        for zebra in zebras.values():
            zebra.stop()


@pytest.mark.parametrize(("mode", "status", "reason"), [
    (Mode.PAPER_OUT, "paper_out", "paper out"),
    (Mode.HEAD_OPEN, "head_open", "head open"),
    (Mode.RIBBON_OUT, "ribbon_out", "ribbon out"),
    (Mode.PAUSED, "paused", "paused"),
    (Mode.SILENT, "offline", "stopped answering status queries"),
    (Mode.REFUSE, "offline", "connection refused"),
])
def test_a_printer_that_cannot_print_gets_nothing_the_reason_is_visible_and_the_job_prints_when_fixed(
        world, mode, status, reason):
    site, zebras, _server, start_daemon = world
    zebra = zebras["A"]
    start_daemon(failover_after_seconds=3600)
    wait_until(lambda: site.printer_status("PR-A")[0] == "ready", 20, "the daemon to see PR-A ready")
    zebra.set_mode(mode)
    job_id = site.enqueue(LABEL, printer="PR-A", reference="FAULT-1")

    wait_until(lambda: reason in (site.jobs()[job_id]["last_error"] or ""), 20, f"the job to show {reason!r}")
    wait_until(lambda: site.printer_status("PR-A")[0] == status, 20, f"PR-A status {status}")
    assert reason in (site.printer_status("PR-A")[1] or "")
    assert site.jobs()[job_id]["state"] in (JobState.QUEUED, JobState.CLAIMED)
    assert zebra.received == [] and delivered(zebra) == b""
    assert any(state == "queued" and reason in (detail or "") for state, detail in site.events(job_id))

    zebra.set_mode(Mode.READY)
    wait_until(lambda: site.jobs()[job_id]["state"] == JobState.PRINTED, 30, "the job printed after the fix")
    job = site.jobs()[job_id]
    assert job["printed_by"] == "PR-A" and not job["possible_duplicate"]
    assert zebra.printed == [LABEL] and zebras["B"].received == []
    wait_until(lambda: site.printer_status("PR-A")[0] == "ready", 20, "PR-A ready again")


def test_a_connection_closed_mid_job_is_retried_and_marked_possible_duplicate(world):
    site, zebras, _server, start_daemon = world
    zebra = zebras["A"]
    start_daemon(failover_after_seconds=3600)
    wait_until(lambda: site.printer_status("PR-A")[0] == "ready", 20, "PR-A ready")
    zebra.set_mode(Mode.CLOSE_MID_JOB)
    big = b"^XA^CI28" + b"".join(b"^FO20,%d^A0N,20,20^FH^FDline %d^FS" % (i * 22, i) for i in range(12)) + b"^XZ"
    job_id = site.enqueue(big, printer="PR-A", reference="MIDJOB-1")
    wait_until(lambda: "lost" in (site.jobs()[job_id]["last_error"] or ""), 20, "the lost connection shown")
    assert zebra.printed == [] and any(conn.dropped for conn in zebra.connections)
    zebra.set_mode(Mode.READY)
    wait_until(lambda: site.jobs()[job_id]["state"] == JobState.PRINTED, 30, "the job printed after the fix")
    job = site.jobs()[job_id]
    assert job["possible_duplicate"]
    # the partial format never completed; the resend carries a visible banner before the label itself
    assert len(zebra.printed) == 2
    assert b"POSSIBLE DUPLICATE" in zebra.printed[0] and zebra.printed[1] == big


def test_after_the_configured_time_the_job_moves_to_the_backup_printer(world):
    site, zebras, _server, start_daemon = world
    start_daemon(failover_after_seconds=2)
    wait_until(lambda: site.printer_status("PR-A")[0] == "ready", 20, "PR-A ready")
    zebras["A"].set_mode(Mode.PAPER_OUT)
    job_id = site.enqueue(LABEL, printer="PR-A", reference="FAILOVER-1")
    wait_until(lambda: site.jobs()[job_id]["state"] == JobState.PRINTED, 40, "the job printed on the backup")
    job = site.jobs()[job_id]
    assert job["printed_by"] == "PR-B"
    assert zebras["B"].printed == [LABEL] and zebras["A"].received == []
    events = site.events(job_id)
    assert any("paper out" in (detail or "") for _state, detail in events)  # why it waited
    assert any(state == "printed" and "backup printer PR-B" in (detail or "") for state, detail in events)


def test_when_the_wms_is_unreachable_the_daemon_keeps_printing_and_re_syncs_when_it_is_back(world):
    site, zebras, server, start_daemon = world
    zebra = zebras["B"]
    zebra.slow_delay = 0.02
    zebra.set_mode(Mode.SLOW)
    daemon = start_daemon()
    labels = [b"^XA^FO20,20^FDJOB %d^FS^XZ" % n for n in range(30)]
    ids = site.enqueue_many([(label, "PR-B") for label in labels], reference="OFFLINE")
    wait_until(lambda: all(site.jobs()[i]["state"] != JobState.QUEUED for i in ids), 20, "all jobs claimed")
    server.stop()
    # The WMS is gone: the held jobs still print, in order.
    wait_until(lambda: len(zebra.received) >= len(labels), 60, "every held job printed while the WMS is away")
    assert zebra.received == labels
    assert not site.all_final(ids)  # nobody told the WMS yet
    assert daemon.alive()
    assert "WMS unreachable" in daemon.text()
    server.start()
    wait_until(lambda: site.all_final(ids), 60, "the reports re-synced")
    rows = site.jobs()
    assert all(rows[i]["state"] == JobState.PRINTED and rows[i]["printed_by"] == "PR-B" for i in ids)
    assert not any(rows[i]["possible_duplicate"] for i in ids)
    assert zebra.received == labels  # nothing printed twice


def test_sigterm_finishes_the_label_being_written_hands_back_the_rest_and_a_restart_prints_them(world):
    site, zebras, _server, start_daemon = world
    zebra = zebras["B"]
    zebra.slow_delay = 0.05
    zebra.set_mode(Mode.SLOW)
    daemon = start_daemon()
    labels = [b"^XA^FO20,20^FDSTOP %d^FS^XZ" % n for n in range(20)]
    ids = site.enqueue_many([(label, "PR-B") for label in labels], reference="SIGTERM")
    wait_until(lambda: 2 <= len(zebra.received) < len(labels), 30, "printing under way")
    assert daemon.terminate(timeout=60) == 0
    rows = site.jobs()
    printed = [i for i in ids if rows[i]["state"] == JobState.PRINTED]
    released = [i for i in ids if rows[i]["state"] == JobState.QUEUED]
    assert printed and released and len(printed) + len(released) == len(ids)  # nothing left claimed
    assert all("released" in (rows[i]["last_error"] or "") for i in released)
    assert zebra.received == labels[:len(printed)]  # the label being written was finished, in order
    zebra.set_mode(Mode.READY)
    start_daemon()
    wait_until(lambda: site.all_final(ids), 60, "the released jobs printed after the restart")
    assert zebra.received == labels
    assert not any(site.jobs()[i]["possible_duplicate"] for i in ids)
