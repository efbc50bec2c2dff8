"""The knobs of a wave plan (cart, timing, method), with the defaults and the limits a supervisor may set."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from wms.errors import ValidationFailed

METHODS = ("savings", "fcfs")

# (low, high) inclusive limits; None for optional figures means "no limit of that kind".
LIMITS: dict[str, tuple[float, float]] = {
    "cart_items": (1, 10_000),
    "cart_orders": (1, 200),
    "cart_volume_cm3": (1, 10_000_000),
    "cart_weight_g": (1, 10_000_000),
    "walk_speed_m_s": (0.1, 5),
    "seconds_per_line": (0, 3600),
    "seconds_per_unit": (0, 3600),
    "setup_seconds": (0, 3600),
    "pick_aisle_spacing_m": (0.5, 100),
}


@dataclass(frozen=True)
class WaveParams:
    """How a wave is planned. `pick_aisle_spacing_m` is the walk between neighbouring pick aisles of a zone
    (rack, replenish aisle, rack): the layout does not store rack depth, so the site sets it here."""

    cart_items: int = 45
    cart_orders: int = 12
    cart_volume_cm3: float | None = None
    cart_weight_g: float | None = None
    walk_speed_m_s: float = 1.0
    seconds_per_line: float = 8.0
    seconds_per_unit: float = 2.0
    setup_seconds: float = 60.0
    method: str = "savings"
    separate_replenishment: bool = True
    pick_aisle_spacing_m: float = 5.0

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> WaveParams:
        """Validate a mapping of overrides (unknown keys, wrong types, out-of-range values → 422)."""
        data = dict(data or {})
        known = {f.name: f for f in fields(cls)}
        errors = [{"field": f"params.{k}", "message": "unknown parameter"} for k in data if k not in known]
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known or value is None and name not in ("cart_volume_cm3", "cart_weight_g"):
                continue
            problem = _check(name, value)
            if problem:
                errors.append({"field": f"params.{name}", "message": problem})
            else:
                values[name] = int(value) if name in ("cart_items", "cart_orders") else value
        if errors:
            raise ValidationFailed("The plan parameters are not valid.", errors=errors)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(name: str, value: Any) -> str | None:
    if name == "method":
        return None if value in METHODS else "one of: " + ", ".join(METHODS)
    if name == "separate_replenishment":
        return None if isinstance(value, bool) else "true or false"
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "a number"
    if name in ("cart_items", "cart_orders") and value != int(value):
        return "a whole number"
    low, high = LIMITS[name]
    return None if low <= value <= high else f"between {low:g} and {high:g}"
