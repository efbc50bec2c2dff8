"""What every label document offers."""

from __future__ import annotations

from abc import ABC, abstractmethod

from wms.labels import svg, zpl
from wms.labels.layout import Label


class LabelDocument(ABC):
    """A document laid out as one or more complete labels."""

    @abstractmethod
    def labels(self) -> list[Label]:
        """The labels of this document, in print order."""

    def to_zpl(self) -> str:
        """The print job: one `^XA...^XZ` format per label."""
        return zpl.render_labels(self.labels())

    def to_svg(self) -> list[str]:
        """One SVG preview per label."""
        return [svg.render_label(label) for label in self.labels()]
