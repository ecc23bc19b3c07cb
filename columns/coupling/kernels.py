"""Fused edge kernels for the CPU (numba): the dynamics call's edge work in two passes over the
CSR-by-target edge list, with no E-length temporaries.

With x the sent signal, g = ∂H/∂ν per column, and for each edge e: j → i (row i of the CSR):

    pass 1 (``field``)      ν_i = Σ_e W_e x_j                                       (B, N)
                            with learning also Ẇ_e = P_e/m_W,e + α_W,e x_i x_j − γ_W,e W_e
                            and x_j kept in Ṗ_e's place for pass 2             (B, E)
    pass 2 (``hebbian``)    Ṗ_e = γ_W,e P_e − g_i x_j   (x_j read back, in edge order)  (B, E)
                            force_j += W_e g_i + α_W,e P_e x_i      (by source, private per chunk)
                            force_i += Σ_e α_W,e P_e x_j             (by target, a row sum)
    without learning        force_j += W_e g_i                       (Wᵀ g)

When g does not depend on ν (Bayesian-mechanics columns: g_i = p_μi, a state variable), the two
passes are one (``one_pass``): every edge is read once, x_j gathered and force_j scattered in the
same loop, and nothing is kept between passes (half the bytes of the two passes).

so that force = Wᵀ g + ∂H_edges/∂x. Each pass has one array it reaches in random order: pass 1
gathers x_j, pass 2 scatters into its by-source sums (gathering x_j again in pass 2 made it
1.2–3.7 × slower in all, most where x and the sums no longer fit the cache together: 10⁶
columns). A partly learnable network runs the same kernels on two lists over the same rows
(``columns.coupling.Edges``): its learnable edges (in their own order, W_l's) and its fixed
ones. Rows are split into ``chunks`` of about equal edge count, one per thread; each chunk
accumulates its by-source sums in its own (B, N) slice of ``fsrc`` (C, B, N), summed
afterwards, so the result does not depend on thread timing (deterministic).
Per-edge parameters are arrays of length E or 1 (stride 1 or 0); when all are of length 1 the
loops read them as constants.

Bytes moved per call with learning (float64): pass 1 reads W, P and src and writes Ẇ and the
kept x_j (40 B per edge), pass 2 reads W, P, src and the kept x_j and writes Ṗ (40 B per edge).

Shapes: crow (N+1,), src (E,) int64; W, P (Bw, E) with Bw ∈ {1, B}; x, g (B, N).
"""

from __future__ import annotations

import numpy as np
import torch

try:
    import numba
    from numba import njit, prange
except ImportError:       # the eager torch path is used instead (identical results to round-off)
    numba = None

from .. import threads as _threads

AVAILABLE = numba is not None
if AVAILABLE:
    _threads.start_numba()       # before any kernel: starting the pool later resets torch's count


def threads() -> int:
    """Threads of the kernels: the engine's count (``columns.threads``), within numba's pool."""
    return _threads.numba_threads()


def chunk_bounds(crow: torch.Tensor, chunks: int) -> np.ndarray:
    """Row boundaries (chunks+1,) splitting the edges into ``chunks`` runs of equal size."""
    N, E = crow.numel() - 1, int(crow[-1])
    targets = np.linspace(0, E, chunks + 1)
    b = np.searchsorted(crow.cpu().numpy(), targets, side="left").clip(0, N)
    b[0], b[-1] = 0, N
    return np.maximum.accumulate(b).astype(np.int64)


if AVAILABLE:
    @njit(parallel=True, cache=True, nogil=True)
    def _field(crow, src, W, x, bounds, out):                      # pragma: no cover (numba)
        B = x.shape[0]
        shared = W.shape[0] == 1
        for c in prange(bounds.shape[0] - 1):
            for b in range(B):
                wb = W[0] if shared else W[b]
                xb = x[b]
                for i in range(bounds[c], bounds[c + 1]):
                    acc = 0.0
                    for e in range(crow[i], crow[i + 1]):
                        acc += wb[e] * xb[src[e]]
                    out[b, i] = acc

    @njit(parallel=True, cache=True, nogil=True)
    def _field_learn(crow, src, W, P, x, alpha, inv_m, gamma, bounds, out, dW,
                     dP):                                              # pragma: no cover (numba)
        B = x.shape[0]
        shared = W.shape[0] == 1
        sa = 1 if alpha.shape[0] > 1 else 0
        sm = 1 if inv_m.shape[0] > 1 else 0
        sg = 1 if gamma.shape[0] > 1 else 0
        uniform = sa + sm + sg == 0              # one value each: constants in the loop
        a0, m0, g0 = alpha[0], inv_m[0], gamma[0]
        for c in prange(bounds.shape[0] - 1):
            for b in range(B):
                wb = W[0] if shared else W[b]
                xb, pb, dwb, dpb = x[b], P[b], dW[b], dP[b]
                for i in range(bounds[c], bounds[c + 1]):
                    xi = xb[i]
                    acc = 0.0
                    for e in range(crow[i], crow[i + 1]):
                        xj, w = xb[src[e]], wb[e]
                        acc += w * xj
                        if uniform:
                            dwb[e] = pb[e] * m0 + a0 * xi * xj - g0 * w
                        else:
                            dwb[e] = (pb[e] * inv_m[e * sm] + alpha[e * sa] * xi * xj
                                      - gamma[e * sg] * w)
                        dpb[e] = xj                    # kept for pass 2
                    out[b, i] = acc

    @njit(parallel=True, cache=True, nogil=True)
    def _hebbian(crow, src, W, P, x, g, alpha, inv_m, gamma, bounds, learn,
                 dW, dP, fsrc, ftgt):                                  # pragma: no cover (numba)
        B = x.shape[0]
        shared = W.shape[0] == 1
        sa = 1 if alpha.shape[0] > 1 else 0
        sg = 1 if gamma.shape[0] > 1 else 0
        uniform = sa + sg == 0                   # one value each: constants in the loop
        a0, g0 = alpha[0], gamma[0]
        for c in prange(bounds.shape[0] - 1):
            fs = fsrc[c]
            for b in range(B):
                for j in range(fs.shape[1]):
                    fs[b, j] = 0.0
            for b in range(B):
                wb = W[0] if shared else W[b]
                xb, gb, fb = x[b], g[b], fs[b]
                if learn:
                    pb, dpb = P[b], dP[b]
                for i in range(bounds[c], bounds[c + 1]):
                    xi, gi = xb[i], gb[i]
                    acc = 0.0
                    for e in range(crow[i], crow[i + 1]):
                        j = src[e]
                        w = wb[e]
                        if learn:
                            p = pb[e]
                            xj = dpb[e]                # x_j, kept by pass 1
                            if uniform:
                                ap = a0 * p
                                dpb[e] = g0 * p - gi * xj
                            else:
                                ap = alpha[e * sa] * p
                                dpb[e] = gamma[e * sg] * p - gi * xj
                            fb[j] += w * gi + ap * xi
                            acc += ap * xj
                        else:
                            fb[j] += w * gi
                    ftgt[b, i] = acc

    @njit(parallel=True, cache=True, nogil=True)
    def _one_pass(crow, src, W, P, x, g, alpha, inv_m, gamma, bounds, learn, out,
                  dW, dP, fsrc, ftgt, accumulate):                     # pragma: no cover (numba)
        B = x.shape[0]
        shared = W.shape[0] == 1
        sa = 1 if alpha.shape[0] > 1 else 0
        sm = 1 if inv_m.shape[0] > 1 else 0
        sg = 1 if gamma.shape[0] > 1 else 0
        uniform = sa + sm + sg == 0              # one value each: constants in the loop
        a0, m0, g0 = alpha[0], inv_m[0], gamma[0]
        for c in prange(bounds.shape[0] - 1):
            fs = fsrc[c]
            if not accumulate:
                for b in range(B):
                    for j in range(fs.shape[1]):
                        fs[b, j] = 0.0
            for b in range(B):
                wb = W[0] if shared else W[b]
                xb, gb, fb = x[b], g[b], fs[b]
                if learn:
                    pb, dwb, dpb = P[b], dW[b], dP[b]
                for i in range(bounds[c], bounds[c + 1]):
                    xi, gi = xb[i], gb[i]
                    acc = out[b, i] if accumulate else 0.0
                    acct = ftgt[b, i] if accumulate else 0.0
                    for e in range(crow[i], crow[i + 1]):
                        j = src[e]
                        xj, w = xb[j], wb[e]
                        acc += w * xj
                        if learn:
                            p = pb[e]
                            if uniform:
                                dwb[e] = p * m0 + a0 * xi * xj - g0 * w
                                dpb[e] = g0 * p - gi * xj
                                ap = a0 * p
                            else:
                                dwb[e] = (p * inv_m[e * sm] + alpha[e * sa] * xi * xj
                                          - gamma[e * sg] * w)
                                dpb[e] = gamma[e * sg] * p - gi * xj
                                ap = alpha[e * sa] * p
                            fb[j] += w * gi + ap * xi
                            acct += ap * xj
                        else:
                            fb[j] += w * gi
                    out[b, i] = acc
                    ftgt[b, i] = acct


def merge(fsrc: torch.Tensor, ftgt: torch.Tensor, into: torch.Tensor | None) -> torch.Tensor:
    """force = Σ_chunks fsrc + ftgt (B, N), into ``into`` when given (a buffer reused call after
    call: no fresh pages to fault in at 10⁶ columns)."""
    return (fsrc.sum(0) if into is None else torch.sum(fsrc, 0, out=into)).add_(ftgt)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def field(crow, src, W, x, bounds, out, learn=None) -> torch.Tensor:
    """ν = W x into ``out`` (B, N); ``learn`` = (P, alpha, inv_m, gamma, dW, dP): also Ẇ into
    ``dW`` and x_j kept in ``dP`` (B, E) for ``hebbian``. Shapes as in the docstring of module
    ``columns.coupling.kernels``."""
    if learn is None:
        _field(_np(crow), _np(src), _np(W), _np(x), bounds, _np(out))
    else:
        P, alpha, inv_m, gamma, dW, dP = learn
        _field_learn(_np(crow), _np(src), _np(W), _np(P), _np(x), _np(alpha), _np(inv_m),
                     _np(gamma), bounds, _np(out), _np(dW), _np(dP))
    return out


def hebbian(crow, src, W, P, x, g, alpha, inv_m, gamma, bounds, dW, dP, fsrc, ftgt,
            into=None) -> torch.Tensor:
    """Pass 2 with learning (``P`` not None: Ṗ written into ``dP`` (B, E), which holds the x_j
    that ``field`` kept; Ẇ is already in ``dW``) or without. Returns force (B, N) =
    Σ_chunks fsrc + ftgt."""
    learn = P is not None
    dummy = np.zeros((1, 1), dtype=_np(x).dtype)
    _hebbian(_np(crow), _np(src), _np(W), _np(P) if learn else dummy, _np(x), _np(g),
             _np(alpha), _np(inv_m), _np(gamma), bounds, learn,
             _np(dW) if learn else dummy, _np(dP) if learn else dummy, _np(fsrc), _np(ftgt))
    return merge(fsrc, ftgt, into)


def one_pass(crow, src, W, P, x, g, alpha, inv_m, gamma, bounds, dW, dP, fsrc, ftgt,
             out, then=None, into=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Both passes in one, for columns whose g = ∂H/∂ν is known before ν (``g`` given): ν into
    ``out``, with learning (``P`` not None) Ẇ into ``dW`` and Ṗ into ``dP`` (B, E), and the
    force. Each edge is read once (40 B per edge with learning, float64), gathering x_j and
    scattering into the by-source sums in the same loop. ``then`` = (crow, src, W, bounds): a
    second edge list over the same rows without learning (a partly learnable network's fixed
    edges), added into the same sums before they are merged.

    Returns:
        (ν (B, N), force (B, N) = Σ_chunks fsrc + ftgt).
    """
    learn = P is not None
    dummy = np.zeros((1, 1), dtype=_np(x).dtype)
    args = (_np(x), _np(g), _np(alpha), _np(inv_m), _np(gamma))
    _one_pass(_np(crow), _np(src), _np(W), _np(P) if learn else dummy, *args, bounds, learn,
              _np(out), _np(dW) if learn else dummy, _np(dP) if learn else dummy, _np(fsrc),
              _np(ftgt), False)
    if then is not None:
        crow2, src2, W2, bounds2 = then
        _one_pass(_np(crow2), _np(src2), _np(W2), dummy, *args, bounds2, False, _np(out), dummy,
                  dummy, _np(fsrc), _np(ftgt), True)
    return out, merge(fsrc, ftgt, into)
