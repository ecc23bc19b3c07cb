"""Overlap between regions: co-occupancy, joint labels, mutual information, lag, asymmetry.

For two label sequences a, b (T,) (−1 = no attractor; ``occupancy.label_states``):

    co-occupancy  O_ab = P(a_t ≠ −1 and b_t ≠ −1) / min(P(a_t ≠ −1), P(b_t ≠ −1))
                  (None, "n/a": undefined, 0/0, when either is never in an attractor)
    joint         P(a_t = i, b_t = j) over the labels −1..K−1 (index 0 = none)
    MI            Σ_ij P_ij log2(P_ij / (P_i· P_·j))  (bits; "none" is a label); None ("n/a")
                  when either series is constant (no information to share: 0/0 in any
                  normalisation); MI(a, a) is the entropy H(a)
    lagged        MI(a_t, b_{t+ℓ}) and O_ab(ℓ) for ℓ = −L..L over the overlapping samples
                  (L < T); the best lag maximises the MI (ℓ > 0: b follows a; None if every MI is
                  n/a)
    asymmetry     ‖W − Wᵀ‖_F / ‖W‖_F of a dense coupling block; within a region (r, r) or between
                  two regions (the pair block [[0, W_rq], [W_qr, 0]], so W_rq is compared with W_qrᵀ).
                  With ``mask`` (the adjacency, [target, source] bool) only reciprocal pairs count
                  (entries with mask_ij and mask_ji): on a sparse graph an edge without its reverse
                  gives √2 whatever was learned, so the unmasked index mostly measures the graph
    circulation   Σ_k (ξ_{k+1}ᵀ W ξ_k − ξ_kᵀ W ξ_{k+1}) / (P ‖W‖_F mean_k ‖ξ_k‖²) for patterns
                  ξ_0..ξ_{P−1} in a cyclic order: > 0 when the couplings carry each pattern
                  forward to the next one, < 0 backward, 0 for a symmetric W (a directional
                  measure; the asymmetry index cannot tell order from noise)
    transfer      λ_fwd = mean_k ⟨η_{k+1}, W ξ_k⟩ / mean_k ⟨η_k, W ξ_k⟩ and λ_bwd with η_{k−1}:
                  how strongly W carries each presynaptic pattern ξ_k to the postsynaptic pattern
                  that follows the trained one, relative to the trained one itself (indices mod P).
                  Within a region η = ξ; from region A to region B at a trained delay of d
                  elements (B shows ξ_{k−d} while A shows ξ_k), η_k = ξ_{k−d} and W is the block
                  W[B, A]. A symmetric W storing the patterns gives λ_fwd = λ_bwd; a sequence
                  W = Σ_k (ξ_k ξ_kᵀ + λ ξ_{k+1} ξ_kᵀ) of orthogonal patterns gives λ_fwd = λ,
                  λ_bwd = 0; None when the denominator is 0

Shapes: labels (T,) int64; W (N, N) [target, source]; regions: a length-N sequence of names;
patterns (P, N).
"""

from __future__ import annotations

import numpy as np
import torch

from graphs.errors import AnalysisError
from graphs.values import is_integer

from . import checks


def co_occupancy(a: torch.Tensor, b: torch.Tensor) -> float | None:
    """O_ab (module ``columns.analysis.overlap``); None when undefined.

    Returns:
        O_ab, or None when either series is never in an attractor.
    """
    ia, ib = a >= 0, b >= 0
    pa, pb = float(ia.double().mean()), float(ib.double().mean())
    if not a.numel() or min(pa, pb) == 0:
        return None
    return float((ia & ib).double().mean()) / min(pa, pb)


def joint_distribution(a: torch.Tensor, b: torch.Tensor, ka: int, kb: int) -> torch.Tensor:
    """P(a = i − 1, b = j − 1): (ka + 1, kb + 1), row/column 0 = none.

    Returns:
        P (ka + 1, kb + 1), summing to 1.

    Raises:
        AnalysisError: a and b differ in shape.
    """
    a = checks.labels(a, ka, "joint_distribution: a")
    b = checks.labels(b, kb, "joint_distribution: b")
    if a.shape != b.shape:
        raise AnalysisError(f"joint_distribution: label sequences differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    P = torch.zeros(ka + 1, kb + 1, dtype=torch.float64, device=a.device)
    if a.numel():
        P.index_put_((a + 1, b + 1), torch.ones(a.numel(), dtype=torch.float64, device=a.device),
                     accumulate=True)
        P /= a.numel()
    return P


def mutual_information(a: torch.Tensor, b: torch.Tensor, ka: int, kb: int) -> float | None:
    """I(a; b) in bits from the joint label distribution; None when a or b is constant.

    Returns:
        The MI in bits, or None.

    Raises:
        AnalysisError: labels that are not 1-D integer sequences in their ranges.
    """
    a = checks.labels(a, ka, "mutual_information: a")
    b = checks.labels(b, kb, "mutual_information: b")
    if not a.numel() or bool((a == a[0]).all()) or bool((b == b[0]).all()):
        return None
    P = joint_distribution(a, b, ka, kb)
    pi, pj = P.sum(1, keepdim=True), P.sum(0, keepdim=True)
    nz = P > 0
    return float((P[nz] * torch.log2(P[nz] / (pi * pj)[nz])).sum())


def lagged(a: torch.Tensor, b: torch.Tensor, ka: int, kb: int, max_lag: int) -> dict:
    """MI and co-occupancy of (a_t, b_{t+ℓ}) for ℓ = −max_lag..max_lag, and the best lag
    ("best_at_edge": it is ±max_lag, so a longer range may hold a better one).

    Returns:
        {"lags", "mi_bits", "co_occupancy" (lists over the lags), "best_lag", "best_at_edge"}.

    Raises:
        AnalysisError: a and b differ in shape, or max_lag is not in 0..T−1.
    """
    a, b = checks.labels(a, ka, "lagged: a"), checks.labels(b, kb, "lagged: b")
    if a.shape != b.shape:
        raise AnalysisError(f"lagged: label sequences differ in shape: {tuple(a.shape)} vs "
                            f"{tuple(b.shape)}")
    T = a.shape[0]
    if not is_integer(max_lag, 0) or max_lag >= T:
        raise AnalysisError(f"lagged: max_lag must be in 0..{T - 1} (the series has {T} samples), "
                         f"got {max_lag}")
    lags = list(range(-max_lag, max_lag + 1))
    mi, co = [], []
    for lag in lags:
        x, y = (a[:T - lag], b[lag:]) if lag >= 0 else (a[-lag:], b[:T + lag])
        mi.append(mutual_information(x, y, ka, kb))
        co.append(co_occupancy(x, y))
    ok = [i for i in range(len(lags)) if mi[i] is not None]
    best = lags[max(ok, key=lambda i: (mi[i], -abs(lags[i])))] if ok else None
    return {"lags": lags, "mi_bits": mi, "co_occupancy": co, "best_lag": best,
            "best_at_edge": best is not None and max_lag > 0 and abs(best) == max_lag}


def _reciprocal(W: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return W if mask is None else W * (mask & mask.T).to(W.dtype)


def asymmetry(W: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """‖W − Wᵀ‖_F / ‖W‖_F of a square block (0 for W = 0); reciprocal pairs only with ``mask``.

    Returns:
        The index, a float ≥ 0 (0: symmetric; √2: antisymmetric).
    """
    W = _reciprocal(W, mask)
    n = float(W.norm())
    return float((W - W.T).norm()) / n if n > 0 else 0.0


def region_index(regions, device=None) -> dict[str, torch.Tensor]:
    """{region name: the indices (int64) of its entries}, regions in order of first appearance.

    Returns:
        The dict {region: indices}.
    """
    regions = np.asarray([str(r) for r in regions])
    return {r: torch.as_tensor(np.nonzero(regions == r)[0], device=device)
            for r in dict.fromkeys(regions.tolist())}


def region_asymmetry(W: torch.Tensor, regions, mask: torch.Tensor | None = None) -> dict:
    """Asymmetry within each region and between each pair of regions (module
    ``columns.analysis.overlap``).

    Returns:
        {"A": index within A, …, "A-B": index between A and B, …}.

    Raises:
        AnalysisError: W is not (N, N) for N regions entries.
    """
    if W.dim() != 2 or W.shape[0] != W.shape[1] or W.shape[0] != len(regions):
        raise AnalysisError(f"region_asymmetry: W must be (N, N) with N = {len(regions)} regions "
                         f"entries, got {tuple(W.shape)}")
    W = _reciprocal(W, mask)
    idx = region_index(regions, W.device)
    names = list(idx)
    out = {"within": {}, "between": {}}
    for r in names:
        out["within"][r] = asymmetry(W[idx[r]][:, idx[r]])
    for i, r in enumerate(names):
        for q in names[i + 1:]:
            a, b = W[idx[r]][:, idx[q]], W[idx[q]][:, idx[r]]                # r ← q and q ← r
            num = float((a - b.T).norm()) * 2 ** 0.5
            den = float(torch.cat([a.reshape(-1), b.reshape(-1)]).norm())
            out["between"][f"{r}-{q}"] = num / den if den > 0 else None     # no (reciprocal) pair
    return out


def circulation(W: torch.Tensor, patterns: torch.Tensor) -> float:
    """The circulation of ``W`` (N, N) [target, source] along the cyclic order of ``patterns``
    (P, N) (module ``columns.analysis.overlap``); 0.0 for W = 0 or zero patterns.

    Returns:
        The circulation, a float (> 0 forward).

    Raises:
        AnalysisError: W is not square or the patterns' width differs from it.
    """
    if W.dim() != 2 or W.shape[0] != W.shape[1] or patterns.dim() != 2 \
            or patterns.shape[1] != W.shape[0]:
        raise AnalysisError(f"circulation: W must be (N, N) and patterns (P, N), got "
                            f"{tuple(W.shape)} and {tuple(patterns.shape)}")
    P = patterns.shape[0]
    nxt = patterns.roll(-1, 0)
    fwd = (nxt * (patterns @ W.T)).sum()                   # Σ_k ξ_{k+1}ᵀ W ξ_k
    bwd = (patterns * (nxt @ W.T)).sum()                   # Σ_k ξ_kᵀ W ξ_{k+1}
    den = P * float(W.norm()) * float((patterns ** 2).sum(1).mean())
    return float(fwd - bwd) / den if den > 0 else 0.0


def transfer(W: torch.Tensor, pre: torch.Tensor, post: torch.Tensor | None = None,
             delay: int = 0) -> dict:
    """{"forward": λ_fwd, "backward": λ_bwd} of the block ``W`` (N_post, N_pre) [target, source]
    for presynaptic patterns ``pre`` (P, N_pre) in the trained cyclic order and postsynaptic
    patterns ``post`` (P, N_post) (default ``pre``; the same patterns in the other region), the
    postsynaptic region lagging by ``delay`` elements (module ``columns.analysis.overlap``).

    Returns:
        {"forward": λ_fwd, "backward": λ_bwd} (None where undefined).

    Raises:
        AnalysisError: shapes that do not match (W, pre, post).
    """
    post = pre if post is None else post
    if W.dim() != 2 or pre.dim() != 2 or post.dim() != 2 or W.shape != (post.shape[1], pre.shape[1]) \
            or pre.shape[0] != post.shape[0]:
        raise AnalysisError(f"transfer: W must be (N_post, N_pre) for patterns pre (P, N_pre) and "
                            f"post (P, N_post), got {tuple(W.shape)}, {tuple(pre.shape)}, "
                            f"{tuple(post.shape)}")
    eta = post.roll(int(delay), 0)                          # η_k = post_{k − d}
    drive = pre @ W.T                                       # (P, N_post): W ξ_k
    base = float((eta * drive).sum(1).mean())

    def ratio(shift: int):
        v = float((eta.roll(-shift, 0) * drive).sum(1).mean())   # ⟨η_{k+shift}, W ξ_k⟩
        return v / base if base != 0 else None
    return {"forward": ratio(1), "backward": ratio(-1)}
