"""Scheduling pick orders on the zones' pick aisles: one slot at a time per aisle, around existing bookings.

Jobs are placed in the order given (the planner passes them most urgent first: priority, then earliest
cutoff). A job books one or more resources (every pick aisle its walk enters) for its whole time: it starts at
the earliest time after the previous job on each of them that overlaps none of the bookings it must avoid, so
jobs keep their order on every resource they share. Slots are half-open, so one may start the instant another
ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Booking:
    """A time a resource is taken, with what takes it."""

    resource: str
    start: datetime
    end: datetime
    label: str = ""


@dataclass(frozen=True)
class Job:
    """A pick order to book: its aisle, the resources whose bookings it must avoid, its duration and due time."""

    resource: str
    avoid: tuple[str, ...]  # resources (the aisles booked and, if separated, their replenish aisles)
    seconds: float
    due: datetime | None = None
    books: tuple[str, ...] = ()  # every resource the slot is booked on; empty: `resource` alone

    @property
    def booked(self) -> tuple[str, ...]:
        """The resources the job's slot takes (each for the whole slot)."""
        return self.books or (self.resource,)


@dataclass(frozen=True)
class Slot:
    """Where a job landed, and why it could not start earlier."""

    start: datetime
    end: datetime
    pushed_by: Booking | None  # the existing booking it had to wait for, if any
    queued_behind: int  # earlier jobs of this plan on the resource it waited for
    waited_on: str | None = None  # that resource (of those it books, the one free last), if it waited

    def late(self, due: datetime | None) -> bool:
        """Whether the slot ends after the due time (ending exactly at it is in time)."""
        return due is not None and self.end > due


def duration_seconds(
    route_m: float,
    lines: int,
    units: int,
    *,
    speed_m_s: float,
    per_line: float,
    per_unit: float,
    setup: float,
) -> float:
    """Estimated time to pick one pick order: setup, walk, and handling per line and per unit."""
    return setup + route_m / speed_m_s + per_line * lines + per_unit * units


class _Calendar:
    """Bookings per resource, sorted and merged, searched for the first free gap."""

    def __init__(self, bookings: Iterable[Booking]) -> None:
        by_resource: dict[str, list[Booking]] = {}
        for b in bookings:
            if b.end > b.start:
                by_resource.setdefault(b.resource, []).append(b)
        self.by_resource = {r: sorted(bs, key=lambda b: (b.start, b.end)) for r, bs in by_resource.items()}
        self._merged: dict[tuple[str, ...], list[Booking]] = {}
        self._skip: dict[tuple[str, ...], tuple[int, datetime]] = {}

    def _blocked(self, resources: tuple[str, ...]) -> list[Booking]:
        """Bookings on any of the resources, sorted by start."""
        found = self._merged.get(resources)
        if found is None:
            found = sorted(
                (b for r in resources for b in self.by_resource.get(r, ())), key=lambda b: (b.start, b.end)
            )
            self._merged[resources] = found
        return found

    def first_fit(
        self, resources: tuple[str, ...], earliest: datetime, length: timedelta
    ) -> tuple[datetime, Booking | None]:
        """Earliest start at or after `earliest` with [start, start + length) free on every resource.

        Bookings over by `earliest` are skipped for the next call on the same resources, unless that call asks
        for an earlier time (then the search starts again from the first booking).
        """
        bookings = self._blocked(resources)
        skip, last = self._skip.get(resources, (0, earliest))
        if earliest < last:
            skip = 0
        while skip < len(bookings) and bookings[skip].end <= earliest:
            skip += 1
        self._skip[resources] = (skip, earliest)
        start, pushed_by = earliest, None
        for b in bookings[skip:]:
            if b.start >= start + length:
                break
            if b.end > start:
                start, pushed_by = b.end, b
        return start, pushed_by


def schedule(jobs: Sequence[Job], bookings: Iterable[Booking], start: datetime) -> list[Slot]:
    """Slots for the jobs in the given order, never overlapping each other or the bookings per resource."""
    calendar = _Calendar(bookings)
    free_from: dict[str, datetime] = {}
    queued: dict[str, int] = {}
    out = []
    for job in jobs:
        length = timedelta(seconds=math.ceil(job.seconds))
        booked = job.booked
        # the resource this plan frees last (the first of them on a tie): the job waits for it
        waited_on = max(booked, key=lambda r: free_from.get(r, start))
        earliest = free_from.get(waited_on, start)
        avoid = tuple(dict.fromkeys((*booked, *job.avoid)))
        at, pushed_by = calendar.first_fit(avoid, earliest, length)
        end = at + length
        out.append(Slot(at, end, pushed_by, queued.get(waited_on, 0),
                        waited_on if waited_on in free_from else None))
        for r in booked:
            free_from[r] = end
            queued[r] = queued.get(r, 0) + 1
    return out
