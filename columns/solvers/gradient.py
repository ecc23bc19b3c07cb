"""``gradient``: the predictive-coding baseline [B17] (docs/theory.md §3).

    q̇ = −κ ∇_q U(q; s(t)),      U = ½ Fᵀ M F + ½ Σ_i m_z,i (s_i − g_i)²

a gradient flow on the static free energy (no kinetic term, no momenta): stable, it converges to
a minimum of U, the MAP estimate. The recorded momenta are those of a state at rest, p = −M F(q)
(the precision-weighted prediction errors of the rates, zero at a fixed point of F). Integrated
with torchdiffeq over the positions only; ∇U by autograd (O(N + E)).

Options (``Gradient(...)``): kappa (1), method ("dopri5"), rtol, atol, step_size, options (as
``IVP``). No carry.

Shapes: y (B, S); ts (K,) -> (K, B, S).
"""

from __future__ import annotations

import torch

from graphs.errors import SolverError

from .. import energy
from . import options
from .base import Solver, options_dataclass
from .ivp import METHODS


class _GradientField(torch.nn.Module):
    def __init__(self, network, y_ref, kappa):
        super().__init__()
        self.network, self.y_ref, self.kappa = network, y_ref, kappa
        self.pos = energy.canonical_pairs(network)[0]

    def forward(self, t, q):
        with torch.enable_grad():
            x = q.detach().requires_grad_(True)
            y = self.y_ref.index_copy(1, self.pos, x)
            U = energy.static_energy(self.network, t, y).sum()
            g = torch.autograd.grad(U, x)[0]
        return -self.kappa * g


@options_dataclass
class Gradient(Solver):
    """Predictive coding: the gradient flow on U (module ``columns.solvers.gradient``). Final
    class."""

    name = "gradient"
    kappa: float = 1.0
    method: str = "dopri5"
    rtol: float = 1e-7
    atol: float = 1e-9
    step_size: float | None = None
    options: dict | None = None

    def validate(self):
        if self.method not in METHODS or self.method == "implicit_midpoint":
            raise SolverError(f"gradient: unknown torchdiffeq method {self.method!r}")
        options.number(self, "kappa")                 # κ ≤ 0 would climb U or stand still
        options.tolerances(self)

    def describe(self):
        return f"gradient:{self.method}"

    def advance(self, network, y, grid, k0, k1, carry):
        """Integrate the gradient flow over grid[k0..k1]; full states with p = −M F(q).

        Returns:
            (states (K, B, S) on grid[k0..k1], the carry).
        """
        from torchdiffeq import odeint
        ts = grid[k0:k1 + 1]
        pos, mom = energy.canonical_pairs(network)
        y_ref = y.detach().index_fill(1, mom, 0.0)
        opts = dict(self.options or {})
        if self.step_size is not None:
            opts.setdefault("step_size", self.step_size)
        q = odeint(_GradientField(network, y_ref, self.kappa), y[:, pos].detach(), ts,
                   method=self.method, rtol=self.rtol, atol=self.atol, options=opts or None)
        K = q.shape[0]                                                    # (K, B, n)
        full = y_ref.unsqueeze(0).expand(K, -1, -1).clone()
        full[..., pos] = q
        for k in range(K):     # momenta at rest, one call per output time (s(t_k) differs)
            full[k] = energy.momenta_at_rest(network, ts[k], full[k])
        return full, carry
