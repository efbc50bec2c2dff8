"""Text the printer's resident font cannot print, drawn here as a ^GFA graphic field.

A Zebra's resident font 0 (under ^CI28) covers printable ASCII, Latin-1 and Latin Extended-A (é è ô ç à ü ß Œ
€ ...): such text stays a text field, sharp and small on the wire. Anything else (fullwidth forms, ligatures
such as ﬁ, Arabic and other right-to-left scripts, emoji) would print as `?` or nothing, so it is rendered
server-side with Pillow from fonts that have the glyphs (DejaVu Sans, Noto Color Emoji; Debian packages in
scripts/system-deps), shaped and reordered right-to-left by Pillow's raqm layout when libraqm/fribidi are
present, and sent as a bitmap at the field's own position and size: it prints as written.

The preview renderer (zplkit) has fewer glyphs than the printer (no é), so the preview path redraws a text
field zplkit rejects with `graphic_field_for` too (see wms/labels/preview.py) instead of failing.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from wms.labels.layout import CHAR_WIDTH

# What resident font 0 prints under ^CI28: printable ASCII, Latin-1, Latin Extended-A and common punctuation.
_RESIDENT_EXTRA = frozenset("€‘’‚“”„–—•…‹›™")

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# Text faces first (font 0 is a condensed bold sans-serif), then wider coverage, emoji last.
TEXT_FONTS = (
    "truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "truetype/dejavu/DejaVuSans-Bold.ttf",
    "truetype/noto/NotoSans-Bold.ttf",
    "truetype/noto/NotoSansArabic-Bold.ttf",
    "opentype/noto/NotoSansCJK-Bold.ttc",
    "truetype/dejavu/DejaVuSans.ttf",
)
EMOJI_FONT = "truetype/noto/NotoColorEmoji.ttf"
EMOJI_STRIKE = 109  # the only size of Noto Color Emoji's bitmap strike
_NOTDEF_PROBE = "\U0010fffd"
_JOINERS = frozenset("\u200d\ufe0e\ufe0f\u20e3")


def printer_has(ch: str) -> bool:
    """Whether resident font 0 prints this character."""
    code = ord(ch)
    return 0x20 <= code <= 0x7E or 0xA0 <= code <= 0x17F or ch in _RESIDENT_EXTRA


def needs_graphic(text: str) -> bool:
    """Whether some character of `text` is not in the printer's resident font."""
    return not all(printer_has(ch) for ch in text)


def _find(relative: str) -> Path | None:
    for base in FONT_DIRS:
        if (base / relative).is_file():
            return base / relative
    return None


@lru_cache(maxsize=64)
def _font(relative: str, size: int) -> ImageFont.FreeTypeFont | None:
    path = _find(relative)
    if path is None:
        return None
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    try:
        return ImageFont.truetype(str(path), size, layout_engine=engine)
    except OSError:
        return None


@lru_cache(maxsize=4096)
def _has_glyph(relative: str, ch: str) -> bool:
    """Whether the font maps `ch` to a real glyph (its drawing differs from the .notdef box)."""
    size = EMOJI_STRIKE if relative == EMOJI_FONT else 32
    font = _font(relative, size)
    if font is None:
        return False
    try:
        mask, probe = font.getmask(ch, mode="L"), font.getmask(_NOTDEF_PROBE, mode="L")
    except OSError:
        return False
    if mask.size != probe.size:
        return True
    return bytes(mask) != bytes(probe) or mask.getbbox() is None and ch.isspace()


def _face_for(ch: str) -> str | None:
    if ch.isspace():
        return TEXT_FONTS[0]
    faces = [f for f in TEXT_FONTS if _find(f)]
    if ord(ch) >= 0x1F000 or unicodedata.category(ch) == "So" and ord(ch) >= 0x2300:
        faces = [EMOJI_FONT, *faces]
    for face in faces:
        if _has_glyph(face, ch):
            return face
    return None


def _runs(text: str) -> list[tuple[str, str]]:
    """(face, text) runs; characters no face has are folded (NFKC: Ｆ -> F) or drawn as the .notdef box."""
    runs: list[tuple[str, str]] = []
    for ch in text:
        if runs and (ch in _JOINERS or unicodedata.category(ch) in ("Mn", "Me")):
            face, chunk = runs[-1]
            runs[-1] = (face, chunk + ch)
            continue
        face = _face_for(ch)
        if face is None:
            folded = unicodedata.normalize("NFKC", ch)
            if folded != ch and all(_face_for(c) for c in folded):
                for c in folded:
                    runs = _append(runs, _face_for(c) or TEXT_FONTS[0], c)
                continue
            face = TEXT_FONTS[0]
        runs = _append(runs, face, ch)
    return runs


def _append(runs: list[tuple[str, str]], face: str, ch: str) -> list[tuple[str, str]]:
    if runs and runs[-1][0] == face:
        runs[-1] = (face, runs[-1][1] + ch)
    else:
        runs.append((face, ch))
    return runs


def _is_rtl(text: str) -> bool:
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _draw_run(face: str, chunk: str, height: int) -> Image.Image:
    """One run as a grayscale image `height` dots high (black on white)."""
    if face == EMOJI_FONT:
        font = _font(face, EMOJI_STRIKE)
        assert font is not None
        left, top, right, bottom = font.getbbox(chunk)
        art = Image.new("RGBA", (max(right - left, 1), max(bottom - top, 1)), (255, 255, 255, 0))
        ImageDraw.Draw(art).text((-left, -top), chunk, font=font, embedded_color=True)
        flat = Image.new("RGBA", art.size, (255, 255, 255, 255))
        flat.alpha_composite(art)
        side = max(1, round(height * 0.9))
        scaled = flat.convert("L").resize((max(1, round(art.width * side / art.height)), side), Image.LANCZOS)
        # Colour art has no strokes to keep: dithered to black and white, its shades stay readable.
        scaled = scaled.convert("1").convert("L")
        out = Image.new("L", (scaled.width + max(1, height // 10), height), 255)
        out.paste(scaled, (0, (height - side) // 2))
        return out
    font = _font(face, max(4, round(height * 0.92)))
    if font is None:
        font = ImageFont.load_default(max(4, height))
    ascent, descent = font.getmetrics()
    width = max(1, round(font.getlength(chunk)))
    out = Image.new("L", (width, max(height, 1)), 255)
    # Vertically: the font's line box (ascent + descent) centred on the field height, like font 0's cell.
    ImageDraw.Draw(out).text((0, (height - ascent - descent) // 2), chunk, font=font, fill=0)
    return out


def render_line(text: str, height: int) -> Image.Image:
    """One line of text, `height` dots high, runs in visual order (right-to-left paragraphs reversed)."""
    pieces = [_draw_run(face, chunk, height) for face, chunk in _runs(text)]
    if _is_rtl(text):
        pieces.reverse()
    width = sum(p.width for p in pieces) or 1
    line = Image.new("L", (width, height), 255)
    x = 0
    for piece in pieces:
        line.paste(piece, (x, 0))
        x += piece.width
    return line


def _wrap(text: str, height: int, width: int, max_lines: int) -> list[str]:
    """Lines of at most `width` dots; words past the last line join it (it is then squeezed, never cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(lines) < max_lines - 1 and render_line(candidate, height).width > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _squeeze(line: Image.Image, width: int) -> Image.Image:
    """The line narrowed to `width` dots if it is wider (like a condensed font), else as it is."""
    if line.width <= width:
        return line
    return line.resize((max(width, 1), line.height), Image.LANCZOS)


def render_field(text: str, height: int, width: int | None = None, max_lines: int = 1,
                 align: str = "L") -> Image.Image:
    """The field as a 1-bit image: one line, or a block of `width` dots and up to `max_lines` lines.

    A single line is kept within the width the layout budgets for font 0 (`len(text)` average advances) so it
    never runs into its neighbours; a block's lines are kept within the block.
    """
    if width is None:
        gray = _squeeze(render_line(text, height), max(1, math.ceil(len(text) * height * CHAR_WIDTH)))
    else:
        lines = _wrap(text, height, width, max(1, max_lines))
        gray = Image.new("L", (width, height * max(1, len(lines))), 255)
        rtl = _is_rtl(text)
        for i, words in enumerate(lines):
            line = _squeeze(render_line(words, height), width)
            effective = "R" if align == "L" and rtl else align
            x = {"C": (width - line.width) // 2, "R": width - line.width}.get(effective, 0)
            gray.paste(line, (x, i * height))
    # Threshold (no dithering) keeps strokes crisp; emoji were already dithered to black and white.
    return gray.point(lambda v: 0 if v < 150 else 255).convert("1", dither=Image.Dither.NONE)


def gfa(image: Image.Image) -> str:
    """`^GFA` data for a 1-bit image (ink = black)."""
    mono = image.convert("1", dither=Image.Dither.NONE)
    row_bytes = (mono.width + 7) // 8
    # Pillow's "1" raw data: bit set = white; ZPL: bit set = black.
    raw = mono.tobytes("raw", "1")
    inverted = bytes(b ^ 0xFF for b in raw)
    # Padding bits at the end of each row must stay white.
    pad = row_bytes * 8 - mono.width
    if pad:
        keep = (0xFF << pad) & 0xFF
        inverted = bytes(b & keep if (i + 1) % row_bytes == 0 else b for i, b in enumerate(inverted))
    total = len(inverted)
    return f"^GFA,{total},{total},{row_bytes},{inverted.hex().upper()}"


def graphic_field(x: int, y: int, text: str, height: int, width: int | None = None, max_lines: int = 1,
                  align: str = "L", reverse: bool = False) -> str:
    """`^FXFH:<text>` then `^FO...^GFA...^FS` drawing the text at (x, y).

    The comment keeps the field's text in the job, ^FH-escaped like any field (so it cannot end the comment or
    start a command): the job stays readable and searchable, and tests read it back like a text field.
    """
    from wms.labels.zpl import fh_escape

    image = render_field(text, height, width, max_lines, align)
    return f"^FX{COMMENT_PREFIX}{fh_escape(text)}^FO{x},{y}" + ("^FR" if reverse else "") + gfa(image) + "^FS"


COMMENT_PREFIX = "FH:"
