"""Previews of a label document: SVG from the layout, PNG from rendering the very ZPL that is printed.

The PNG comes from zplkit (a local ZPL renderer); it is optional at run time, so a missing renderer is a
clear `PreviewUnavailable`, not an import error at start-up.

zplkit's resident-font captures have fewer glyphs than a printer's font 0 (no é, ô, ç, ß, Œ): a text field it
rejects is redrawn as the graphic field wms.labels.glyphs makes (same position and size), so French addresses
preview as they print; only a field that cannot be parsed shows '?' for the glyph. `png_or_placeholder` is for
screens: whatever goes wrong it answers an image (a placeholder that says why), never an error.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from wms.errors import DomainError
from wms.labels.documents.base import LabelDocument

# zplkit reports a glyph its resident-font captures do not have as: unsupported embedded font glyph 'X'.
_MISSING_GLYPH = re.compile(r"unsupported embedded font glyph '(.+)'")
_MAX_GLYPH_SUBSTITUTIONS = 64
# A text field as wms.labels.zpl writes it (and most hand-written ZPL): ^FOx,y^A0N,h,w[^FBw,l,0,a,0][^FR]^FH^FD..^FS
_TEXT_FIELD = re.compile(
    r"\^FO(?P<x>\d+),(?P<y>\d+)\^A0N,(?P<h>\d+)(?:,\d+)?"
    r"(?:\^FB(?P<bw>\d+),(?P<bl>\d+),\d*,(?P<ba>[LCRJ])?,?\d*)?(?P<fr>\^FR)?\^FH(?:_)?\^FD(?P<data>[^^]*)\^FS"
)
_HEX = re.compile(r"_([0-9A-Fa-f]{2})")


class PreviewUnavailable(DomainError):
    """The PNG preview cannot be drawn here (renderer missing, or it rejected the label)."""

    status = 503
    slug = "label-preview-unavailable"
    title = "The label preview is not available"


@dataclass(frozen=True)
class PngPreview:
    """PNG images, one per label, and what the renderer said about its fidelity."""

    pages: tuple[bytes, ...]
    warnings: tuple[str, ...]
    substituted_glyphs: tuple[str, ...]
    drawn_glyphs: tuple[str, ...] = ()  # glyphs zplkit lacks, shown by redrawing their field as a graphic


def svg(document: LabelDocument) -> list[str]:
    """One SVG document per label."""
    return document.to_svg()


def png(document: LabelDocument, *, dpi: int | None = None) -> PngPreview:
    """Render the document's ZPL to PNG, one image per label."""
    size = document.labels()[0].size
    return png_from_zpl(document.to_zpl(), width=size.width, height=size.height,
                        dpi=dpi or round(size.dpmm * 25.4))


def png_from_zpl(source: str, *, width: int, height: int, dpi: int) -> PngPreview:
    """Render ZPL (e.g. a queued print job's bytes) to PNG, one image per label of width x height dots."""
    try:
        import zplkit
    except ImportError as exc:
        raise PreviewUnavailable("The ZPL renderer (zplkit) is not installed") from exc
    options = zplkit.Options(profile="specification", width=width, height=height, dpi=dpi)
    substituted: list[str] = []
    drawn: list[str] = []
    for _ in range(_MAX_GLYPH_SUBSTITUTIONS):
        try:
            rendered = zplkit.render(source.encode("ascii"), options)
            break
        except ValueError as exc:
            missing = _MISSING_GLYPH.search(str(exc))
            if missing is None:
                raise PreviewUnavailable(f"The ZPL renderer rejected the label: {exc}") from exc
            glyph = missing.group(1)
            escaped = "".join(f"_{byte:02X}" for byte in glyph.encode("utf-8"))
            redrawn = _redraw_fields_with(source, escaped)
            if redrawn != source:
                drawn.append(glyph)
                source = redrawn
                continue
            # No text field to redraw: show '?' in its place rather than nothing.
            substituted.append(glyph)
            source = source.replace(escaped, "_3F")
    else:
        raise PreviewUnavailable("The label uses too many glyphs the renderer does not have")
    return PngPreview(
        pages=tuple(scene.png() for scene in rendered.labels),
        warnings=tuple(rendered.warnings),
        substituted_glyphs=tuple(substituted),
        drawn_glyphs=tuple(drawn),
    )


def _decode_fh(data: str) -> str:
    raw = bytearray()
    pos = 0
    for match in _HEX.finditer(data):
        raw += data[pos:match.start()].encode("ascii", "replace")
        raw.append(int(match.group(1), 16))
        pos = match.end()
    raw += data[pos:].encode("ascii", "replace")
    return raw.decode("utf-8", "replace")


def _redraw_fields_with(source: str, escaped: str) -> str:
    """`source` with every text field containing `escaped` (^FH data) replaced by its graphic rendering."""
    from wms.labels import glyphs

    def redraw(match: re.Match[str]) -> str:
        if escaped.upper() not in match.group("data").upper():
            return match.group(0)
        width = int(match.group("bw")) if match.group("bw") else None
        align = match.group("ba") if match.group("ba") in ("L", "C", "R") else "L"
        return glyphs.graphic_field(int(match.group("x")), int(match.group("y")), _decode_fh(match.group("data")),
                                    int(match.group("h")), width, int(match.group("bl") or 1), align,
                                    bool(match.group("fr")))

    return _TEXT_FIELD.sub(redraw, source)


def placeholder_png(width: int, height: int, reason: str) -> bytes:
    """A label-sized image saying the preview could not be drawn, and why (for screens, never for printers)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (max(width, 1), max(height, 1)), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width - 1, image.height - 1), outline=0, width=3)
    lines = ["Preview not available", *[reason[i:i + 40] for i in range(0, min(len(reason), 400), 40)]]
    for i, line in enumerate(lines):
        draw.text((12, 12 + 16 * i), line, fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def png_or_placeholder(source: str, *, width: int, height: int, dpi: int) -> PngPreview:
    """`png_from_zpl`, or one placeholder page (with the reason as warning) if the label cannot be rendered."""
    try:
        return png_from_zpl(source, width=width, height=height, dpi=dpi)
    except Exception as exc:  # noqa: BLE001 - a screen preview never fails; the reason is on the image
        reason = exc.detail if isinstance(exc, DomainError) and getattr(exc, "detail", None) else str(exc)
        pages = max(source.count("^XA"), 1)
        image = placeholder_png(width, height, reason or type(exc).__name__)
        return PngPreview(pages=(image,) * pages, warnings=(f"placeholder: {reason}",), substituted_glyphs=())
