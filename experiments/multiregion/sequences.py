"""Sequential stimuli: orderings of a pattern set, pattern streams, per-region stimuli.

    order("cyclic", P, L)      p_t = (start + t) mod P                     (1 → 2 → 3 → 1 …)
    order("random", P, L)      each cycle of P elements a fresh seeded permutation: the same
                               pattern frequencies as the cyclic order, no order (the control)
    order("reverse", P, L)     p_t = (start − t) mod P
    delayed(p, k)              p′_t = p_{t−k}; the first k elements are blank (−1)
    stream(patterns, p, dwell) each element held for ``dwell`` samples, blank = 0, optional
                               gain and seeded Gaussian noise
    region_stimulus(net, {region: stream}, times)
                               one ``Stimulus`` for the network: each region's stream on its
                               columns (in the compiled order), 0 elsewhere

Shapes: patterns (P, n); orders (L,) int64 with −1 = blank; streams (L · dwell, n).
"""

from __future__ import annotations

import numpy as np
import torch

from columns import StimulusError

from columns import Stimulus

ORDERS = ("cyclic", "random", "reverse")


def order(kind: str, n_patterns: int, length: int, seed: int = 0, start: int = 0) -> torch.Tensor:
    """Pattern indices (length,) of an ordering ``kind`` (see the docstring of module
    ``experiments.multiregion.sequences``)."""
    if kind not in ORDERS:
        raise StimulusError(f"order: kind must be one of {ORDERS}, got {kind!r}")
    if n_patterns < 1 or length < 0:
        raise StimulusError(f"order: need n_patterns ≥ 1 and length ≥ 0, got {n_patterns}, {length}")
    t = np.arange(length)
    if kind == "cyclic":
        idx = (start + t) % n_patterns
    elif kind == "reverse":
        idx = (start - t) % n_patterns
    else:
        rng = np.random.default_rng(seed)
        cycles = -(-length // n_patterns)
        idx = np.concatenate([rng.permutation(n_patterns) for _ in range(cycles)])[:length] \
            if length else np.zeros(0, dtype=np.int64)
    return torch.as_tensor(idx, dtype=torch.int64)


def delayed(p: torch.Tensor, k: int) -> torch.Tensor:
    """p′_t = p_{t−k} (k ≥ 0); the first k elements are blank (−1)."""
    if k < 0:
        raise StimulusError(f"delayed: the delay must be ≥ 0 elements, got {k}")
    out = torch.full_like(p, -1)
    if k < len(p):
        out[k:] = p[:len(p) - k]
    return out


def stream(patterns, p: torch.Tensor, dwell: int = 1, gain: float = 1.0, noise: float = 0.0,
           seed: int = 0) -> torch.Tensor:
    """The values (L · dwell, n): gain · patterns[p_t] held for ``dwell`` samples (blank = 0), plus
    noise · N(0, 1) (seeded)."""
    patterns = torch.as_tensor(patterns)
    if not patterns.is_floating_point():
        patterns = patterns.to(torch.float64)
    if patterns.dim() != 2:
        raise StimulusError(f"stream: patterns must be (P, n), got shape {tuple(patterns.shape)}")
    if not torch.isfinite(patterns).all():
        raise StimulusError("stream: patterns contain a non-finite value")
    p = torch.as_tensor(p, dtype=torch.int64)
    if len(p) and (p.max() >= patterns.shape[0] or p.min() < -1):
        raise StimulusError(f"stream: order indices must lie in −1..{patterns.shape[0] - 1}")
    if dwell < 1:
        raise StimulusError(f"stream: dwell must be ≥ 1 sample, got {dwell}")
    padded = torch.cat([patterns, torch.zeros(1, patterns.shape[1], dtype=patterns.dtype)])
    vals = gain * padded[p].repeat_interleave(dwell, 0)                 # −1 picks the zero row
    if noise:
        g = torch.Generator().manual_seed(int(seed))
        vals = vals + noise * torch.randn(vals.shape, generator=g, dtype=vals.dtype)
    return vals


def region_stimulus(network, streams: dict, times, interpolation: str = "previous") -> Stimulus:
    """A sampled ``Stimulus`` with each region's stream on its columns (in the network's compiled
    order) and 0 on the others: streams (T, n_region) give values (T, N); streams (T, B,
    n_region) (one per batch member) give (T, B, N). ``network``: a ``columns.Network``."""
    cp = network.coupling
    times = torch.as_tensor(times, dtype=torch.float64)
    regions = np.asarray([str(r) for r in cp.regions])
    vals = {r: torch.as_tensor(v, dtype=network.dtype) for r, v in streams.items()}
    batch = {v.shape[1] for v in vals.values() if v.dim() == 3}
    if len(batch) > 1:
        raise StimulusError(f"region_stimulus: the streams' batch sizes differ: {sorted(batch)}")
    lead = (len(times), *batch)
    values = torch.zeros(*lead, cp.n_nodes, dtype=network.dtype)
    for region, v in vals.items():
        idx = np.nonzero(regions == str(region))[0]
        if not len(idx):
            raise StimulusError(f"region_stimulus: no region {region!r}; regions: "
                                f"{sorted(set(regions.tolist()))}")
        if v.shape[-1] != len(idx) or v.shape[0] != len(times) or v.dim() not in (2, 3):
            raise StimulusError(f"region_stimulus: the stream of region {region!r} must be "
                                f"({len(times)}, {len(idx)}) or ({len(times)}, B, {len(idx)}) "
                                f"(times × [batch ×] its columns), got {tuple(v.shape)}")
        values[..., torch.as_tensor(idx)] = v if v.dim() == len(lead) + 1 else v.unsqueeze(1)
    return Stimulus.sampled(times, values, interpolation=interpolation)
