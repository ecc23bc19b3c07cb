"""The main study's input: the patterns (digits, decorrelated digits or random ±1) and each arm's
schedule of pattern orders for regions A and B."""

from __future__ import annotations

import math

import torch


from ..digits import digits, zscore_rows
from . import sequences as S
from .config import Config


def patterns(cfg: Config, device) -> torch.Tensor:
    """The input patterns (P, n) (``--patterns``): the digits (8×8 images for n = 64, average-pooled
    to 4×4 for n = 16 or 2×2 for n = 4, each pixel repeated k × k for n = (8k)², e.g. 16×16 for
    n = 256; z-scored); "decorrelated": the same digits made orthogonal
    (Löwdin: X → (X Xᵀ)^(−1/2) X on the centred digits, the closest orthonormal set) and rescaled
    to their norm √n; "random": seeded ±1 patterns (norm √n)."""
    side = math.isqrt(cfg.n)
    if cfg.patterns == "random":
        g = torch.Generator().manual_seed(cfg.seed + 7)
        X = torch.sign(torch.randn(len(cfg.digits), cfg.n, generator=g, dtype=torch.float64))
        return X.to(device)
    train, _ = digits()
    X = train[list(cfg.digits)]
    if side < 8:
        k = 8 // side
        X = zscore_rows(X.reshape(-1, side, k, side, k).mean((2, 4)).reshape(-1, cfg.n))
    elif side > 8:                          # pixel repetition keeps each row's z-score
        k = side // 8
        X = X.reshape(-1, 8, 1, 8, 1).expand(-1, 8, k, 8, k).reshape(-1, cfg.n)
    if cfg.patterns == "decorrelated":
        Xc = X - X.mean(1, keepdim=True)
        U, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
        X = (U @ Vh) * math.sqrt(cfg.n)
    return X.to(device)


def schedule(cfg: Config, arm, order: str) -> tuple[torch.Tensor, torch.Tensor, int, float, float]:
    """(A's pattern orders (S, L), B's, dwell, gain, Δt) of the arm; seed b's random order is
    drawn from --seed + b."""
    cycles, dwell, gain, dt = arm.schedule(cfg)
    P = len(cfg.digits)
    pA = torch.stack([S.order(order, P, cycles * P, seed=cfg.seed + b) for b in range(cfg.seeds)])
    pB = torch.stack([S.delayed(p, cfg.delay) for p in pA])
    return pA, pB, dwell, gain, dt
