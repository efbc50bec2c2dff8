"""Read ZPL back the way a checker would: undo ^FH escapes, render with zplkit, decode with zxing-cpp."""

from __future__ import annotations

import re
from dataclasses import dataclass

import zplkit
import zxingcpp
from zplkit.parse import parse

_FIELD = re.compile(r"\^FD(.*?)\^FS", re.S)
_HEX = re.compile(rb"_([0-9A-Fa-f]{2})")


def fh_decode(data: str) -> str:
    """Undo ^FH hex escapes with the default indicator `_` and read the bytes as UTF-8 (^CI28)."""
    raw = data.encode("ascii")
    if re.search(rb"_(?![0-9A-Fa-f]{2})", raw):
        raise ValueError(f"An indicator without two hex digits in {data!r}")
    return _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw).decode("utf-8")


def field_values(zpl: str) -> list[str]:
    """The decoded data of every ^FH field, in order; a text field drawn as a graphic (text the printer font
    lacks, see wms.labels.glyphs) counts with the text its `^FXFH:` comment records."""
    values = []
    for match in re.finditer(r"\^FH\^FD(.*?)\^FS|\^FXFH:([^^~]*)(?=\^FO\d+,\d+(?:\^FR)?\^GFA)", zpl, re.S):
        values.append(fh_decode(match.group(1) if match.group(1) is not None else match.group(2)))
    return values


def raw_fields(zpl: str) -> list[str]:
    return _FIELD.findall(zpl)


def format_commands(zpl: str) -> list[bytes]:
    """Two-letter names of the format commands zplkit's parser sees (e.g. b'XA', b'FD')."""
    return [bytes(e)[1:3] for e in parse(zpl.encode()).elements if e.kind == "format_command"]


def control_commands(zpl: str) -> list[bytes]:
    return [bytes(e) for e in parse(zpl.encode()).elements if e.kind == "control_command"]


@dataclass(frozen=True)
class Decoded:
    format: str
    text: str
    symbology_identifier: str
    content_type: str


def render(zpl: str) -> zplkit.Document:
    return zplkit.render(zpl.encode("ascii"))


def decode_labels(zpl: str) -> list[list[Decoded]]:
    """Every barcode zxing-cpp finds on each rendered label."""
    pages = []
    for scene in render(zpl).labels:
        raster = scene.rasterize()
        image = memoryview(raster.pixels).cast("B", (raster.height, raster.width))
        pages.append(
            [
                Decoded(str(b.format), b.text, b.symbology_identifier, b.content_type.name)
                for b in zxingcpp.read_barcodes(image)
            ]
        )
    return pages


def texts(decoded: list[Decoded], fmt: str | None = None) -> list[str]:
    return [d.text for d in decoded if fmt is None or d.format == fmt]
