"""The digit task of Spisak & Friston's Sims 2 and 4 on batched FEP networks (``FEPRuns``):
training on the ten digits, retrieval and one-shot generalisation scores (ΔR²), relaxation to the
attractors and their orthogonality (``sim2``'s docstring has the protocol).

Shapes: images Z (K, N); evidence (R,); states (R, N).
"""

from __future__ import annotations

import numpy as np
import torch

from columns.rng import counter_uniform
from columns.types.langevin import langevin

from ..harness.progress import progress
from ..harness.stats import corr
from .runs import FEPRuns


def counter_normal(seeds: torch.Tensor, step: int, n: int, dtype=torch.float64, device=None):
    """Standard normals (R, n) from the counter-based uniforms (Box–Muller), seeded per run."""
    keyed = torch.as_tensor(seeds, dtype=torch.int64) * 7919 + 104729   # a stream apart from the runs'
    u = counter_uniform(keyed, 2 * step, n, dtype, device).clamp(min=1e-300)
    v = counter_uniform(keyed, 2 * step + 1, n, dtype, device)
    return torch.sqrt(-2.0 * torch.log(u)) * torch.cos(2 * torch.pi * v)


def orthogonality(X: torch.Tensor, diagonal: bool = False) -> float:
    """mean |90° − angle| over pairs of rows (i ≠ j) with 1° < angle < 179° (NaN if none).

    ``diagonal=True`` is the authors' figure for the data: the mean over the whole k × k matrix of
    the pairwise angles with its diagonal set to exactly 0° (so each of the k self-pairs adds 90°).
    """
    Xn = X / X.norm(dim=-1, keepdim=True).clamp(min=1e-300)
    ang = torch.rad2deg(torch.arccos((Xn @ Xn.T).clamp(-1, 1)))
    eye = torch.eye(X.shape[0], dtype=torch.bool, device=X.device)
    if diagonal:
        return float((90 - ang.masked_fill(eye, 0.0)).abs().mean())
    vals = ang[~eye]
    vals = vals[(vals > 1) & (vals < 179)]
    return float((90 - vals).abs().mean()) if vals.numel() else float("nan")


def train(net: FEPRuns, Z: torch.Tensor, evidence: torch.Tensor, epochs: int,
          steps_per_epoch: int) -> torch.Tensor:
    """``epochs`` × ``steps_per_epoch`` learning steps, a random training image per epoch and run
    (bias = evidence × image); returns the last states (R, N)."""
    R = net.runs
    orders = torch.as_tensor(np.stack([np.random.default_rng(int(s) + 17).integers(0, Z.shape[0], epochs)
                                       for s in net.seeds.cpu()]), device=Z.device)   # (R, epochs)
    sigma = torch.zeros(R, Z.shape[1], dtype=Z.dtype, device=Z.device)
    for e in progress(range(epochs), "fep: training", "epoch"):
        bias = evidence.view(-1, 1) * Z[orders[:, e]]
        for _ in range(steps_per_epoch):
            sigma = net.step(sigma, bias)
    return sigma


def evaluate(net: FEPRuns, images: torch.Tensor, evidence: torch.Tensor, trials: int,
             trial_steps: int, random_images: bool, offset: int) -> torch.Tensor:
    """Median ΔR² over trials per run. images (K, N)."""
    R, N = net.runs, images.shape[1]
    ones = torch.ones(R, dtype=images.dtype, device=images.device)
    sigma = torch.zeros(R, N, dtype=images.dtype, device=images.device)
    scores = []
    for k in progress(range(trials), "fep: retrieval", "trial"):
        if random_images:
            idx = torch.as_tensor([np.random.default_rng([int(s), offset, k]).integers(0, images.shape[0])
                                   for s in net.seeds.cpu()], device=images.device)
        else:
            idx = torch.full((R,), k % images.shape[0], device=images.device)
        clean = images[idx]                                                  # (R, N)
        bias = 0.1 * evidence.view(-1, 1) * clean
        noisy = bias + bias.std(-1, unbiased=False, keepdim=True) * counter_normal(
            net.seeds, offset * 100000 + k, N, images.dtype, images.device)
        acc = torch.zeros_like(sigma)
        for _ in range(trial_steps):
            sigma = net.step(sigma, noisy, learn=False, beta=ones)
            acc = acc + sigma
        scores.append(corr(acc / trial_steps, clean) ** 2 - corr(noisy, clean) ** 2)
    return torch.stack(scores, 1).median(1).values


def attractors(net: FEPRuns, Z: torch.Tensor, evidence: torch.Tensor) -> dict:
    start = langevin(0.1 * evidence.view(-1, 1, 1) * Z.unsqueeze(0))        # (R, 10, N)
    rel = net.relax(start)
    counts, orth = [], []
    for r in range(net.runs):                                                 # small: per-run unique rows
        S = rel["sigma"][r][rel["converged"][r]]                              # converged starts only
        counts.append(int(torch.unique(torch.round(S * 100) / 100, dim=0).shape[0]))
        orth.append(orthogonality(S) if S.shape[0] > 1 else float("nan"))
    return {"n_attractors": counts, "orthogonality_deg": orth,
            "converged_fraction": float(rel["converged"].float().mean()), "sigma": rel["sigma"]}
