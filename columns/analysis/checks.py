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
    try:
        t = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError):
        raise AnalysisError(f"{name} must be a 1-D integer sequence (T,), got "
                            f"{type(x).__name__}") from None
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


def order_map(x, name: str = "succ") -> torch.Tensor:
    """An order map over K labels (``succ`` or ``pred``): (K,) integers in −1..K−1 (−1: the label
    has no place in the order)."""
    try:
        t = torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError):
        raise AnalysisError(f"{name} must be a 1-D integer map (K,), got {type(x).__name__}") from None
    if t.dim() != 1 or t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise AnalysisError(f"{name} must be a 1-D integer map (K,) from each label to its "
                            f"successor (-1: none), got dtype {t.dtype} and shape {tuple(t.shape)}")
    return labels(t, t.numel(), name)


def sequences(seq, n_labels: int, name: str = "seq") -> list[torch.Tensor]:
    """One label sequence (a tensor or a flat list of integers) or a list of them (replicas),
    each checked by ``labels``, as a list."""
    if torch.is_tensor(seq) or (isinstance(seq, (list, tuple)) and seq
                                and all(isinstance(v, int) for v in seq)):
        return [labels(seq, n_labels, name)]
    if isinstance(seq, (str, bytes)):
        raise AnalysisError(f"{name} must be a label sequence or a list of them, got "
                            f"{type(seq).__name__} {seq!r:.40}")
    try:
        items = list(seq)
    except TypeError:
        raise AnalysisError(f"{name} must be a label sequence or a list of them, got "
                            f"{type(seq).__name__}") from None
    return [labels(x, n_labels, f"{name}[{i}]") for i, x in enumerate(items)]


def count(value, name: str, minimum: int = 1) -> int:
    """An integer count ≥ ``minimum`` (samples of a null, shifts, a seed ≥ 0)."""
    if not is_integer(value, minimum):
        raise AnalysisError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
