"""The raw 9100 backend against the fake Zebra: refuses a printer that cannot print, confirms after the job."""

from __future__ import annotations

from pathlib import Path

import pytest

from printserver.backends import ZPL, JobUnprintable, PrinterFault
from printserver.backends.raw import RawBackend
from printserver.config import Settings
from tests.fakes.zebra import FakeZebra, Mode

LABEL = b"^XA^CI28^FO20,20^FH^FDhello^FS^XZ"


def _settings(tmp_path: Path) -> Settings:
    return Settings(wms_url="http://127.0.0.1:1", token="t", state_dir=tmp_path, connect_timeout_seconds=1,
                    write_timeout_seconds=2, status_timeout_seconds=0.5)


@pytest.fixture
def zebra():
    with FakeZebra() as printer:
        yield printer


def _deliver(backend: RawBackend, payload: bytes = LABEL, copies: int = 1):
    sending: list[object] = []
    try:
        delivery = backend.deliver(job_id=1, attempt=1, title="t", payload=payload, content_type=ZPL,
                                   copies=copies, on_sending=sending.append)
    finally:
        backend.release()
    return delivery, sending


def test_a_ready_printer_prints_the_bytes_exactly_and_is_confirmed(tmp_path, zebra):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    delivery, sending = _deliver(backend, copies=2)
    assert delivery.printed and "ready afterwards" in delivery.detail
    assert sending == [None]
    assert zebra.wait_for_labels(2) == [LABEL, LABEL]
    assert zebra.printed == [LABEL, LABEL]
    assert zebra.connections[0].queries == [b"~HS", b"~HQES", b"~HS", b"~HQES"]


@pytest.mark.parametrize(("mode", "status"), [
    (Mode.PAPER_OUT, "paper_out"), (Mode.HEAD_OPEN, "head_open"), (Mode.RIBBON_OUT, "ribbon_out"),
    (Mode.PAUSED, "paused"),
])
def test_a_printer_that_cannot_print_is_refused_before_any_byte(tmp_path, zebra, mode, status):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    zebra.set_mode(mode)
    with pytest.raises(PrinterFault) as fault:
        _deliver(backend)
    assert fault.value.status == status and not fault.value.may_have_printed
    assert zebra.received == []
    assert backend.probe().status == status


def test_extended_status_is_the_second_opinion_when_host_status_is_hidden(tmp_path):
    with FakeZebra(hides_host_status_on_error=True) as zebra:
        backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
        zebra.set_mode(Mode.HEAD_OPEN)
        with pytest.raises(PrinterFault) as fault:
            _deliver(backend)
        assert fault.value.status == "head_open"
        assert zebra.received == []


def test_a_printer_that_answered_then_goes_silent_is_a_fault(tmp_path, zebra):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    assert backend.probe().ready
    zebra.set_mode(Mode.SILENT)
    with pytest.raises(PrinterFault) as fault:
        _deliver(backend)
    assert "stopped answering" in fault.value.detail and fault.value.status == "offline"
    assert zebra.received == []


def test_a_refused_connection_is_offline(tmp_path, zebra):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    zebra.set_mode(Mode.REFUSE)
    with pytest.raises(PrinterFault) as fault:
        _deliver(backend)
    assert fault.value.status == "offline" and "refused" in fault.value.detail


def test_a_connection_closed_mid_job_may_have_printed(tmp_path):
    with FakeZebra(close_after_bytes=40) as zebra:
        backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
        zebra.set_mode(Mode.CLOSE_MID_JOB)
        with pytest.raises(PrinterFault) as fault:
            _deliver(backend, payload=LABEL * 50)
        assert fault.value.may_have_printed
        assert zebra.connections[0].dropped


def test_labels_held_by_a_printer_that_failed_during_the_job_are_confirmed_when_it_recovers(tmp_path, zebra):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    assert backend.probe().ready
    zebra.set_mode(Mode.PAPER_OUT)
    # The printer ran out of paper after the pre-check: the backend sees it in the status after the job.
    backend_settings_query = backend._query

    calls = {"n": 0}

    def first_ready(sock):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        status = backend_settings_query(sock)
        if calls["n"] == 1:
            from printserver.zebra_status import PrinterStatus
            return PrinterStatus()
        return status

    backend._query = first_ready  # type: ignore[method-assign]
    delivery, _ = _deliver(backend)
    backend._query = backend_settings_query  # type: ignore[method-assign]
    assert not delivery.printed and "held by the printer: paper out" in delivery.detail
    assert backend.confirm(None)[0] is None
    zebra.set_mode(Mode.READY)
    printed, detail = backend.confirm(None)
    assert printed is True and "ready again" in detail
    assert zebra.printed == [LABEL]


def test_pdf_is_never_sent_to_a_raw_zpl_printer(tmp_path, zebra):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    with pytest.raises(JobUnprintable):
        backend.deliver(job_id=1, attempt=1, title="t", payload=b"%PDF-1.7", content_type="application/pdf",
                        copies=1, on_sending=lambda h: None)
    assert zebra.connections == []


def test_back_to_back_jobs_share_one_connection_and_a_stale_one_is_replaced(tmp_path, zebra):
    backend = RawBackend("P1", *zebra.address, _settings(tmp_path))
    for n in range(3):
        backend.deliver(job_id=n, attempt=1, title="t", payload=LABEL, content_type=ZPL, copies=1,
                        on_sending=lambda h: None)
    assert len(zebra.connections) == 1
    assert zebra.connections[0].queries == [b"~HS", b"~HQES"] * 4  # before the first job, then after each
    zebra.stop()  # the printer restarts: the kept connection is dead
    with FakeZebra(port=zebra.port) as again:
        backend.deliver(job_id=9, attempt=1, title="t", payload=LABEL, content_type=ZPL, copies=1,
                        on_sending=lambda h: None)
        backend.release()
        assert again.printed == [LABEL]
