"""What several benchmarks share: the byte-floor bandwidth and the seeded test couplings.

Shapes: couplings of N columns and E edges (``graphs.compile_arrays``).
"""

from __future__ import annotations

import torch

import graphs

from ..harness.timing import median_time


def copy_bandwidth(device, dtype=torch.float64, nbytes=256 * 2**20) -> float:
    """Bytes/s of a large tensor copy (read + write counted)."""
    x = torch.empty(nbytes // 8, dtype=dtype, device=device).fill_(1.0)
    y = torch.empty_like(x)
    t = median_time(lambda: y.copy_(x), 5, device)
    return 2 * x.numel() * x.element_size() / t


def random_coupling(n, e, seed, learnable=True):
    """``e`` random directed edges on ``n`` columns (no self-loops), weights 0.1·N(0, 1);
    ``learnable``: True, False, or "half" (every other edge, in the order drawn)."""
    g = torch.Generator().manual_seed(seed)
    draws = int(e * 1.05) + 16
    key = torch.unique(torch.randint(0, n, (draws,), generator=g) * n
                       + torch.randint(0, n, (draws,), generator=g))
    key = key[(key // n) != (key % n)]
    key = key[torch.randperm(key.numel(), generator=g)[:e]]
    w = 0.1 * torch.randn(key.numel(), generator=g, dtype=torch.float64)
    if learnable == "half":
        learnable = torch.arange(key.numel()) % 2 == 0
    return graphs.compile_arrays(n, key % n, key // n, w, learnable=learnable)


def local_coupling(n, per_node, seed, learnable=True):
    """A sheet-like graph: column i receives from i + d k + u (mod n), k = 1..per_node,
    u uniform in 0..d−1, d = min(100, (n − 1) // (per_node + 1)) — every source within d·(per_node + 1) of its target, as when columns
    are numbered by cortical position. Same N and E as ``random_coupling``."""
    g = torch.Generator().manual_seed(seed)
    tgt = torch.arange(n).repeat_interleave(per_node)
    d = min(100, (n - 1) // (per_node + 1))      # disjoint offset ranges: no duplicates, no loops
    off = d * torch.arange(1, per_node + 1).repeat(n) + torch.randint(0, d, (n * per_node,),
                                                                       generator=g)
    w = 0.1 * torch.randn(n * per_node, generator=g, dtype=torch.float64)
    return graphs.compile_arrays(n, (tgt + off) % n, tgt, w, learnable=learnable)
