"""The CPU node kernel of the network Bayesian-mechanics column (``columns.types.bm``): its four
derivatives and the coupling's term of ṗ_μ in one loop over the columns, written straight into
the caller's output (numba; no temporaries).

With x = φ(μ) (tanh, or the identity for ``rate="linear"``), φ′ its derivative, e = s − θ₀ − w μ
and F the network's force on the sent rates (Wᵀ p_μ + ∂H_edges/∂x, ``columns.coupling``):

    μ̇ = p_μ/m_μ − γ_μ (μ − μ_d) + ν          ṗ_μ = γ_μ p_μ − α s p_w − m_z e w − φ′ F
    ẇ = p_w/m_w + α s μ − γ_w w                ṗ_w = γ_w p_w − m_z e μ

the same expressions, in the same order, as ``NetworkBMColumn.rhs`` followed by the network's
``_send_back`` (equal to round-off, tested).

Shapes: fields, x, ν, s, F (B, n); each parameter () or (n,) (passed as (1,) or (n,)).
"""

from __future__ import annotations

import numpy as np
import torch

try:
    from numba import njit, prange
    AVAILABLE = True
except ImportError:            # the column's torch rhs runs instead
    AVAILABLE = False

PARAMS = ("m_mu", "m_w", "m_z", "gamma_mu", "mu_d", "alpha", "gamma_w", "theta0")
BLOCK = 4096                   # columns per parallel task


if AVAILABLE:
    @njit(inline="always")
    def _point(b, i, mu, w, pmu, pw, x, nu, s, force, tanh, m_mu, m_w, m_z, g_mu, mu_d, alpha,
               g_w, th0, dmu, dw, dpmu, dpw):                          # pragma: no cover
        """The four derivatives of column i, batch member b (the equations above)."""
        m, ww, p, q, si = mu[b, i], w[b, i], pmu[b, i], pw[b, i], s[b, i]
        xv = x[b, i]
        dphi = 1.0 - xv * xv if tanh else 1.0          # φ′ = 1 − tanh² from the sent x
        mze = m_z * (si - th0 - ww * m)
        dmu[b, i] = p / m_mu - g_mu * (m - mu_d) + nu[b, i]
        dw[b, i] = q / m_w + alpha * si * m - g_w * ww
        dpmu[b, i] = (g_mu * p - alpha * si * q - mze * ww) - dphi * force[b, i]
        dpw[b, i] = g_w * q - mze * m

    @njit(parallel=True, cache=True, nogil=True)
    def _bm(mu, w, pmu, pw, x, nu, s, force, prm, tanh, dmu, dw, dpmu, dpw):  # pragma: no cover
        B, n = mu.shape
        st = np.empty(8, dtype=np.int64)
        for k in range(8):
            st[k] = 1 if prm[k].shape[0] > 1 else 0
        uniform = st.sum() == 0
        blocks = (n + BLOCK - 1) // BLOCK
        for c in prange(blocks):
            lo, hi = c * BLOCK, min(n, (c + 1) * BLOCK)
            for b in range(B):
                if uniform:                              # constants: the loop vectorises
                    m_mu, m_w, m_z, g_mu = prm[0][0], prm[1][0], prm[2][0], prm[3][0]
                    mu_d, alpha, g_w, th0 = prm[4][0], prm[5][0], prm[6][0], prm[7][0]
                    for i in range(lo, hi):
                        _point(b, i, mu, w, pmu, pw, x, nu, s, force, tanh, m_mu, m_w, m_z,
                               g_mu, mu_d, alpha, g_w, th0, dmu, dw, dpmu, dpw)
                else:
                    for i in range(lo, hi):
                        m_mu, m_w, m_z = prm[0][i * st[0]], prm[1][i * st[1]], prm[2][i * st[2]]
                        g_mu, mu_d = prm[3][i * st[3]], prm[4][i * st[4]]
                        alpha, g_w, th0 = prm[5][i * st[5]], prm[6][i * st[6]], prm[7][i * st[7]]
                        _point(b, i, mu, w, pmu, pw, x, nu, s, force, tanh, m_mu, m_w, m_z,
                               g_mu, mu_d, alpha, g_w, th0, dmu, dw, dpmu, dpw)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def bm_rhs(col, state: dict, x: torch.Tensor, nu: torch.Tensor, s: torch.Tensor,
           force: torch.Tensor, out: dict) -> None:
    """Write μ̇, ẇ, ṗ_μ (with −φ′ F) and ṗ_w of ``col`` (a ``NetworkBMColumn``) into the views
    ``out[field]`` (B, n); ``x`` = φ(μ), the signal the column sent this call."""
    dtype = state["mu"].dtype
    prm = tuple(_np(getattr(col, k).to(dtype).reshape(-1)) for k in PARAMS)
    _bm(_np(state["mu"]), _np(state["w"]), _np(state["p_mu"]), _np(state["p_w"]), _np(x), _np(nu),
        _np(s), _np(force), prm, col.rate == "tanh", _np(out["mu"]), _np(out["w"]),
        _np(out["p_mu"]), _np(out["p_w"]))
