"""SVG previews drawn from the same layout primitives as the ZPL, in printer dots.

Text metrics are estimated (the printer's font 0 is a condensed sans-serif), barcodes are drawn module by
module at the module width the printer uses, so positions and barcode sizes match the print.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import segno

from wms.labels.layout import (
    Arrow,
    Box,
    Code128,
    DataMatrix,
    Ean13,
    Element,
    Gs1_128,
    Label,
    QrCode,
    Text,
    chars_fitting,
    code128_pattern,
    ean13_pattern,
    gs1_128_pattern,
)

FONT = "'Arial Narrow', 'Helvetica Neue', Arial, sans-serif"


def render_label(label: Label) -> str:
    """A standalone SVG document for one label."""
    size = label.size
    body = "".join(render_element(element) for element in label.elements)
    title = f"<title>{escape(label.title)}</title>" if label.title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size.width_mm}mm" height="{size.height_mm}mm" '
        f'viewBox="0 0 {size.width} {size.height}">{title}'
        f'<rect x="0" y="0" width="{size.width}" height="{size.height}" fill="#ffffff"/>{body}</svg>'
    )


def render_element(element: Element) -> str:
    """SVG markup for one element."""
    match element:
        case Text():
            return _text(element)
        case Box():
            return _box(element)
        case Arrow():
            return _arrow(element)
        case Code128():
            return _linear(
                element.x,
                element.y,
                code128_pattern(element),
                element.effective_module,
                element.height,
                element.data if element.hri else None,
                "code128",
            )
        case Gs1_128():
            module = element.effective_module
            bars = _linear(
                element.x, element.y, gs1_128_pattern(element), module, element.height, None, "gs1-128"
            )
            width = max(element.modules * module, 200)
            hri = Text(
                element.x,
                element.y + element.height + 8,
                element.hri,
                element.hri_height,
                max_chars=120,
                width=width,
                align="C",
            )
            return bars + _text(hri)
        case QrCode():
            return _qr(element)
        case DataMatrix():
            return _datamatrix(element)
        case Ean13():
            return _linear(
                element.x,
                element.y,
                ean13_pattern(element),
                element.module,
                element.height,
                element.full_code,
                "ean13",
            )
    raise TypeError(f"No SVG for {element!r}")


def wrap(text: str, height: int, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap with the estimated advance width; extra lines are dropped like on the printer."""
    per_line = chars_fitting(width, height)
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        while len(word) > per_line:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:per_line])
            word = word[per_line:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= per_line:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines[:max_lines]


def _text(t: Text) -> str:
    value = t.value
    fill = "#ffffff" if t.reverse else "#000000"
    common = f'font-family="{FONT}" font-weight="bold" font-size="{t.height}" fill="{fill}"'
    if t.width is None:
        return f'<text x="{t.x}" y="{t.y + round(t.height * 0.8)}" {common}>{escape(value)}</text>'
    anchor, x = {"L": ("start", t.x), "C": ("middle", t.x + t.width // 2), "R": ("end", t.x + t.width)}[
        t.align
    ]
    out = []
    for i, line in enumerate(wrap(value, t.height, t.width, t.max_lines)):
        y = t.y + i * t.height + round(t.height * 0.8)
        out.append(f'<text x="{x}" y="{y}" text-anchor="{anchor}" {common}>{escape(line)}</text>')
    return "".join(out)


def _box(b: Box) -> str:
    if b.filled:
        return f'<rect x="{b.x}" y="{b.y}" width="{b.width}" height="{b.height}" fill={quoteattr(b.color)}/>'
    t = b.thickness
    return (
        f'<rect x="{b.x + t / 2}" y="{b.y + t / 2}" width="{max(b.width - t, 0)}" height="{max(b.height - t, 0)}" '
        f'fill="none" stroke={quoteattr(b.color)} stroke-width="{t}"/>'
    )


def _arrow(a: Arrow) -> str:
    dx, dy = {"right": (-1, 0), "left": (1, 0), "down": (0, -1), "up": (0, 1)}[a.direction]
    tail = (a.x + dx * a.length, a.y + dy * a.length)
    # The two barbs go back from the tip at 45 degrees on either side of the shaft.
    barb1 = (a.x + dx * a.head - dy * a.head, a.y + dy * a.head - dx * a.head)
    barb2 = (a.x + dx * a.head + dy * a.head, a.y + dy * a.head + dx * a.head)
    stroke = f'stroke={quoteattr(a.color)} stroke-width="{a.thickness}" stroke-linecap="square" fill="none"'
    return (
        f'<g class="arrow arrow-{a.direction}"><line x1="{tail[0]}" y1="{tail[1]}" x2="{a.x}" y2="{a.y}" {stroke}/>'
        f'<polyline points="{barb1[0]},{barb1[1]} {a.x},{a.y} {barb2[0]},{barb2[1]}" {stroke}/></g>'
    )


def _linear(x: int, y: int, pattern: str, module: int, height: int, hri: str | None, kind: str) -> str:
    rects = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "1":
            j = i
            while j < len(pattern) and pattern[j] == "1":
                j += 1
            rects.append(f'<rect x="{x + i * module}" y="{y}" width="{(j - i) * module}" height="{height}"/>')
            i = j
        else:
            i += 1
    out = f'<g class="barcode {kind}" fill="#000000">{"".join(rects)}</g>'
    if hri is not None:
        width = len(pattern) * module
        size = max(16, module * 10)
        out += (
            f'<text x="{x + width // 2}" y="{y + height + size}" text-anchor="middle" font-family="{FONT}" '
            f'font-size="{size}">{escape(hri)}</text>'
        )
    return out


def _qr(q: QrCode) -> str:
    matrix = segno.make_qr(q.data, error=q.ecc.lower(), boost_error=False).matrix
    m = q.magnification
    rects = []
    for row, bits in enumerate(matrix):
        col = 0
        while col < len(bits):
            if bits[col]:
                end = col
                while end < len(bits) and bits[end]:
                    end += 1
                rects.append(
                    f'<rect x="{q.x + col * m}" y="{q.y + row * m}" width="{(end - col) * m}" height="{m}"/>'
                )
                col = end
            else:
                col += 1
    return f'<g class="barcode qr" fill="#000000">{"".join(rects)}</g>'


def _datamatrix(d: DataMatrix) -> str:
    side = d.size
    return (
        f'<g class="barcode datamatrix"><title>{escape(d.data)}</title>'
        f'<rect x="{d.x}" y="{d.y}" width="{side}" height="{side}" fill="#e6e6e6" stroke="#000000" '
        f'stroke-width="{d.module}"/></g>'
    )
