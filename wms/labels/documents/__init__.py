"""Label documents: plain dataclasses of plain values, each laid out as one or more labels."""

from wms.labels.documents.base import LabelDocument
from wms.labels.documents.fixtures import (
    Face,
    LocationLabel,
    ProductLabel,
    ToteLabel,
    location_label_pair,
)
from wms.labels.documents.pick_order import LINES_PER_PAGE, PickLine, PickOrderDocument
from wms.labels.documents.shipping import Address, CarrierLabel, Gs1LogisticLabel

__all__ = [
    "LINES_PER_PAGE",
    "Address",
    "CarrierLabel",
    "Face",
    "Gs1LogisticLabel",
    "LabelDocument",
    "LocationLabel",
    "PickLine",
    "PickOrderDocument",
    "ProductLabel",
    "ToteLabel",
    "location_label_pair",
]
