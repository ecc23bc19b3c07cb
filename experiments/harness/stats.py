"""Small statistics shared by the experiments: seed summaries and row-wise correlation."""

from __future__ import annotations

import numpy as np
import torch


def summary(values) -> dict:
    """Median, min, max over seeds (non-finite values are skipped and listed as None)."""
    v = np.asarray(values, dtype=float)
    ok = v[np.isfinite(v)]
    if not ok.size:
        return {"median": None, "min": None, "max": None, "values": [None] * v.size}
    return {"median": float(np.median(ok)), "min": float(ok.min()), "max": float(ok.max()),
            "values": [float(x) if np.isfinite(x) else None for x in v]}


def corr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the last axis (broadcast over the others)."""
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1)).clamp(min=1e-300)
