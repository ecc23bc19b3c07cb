"""Attractors of each region's prior flow, their stability, and their track through learning.

Each region's flow is the expectation flow of ``columns.analysis.flow`` restricted to the
within-region edges (the prior flow μ̇ = F_μ(q; ν, s = 0) at p = 0 with the other fields and the
couplings frozen; map types relax by their deterministic map at s = 0, stable when the spectral
radius of ∂g/∂σ < 1).

``find_attractors`` relaxes a batch of starts (``columns.solvers.relax``: explicit Euler, dt;
converged when max|μ̇| < tol), then per region deduplicates the end points (cosine ≥ 1 − dedup, same norm within
dedup · norm), and gives each attractor its stability: the largest real part of the eigenvalues of
the region flow's Jacobian ∂μ̇/∂μ (autograd; < 0: stable). ``track_attractors`` matches the
attractor sets of successive learning checkpoints (Hungarian assignment on |cos| ≥ threshold)
into persistent identities: births, deaths and how far each moved (1 − cos).

Shapes: starts (B, N) of μ in node order; a region's attractors (K, n_r).
"""

from __future__ import annotations

import numpy as np
import torch

from ..solvers import relax
from .flow import expectation_flow
from .occupancy import cosines
from .overlap import region_index


def dedup(points: torch.Tensor, tol: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct points (K, n) up to ``tol`` (relative distance) and the index of each input's
    representative (B,). Greedy in input order.

    Returns:
        (points (K, n), representative (B,) int64).
    """
    reps, assign = [], []
    for p in points:
        for k, r in enumerate(reps):
            if float((p - r).norm()) <= tol * max(float(r.norm()), 1.0):
                assign.append(k)
                break
        else:
            reps.append(p)
            assign.append(len(reps) - 1)
    if not reps:
        return points[:0], torch.zeros(0, dtype=torch.int64)
    return torch.stack(reps), torch.tensor(assign)


GIVE_UP = 250
"""Steps between the relaxation's checks that an unfinished start can still come to rest by
``max_steps`` (``columns.solvers.relax``'s ``give_up``): starts on cycles or slowing too little
stop there instead of running to the cap."""


def find_attractors(network, y_ref: torch.Tensor, starts: torch.Tensor, within_regions: bool = True,
                    dt: float = 0.05, max_steps: int = 20000, tol: float = 1e-9,
                    dedup_tol: float = 1e-3, patterns: dict | None = None) -> dict:
    """Per region: {"attractors" (K, n_r), "basin" (K,) starts reaching each, "max_real_eig" (K,)
    of the flow's Jacobian (maps: also "spectral_radius" of ∂g/∂σ), "stable" (K,), "mean_abs_cos" between attractors, "pattern_corr" (K, P) with
    ``patterns[region]`` (P, n_r) if given}; plus "converged" (B,) and "steps".

    Returns:
        A dict with one entry per region (above), "converged" and "steps".
    """
    ef = expectation_flow(network, y_ref, within_regions)
    flow, field, kind = ef.increment, ef.field, ef.kind
    z, conv, steps = relax(flow, ef.lift(starts), 1.0 if kind == "map" else dt, max_steps, tol,
                           give_up=GIVE_UP)
    mu = ef.project(z)
    out = {"field": field, "kind": kind, "converged": conv, "steps": steps, "regions": {}}
    ends, zends = mu[conv], z[conv]
    N = network.n_nodes
    for r, idx in region_index(network.coupling.regions, mu.device).items():
        pts, assign = dedup(ends[:, idx], dedup_tol)
        zidx = torch.cat([idx, idx + N]) if ef.traced else idx         # the region's part of z
        eig = []
        for k, a in enumerate(pts):
            full = zends[int((assign == k).nonzero()[0, 0])].clone()          # where it was reached

            def region_flow(v, full=full, zidx=zidx):
                m = full.clone()
                m[zidx] = v
                return flow(m.unsqueeze(0))[0, zidx]
            J = torch.autograd.functional.jacobian(region_flow, full[zidx])
            ev = torch.linalg.eigvals(J)
            eig.append((float(ev.real.max()), float((ev + 1).abs().max())))   # flow; map: ρ(I + J)
        eig_t = torch.tensor(eig, dtype=torch.float64).reshape(-1, 2)
        res = {"attractors": pts, "basin": torch.bincount(assign, minlength=len(pts)),
               "max_real_eig": eig_t[:, 0]}
        if kind == "map":
            res["spectral_radius"] = eig_t[:, 1]
            res["stable"] = eig_t[:, 1] < 1
        else:
            res["stable"] = eig_t[:, 0] < 0
        if len(pts) > 1:
            c = cosines(pts, pts).abs()
            res["mean_abs_cos"] = float(c[~torch.eye(len(pts), dtype=torch.bool)].mean())
        else:
            res["mean_abs_cos"] = None
        if patterns is not None and r in patterns and len(pts):
            P = torch.as_tensor(patterns[r], dtype=pts.dtype)
            a_c = pts - pts.mean(1, keepdim=True)
            p_c = P - P.mean(1, keepdim=True)
            res["pattern_corr"] = (a_c @ p_c.T) / (a_c.norm(dim=1, keepdim=True) * p_c.norm(dim=1)).clamp(min=1e-300)
        out["regions"][r] = res
    return out


def track_attractors(sets: list[torch.Tensor], threshold: float = 0.9) -> dict:
    """Persistent identities for attractor sets at successive checkpoints (each (K_c, n)).

    Returns {"ids": [list of ids per checkpoint], "births": {id: checkpoint}, "deaths": {id:
    first checkpoint without it}, "moved": {id: [1 − cos to the previous checkpoint, …]}}.

    Returns:
        The dict described above.
    """
    from scipy.optimize import linear_sum_assignment
    ids, births, deaths, moved = [], {}, {}, {}
    prev, prev_ids, next_id = None, [], 0
    for c, cur in enumerate(sets):
        cur_ids = [-1] * len(cur)
        if prev is not None and len(prev) and len(cur):
            cos = cosines(prev, cur).cpu().numpy()
            rows, cols_ = linear_sum_assignment(-np.abs(cos))
            for i, j in zip(rows, cols_):
                if abs(cos[i, j]) >= threshold:
                    cur_ids[j] = prev_ids[i]
                    moved[prev_ids[i]].append(float(1 - abs(cos[i, j])))
        for j in range(len(cur)):
            if cur_ids[j] < 0:
                cur_ids[j] = next_id
                births[next_id], moved[next_id] = c, []
                next_id += 1
        for i in prev_ids:
            if i not in cur_ids and i not in deaths:
                deaths[i] = c
        ids.append(cur_ids)
        prev, prev_ids = cur, cur_ids
    return {"ids": ids, "births": births, "deaths": deaths, "moved": moved}
