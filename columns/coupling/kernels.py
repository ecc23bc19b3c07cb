"""Fused edge kernels for the CPU (numba): the dynamics call's edge work in two passes over the
CSR-by-target edge list, with no E-length temporaries.

With x the sent signal, g = ∂H/∂ν per column, and for each edge e: j → i (row i of the CSR):

    pass 1 (``field``)      ν_i = Σ_e W_e x_j                                       (B, N)
    pass 2 (``hebbian``)    Ẇ_e = P_e/m_W,e + α_W,e x_i x_j − γ_W,e W_e              (B, E)
                            Ṗ_e = γ_W,e P_e − g_i x_j                                (B, E)
                            force_j += W_e g_i + α_W,e P_e x_i      (by source, private per chunk)
                            force_i += Σ_e α_W,e P_e x_j             (by target, a row sum)
    without learning        force_j += W_e g_i                       (Wᵀ g)

so that force = Wᵀ g + ∂H_edges/∂x. A partly learnable network runs the same two passes through
``lpos`` (E,): the position of edge e among the learnable edges, or −1 for a fixed edge, whose
weight is read from the graph's W0 (``field_mixed``, ``hebbian_mixed``; the learnable edges'
Ẇ, Ṗ are written in their own order, (B, E_l)). Rows are split into ``chunks`` of about equal edge count,
one per thread; each chunk accumulates its by-source sums in its own (B, N) slice of ``fsrc``
(C, B, N), summed afterwards, so the result does not depend on thread timing (deterministic).
Per-edge parameters are arrays of length E or 1 (stride 1 or 0).

Bytes moved per call: pass 1 reads W and src (16 B per edge in float64), pass 2 reads W, P and
src and writes Ẇ and Ṗ (40 B per edge); the gathers x_j hit the cache (N-length vectors).

Shapes: crow (N+1,), src (E,) int64; W, P (Bw, E) with Bw ∈ {1, B}; x, g (B, N); mixed:
lpos (E,) int64, W0 (E,), W_l, P_l, dW_l, dP_l (B, E_l).
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
    def _hebbian(crow, src, W, P, x, g, alpha, inv_m, gamma, bounds, learn,
                 dW, dP, fsrc, ftgt):                                  # pragma: no cover (numba)
        B = x.shape[0]
        shared = W.shape[0] == 1
        sa = 1 if alpha.shape[0] > 1 else 0
        sm = 1 if inv_m.shape[0] > 1 else 0
        sg = 1 if gamma.shape[0] > 1 else 0
        for c in prange(bounds.shape[0] - 1):
            fs = fsrc[c]
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
                    acc = 0.0
                    for e in range(crow[i], crow[i + 1]):
                        j = src[e]
                        xj, w = xb[j], wb[e]
                        if learn:
                            p = pb[e]
                            ap = alpha[e * sa] * p
                            gm = gamma[e * sg]
                            dwb[e] = p * inv_m[e * sm] + alpha[e * sa] * xi * xj - gm * w
                            dpb[e] = gm * p - gi * xj
                            fb[j] += w * gi + ap * xi
                            acc += ap * xj
                        else:
                            fb[j] += w * gi
                    ftgt[b, i] = acc

    @njit(parallel=True, cache=True, nogil=True)
    def _field_mixed(crow, src, lpos, W0, Wl, x, bounds, out):     # pragma: no cover (numba)
        B = x.shape[0]
        for c in prange(bounds.shape[0] - 1):
            for b in range(B):
                wl, xb = Wl[b], x[b]
                for i in range(bounds[c], bounds[c + 1]):
                    acc = 0.0
                    for e in range(crow[i], crow[i + 1]):
                        lp = lpos[e]
                        acc += (wl[lp] if lp >= 0 else W0[e]) * xb[src[e]]
                    out[b, i] = acc

    @njit(parallel=True, cache=True, nogil=True)
    def _hebbian_mixed(crow, src, lpos, W0, Wl, Pl, x, g, alpha, inv_m, gamma, bounds,
                       dWl, dPl, fsrc, ftgt):                          # pragma: no cover (numba)
        B = x.shape[0]
        sa = 1 if alpha.shape[0] > 1 else 0
        sm = 1 if inv_m.shape[0] > 1 else 0
        sg = 1 if gamma.shape[0] > 1 else 0
        for c in prange(bounds.shape[0] - 1):
            fs = fsrc[c]
            for b in range(B):
                for j in range(fs.shape[1]):
                    fs[b, j] = 0.0
            for b in range(B):
                xb, gb, fb = x[b], g[b], fs[b]
                wl, pb, dwb, dpb = Wl[b], Pl[b], dWl[b], dPl[b]
                for i in range(bounds[c], bounds[c + 1]):
                    xi, gi = xb[i], gb[i]
                    acc = 0.0
                    for e in range(crow[i], crow[i + 1]):
                        j = src[e]
                        lp = lpos[e]
                        if lp < 0:
                            fb[j] += W0[e] * gi
                            continue
                        xj, w, p = xb[j], wl[lp], pb[lp]
                        ap = alpha[lp * sa] * p
                        gm = gamma[lp * sg]
                        dwb[lp] = p * inv_m[lp * sm] + alpha[lp * sa] * xi * xj - gm * w
                        dpb[lp] = gm * p - gi * xj
                        fb[j] += w * gi + ap * xi
                        acc += ap * xj
                    ftgt[b, i] = acc


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def field(crow, src, W, x, bounds, out) -> torch.Tensor:
    """ν = W x into ``out`` (B, N). Shapes as in the module docstring."""
    _field(_np(crow), _np(src), _np(W), _np(x), bounds, _np(out))
    return out


def hebbian(crow, src, W, P, x, g, alpha, inv_m, gamma, bounds, dW, dP, fsrc, ftgt) -> torch.Tensor:
    """Pass 2 with learning (``P`` not None: Ẇ, Ṗ written into ``dW``, ``dP`` (B, E)) or without.
    Returns force (B, N) = Σ_chunks fsrc + ftgt."""
    learn = P is not None
    dummy = np.zeros((1, 1), dtype=_np(x).dtype)
    _hebbian(_np(crow), _np(src), _np(W), _np(P) if learn else dummy, _np(x), _np(g),
             _np(alpha), _np(inv_m), _np(gamma), bounds, learn,
             _np(dW) if learn else dummy, _np(dP) if learn else dummy, _np(fsrc), _np(ftgt))
    return fsrc.sum(0).add_(ftgt)


def field_mixed(crow, src, lpos, W0, W_l, x, bounds, out) -> torch.Tensor:
    """ν = W x into ``out`` (B, N), W_e = W_l[lpos_e] or W0_e (partly learnable)."""
    _field_mixed(_np(crow), _np(src), _np(lpos), _np(W0), _np(W_l), _np(x), bounds, _np(out))
    return out


def hebbian_mixed(crow, src, lpos, W0, W_l, P_l, x, g, alpha, inv_m, gamma, bounds, dW_l, dP_l,
                  fsrc, ftgt) -> torch.Tensor:
    """Pass 2 of a partly learnable network: Ẇ, Ṗ of the learnable edges into ``dW_l``, ``dP_l``
    (B, E_l); returns force (B, N) = Σ_chunks fsrc + ftgt."""
    _hebbian_mixed(_np(crow), _np(src), _np(lpos), _np(W0), _np(W_l), _np(P_l), _np(x), _np(g),
                   _np(alpha), _np(inv_m), _np(gamma), bounds, _np(dW_l), _np(dP_l), _np(fsrc),
                   _np(ftgt))
    return fsrc.sum(0).add_(ftgt)
