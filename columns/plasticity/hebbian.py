"""Hamiltonian plasticity of learnable coupling weights (docs/theory.md §4).

Each learnable edge e: j → i has a position W_e and momentum P_We; with x = φ(μ) the sent rates:

    h_e = α_W x_i u_e − γ_W W_e                 (Hebbian growth with decay; u_e = x_j, and on a
                                                 slow synapse u_e = x̄_j − x_j: post now × pre
                                                 before minus pre now)
    H_edges = Σ_e ½ P_We²/m_W + P_We h_e
    Ẇ_e  = P_We/m_W + h_e
    Ṗ_We = γ_W P_We − (∂H/∂ν_i) a_e             (postsynaptic rate-prediction error × the arriving
                                                 signal a_e: x_j, or x̄_j on a slow synapse)
    ∂H_edges/∂x_k = Σ_{e into k} α_W P_We u_e + Σ_{e out of k} α_W P_We x_i ∂u_e/∂x_k

The network adds −φ′(μ_k) ∂H_edges/∂x_k to ṗ_μk; H_e depends on the rates through x_i x_j
only, with ∂H_e/∂(x_i x_j) = α_W P_We (the ``A`` of ``columns.plasticity.base``). Parameters
(defaults): m_W = 1 (> 0), alpha_W = 0.5, gamma_W = 0.5; each a scalar or one value per learnable
edge (E_l,). The fused CPU kernel of ``columns.coupling.kernels`` computes the same terms.
"""

from __future__ import annotations

import torch

from graphs.errors import ParameterError

from .base import EdgeTerms, Plasticity


class HebbianPlasticity(Plasticity):
    """Edge Hamiltonian for learnable couplings. Final class.

    Shapes: W, P (B, E_l); x_src, x_tgt, g_tgt (B, E_l).
    """

    param_defaults = {"m_W": 1.0, "alpha_W": 0.5, "gamma_W": 0.5}
    momenta = True

    def __init__(self, **params):
        super().__init__()
        unknown = sorted(set(params) - set(self.param_defaults))
        if unknown:
            raise ParameterError(f"HebbianPlasticity: unknown parameter(s) {unknown}; "
                                 f"known: {sorted(self.param_defaults)}")
        for name, default in self.param_defaults.items():
            t = torch.as_tensor(params.get(name, default), dtype=torch.float64)
            if t.dim() > 1 or not torch.isfinite(t).all():
                raise ParameterError(f"HebbianPlasticity: {name!r} must be a finite scalar or (E,) "
                                     f"vector, got {params.get(name)!r}")
            if name == "m_W" and (t <= 0).any():
                raise ParameterError(f"HebbianPlasticity: 'm_W' must be > 0 (a precision), got "
                                     f"{t.min().item()}")
            self.register_buffer(name, t)

    def check_edges(self, n_learnable: int) -> None:
        for name in self.param_defaults:
            t = getattr(self, name)
            if t.dim() == 1 and t.shape[0] != n_learnable:
                raise ParameterError(f"HebbianPlasticity: {name!r} has {t.shape[0]} values for "
                                     f"{n_learnable} learnable edges")

    def hamiltonian(self, W, P, u_src, x_tgt) -> torch.Tensor:
        """H_edges per edge (u_src: the learning signal u_e). Shapes: (B, E_l).

        Returns:
            H_edges (B, E_l).
        """
        return 0.5 * P * P / self.m_W + P * self.flow(W, u_src, x_tgt)

    def flow(self, W, u_src, x_tgt) -> torch.Tensor:
        """h_e = α_W x_i u_e − γ_W W_e. Shapes: (B, E_l).

        Returns:
            h_e (B, E_l).
        """
        return self.alpha_W * x_tgt * u_src - self.gamma_W * W

    def rhs(self, W, P, x_src, x_tgt, g_tgt, u_src=None):
        """(Ẇ, Ṗ) without the coupling's own −∂H/∂W term folded elsewhere: it is included here
        as −g_tgt a_e (``x_src``: the arriving signal; ``u_src``: the learning signal, default
        the same). Shapes: (B, E_l) each.

        Returns:
            (Ẇ, Ṗ), each (B, E_l).
        """
        u_src = x_src if u_src is None else u_src
        dW = P / self.m_W + self.alpha_W * x_tgt * u_src - self.gamma_W * W
        dP = self.gamma_W * P - g_tgt * x_src
        return dW, dP

    def rates(self, terms: EdgeTerms):
        """(Ẇ, Ṗ, A = α_W P) on the learnable edges. Shapes: (B, E_l) each.

        Returns:
            (Ẇ, Ṗ, A), each (B, E_l).
        """
        pick = terms.learnable
        u = None if terms.u_edges is None else pick(terms.u_src)
        dW, dP = self.rhs(terms.W_l, terms.P_l, pick(terms.x_src), pick(terms.x_tgt),
                          pick(terms.g_tgt), u)
        return dW, dP, self.alpha_W * terms.P_l

    def kernel_params(self, dtype) -> list[torch.Tensor]:
        """(α_W, 1/m_W, γ_W) as flat arrays of length E_l or 1.

        Returns:
            [α_W, 1/m_W, γ_W], 1-D tensors in ``dtype``.
        """
        return [v.to(dtype).reshape(-1).contiguous() for v in (self.alpha_W, 1.0 / self.m_W,
                                                                self.gamma_W)]
