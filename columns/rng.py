"""Counter-based random numbers: a pure function of (seed, step, index).

``counter_uniform(seeds, step, n)`` hashes (seed, step, index) with splitmix64, so run r's stream
does not depend on which other runs share the batch (batched == looped), on the chunking of a run,
or on where it was interrupted and resumed: the "RNG state" of a run is its step counter.

Shapes: seeds (R,); results (R, n) or (R, K).
"""

from __future__ import annotations

import torch


def _splitmix64(z: torch.Tensor) -> torch.Tensor:
    """splitmix64 finaliser on int64 tensors (wrapping arithmetic, logical shifts)."""
    def shr(x, k):
        return (x >> k) & ((1 << (64 - k)) - 1)
    z = z + -7046029254386353131            # 0x9E3779B97F4A7C15 as int64
    z = (z ^ shr(z, 30)) * -4658895280553007687   # 0xBF58476D1CE4E5B9
    z = (z ^ shr(z, 27)) * -7723592293110705685   # 0x94D049BB133111EB
    return z ^ shr(z, 31)


def counter_uniform(seeds: torch.Tensor, step: int, n: int, dtype=torch.float64,
                    device=None) -> torch.Tensor:
    """Uniforms in [0, 1) for runs with ``seeds`` (R,) at time ``step``, n per run: (R, n).

    A pure function of (seed, step, index): reproducible and independent of the batch.
    """
    seeds = torch.as_tensor(seeds, dtype=torch.int64, device=device).reshape(-1, 1)
    key = _splitmix64(seeds * 1_000_003 + 12345)
    idx = torch.arange(n, dtype=torch.int64, device=seeds.device).unsqueeze(0)
    z = _splitmix64(key + int(step) * 0x100000001 + idx * 0x9E3779B1)
    bits = (z >> 11) & ((1 << 53) - 1)                      # 53 random bits
    return (bits.to(torch.float64) * (1.0 / (1 << 53))).to(dtype)


def counter_uniform_steps(seeds: torch.Tensor, steps: torch.Tensor, dtype=torch.float64,
                          device=None) -> torch.Tensor:
    """One uniform per run and step for many steps at once: (R, K), column k equal to
    ``counter_uniform(seeds, steps[k], 1)[:, 0]``. steps (K,) int64."""
    seeds = torch.as_tensor(seeds, dtype=torch.int64, device=device).reshape(-1, 1)
    steps = torch.as_tensor(steps, dtype=torch.int64, device=seeds.device).reshape(1, -1)
    z = _splitmix64(_splitmix64(seeds * 1_000_003 + 12345) + steps * 0x100000001)
    bits = (z >> 11) & ((1 << 53) - 1)
    return (bits.to(torch.float64) * (1.0 / (1 << 53))).to(dtype)
