"""Read a CSV file as a spreadsheet user sees it: one header row, then records, each with its row number.

Pure, no database. The file is read as bytes, one line at a time, so a large file is never held whole in memory:
UTF-8 with or without a byte-order mark, `,` or `;` between cells (sniffed from the header), quoted cells that may
hold the delimiter, quotes and line breaks. Row numbers count records the way a spreadsheet numbers its rows (the
header is row 1, a quoted cell spanning two text lines is still one row, a blank line is a row too).

Problems that make the rest of the file unreadable (no header, a broken quote, too large) are *file* problems:
nothing can be imported. Problems inside one row (wrong number of cells, bytes that are not UTF-8, a cell too long)
are *row* problems: the row is refused, the others can still be imported with --skip-errors.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, NamedTuple

BOM = b"\xef\xbb\xbf"
DELIMITERS = (",", ";")


class Problem(NamedTuple):
    """One refusal: the spreadsheet row (header = 1), the column name ('' for the whole row) and why."""

    line: int
    column: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        return f"line {self.line} ({self.column or 'row'}): {self.reason}"


@dataclass(frozen=True)
class Limits:
    """What one file may hold; beyond that it is refused as a whole (split it)."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 1_000_000
    max_cell_chars: int = 10_000


@dataclass(frozen=True)
class Record:
    """One non-blank row: its spreadsheet row number and its cells by (lower-case) column name."""

    line: int
    cells: dict[str, str]


@dataclass
class _Position:
    bytes_read: int = 0
    bad_lines: dict[int, str] = field(default_factory=dict)
    sha256: Any = field(default_factory=hashlib.sha256)


def _text_lines(stream: BinaryIO, pos: _Position) -> Iterator[str]:
    """Decoded text lines (line endings kept, BOM dropped); undecodable lines are remembered, not fatal."""
    for number, raw in enumerate(stream, start=1):
        pos.bytes_read += len(raw)
        pos.sha256.update(raw)
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            pos.bad_lines[number] = (f"byte 0x{raw[exc.start]:02x} at position {exc.start + 1} of the text line "
                                     "is not UTF-8 (save the file as CSV UTF-8)")
            yield raw.decode("utf-8", "replace")


def sniff_delimiter(header: str) -> str | None:
    """The delimiter of a header line: whichever of ',' and ';' appears more often outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else None


class CsvFile:
    """A CSV file opened for reading: check `problems` after reading the header, then iterate `records()`."""

    def __init__(self, stream: BinaryIO, *, limits: Limits | None = None, size: int | None = None) -> None:
        self.limits = limits = limits or Limits()
        self.problems: list[Problem] = []  # file problems: when not empty, nothing may be imported
        self.header: list[str] = []
        self.delimiter = ","
        self._pos = _Position()
        self._lines = _text_lines(stream, self._pos)
        self._reader: Iterator[list[str]] | None = None
        if size is not None and size > limits.max_bytes:
            self.problems.append(Problem(1, "", f"the file is {size} bytes, more than the limit of "
                                                 f"{limits.max_bytes}; split it into smaller files"))
            return
        self._read_header()

    @property
    def bytes_read(self) -> int:
        return self._pos.bytes_read

    def sha256(self) -> str:
        """Hex digest of the bytes read so far (of the whole file once `records()` is exhausted)."""
        return self._pos.sha256.hexdigest()

    def _read_header(self) -> None:
        first = next(self._lines, None)
        if first is None or not first.strip():
            reason = "the file is empty" if first is None else "row 1 must be the header (column names)"
            self.problems.append(Problem(1, "", reason))
            return
        if 1 in self._pos.bad_lines:
            self.problems.append(Problem(1, "", "the header " + self._pos.bad_lines[1]))
            return
        if "\r" in first.rstrip("\r\n"):
            self.problems.append(Problem(1, "", "lines end with a bare carriage return (old Mac format); "
                                                "save the file as CSV UTF-8"))
            return
        delimiter = sniff_delimiter(first)
        if delimiter is None:
            self.problems.append(Problem(1, "", "the header has no ',' or ';' between column names"))
            return
        self.delimiter = delimiter
        self._reader = csv.reader(_chain([first], self._lines), delimiter=delimiter, quotechar='"',
                                  doublequote=True, strict=True)
        try:
            self.header = [name.strip().lower() for name in next(self._reader)]
        except csv.Error as exc:
            self.problems.append(Problem(1, "", f"the header is not valid CSV ({exc})"))

    def check_header(self, known: Iterable[str], required: Iterable[str]) -> None:
        """Add a file problem for every unknown, repeated, unnamed or missing column."""
        if self.problems:
            return
        known = list(known)
        seen: set[str] = set()
        for index, name in enumerate(self.header, start=1):
            if not name:
                self.problems.append(Problem(1, f"#{index}", "this column has no name"))
            elif name in seen:
                self.problems.append(Problem(1, name, "this column appears twice"))
            elif name not in known:
                self.problems.append(Problem(1, name, "unknown column; this file type has: " + ", ".join(known)))
            seen.add(name)
        for name in required:
            if name not in seen:
                self.problems.append(Problem(1, name, "this required column is missing"))

    def records(self, on_row_problem: Callable[[Problem], None]) -> Iterator[Record]:
        """Every non-blank row after the header; row problems go to `on_row_problem`, file problems stop."""
        if self._reader is None or self.problems:
            return
        reader = self._reader
        line = 1
        last_text_line = 1
        width = len(self.header)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                self.problems.append(Problem(line + 1, "", f"the CSV is broken here ({exc}); a quote is probably "
                                                           "not closed; nothing after it can be read"))
                return
            line += 1
            first_text_line, last_text_line = last_text_line + 1, reader.line_num  # type: ignore[attr-defined]
            if line - 1 > self.limits.max_rows:
                self.problems.append(Problem(line, "", f"the file has more than {self.limits.max_rows} rows; "
                                                       "split it into smaller files"))
                return
            bad_lines = self._pos.bad_lines
            if bad_lines and any(n in bad_lines for n in range(first_text_line, last_text_line + 1)):
                first_bad = next(n for n in range(first_text_line, last_text_line + 1) if n in bad_lines)
                on_row_problem(Problem(line, "", bad_lines[first_bad]))
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != width:
                on_row_problem(Problem(line, "", f"this row has {len(cells)} cells, the header has {width} "
                                                 f"columns (separator {self.delimiter!r})"))
                continue
            if max(map(len, cells)) > self.limits.max_cell_chars:
                long = next(name for name, c in zip(self.header, cells, strict=True)
                            if len(c) > self.limits.max_cell_chars)
                on_row_problem(Problem(line, long, f"the cell is longer than {self.limits.max_cell_chars} "
                                                   "characters"))
                continue
            yield Record(line, dict(zip(self.header, cells, strict=True)))


def _chain(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest
