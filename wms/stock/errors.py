"""Stock rules that say no, and the database constraints that say the same thing."""

from __future__ import annotations

from wms.errors import Conflict, explain_constraint


class InsufficientStock(Conflict):
    """A change would take a location below zero units, or below the units already reserved there."""

    slug = "insufficient-stock"
    title = "Not enough stock"


explain_constraint("ck_quants_on_hand_not_negative", InsufficientStock,
                   "Stock on hand cannot go below zero.")
explain_constraint("ck_quants_reserved_within_on_hand", InsufficientStock,
                   "Stock on hand cannot go below the units already reserved.")
