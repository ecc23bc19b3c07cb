"""Attractor sequences: ± pairs, signed labels, order and follow scores against nulls.

With an odd prior flow (tanh rates, μ_d = 0; the FEP map at s = 0) attractors come in mirror pairs
a, −a: a pair is one attractor with a sign.

    sign_pairs(att)          pair id (K,) and sign (K,) of every attractor: a and b pair when
                             cos(a, b) ≤ −(1 − tol); representatives (P, n) are the first of each pair
    signed_labels(x, reps)   label_t = argmax_k |cos(x_t, r_k)| if that |cos| ≥ threshold, else −1;
                             sign_t = sign cos(x_t, r_label)
    visits(labels)           the visited sequence: −1 removed, consecutive repeats collapsed
    order_score(seq, succ)   over consecutive visits a → b (a ≠ b, a with a place in the order,
                             succ[a] ≥ 0): the fraction with b = succ[a]; None (n/a) without such a
                             transition; a list of sequences (replicas) pools their transitions
    shuffle_null             the same score on the visits randomly permuted (each run's own, then
                             collapsed); p = (1 + #{null ≥ observed}) / (1 + n), p_reverse with ≤
    follow_score(a, b, pred) over samples where both are labelled (and a has a place): the fraction
                             with b_t = pred[a_t] (b shows what it should while a shows a_t: the
                             trained delay in pattern terms); None without such a sample
    circular_null            follow_score(a, roll(b, k)) for seeded shifts k ∈ [m, T − m];
                             p as above
    lag_null                 lagged MI of (a, roll(b, k)): the 95th percentile per lag (the band)
                             and the p-value of the observed best-lag MI against the shifts' best

Shapes: attractors (K, n); x (T, n); labels (T,) int64 (−1 = none); succ, pred (K,) int64 (−1: no
place in the order).
"""

from __future__ import annotations

import numpy as np
import torch

from graphs.errors import AnalysisError

from . import checks
from .occupancy import cosines
from .overlap import lagged


def sign_pairs(attractors: torch.Tensor, tol: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """(pair id (K,), sign (K,) ±1): attractor k joins the pair of an earlier j when
    cos(a_j, a_k) ≤ −(1 − tol) (then sign −1).

    Returns:
        (pair id (K,) int64, sign (K,) int64).
    """
    K = attractors.shape[0]
    pid, sign = torch.full((K,), -1, dtype=torch.int64), torch.ones(K, dtype=torch.int64)
    if K == 0:
        return pid, sign
    cos = cosines(attractors, attractors).cpu()
    first, n = [], 0
    for k in range(K):
        for p, j in enumerate(first):
            if float(cos[j, k]) <= -(1 - tol):
                pid[k], sign[k] = p, -1
                break
        else:
            pid[k] = n
            first.append(k)
            n += 1
    return pid, sign


def pair_leaders(pid: torch.Tensor) -> list[int]:
    """The index of the first attractor of each pair (``sign_pairs``' ids), in pair order.

    Returns:
        A list of attractor indices.
    """
    return [int((pid == p).nonzero()[0, 0]) for p in range(int(pid.max()) + 1)] if len(pid) else []


def representatives(attractors: torch.Tensor, tol: float = 0.01) -> torch.Tensor:
    """One attractor per ± pair (the first of each), (P, n).

    Returns:
        The representatives (P, n).
    """
    return attractors[pair_leaders(sign_pairs(attractors, tol)[0])]


def signed_labels(x: torch.Tensor, reps: torch.Tensor, threshold: float = 0.9):
    """(label (T,), sign (T,)) by |cos| to the representatives (module
    ``columns.analysis.sequence``).

    Returns:
        (label (T,) int64, −1 below threshold; sign (T,) int64, 0 where unlabelled).

    Raises:
        AnalysisError: a threshold that is not a finite cosine in [−1, 1].
    """
    threshold = checks.threshold(threshold)
    if reps.shape[0] == 0:
        T = x.shape[0]
        return (torch.full((T,), -1, dtype=torch.int64, device=x.device),
                torch.zeros(T, dtype=torch.int64, device=x.device))
    c = cosines(x, reps)
    best, k = c.abs().max(1)
    sign = torch.sign(c.gather(1, k[:, None])[:, 0]).to(torch.int64)
    hit = best >= threshold
    return torch.where(hit, k, torch.full_like(k, -1)), torch.where(hit, sign, torch.zeros_like(sign))


def visits(labels: torch.Tensor) -> torch.Tensor:
    """The visited sequence (module ``columns.analysis.sequence``).

    Returns:
        The visits (V,) int64.

    Raises:
        AnalysisError: labels that are not a 1-D integer sequence.
    """
    labels = torch.as_tensor(labels)
    lab = checks.labels(labels, int(labels.max()) + 1 if labels.numel() else 0, "visits")
    lab = lab[lab >= 0]
    return torch.unique_consecutive(lab) if lab.numel() else lab


def _order_counts(seq: torch.Tensor, succ: torch.Tensor) -> tuple[int, int]:
    """(transitions that follow ``succ``, transitions counted) of one visited sequence."""
    seq = torch.unique_consecutive(seq) if seq.numel() else seq
    if seq.numel() < 2:
        return 0, 0
    a, b = seq[:-1], seq[1:]
    ok = succ[a] >= 0
    return int((b[ok] == succ[a[ok]]).sum()), int(ok.sum())


def _order_counts_batch(seqs: torch.Tensor, succ: torch.Tensor):
    """``_order_counts`` of every row of ``seqs`` (n, L) at once: the consecutive pairs that
    differ are exactly the transitions between the runs of equal labels."""
    if seqs.shape[1] < 2:
        z = torch.zeros(seqs.shape[0], dtype=torch.int64)
        return z, z.clone()
    a, b = seqs[:, :-1], seqs[:, 1:]
    nxt = succ[a]
    counted = (a != b) & (nxt >= 0)
    return (counted & (b == nxt)).sum(1), counted.sum(1)


def order_score(seq, succ: torch.Tensor) -> tuple[float | None, int]:
    """(fraction of transitions that follow ``succ``, number of transitions counted); ``seq`` one
    visited sequence or a list of them (independent runs: transitions within each, pooled).

    Returns:
        (score or None, transitions counted).

    Raises:
        AnalysisError: ``seq`` not a label sequence or a list of them, or ``succ`` not a 1-D
            integer map.
    """
    succ = checks.order_map(succ, "order_score: succ")
    seqs = [x[x >= 0] for x in checks.sequences(seq, succ.numel(), "order_score: seq")]
    counts = [_order_counts(x, succ) for x in seqs]
    fwd, n = sum(c[0] for c in counts), sum(c[1] for c in counts)
    return (fwd / n if n else None), n


def shuffle_null(seq, succ: torch.Tensor, n: int = 1000, seed: int = 0) -> dict:
    """The order score (``seq``: one sequence or a list, as ``order_score``) against ``n`` seeded
    permutations of the visits (each run's own); p for more forward transitions than the
    shuffles, p_reverse for fewer.

    Returns:
        {"score", "n_transitions", "null_median", "p", "p_reverse"} (None where undefined).

    Raises:
        AnalysisError: as ``order_score``, or ``n`` not an integer ≥ 1.
    """
    succ = checks.order_map(succ, "shuffle_null: succ")
    seqs = [x[x >= 0] for x in checks.sequences(seq, succ.numel(), "shuffle_null: seq")]
    n, seed = checks.count(n, "shuffle_null: n"), checks.count(seed, "shuffle_null: seed", 0)
    obs, count = order_score(seqs, succ)
    if obs is None:
        return {"score": None, "n_transitions": 0, "null_median": None, "p": None,
                "p_reverse": None, "why": "no transition between two different patterns"}
    g = torch.Generator().manual_seed(int(seed))
    perms = [[] for _ in seqs]                   # the draws in the order of a loop over n, seqs
    for _ in range(n):
        for i, x in enumerate(seqs):
            perms[i].append(torch.randperm(x.numel(), generator=g))
    fwd = torch.zeros(n, dtype=torch.int64)
    cnt = torch.zeros(n, dtype=torch.int64)
    for x, p in zip(seqs, perms):                # all n shuffles of one run at once
        f, c = _order_counts_batch(x[torch.stack(p)] if x.numel() else x.new_zeros(n, 0), succ)
        fwd, cnt = fwd + f, cnt + c
    ok = cnt > 0
    null = (fwd[ok].double() / cnt[ok].double()).numpy()
    return {"score": obs, "n_transitions": count,
            "null_median": float(np.median(null)) if len(null) else None,
            "p": float((1 + (null >= obs - 1e-12).sum()) / (1 + len(null))),
            "p_reverse": float((1 + (null <= obs + 1e-12).sum()) / (1 + len(null)))}


def follow_score(a: torch.Tensor, b: torch.Tensor, pred: torch.Tensor) -> tuple[float | None, int]:
    """(fraction of jointly labelled samples with b_t = pred[a_t], their number).

    Returns:
        (score or None, samples counted).
    """
    a, b, pred = _pair(a, b, pred, "follow_score")
    both = (a >= 0) & (b >= 0)
    both[both.clone()] = pred[a[both]] >= 0
    n = int(both.sum())
    if n == 0:
        return None, 0
    return float((b[both] == pred[a[both]]).double().mean()), n


def _pair(a, b, pred, who: str):
    """Checked (a, b, pred): label sequences of one length over pred's labels."""
    pred = checks.order_map(pred, f"{who}: pred")
    a = checks.labels(a, pred.numel(), f"{who}: a")
    b = checks.labels(b, pred.numel(), f"{who}: b")
    if a.shape != b.shape:
        raise AnalysisError(f"{who}: a and b must have one length, got {a.numel()} and {b.numel()}")
    return a, b, pred


def _shifts(T: int, n: int, min_shift: int, seed: int) -> np.ndarray:
    lo, hi = min_shift, T - min_shift
    if hi < lo:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return rng.integers(lo, hi + 1, size=n)


def circular_null(a: torch.Tensor, b: torch.Tensor, pred: torch.Tensor, n: int = 1000,
                  min_shift: int = 1, seed: int = 0) -> dict:
    """follow_score against circular shifts of b (module ``columns.analysis.sequence``).

    Returns:
        {"score", "n_samples", "null_median", "p"} (None where undefined).

    Raises:
        AnalysisError: ``n`` not an integer ≥ 1.
    """
    a, b, pred = _pair(a, b, pred, "circular_null")
    n, seed = checks.count(n, "circular_null: n"), checks.count(seed, "circular_null: seed", 0)
    min_shift = checks.count(min_shift, "circular_null: min_shift", 0)
    obs, count = follow_score(a, b, pred)
    if obs is None:
        return {"score": None, "n_samples": 0, "null_median": None, "p": None}
    ks = _shifts(a.numel(), n, min_shift, seed)
    hits, m = _shifted_counts(a, b, pred)
    hits, m = hits[ks], m[ks]
    null = hits[m > 0] / m[m > 0]
    return {"score": obs, "n_samples": count,
            "null_median": float(np.median(null)) if len(null) else None,
            "p": float((1 + (null >= obs - 1e-12).sum()) / (1 + len(null))) if len(null) else None}


def lag_null(a: torch.Tensor, b: torch.Tensor, ka: int, kb: int, max_lag: int, n: int = 200,
             seed: int = 0) -> dict:
    """The lagged MI, its 95 % band under circular shifts of b, and the best lag's p-value.

    Returns:
        ``lagged``'s dict plus "band95" (per lag) and "p_best" (None for too short a series).

    Raises:
        AnalysisError: labels out of range, a bad ``max_lag``, or ``n`` not an integer ≥ 1.
    """
    obs = lagged(a, b, ka, kb, max_lag)
    a, b = checks.labels(a, ka, "lag_null: a"), checks.labels(b, kb, "lag_null: b")
    n, seed = checks.count(n, "lag_null: n"), checks.count(seed, "lag_null: seed", 0)
    T = a.numel()
    ks = torch.as_tensor(_shifts(T, n, 2 * max_lag + 1, seed), dtype=torch.int64)
    mi = [0.0 if v is None else v for v in obs["mi_bits"]]
    if not ks.numel():
        return {**obs, "band95": None, "p_best": None}
    rolled = b[(torch.arange(T) - ks[:, None]) % T]                          # (n, T)
    C = np.stack([_mutual_information_rows(*_lag_pair(a, rolled, lag), ka, kb)
                  for lag in obs["lags"]], 1)                                 # (n, lags)
    best = max(mi)
    return {**obs, "band95": np.quantile(C, 0.95, axis=0).tolist(),
            "p_best": float((1 + (C.max(1) >= best - 1e-12).sum()) / (1 + len(C)))}


def _lag_pair(a: torch.Tensor, rolled: torch.Tensor, lag: int):
    """(a_t, b_{t+ℓ}) over the overlapping samples, for every row of ``rolled`` (n, T)."""
    T = a.numel()
    if lag >= 0:
        return a[:T - lag].expand(rolled.shape[0], -1), rolled[:, lag:]
    return a[-lag:].expand(rolled.shape[0], -1), rolled[:, :T + lag]


def _mutual_information_rows(x: torch.Tensor, y: torch.Tensor, ka: int, kb: int) -> np.ndarray:
    """``mutual_information`` of every row pair of x, y (n, L), 0 where it is n/a (a constant
    row), as ``lag_null`` counts it. Joint counts by one bincount over (row, label pair)."""
    n, L = x.shape
    cells = (ka + 1) * (kb + 1)
    key = torch.arange(n)[:, None] * cells + (x + 1) * (kb + 1) + (y + 1)
    P = torch.bincount(key.reshape(-1), minlength=n * cells).reshape(n, ka + 1, kb + 1).double() / L
    pi, pj = P.sum(2, keepdim=True), P.sum(1, keepdim=True)
    ratio = torch.where(P > 0, P / (pi * pj).clamp(min=1e-300), torch.ones_like(P))
    out = (P * torch.log2(ratio)).sum((1, 2))
    const = (x == x[:, :1]).all(1) | (y == y[:, :1]).all(1)
    return torch.where(const, torch.zeros_like(out), out).numpy()


def _shifted_counts(a: torch.Tensor, b: torch.Tensor, pred: torch.Tensor):
    """For every circular shift k of b (T,): the samples where a is labelled with a place and
    b_{t−k} is labelled, and those where b_{t−k} = pred[a_t]: circular cross-correlations of
    indicator series, by FFT (exact integers after rounding). Shapes: -> (T,), (T,) float."""
    a, b = a.cpu().numpy(), b.cpu().numpy()
    want = np.where(a >= 0, pred.cpu().numpy()[np.clip(a, 0, None)], -1)

    def corr(u, v):                        # Σ_t u(t) v(t − k) for every k
        return np.rint(np.fft.irfft(np.fft.rfft(u) * np.conj(np.fft.rfft(v)), n=len(u)))
    m = corr((want >= 0).astype(float), (b >= 0).astype(float))
    hits = sum(corr((want == p).astype(float), (b == p).astype(float))
               for p in np.unique(want[want >= 0]))
    return np.asarray(hits, dtype=float) if not np.isscalar(hits) else np.zeros(len(a)), m
