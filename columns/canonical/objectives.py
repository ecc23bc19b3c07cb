"""The canonical network's cost L, the POMDP's variational free energy F, rates and plasticity.

With sig = logistic, x̄ = 1 − x, x′ = x_{τ−1} (x_0 given), g_τ = 1 − 2Γ_τ (docs/theory.md §7):

    L = Σ_τ (x; x̄)ᵀ [ln(x; x̄) − (W1; W0) o − (K1; K0) x′ − (h1; h0)]
      + Σ_τ (y; ȳ)ᵀ [ln(y; ȳ) − g_τ {(V1; V0) x′ + (ln(1 − V̂1)·1; ln(1 − V̂0)·1)} − (ψ1; ψ0)]

    F = Σ_τ Σ_{b=1,0} s_b ·[ln s_b − ln A_b·(o; ō) − ln B†_b·(x′; x̄′) − ln D_b]
      + Σ_τ Σ_{b=1,0} δ_b ·[ln δ_b − g_τ ln C†_b·(x′; x̄′) − ln E_b]      (s_1 = x, s_0 = x̄, δ_1 = y)

with ln A_b·(o; ō) = Σ_i [o_i E ln P(o_i = 1 | s = b) + ō_i E ln P(o_i = 0 | s = b)], E ln P the log
of the Dirichlet mean (``expectation="mean"``: then L = F exactly) or ψ(a) − ψ(a + b)
(``"digamma"``: F − L = O(1/count)).

Rates: dx_τ/dt ∝ f = −sig⁻¹(x_τ) + W o_τ + K x′ + h = −∂L/∂x_τ (x_τ the newest state), fixed
point x_τ = sig(W o_τ + K x′ + h); outputs y_τ = sig(V x′ + m).
Plasticity = −∂L/∂synapses (sums over τ):
    dW1 ∝ Σ x oᵀ − (Σ x 1ᵀ) ⊙ Ŵ1,   dW0 ∝ Σ x̄ oᵀ − (Σ x̄ 1ᵀ) ⊙ Ŵ0,   K alike with x′,
    dV1 ∝ Σ g [y x′ᵀ − (y 1ᵀ) ⊙ V̂1],  dV0 ∝ Σ g [ȳ x′ᵀ − (ȳ 1ᵀ) ⊙ V̂0]
whose fixed points are the Dirichlet means of prior + accumulated counts (``counts_increment``).

Shapes: o (..., T, No), x (..., T, Nx), y (..., T, Ny), gamma (..., T), x0 (..., Nx); L, F (...).
"""

from __future__ import annotations

import torch
from torch.special import xlogy

from .params import BayesPOMDP, CanonicalNetwork, log1m_sig


def _previous(x: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
    return torch.cat([x0.unsqueeze(-2), x[..., :-1, :]], dim=-2)


def _entropy_terms(p: torch.Tensor) -> torch.Tensor:
    return xlogy(p, p) + xlogy(1 - p, 1 - p)


def cost(net: CanonicalNetwork, o, x, y, gamma, x0) -> torch.Tensor:
    """L (see the docstring of module ``columns.canonical.objectives``).

    Returns:
        L per batch member, a tensor of the batch shape (a scalar without batch dimensions).
    """
    xp = _previous(x, x0)
    h1 = log1m_sig(net.W1).sum(-1) + log1m_sig(net.K1).sum(-1) + net.phi1
    h0 = log1m_sig(net.W0).sum(-1) + log1m_sig(net.K0).sum(-1) + net.phi0
    u1 = o @ net.W1.mT + xp @ net.K1.mT + h1
    u0 = o @ net.W0.mT + xp @ net.K0.mT + h0
    g = (1 - 2 * gamma).unsqueeze(-1)
    v1 = g * (xp @ net.V1.mT + log1m_sig(net.V1).sum(-1)) + net.psi1
    v0 = g * (xp @ net.V0.mT + log1m_sig(net.V0).sum(-1)) + net.psi0
    Lx = _entropy_terms(x) - x * u1 - (1 - x) * u0
    Ly = _entropy_terms(y) - y * v1 - (1 - y) * v0
    return Lx.sum((-1, -2)) + Ly.sum((-1, -2))


def _log_probs(c: torch.Tensor, b: int, expectation: str):
    """(E ln P(first = 1 | second = b), E ln P(first = 0 | second = b)) from counts c (2, 2, n, m)."""
    tot = c[1, b] + c[0, b]
    if expectation == "mean":
        return torch.log(c[1, b] / tot), torch.log(c[0, b] / tot)
    if expectation == "digamma":
        return torch.digamma(c[1, b]) - torch.digamma(tot), torch.digamma(c[0, b]) - torch.digamma(tot)
    raise ValueError(f"expectation must be 'mean' or 'digamma', got {expectation!r}")


def _message(c, b, v, expectation):
    """ln P_b · (v; v̄) = Σ_i [v_i E ln P(1|b) + v̄_i E ln P(0|b)]. v (..., T, m) -> (..., T, n)."""
    l1, l0 = _log_probs(c, b, expectation)
    return v @ l1.mT + (1 - v) @ l0.mT


def free_energy(bayes: BayesPOMDP, o, x, y, gamma, x0, expectation: str = "mean") -> torch.Tensor:
    """F of the binary-factor POMDP (see the docstring of module ``columns.canonical.objectives``).

    Returns:
        F per batch member, like ``cost``.
    """
    xp = _previous(x, x0)
    g = (1 - 2 * gamma).unsqueeze(-1)
    out = 0.0
    for b, s, lnD in ((1, x, torch.log(bayes.D)), (0, 1 - x, torch.log1p(-bayes.D))):
        out = out + (s * (torch.log(s) - _message(bayes.A, b, o, expectation)
                          - _message(bayes.B, b, xp, expectation) - lnD)).sum((-1, -2))
    for b, d, lnE in ((1, y, torch.log(bayes.E)), (0, 1 - y, torch.log1p(-bayes.E))):
        out = out + (d * (torch.log(d) - g * _message(bayes.C, b, xp, expectation) - lnE)).sum((-1, -2))
    return out


def rate_rhs(net: CanonicalNetwork, o_t, x_t, x_prev) -> torch.Tensor:
    """f = −sig⁻¹(x_t) + W o_t + K x′ + h. Shapes (..., N·) -> (..., Nx).

    Returns:
        f (..., Nx).
    """
    h, _ = net.thresholds()
    return -torch.logit(x_t) + o_t @ net.W.mT + x_prev @ net.K.mT + h


def fixed_point(net: CanonicalNetwork, o_t, x_prev) -> torch.Tensor:
    """x_t = sig(W o_t + K x′ + h).

    Returns:
        x_t (..., Nx).
    """
    h, _ = net.thresholds()
    return torch.sigmoid(o_t @ net.W.mT + x_prev @ net.K.mT + h)


def output(net: CanonicalNetwork, x_prev) -> torch.Tensor:
    """y_t = sig(V x′ + m).

    Returns:
        y_t (..., Ny).
    """
    _, m = net.thresholds()
    return torch.sigmoid(x_prev @ net.V.mT + m)


def plasticity(net: CanonicalNetwork, o, x, y, gamma, x0) -> dict[str, torch.Tensor]:
    """−∂L/∂(W1, W0, K1, K0, V1, V0) in closed form (summed over τ and any batch).

    Returns:
        {"W1", "W0", "K1", "K0", "V1", "V0"}: each shaped like the matrix it changes.
    """
    xp = _previous(x, x0)
    g = (1 - 2 * gamma).unsqueeze(-1)

    def hebb(post, pre, logits):
        post2, pre2 = post.reshape(-1, post.shape[-1]), pre.reshape(-1, pre.shape[-1])
        return post2.mT @ pre2 - post2.sum(0).unsqueeze(-1) * torch.sigmoid(logits)
    return {"W1": hebb(x, o, net.W1), "W0": hebb(1 - x, o, net.W0),
            "K1": hebb(x, xp, net.K1), "K0": hebb(1 - x, xp, net.K0),
            "V1": hebb(g * y, xp, net.V1), "V0": hebb(g * (1 - y), xp, net.V0)}


def counts_increment(o, x, y, gamma, x0) -> dict[str, torch.Tensor]:
    """Accumulated counts ΔA, ΔB, ΔC (each (2, 2, n, m), indexed like ``BayesPOMDP``).

    Returns:
        {"A", "B", "C"}: the count increments.
    """
    xp = _previous(x, x0)
    g = (1 - 2 * gamma).unsqueeze(-1)

    def outer(post, pre):
        post2, pre2 = post.reshape(-1, post.shape[-1]), pre.reshape(-1, pre.shape[-1])
        return post2.mT @ pre2

    def table(post, pre):          # [a = pre value, b = post value]
        return torch.stack([torch.stack([outer(1 - post, 1 - pre), outer(post, 1 - pre)]),
                            torch.stack([outer(1 - post, pre), outer(post, pre)])])
    C = torch.stack([torch.stack([outer(g * (1 - y), 1 - xp), outer(g * y, 1 - xp)]),
                     torch.stack([outer(g * (1 - y), xp), outer(g * y, xp)])])
    return {"A": table(x, o), "B": table(x, xp), "C": C}
