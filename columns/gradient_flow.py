"""``gradient``: the predictive-coding baseline [B17] (spec §3).

    q̇ = −κ ∇_q U(q; s(t)),      U = ½ Fᵀ M F + ½ Σ_i m_z,i (s_i − g_i)²

a gradient flow on the static free energy (no kinetic term, no momenta): stable, it converges to
a minimum of U, the MAP estimate. The recorded momenta are those of a state at rest, p = −M F(q)
(the precision-weighted prediction errors of the rates, zero at a fixed point of F). Integrated
with torchdiffeq (``method``, default dopri5) over the positions only; ∇U by autograd (O(N + E)).

Shapes: y (B, S); ts (K,) -> (K, B, S).
"""

from __future__ import annotations

import torch


class _GradientField(torch.nn.Module):
    def __init__(self, network, y_ref, kappa):
        super().__init__()
        self.network, self.y_ref, self.kappa = network, y_ref, kappa
        self.pos = network.canonical_pairs()[0]

    def forward(self, t, q):
        with torch.enable_grad():
            x = q.detach().requires_grad_(True)
            y = self.y_ref.index_copy(1, self.pos, x)
            U = self.network.static_energy(t, y).sum()
            g = torch.autograd.grad(U, x)[0]
        return -self.kappa * g


def advance(network, y: torch.Tensor, ts: torch.Tensor, *, kappa: float = 1.0,
            method: str = "dopri5", rtol: float = 1e-7, atol: float = 1e-9,
            step_size: float | None = None, options: dict | None = None, **_) -> torch.Tensor:
    """Integrate the gradient flow over ``ts``; return full states with p = −M F(q)."""
    from torchdiffeq import odeint
    pos, mom = network.canonical_pairs()
    y_ref = y.detach().index_fill(1, mom, 0.0)
    opts = dict(options or {})
    if step_size is not None:
        opts.setdefault("step_size", step_size)
    q = odeint(_GradientField(network, y_ref, kappa), y[:, pos].detach(), ts, method=method,
               rtol=rtol, atol=atol, options=opts or None)               # (K, B, n)
    K, B, n = q.shape
    full = y_ref.unsqueeze(0).expand(K, -1, -1).clone()
    full[..., pos] = q
    for k in range(K):     # momenta at rest, one call per output time (s(t_k) differs)
        full[k] = network.momenta_at_rest(ts[k], full[k])
    return full
