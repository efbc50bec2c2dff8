"""Label documents (pick orders, carrier, GS1 logistic, tote, location, product) rendered to ZPL and SVG.

A document is a plain dataclass of plain values; `labels()` lays it out as one or more `layout.Label`,
which `zpl.render_labels` prints and `svg.render_label` previews.
"""
