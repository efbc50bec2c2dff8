"""Copied from wms/labels/zebra_status.py (same authors, same project) because the daemon runs on a site box
without the WMS installed; keep the two in step.

Parse the answers of a Zebra printer to `~HS` (host status) and `~HQES` (extended status).

~HS answers three STX...ETX CR LF strings (ZPL II Programming Guide, ~HS):
  1  aaa,b,c,dddd,eee,f,g,h,iii,j,k,l   interface, paper out, pause, label length, formats in buffer,
                                        buffer full, diagnostic mode, partial format, unused, corrupt RAM,
                                        under temperature, over temperature
  2  mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www   function settings, unused, head up, ribbon out, thermal transfer,
                                        print mode, print width mode, label waiting, labels remaining,
                                        format while printing, graphics stored
  3  xxxx,y                             password, static RAM installed
~HQES answers `PRINTER STATUS` then `ERRORS: f gggggggg hhhhhhhh` and `WARNINGS: ...`: a flag (1 when any
is set) and two groups of 8 hex nibbles; the bits used below are in the low group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

STX, ETX = "\x02", "\x03"

# ~HQES error bits (nibbles 1-5 of the low group).
ERROR_BITS = {
    0x00000001: "media out",
    0x00000002: "ribbon out",
    0x00000004: "head open",
    0x00000008: "cutter fault",
    0x00000010: "printhead over temperature",
    0x00000020: "motor over temperature",
    0x00000040: "bad printhead element",
    0x00000080: "printhead detection error",
    0x00000100: "invalid firmware configuration",
    0x00000200: "printhead thermistor open",
    0x00001000: "paper jam during retract",
    0x00002000: "presenter not running",
    0x00004000: "paper feed error",
    0x00008000: "clear paper path failed",
    0x00010000: "paused",
    0x00020000: "retract function timed out",
    0x00040000: "black mark calibrate error",
    0x00080000: "black mark not found",
}
WARNING_BITS = {
    0x00000001: "need to calibrate media",
    0x00000002: "clean printhead",
    0x00000004: "replace printhead",
    0x00000008: "paper near end",
}
MEDIA_OUT, RIBBON_OUT, HEAD_OPEN, PAUSED = 0x1, 0x2, 0x4, 0x10000
_KNOWN_ERROR_BITS = sum(ERROR_BITS)
# Error names that the boolean flags already say.
_FLAGGED_ERRORS = frozenset({"media out", "ribbon out", "head open", "paused"})

_HQES_LINE = re.compile(r"(ERRORS|WARNINGS):\s*([01])\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})")


class StatusUnreadable(ValueError):
    """The bytes are not a ~HS or ~HQES answer."""


@dataclass(frozen=True)
class PrinterStatus:
    """What a printer said about itself; `ready` means it can print now."""

    paper_out: bool = False
    paused: bool = False
    head_open: bool = False
    ribbon_out: bool = False
    buffer_full: bool = False
    over_temperature: bool = False
    under_temperature: bool = False
    corrupt_ram: bool = False
    formats_in_buffer: int | None = None
    labels_remaining: int | None = None
    label_length_dots: int | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        return not (
            self.paper_out
            or self.paused
            or self.head_open
            or self.ribbon_out
            or self.buffer_full
            or self.over_temperature
            or self.under_temperature
            or self.corrupt_ram
            or self.errors
        )

    def describe(self) -> str:
        """A short human summary, e.g. `paper out, paused` or `ready`."""
        problems = [name.replace("_", " ") for name in _FLAG_NAMES if getattr(self, name)]
        problems += [error for error in self.errors if error not in _FLAGGED_ERRORS]
        return ", ".join(dict.fromkeys(problems)) or "ready"


_FLAG_NAMES = (
    "paper_out", "paused", "head_open", "ribbon_out", "buffer_full",
    "over_temperature", "under_temperature", "corrupt_ram",
)  # fmt: skip


def _as_text(raw: bytes | str) -> str:
    return raw.decode("ascii", errors="replace") if isinstance(raw, bytes) else raw


def parse_host_status(raw: bytes | str) -> PrinterStatus:
    """Parse the three strings of a ~HS answer (with or without STX/ETX framing)."""
    text = _as_text(raw)
    if STX in text:
        strings = [chunk.split(ETX, 1)[0] for chunk in text.split(STX)[1:]]
    else:
        strings = text.replace("\r", "").split("\n")
    strings = [s.strip() for s in strings if s.strip()]
    if len(strings) < 2:
        raise StatusUnreadable("A ~HS answer has three strings; fewer than two were received")
    first, second = strings[0].split(","), strings[1].split(",")
    if len(first) != 12 or len(second) != 11:
        raise StatusUnreadable("The ~HS strings do not have 12 and 11 fields")
    try:
        one = [int(v) for v in first]
        two = [int(v) for v in second]
    except ValueError as exc:
        raise StatusUnreadable("A ~HS field is not a number") from exc
    return PrinterStatus(
        paper_out=one[1] == 1,
        paused=one[2] == 1,
        label_length_dots=one[3],
        formats_in_buffer=one[4],
        buffer_full=one[5] == 1,
        corrupt_ram=one[9] == 1,
        under_temperature=one[10] == 1,
        over_temperature=one[11] == 1,
        head_open=two[2] == 1,
        ribbon_out=two[3] == 1,
        labels_remaining=two[8],
    )


def parse_extended_status(raw: bytes | str) -> PrinterStatus:
    """Parse a ~HQES answer into flags, error names and warning names."""
    text = _as_text(raw)
    if "PRINTER STATUS" not in text:
        raise StatusUnreadable("A ~HQES answer starts with PRINTER STATUS")
    found = {m.group(1): m for m in _HQES_LINE.finditer(text)}
    if set(found) != {"ERRORS", "WARNINGS"}:
        raise StatusUnreadable("A ~HQES answer has an ERRORS and a WARNINGS line")
    error_bits = int(found["ERRORS"].group(4), 16)
    warning_bits = int(found["WARNINGS"].group(4), 16)
    errors = tuple(name for bit, name in ERROR_BITS.items() if error_bits & bit)
    unknown = error_bits & ~_KNOWN_ERROR_BITS
    if unknown or int(found["ERRORS"].group(3), 16):
        errors += (f"unknown error flags {found['ERRORS'].group(3)} {unknown:08X}",)
    if found["ERRORS"].group(2) == "1" and not errors:
        errors = ("unspecified error",)
    return PrinterStatus(
        paper_out=bool(error_bits & MEDIA_OUT),
        ribbon_out=bool(error_bits & RIBBON_OUT),
        head_open=bool(error_bits & HEAD_OPEN),
        paused=bool(error_bits & PAUSED),
        over_temperature=bool(error_bits & 0x30),
        errors=errors,
        warnings=tuple(name for bit, name in WARNING_BITS.items() if warning_bits & bit),
    )


def combine(host: PrinterStatus, extended: PrinterStatus) -> PrinterStatus:
    """One status from both answers: a condition reported by either is set; counters come from ~HS."""
    flags = {name: getattr(host, name) or getattr(extended, name) for name in _FLAG_NAMES}
    return replace(host, **flags, errors=extended.errors, warnings=extended.warnings)
