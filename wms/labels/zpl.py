"""A small ZPL II writer: layout primitives to one `^XA...^XZ` format per label.

Every format selects UTF-8 (`^CI28`). Every field carrying data is preceded by `^FH` and its data is
hex-escaped, so that nothing a user typed can end the field or start a command: `^`, `~` and the hex
indicator `_` itself are written as `_5E`, `_7E`, `_5F`, and every non-ASCII byte of the UTF-8 encoding
as `_XX` too, which keeps the job pure ASCII on the wire. Control characters are removed before that
and each text field is bounded (see `layout.clean_text`).
"""

from __future__ import annotations

from collections.abc import Iterable

from wms.labels import glyphs, gs1
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
)

HEX_INDICATOR = "_"
_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"^", "~", HEX_INDICATOR}


def fh_escape(text: str) -> str:
    """Field data for `^FH`: printable ASCII kept, every other byte of the UTF-8 encoding as `_XX`."""
    out = []
    for ch in text:
        if ch in _SAFE:
            out.append(ch)
        else:
            out.extend(f"{HEX_INDICATOR}{byte:02X}" for byte in ch.encode("utf-8"))
    return "".join(out)


def field(data: str) -> str:
    """`^FH^FD<escaped>^FS`."""
    return f"^FH^FD{fh_escape(data)}^FS"


def render_label(label: Label) -> str:
    """One complete format for the label."""
    size = label.size
    parts = ["^XA", "^CI28", f"^PW{size.width}", f"^LL{size.height}", "^LH0,0"]
    for element in label.elements:
        parts.append(render_element(element))
    parts.append("^XZ")
    return "".join(parts)


def render_labels(labels: Iterable[Label]) -> str:
    """Several formats, one after the other, as one job."""
    return "\n".join(render_label(label) for label in labels) + "\n"


def render_element(element: Element) -> str:
    """ZPL commands drawing one element."""
    match element:
        case Text():
            return _text(element)
        case Box():
            return _box(element)
        case Arrow():
            return _arrow(element)
        case Code128():
            return _code128(element)
        case Gs1_128():
            return _gs1_128(element)
        case QrCode():
            return f"^FO{element.x},{element.y}^BQN,2,{element.magnification}" + field(
                f"{element.ecc}A,{element.data}"
            )
        case DataMatrix():
            # The Data Matrix escape character is set explicitly (firmware defaults differ: _ or ~) and
            # doubled in the data, so data can never form a Data Matrix escape sequence.
            return f"^FO{element.x},{element.y}^BXN,{element.module},200,0,0,6,_" + field(
                element.data.replace("_", "__")
            )
        case Ean13():
            return (
                f"^FO{element.x},{element.y}^BY{element.module}^BEN,{element.height},Y,N"
                f"^FD{element.data_digits}^FS"
            )
    raise TypeError(f"No ZPL for {element!r}")


def _text(t: Text) -> str:
    value = t.value
    if glyphs.needs_graphic(value):
        # The resident font lacks a glyph (fullwidth, ligature, Arabic, emoji): the field is drawn here.
        return glyphs.graphic_field(t.x, t.y, value, t.height, t.width, t.max_lines, t.align, t.reverse)
    head = f"^FO{t.x},{t.y}^A0N,{t.height},{t.height}"
    if t.width is not None:
        # Inside a field block a backslash starts a block escape even after ^FH decoding, and `\\` needs
        # ^CI13, so it cannot be printed literally under ^CI28: a slash is the closest safe glyph.
        value = value.replace("\\", "/")
        head += f"^FB{t.width},{t.max_lines},0,{t.align},0"
    if t.reverse:
        head += "^FR"
    return head + field(value)


def _box(b: Box) -> str:
    thickness = min(b.width, b.height) if b.filled else b.thickness
    return f"^FO{b.x},{b.y}^GB{b.width},{b.height},{thickness},B,0^FS"


def _arrow(a: Arrow) -> str:
    t, h, n = a.thickness, a.head, a.length
    x, y = a.x, a.y
    if a.direction == "right":
        shaft = f"^FO{x - n},{y - t // 2}^GB{n},{t},{t},B,0^FS"
        heads = f"^FO{x - h},{y - h}^GD{h},{h},{t},B,L^FS^FO{x - h},{y}^GD{h},{h},{t},B,R^FS"
    elif a.direction == "left":
        shaft = f"^FO{x},{y - t // 2}^GB{n},{t},{t},B,0^FS"
        heads = f"^FO{x},{y - h}^GD{h},{h},{t},B,R^FS^FO{x},{y}^GD{h},{h},{t},B,L^FS"
    elif a.direction == "down":
        shaft = f"^FO{x - t // 2},{y - n}^GB{t},{n},{t},B,0^FS"
        heads = f"^FO{x - h},{y - h}^GD{h},{h},{t},B,L^FS^FO{x},{y - h}^GD{h},{h},{t},B,R^FS"
    else:
        shaft = f"^FO{x - t // 2},{y}^GB{t},{n},{t},B,0^FS"
        heads = f"^FO{x - h},{y}^GD{h},{h},{t},B,R^FS^FO{x},{y}^GD{h},{h},{t},B,L^FS"
    return shaft + heads


def _code128(c: Code128) -> str:
    # '>' introduces ^BC invocation codes even in automatic mode; '>0' is the code for '>' itself.
    data = c.data.replace(">", ">0")
    hri = "Y" if c.hri else "N"
    return f"^FO{c.x},{c.y}^BY{c.effective_module},3,{c.height}^BCN,{c.height},{hri},N,N,A" + field(data)


def _gs1_128(g: Gs1_128) -> str:
    module = g.effective_module
    bars = f"^FO{g.x},{g.y}^BY{module},3,{g.height}^BCN,{g.height},N,N,N,N" + field(
        gs1.zpl_code128_data(g.elements)
    )
    hri_y = g.y + g.height + 8
    hri_width = max(g.modules * module, 200)
    hri = f"^FO{g.x},{hri_y}^A0N,{g.hri_height},{g.hri_height}^FB{hri_width},1,0,C,0" + field(g.hri)
    return bars + hri
