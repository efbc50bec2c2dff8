"""Check a whole CSV file, then apply it: all rows, only the good ones (skip_errors), or nothing.

The session is flushed batch by batch and never committed here: the caller commits (or rolls back for a dry run
or a refusal), so an import is one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from wms.csvio.formats import Format, Row
from wms.csvio.reader import CsvFile, Limits, Problem

BATCH = 500
DEFAULT_LIMITS = Limits()
OUTCOMES = ("created", "updated", "unchanged")


class Importer(Protocol):
    format: Format

    def check(self, rows: list[Row]) -> list[Problem]:
        """Problems only the database can tell (unknown SKU, barcode of another product ...)."""

    def apply(self, rows: list[Row], file_sha256: str) -> Counter[str]:
        """Write the rows (add/flush); count them as created, updated or unchanged."""

    def finish(self) -> None:
        """Work that follows the whole import (e.g. tell channels the new stock)."""


class Progress(Protocol):
    def checked(self, bytes_read: int) -> None: ...

    def applying(self, total_rows: int) -> None: ...

    def applied(self, rows: int) -> None: ...


class _Silent:
    def checked(self, bytes_read: int) -> None:
        pass

    def applying(self, total_rows: int) -> None:
        pass

    def applied(self, rows: int) -> None:
        pass


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    file_problems: list[Problem] = field(default_factory=list)
    row_problems: list[Problem] = field(default_factory=list)
    applied: bool = False
    sha256: str = ""

    @property
    def problems(self) -> list[Problem]:
        return sorted(self.file_problems + self.row_problems, key=lambda p: (p.line, p.column))

    @property
    def refused(self) -> int:
        """Rows refused (a row with three bad cells counts once)."""
        return len({p.line for p in self.row_problems})

    def summary(self) -> str:
        counts = ", ".join(f"{name} {self.counts[name]}" for name in OUTCOMES)
        return f"{self.kind}: {self.rows} rows: {counts}, refused {self.refused}"


def _chunks(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _repeated_key_problems(fmt: Format, repeats: dict[tuple[Any, ...], list[int]]) -> list[Problem]:
    problems = []
    for key, lines in repeats.items():
        for line in lines:
            others = [str(n) for n in lines if n != line]
            where = f"line {others[0]}" if len(others) == 1 else "lines " + ", ".join(others)
            problems.append(Problem(line, fmt.key_column, f"{fmt.describe_key(key)} is also on {where}; "
                                                          "give each once", fmt.key_value(key)))
    return problems


def run_import(stream: BinaryIO, importer: Importer, *, skip_errors: bool = False, size: int | None = None,
               limits: Limits = DEFAULT_LIMITS, progress: Progress | None = None,
               batch: int = BATCH) -> ImportResult:
    """Check every row of the file, then apply what may be applied; the result says what happened."""
    progress = progress or _Silent()
    fmt = importer.format
    result = ImportResult(kind=fmt.kind)
    source = CsvFile(stream, limits=limits, size=size)
    source.check_header(fmt.names, fmt.required)
    good: list[Row] = []
    pending: list[Row] = []
    first_line: dict[tuple[Any, ...], int] = {}
    repeats: dict[tuple[Any, ...], list[int]] = {}

    def check_pending() -> None:
        if not pending:
            return
        result.row_problems.extend(importer.check(pending))
        good.extend(pending)
        pending.clear()

    def refused_by_reader(problem: Problem) -> None:
        result.rows += 1
        result.row_problems.append(problem)

    for record in source.records(refused_by_reader):
        result.rows += 1
        row, problems = fmt.parse(record)
        if row is None:
            result.row_problems.extend(problems)
        elif row.key in first_line:
            repeats.setdefault(row.key, [first_line[row.key]]).append(row.line)
        else:
            first_line[row.key] = row.line
            pending.append(row)
            if len(pending) >= batch:
                check_pending()
        progress.checked(source.bytes_read)
    check_pending()
    result.row_problems.extend(_repeated_key_problems(fmt, repeats))
    result.file_problems = source.problems
    result.sha256 = source.sha256()
    if result.file_problems or (result.row_problems and not skip_errors):
        return result
    refused = {p.line for p in result.row_problems}
    good = [row for row in good if row.line not in refused]
    progress.applying(len(good))
    for chunk in _chunks(good, batch):
        result.counts.update(importer.apply(chunk, result.sha256))
        progress.applied(len(chunk))
    importer.finish()
    result.applied = True
    return result
