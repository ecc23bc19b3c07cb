"""Predicates for checked arguments, shared by every boundary check (each caller raises its own
error class with its own message): whole numbers and real numbers, bools excluded."""

from __future__ import annotations

import math
import numbers


def is_integer(v, minimum: int | None = None) -> bool:
    """``v`` is an integer (Python or NumPy, not a bool), ≥ ``minimum`` when given."""
    return (isinstance(v, numbers.Integral) and not isinstance(v, bool)
            and (minimum is None or v >= minimum))


def is_number(v, minimum: float | None = None, strict: bool = False, finite: bool = True,
              maximum: float | None = None) -> bool:
    """``v`` is a real number (not a bool), finite unless ``finite=False``, > ``minimum``
    (``strict``) or ≥ it, and ≤ ``maximum`` when given (NaN fails every bound)."""
    if not isinstance(v, numbers.Real) or isinstance(v, bool):
        return False
    if finite and not math.isfinite(v):
        return False
    if minimum is not None and not (v > minimum if strict else v >= minimum):
        return False
    return maximum is None or v <= maximum
