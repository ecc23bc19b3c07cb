"""Checks of analysis inputs: label sequences and thresholds (``AnalysisError`` naming the
argument, the value and what was expected; nothing is dropped silently).

Shapes: labels (T,) integers in −1..K−1 (−1 = no attractor).
"""

from __future__ import annotations

import torch

from graphs.errors import AnalysisError
from graphs.values import is_integer, is_number


def labels(x, n_labels: int, name: str = "labels") -> torch.Tensor:
    """``x`` as a (T,) int64 label tensor with values in −1..n_labels−1."""
    if not is_integer(n_labels, 0):
        raise AnalysisError(f"{name}: the number of labels must be an integer >= 0, got {n_labels!r}")
    t = torch.as_tensor(x)
    if t.dim() != 1 or t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise AnalysisError(f"{name} must be a 1-D integer sequence (T,), got dtype {t.dtype} and "
                            f"shape {tuple(t.shape)}")
    if t.numel():
        lo, hi = int(t.min()), int(t.max())
        if lo < -1 or hi >= n_labels:
            bad = t[(t < -1) | (t >= n_labels)][:5].tolist()
            raise AnalysisError(f"{name} must lie in -1..{n_labels - 1} (-1 = none), got {bad} "
                                f"(range {lo}..{hi})")
    return t.long()


def threshold(value, name: str = "threshold") -> float:
    """A cosine threshold: a finite number in [−1, 1]."""
    if not is_number(value, -1.0, maximum=1.0):
        raise AnalysisError(f"{name} must be a finite cosine in [-1, 1], got {value!r}")
    return float(value)
