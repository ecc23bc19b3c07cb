"""Reverse engineering: the cost from the rate equation, the implicit priors from thresholds.

Because the rate equation is f = −∂L/∂x_τ, the cost follows from the network's dynamics alone by a
line integral (Gauss–Legendre in u ∈ [0, 1], exact to quadrature error):

    L(x) − L(x_ref) = −∫₀¹ f(x_ref + u (x − x_ref)) · (x − x_ref) du

and the thresholds, read from recorded activity at the fixed points x_τ = sig(W o_τ + K x′ + h),

    h = sig⁻¹(x_τ) − W o_τ − K x′          (averaged over τ)

give the priors: φ1 − φ0 = h − [ln(1 − Ŵ1)·1 + ln(1 − K̂1)·1 − ln(1 − Ŵ0)·1 − ln(1 − K̂0)·1] and
D = sig(φ1 − φ0) (a normalised binary prior: e^{φ1} + e^{φ0} = 1). E from m alike.

Shapes: x (..., Nx); o (T, No), x (T, Nx), x_prev (T, Nx); h, D (Nx,).
"""

from __future__ import annotations

import numpy as np
import torch

from .params import CanonicalNetwork, log1m_sig


def cost_from_rates(rhs, x: torch.Tensor, x_ref: torch.Tensor | float = 0.5,
                    nodes: int = 64) -> torch.Tensor:
    """L(x) − L(x_ref) from a rate function ``rhs(x) -> f`` (same shape as x), summed over the last
    dim.

    Returns:
        L(x) − L(x_ref), shaped like x without its last dimension.
    """
    u, w = np.polynomial.legendre.leggauss(nodes)
    u = torch.as_tensor((u + 1) / 2, dtype=x.dtype, device=x.device)
    w = torch.as_tensor(w / 2, dtype=x.dtype, device=x.device)
    x_ref = torch.as_tensor(x_ref, dtype=x.dtype, device=x.device).expand_as(x)
    dx = x - x_ref
    path = x_ref.unsqueeze(0) + u.view(-1, *([1] * x.dim())) * dx.unsqueeze(0)
    f = rhs(path)                                                     # (nodes, ..., Nx)
    return -(w.view(-1, *([1] * x.dim())) * f * dx.unsqueeze(0)).sum(0).sum(-1)


def estimate_thresholds(o: torch.Tensor, x: torch.Tensor, x_prev: torch.Tensor, W: torch.Tensor,
                        K: torch.Tensor) -> torch.Tensor:
    """h = mean_τ [sig⁻¹(x_τ) − W o_τ − K x′_τ] (exact when x_τ are fixed points).

    Returns:
        h (Nx,).
    """
    return (torch.logit(x) - o @ W.mT - x_prev @ K.mT).mean(0)


def priors_from_thresholds(h: torch.Tensor, net: CanonicalNetwork) -> torch.Tensor:
    """The state prior D = sig(φ1 − φ0) implied by threshold h and the synapses of ``net``.

    Returns:
        D (Nx,), each in (0, 1).
    """
    struct = (log1m_sig(net.W1).sum(-1) + log1m_sig(net.K1).sum(-1)
              - log1m_sig(net.W0).sum(-1) - log1m_sig(net.K0).sum(-1))
    return torch.sigmoid(h - struct)
