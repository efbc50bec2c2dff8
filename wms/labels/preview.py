"""Previews of a label document: SVG from the layout, PNG from rendering the very ZPL that is printed.

The PNG comes from zplkit (a local ZPL renderer); it is optional at run time, so a missing renderer is a
clear `PreviewUnavailable`, not an import error at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wms.errors import DomainError
from wms.labels.documents.base import LabelDocument

# zplkit reports a glyph its resident-font captures do not have as: unsupported embedded font glyph 'X'.
_MISSING_GLYPH = re.compile(r"unsupported embedded font glyph '(.+)'")
_MAX_GLYPH_SUBSTITUTIONS = 64


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
    for _ in range(_MAX_GLYPH_SUBSTITUTIONS):
        try:
            rendered = zplkit.render(source.encode("ascii"), options)
            break
        except ValueError as exc:
            missing = _MISSING_GLYPH.search(str(exc))
            if missing is None:
                raise PreviewUnavailable(f"The ZPL renderer rejected the label: {exc}") from exc
            # The printer's resident font lacks this glyph too; show '?' in its place rather than nothing.
            glyph = missing.group(1)
            substituted.append(glyph)
            escaped = "".join(f"_{byte:02X}" for byte in glyph.encode("utf-8"))
            source = source.replace(escaped, "_3F")
    else:
        raise PreviewUnavailable("The label uses too many glyphs the renderer does not have")
    return PngPreview(
        pages=tuple(scene.png() for scene in rendered.labels),
        warnings=tuple(rendered.warnings),
        substituted_glyphs=tuple(substituted),
    )
