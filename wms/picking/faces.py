"""What a lane label encodes on each face, so a scan tells which side of the rack the person stands on.

The pick-face label carries the bare location code (the code the OP prints for the picker to scan). The
replenish-face label carries ``R:`` + the location code, so a receiver who scans the pick-face label from the wrong
aisle is refused. ``wms.labels.documents.LocationLabel`` prints ``replenish_face_code(code)`` on the replenish
label, so the two printed faces scan differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from wms.enums import Face

REPLENISH_PREFIX = "R:"


@dataclass(frozen=True)
class LocationScan:
    code: str
    face: Face


def replenish_face_code(location_code: str) -> str:
    """The barcode value printed on the replenish face of a lane."""
    return REPLENISH_PREFIX + location_code


def parse_location_scan(raw: str) -> LocationScan:
    """The location code and the face whose label was scanned (bare code: the pick face)."""
    code = raw.strip()
    if code[:2].upper() == REPLENISH_PREFIX:
        return LocationScan(code[2:].strip(), Face.REPLENISH)
    return LocationScan(code, Face.PICK)
