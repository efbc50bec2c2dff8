"""Parsing ~HS and ~HQES answers into a printer status."""

from __future__ import annotations

import pytest

from wms.labels.zebra_status import (
    StatusUnreadable,
    combine,
    parse_extended_status,
    parse_host_status,
)

# Shapes as printed in the ZPL II Programming Guide (~HS: three STX..ETX CR LF strings).
HS_READY = (
    "\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n"
    "\x02001,0,0,0,1,2,6,0,00000000,1,000\x03\r\n"
    "\x021234,0\x03\r\n"
)
HS_PAPER_OUT_PAUSED = (
    "\x02030,1,1,0812,003,0,0,0,000,0,0,0\x03\r\n"
    "\x02001,0,0,0,1,2,6,0,00000003,1,000\x03\r\n"
    "\x021234,0\x03\r\n"
)
HS_HEAD_UP_RIBBON_OUT = (
    "\x02030,0,0,1218,000,1,0,0,000,0,0,1\x03\r\n"
    "\x02001,0,1,1,1,2,6,0,00000000,1,000\x03\r\n"
    "\x021234,0\x03\r\n"
)
HQES = "\x02\r\n\r\n  PRINTER STATUS\r\n   ERRORS:         {} 00000000 {}\r\n   WARNINGS:       {} 00000000 {}\r\n\x03"


def test_a_ready_printer_is_ready():
    status = parse_host_status(HS_READY)
    assert status.ready and status.describe() == "ready"
    assert status.label_length_dots == 1218 and status.formats_in_buffer == 0


def test_paper_out_and_pause_flags_are_read_from_the_first_string():
    status = parse_host_status(HS_PAPER_OUT_PAUSED.encode())
    assert status.paper_out and status.paused and not status.ready
    assert status.formats_in_buffer == 3 and status.labels_remaining == 3


def test_head_up_ribbon_out_buffer_full_and_temperature_are_read():
    status = parse_host_status(HS_HEAD_UP_RIBBON_OUT)
    assert status.head_open and status.ribbon_out and status.buffer_full and status.over_temperature


def test_the_sgd_form_without_framing_is_read_too():
    text = "030,1,0,1218,000,0,0,0,000,0,0,0\r\n001,0,0,0,1,2,6,0,00000000,1,000\r\n1234,0"
    assert parse_host_status(text).paper_out


@pytest.mark.parametrize("raw", ["", "garbage", "\x02030,0\x03\r\n\x02001\x03\r\n"])
def test_something_else_is_unreadable(raw):
    with pytest.raises(StatusUnreadable):
        parse_host_status(raw)


def test_no_errors_and_no_warnings_is_ready():
    status = parse_extended_status(HQES.format(0, "00000000", 0, "00000000"))
    assert status.ready and status.errors == () and status.warnings == ()


def test_media_out_and_head_open_bits_are_read():
    status = parse_extended_status(HQES.format(1, "00000005", 0, "00000000"))
    assert status.paper_out and status.head_open and not status.ribbon_out
    assert status.errors == ("media out", "head open")


def test_paused_and_ribbon_out_bits_are_read():
    status = parse_extended_status(HQES.format(1, "00010002", 0, "00000000"))
    assert status.paused and status.ribbon_out


def test_warnings_do_not_stop_a_printer():
    status = parse_extended_status(HQES.format(0, "00000000", 1, "00000002"))
    assert status.ready and status.warnings == ("clean printhead",)


def test_unknown_error_bits_are_kept_as_an_error():
    status = parse_extended_status(HQES.format(1, "00000800", 0, "00000000"))
    assert not status.ready and status.errors[0].startswith("unknown error flags")


def test_an_answer_without_the_status_lines_is_unreadable():
    with pytest.raises(StatusUnreadable):
        parse_extended_status("\x02\r\nPRINTER STATUS\r\n\x03")


def test_both_answers_combine_into_one_status():
    combined = combine(
        parse_host_status(HS_READY), parse_extended_status(HQES.format(1, "00000004", 0, "00000000"))
    )
    assert combined.head_open and combined.label_length_dots == 1218 and not combined.ready
