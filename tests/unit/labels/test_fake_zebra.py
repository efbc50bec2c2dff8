"""The fake Zebra peer: stores labels, answers status queries, and fails like a real printer."""

from __future__ import annotations

import contextlib
import socket

import pytest

from tests.fakes.zebra import ETX, STX, FakeZebra, Mode, query, send
from wms.labels.documents import ToteLabel
from wms.labels.zebra_status import parse_extended_status, parse_host_status

LABEL = b"^XA^CI28^FO20,20^A0N,30,30^FH^FDhello^FS^XZ"


@pytest.fixture
def printer():
    with FakeZebra(slow_delay=0.01) as fake:
        yield fake


def test_it_listens_only_on_loopback(printer):
    assert printer.address[0] == "127.0.0.1" and printer.port > 0


def test_a_sent_label_is_stored_per_connection_and_printed(printer):
    send(printer.address, LABEL + b"\r\n" + LABEL.replace(b"hello", b"world"))
    labels = printer.wait_for_labels(2)
    assert labels == [LABEL, LABEL.replace(b"hello", b"world")]
    assert len(printer.connections) == 1 and printer.connections[0].labels == labels
    assert printer.printed == labels


def test_a_real_document_arrives_as_its_labels(printer):
    job = ToteLabel("T-7").to_zpl().encode()
    send(printer.address, job)
    (label,) = printer.wait_for_labels(1)
    assert label.startswith(b"^XA^CI28") and label.endswith(b"^XZ")


def test_a_label_split_across_many_writes_is_reassembled(printer):
    with socket.create_connection(printer.address, timeout=5) as sock:
        for i in range(0, len(LABEL), 3):
            sock.sendall(LABEL[i : i + 3])
    assert printer.wait_for_labels(1) == [LABEL]


def test_host_status_has_three_framed_strings_and_reads_ready(printer):
    answer = query(printer.address, b"~HS")
    assert answer.count(STX) == 3 and answer.count(ETX) == 3 and answer.endswith(b"\x03\r\n")
    status = parse_host_status(answer)
    assert status.ready and status.label_length_dots == 1218


def test_extended_status_reads_ready(printer):
    answer = query(printer.address, b"~HQES")
    assert answer.startswith(STX) and answer.endswith(ETX) and b"PRINTER STATUS" in answer
    assert parse_extended_status(answer).ready


def test_host_identification_names_the_model(printer):
    assert query(printer.address, b"~HI").startswith(b"\x02ZD621-203dpi,")


@pytest.mark.parametrize(
    ("mode", "flag"),
    [
        (Mode.PAPER_OUT, "paper_out"),
        (Mode.HEAD_OPEN, "head_open"),
        (Mode.RIBBON_OUT, "ribbon_out"),
        (Mode.PAUSED, "paused"),
    ],
)
def test_each_failure_shows_in_both_status_answers(printer, mode, flag):
    printer.set_mode(mode)
    host = parse_host_status(query(printer.address, b"~HS"))
    extended = parse_extended_status(query(printer.address, b"~HQES"))
    for status in (host, extended):
        assert getattr(status, flag) and not status.ready


def test_labels_sent_while_paper_is_out_wait_and_print_when_ready(printer):
    printer.set_mode(Mode.PAPER_OUT)
    send(printer.address, LABEL)
    printer.wait_for_labels(1)
    assert printer.printed == [] and printer.held == [LABEL]
    assert parse_host_status(query(printer.address, b"~HS")).formats_in_buffer == 1
    printer.set_mode(Mode.READY)
    assert printer.printed == [LABEL] and printer.held == []


def test_newer_firmware_does_not_answer_host_status_with_the_head_open():
    with FakeZebra(hides_host_status_on_error=True) as fake:
        fake.set_mode(Mode.HEAD_OPEN)
        with pytest.raises(TimeoutError):
            query(fake.address, b"~HS", timeout=0.3)
        assert parse_extended_status(query(fake.address, b"~HQES")).head_open


def test_a_silent_printer_accepts_data_but_never_answers(printer):
    printer.set_mode(Mode.SILENT)
    send(printer.address, LABEL)
    assert printer.wait_for_labels(1) == [LABEL]
    with pytest.raises(TimeoutError):
        query(printer.address, b"~HS", timeout=0.3)


def test_a_refusing_printer_refuses_connections_until_it_is_back(printer):
    printer.set_mode(Mode.REFUSE)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(printer.address, timeout=2).close()
    printer.set_mode(Mode.READY)
    assert parse_host_status(query(printer.address, b"~HS")).ready


def test_a_printer_closing_mid_job_keeps_only_the_complete_labels():
    with FakeZebra(close_after_bytes=len(LABEL) + 10) as fake:
        fake.set_mode(Mode.CLOSE_MID_JOB)
        with socket.create_connection(fake.address, timeout=5) as sock:
            sock.sendall(LABEL + LABEL)
            # The peer resets the connection: reading ends with a reset or an empty read.
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(10) == b""
        assert fake.wait_for_labels(1) == [LABEL]
        assert fake.connections[0].dropped and len(fake.connections[0].labels) == 1


def test_a_slow_printer_still_takes_labels_and_answers(printer):
    printer.set_mode(Mode.SLOW)
    send(printer.address, LABEL * 2)
    assert printer.wait_for_labels(2) == [LABEL, LABEL]
    assert parse_host_status(query(printer.address, b"~HS")).ready


def test_a_cancel_all_control_command_drops_held_formats(printer):
    printer.set_mode(Mode.PAUSED)
    send(printer.address, LABEL)
    printer.wait_for_labels(1)
    # The answer to ~HS comes after ~JA on the same connection was handled.
    assert b"PRINTER STATUS" in query(printer.address, b"~JA~HQES")
    assert printer.held == []
