"""Domain errors of label rendering."""

from __future__ import annotations

from wms.errors import ValidationFailed


class LabelDataInvalid(ValidationFailed):
    """A value cannot be put on a label as asked (bad check digit, characters a barcode cannot carry...)."""

    slug = "label-data-invalid"
    title = "The label data cannot be printed"
