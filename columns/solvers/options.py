"""Checks of solver option values: each raises ``SolverError`` naming the solver, the option, the
value and what was expected (an option is never truncated or silently ignored)."""

from __future__ import annotations

from graphs.errors import SolverError
from graphs.values import is_integer, is_number


def integer(solver, key: str, minimum: int, optional: bool = False) -> None:
    """``getattr(solver, key)`` is an integer ≥ ``minimum`` (or None when ``optional``)."""
    v = getattr(solver, key)
    if v is None and optional:
        return
    if not is_integer(v, minimum):
        raise SolverError(f"{solver.name}: option {key!r} must be an integer >= {minimum}"
                          f"{' or None' if optional else ''}, got {v!r}")


def number(solver, key: str, minimum: float = 0.0, strict: bool = True,
           optional: bool = False) -> None:
    """``getattr(solver, key)`` is a finite real number > ``minimum`` (≥ when not ``strict``)."""
    v = getattr(solver, key)
    if v is None and optional:
        return
    if not is_number(v, minimum, strict):
        raise SolverError(f"{solver.name}: option {key!r} must be a finite number "
                          f"{'>' if strict else '>='} {minimum:g}{' or None' if optional else ''}, "
                          f"got {v!r}")


def mapping(solver, key: str) -> None:
    """``getattr(solver, key)`` is a dict or None."""
    v = getattr(solver, key)
    if v is not None and not isinstance(v, dict):
        raise SolverError(f"{solver.name}: option {key!r} must be a dict or None, got {v!r}")


def tolerances(solver) -> None:
    """rtol > 0, atol ≥ 0, step_size > 0 or None, options a dict or None (the torchdiffeq ones)."""
    number(solver, "rtol")
    number(solver, "atol", strict=False)
    number(solver, "step_size", optional=True)
    mapping(solver, "options")
