"""The fields every experiment's ``Config`` has (a dataclass subclassing this one), and the checks
every config gets when it is made (``__post_init__``: the defaults, ``tiny()`` and every
``--key=value`` override alike), each a ``ConfigError`` naming the key and the value."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

from columns import ConfigError
from graphs.values import is_integer

DTYPES = ("float64", "float32")
"""The dtype names an experiment's ``dtype`` option takes."""


@dataclass
class ExperimentConfig:
    """``seed`` (every random draw of the run follows from it) and ``device`` ("cpu", "cuda", …);
    ``tiny()`` is the CI preset (each experiment overrides it).

    The checks are declared on the class: ``POSITIVE`` names the fields that must be > 0
    (durations, steps, sizes, precisions), ``AT_LEAST_ONE`` the counts that must be >= 1,
    ``NONNEGATIVE`` those that must be >= 0 (overlaps, noise levels, delays), ``FRACTION`` those
    that must lie in [0, 1] (probabilities, fractions), ``CHOICES`` maps a field to its allowed
    values (``DTYPES`` for dtype names); a tuple field's every entry is checked. ``NONEMPTY``
    tuple fields need an entry, ``UNIQUE`` ones may not repeat one. Any float field must be
    finite; ``device`` must be a CPU or CUDA device. ``UNCHECKED`` maps each remaining non-bool
    field to why any value of its type is valid (a test holds every experiment to it: each field
    is declared somewhere). Relations between fields go in ``check(self)``, called after the
    declared checks."""

    seed: int = 0
    """every random draw of the run follows from it"""
    device: str = "cpu"
    """torch device: "cpu", "cuda", "cuda:1" …"""

    POSITIVE: ClassVar[tuple[str, ...]] = ()
    AT_LEAST_ONE: ClassVar[tuple[str, ...]] = ()
    NONNEGATIVE: ClassVar[tuple[str, ...]] = ()
    FRACTION: ClassVar[tuple[str, ...]] = ()
    CHOICES: ClassVar[dict[str, tuple]] = {}
    NONEMPTY: ClassVar[tuple[str, ...]] = ()
    UNIQUE: ClassVar[tuple[str, ...]] = ()
    UNCHECKED: ClassVar[dict[str, str]] = {}

    def __post_init__(self):
        import torch
        if not is_integer(self.seed, 0):
            raise ConfigError(f"--seed must be an integer >= 0, got {self.seed!r}")
        try:
            kind = torch.device(self.device).type
        except (RuntimeError, TypeError):
            kind = None
        if kind not in ("cpu", "cuda"):
            raise ConfigError(f"--device {self.device!r}: the experiments run on cpu or cuda "
                              "(cuda:1, …)") from None
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not math.isfinite(v):
                raise ConfigError(f"--{f.name} must be a finite number, got {v!r}")
        for name in self.NONEMPTY:
            if len(getattr(self, name)) == 0:
                raise ConfigError(f"--{name} needs at least one entry, got none")
        for name in self.UNIQUE:
            v = list(getattr(self, name))
            if len(set(v)) != len(v):
                raise ConfigError(f"--{name} repeats an entry ({sorted({x for x in v if v.count(x) > 1})}),"
                                  f" got {tuple(v)!r}")
        for name, allowed in self.CHOICES.items():
            v = getattr(self, name)
            if not all(x in allowed for x in (v if isinstance(v, (tuple, list)) else (v,))):
                each = " (each entry)" if isinstance(v, (tuple, list)) else ""
                raise ConfigError(f"--{name} must be one of {list(allowed)}{each}, got {v!r}")
        for names, ok, want in ((self.POSITIVE, lambda v: v > 0, "> 0"),
                                (self.AT_LEAST_ONE, lambda v: v >= 1, ">= 1"),
                                (self.NONNEGATIVE, lambda v: v >= 0, ">= 0"),
                                (self.FRACTION, lambda v: 0 <= v <= 1, "in [0, 1]")):
            for name in names:
                v = getattr(self, name)
                if not all(ok(x) for x in (v if isinstance(v, (tuple, list)) else (v,))):
                    each = " in each entry" if isinstance(v, (tuple, list)) else ""
                    raise ConfigError(f"--{name} must be {want}{each}, got {v!r}")
        self.check()

    def check(self) -> None:
        """Relations between fields (a subclass overrides it; raise ``ConfigError`` naming the
        keys)."""

    @classmethod
    def tiny(cls):
        return cls()
