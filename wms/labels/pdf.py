"""PDF copies of label documents, for CUPS document printers (office lasers) at places that have one.

The PDF is made from the very ZPL a label printer would get, rendered by zplkit: one page per label, each page
exactly the label's physical size (the image is embedded at the label's own resolution), so what a laser prints
matches what a Zebra would print, barcodes included.
"""

from __future__ import annotations

import io

from wms.labels.documents.base import LabelDocument
from wms.labels.preview import PreviewUnavailable, png_from_zpl

ZPL_CONTENT_TYPE = "application/vnd.zebra.zpl"
PDF_CONTENT_TYPE = "application/pdf"


def pdf_from_zpl(source: str, *, width: int, height: int, dpi: int) -> bytes:
    """A PDF of the labels in `source` (ZPL), one page per label of width x height dots at `dpi`."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - pillow is a declared dependency
        raise PreviewUnavailable("Pillow is not installed; PDF copies cannot be made") from exc
    pages = png_from_zpl(source, width=width, height=height, dpi=dpi).pages
    # Bilevel, so Pillow embeds it losslessly (CCITT G4), never as JPEG that would blur the bars.
    images = [Image.open(io.BytesIO(page)).convert("L").point(lambda v: 255 if v >= 128 else 0).convert("1")
              for page in pages]
    if not images:
        raise PreviewUnavailable("The label rendered to no page")
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    return out.getvalue()


def pdf(document: LabelDocument) -> bytes:
    """The document as PDF, one page per label."""
    size = document.labels()[0].size
    return pdf_from_zpl(document.to_zpl(), width=size.width, height=size.height, dpi=round(size.dpmm * 25.4))


def render_for(document: LabelDocument, language: str) -> tuple[bytes, str]:
    """The bytes and content type to send to a printer of this language ("zpl" or "pdf")."""
    if str(language) == "pdf":
        return pdf(document), PDF_CONTENT_TYPE
    if str(language) == "zpl":
        return document.to_zpl().encode("utf-8"), ZPL_CONTENT_TYPE
    raise ValueError(f"unknown printer language {language!r}")
