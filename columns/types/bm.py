"""The network Bayesian-mechanics column (docs/theory.md §4).

Positions (μ, w), momenta (p_μ, p_w). Coupled through ν_i = Σ_{e: j→i} W_e φ(μ_j) (φ = tanh by
default), which enters the Hopfield-type prior flow; incoming weights W_e learn when their edges
are learnable (their Hamiltonian is ``columns.HebbianPlasticity``). With e_i = s_i − g_i:

    f_i = −γ_μ (μ_i − μ_d) + ν_i,      g_i = θ₀ + w_i μ_i,      h_i = α s_i μ_i − γ_w w_i
    H_i = ½ p_μi²/m_μ + ½ p_wi²/m_w + p_μi f_i + p_wi h_i − ½ m_z e_i²

    μ̇_i = p_μi/m_μ + f_i              ṗ_μi = γ_μ p_μi − α s_i p_wi − m_z e_i w_i   (+ coupling terms)
    ẇ_i = p_wi/m_w + h_i              ṗ_wi = γ_w p_wi − m_z e_i μ_i

The coupling terms of ṗ_μj, −φ′(μ_j) [Σ_{e: j→i} W_e p_μi + Σ_e P_We ∂h_e/∂φ_j], are added by the
network (one transposed sparse product); ∂H_i/∂ν_i = p_μi is what this column returns for it.

Parameters (defaults): m_mu = m_w = 1, m_z = 4 (> 0), gamma_mu = 1, mu_d = 0.2, alpha = 0.5,
gamma_w = 0.5, theta0 = 0. Option ``rate``: "tanh" | "linear".
"""

from __future__ import annotations

import torch

from graphs import autodiff

from . import bm_kernel
from .registry import register
from .hamiltonian import HamiltonianColumn


@register
class NetworkBMColumn(HamiltonianColumn):
    """BM column for networks with learned couplings; closed-form equations. Final class."""

    type_name = "bm"
    positions = ("mu", "w")
    mass_params = {"mu": "m_mu", "w": "m_w"}
    param_defaults = {"m_mu": 1.0, "m_w": 1.0, "m_z": 4.0, "gamma_mu": 1.0, "mu_d": 0.2,
                      "alpha": 0.5, "gamma_w": 0.5, "theta0": 0.0}
    positive_params = ("m_mu", "m_w", "m_z")

    def __init__(self, n: int = 1, rate: str = "tanh", **params):
        super().__init__(n, rate=rate, **params)

    def initial_values(self):
        return {"mu": 0.0, "w": 0.5, "p_mu": 0.0, "p_w": 0.0}

    def flows(self, q, nu, s):
        return {"mu": -self.gamma_mu * (q["mu"] - self.mu_d) + nu,
                "w": self.alpha * s * q["mu"] - self.gamma_w * q["w"]}

    def prediction(self, q):
        return self.theta0 + q["w"] * q["mu"]

    def coupling_gradient(self, state):
        """∂H/∂ν = p_μ (the prior flow of μ is linear in ν with coefficient 1).

        Returns:
            p_μ (B, n).
        """
        return state["p_mu"]

    def fused_rhs(self, state, x, nu, s, force, out):
        """The four derivatives and −φ′ F in one compiled loop (``columns.types.bm_kernel``), on
        the CPU in float32/float64 without autograd.

        Returns:
            True when it wrote ``out``; False where the kernel does not apply.
        """
        mu = state["mu"]
        if not (bm_kernel.AVAILABLE and mu.device.type == "cpu"
                and mu.dtype in (torch.float32, torch.float64) and not torch.is_grad_enabled()
                and not any(autodiff.has_tangent(v) for v in (*state.values(), x, nu, s, force))):
            return False
        bm_kernel.bm_rhs(self, state, x, nu, s, force, out)
        return True

    def rhs(self, state, nu, s):
        mu, w, p_mu, p_w = state["mu"], state["w"], state["p_mu"], state["p_w"]
        mze = self.m_z * (s - self.theta0 - w * mu)
        out = {
            "mu": p_mu / self.m_mu - self.gamma_mu * (mu - self.mu_d) + nu,
            "w": p_w / self.m_w + self.alpha * s * mu - self.gamma_w * w,
            "p_mu": self.gamma_mu * p_mu - self.alpha * s * p_w - mze * w,
            "p_w": self.gamma_w * p_w - mze * mu,
        }
        return out, p_mu
