"""The expectation flow: a network's own dynamics of its expectations with everything else frozen,
the system the attractor search relaxes and the replay runs freely.

For Hamiltonian column types it is the prior flow of the expectation field μ (each type's first
position) at p = 0 and s = 0, with the other positions (w) and the couplings W held at a
reference state y_ref:

    μ̇ = F_μ(q; ν, s = 0),     ν_i = Σ_{e: j→i} W_e x_j(q)     (``Coupling.sum_by_target``)

over every edge, or only the edges within a region (``within_regions``: each region's own flow).
Map types (``MapColumn``, e.g. "fep") give their map at s = 0 as an increment, g(σ; u) − σ, so
that an Euler step of 1 is the map (deterministic for u = None, the stochastic map for uniforms
u). ``noise_scale`` is m_μ^(−1/2) per column (the model's own fluctuations of μ, for the SDE
dμ = f dt + T m_μ^(−1/2) dW of ``columns.solvers.EulerMaruyama``).

(Not ``columns.energy.prior_flow``, which is q̇ at p = 0 for every position of a full state.)

Shapes: y_ref (S,) or (Bw, S) with Bw = 1 or B (one reference state per batch member);
μ (B, N) -> μ̇ (B, N).
"""

from __future__ import annotations

import numpy as np
import torch

from .. import threads
from ..types.hamiltonian import HamiltonianColumn
from ..types.map import MapColumn


def _edge_mask(network, within_regions: bool) -> torch.Tensor:
    cp = network.coupling
    if not within_regions:
        return torch.ones(cp.n_edges, dtype=torch.bool, device=network.device)
    reg = np.asarray([str(r) for r in cp.regions])
    same = reg[cp.src.cpu().numpy()] == reg[cp.tgt.cpu().numpy()]
    return torch.as_tensor(same, device=network.device)


class ExpectationFlow(torch.nn.Module):
    """The expectation flow of ``network`` at ``y_ref`` (module docstring). Final class.

    Attributes: kind ("flow" for Hamiltonian types, "map" for map types), field (the expectation
    field's name), noise_scale (N,) (flows only; None for maps).
    ``flow(t, μ)`` is μ̇ (a system for ``columns.solvers``); ``increment(μ, u)`` is μ̇, or the
    map's g(σ; u) − σ.
    """

    def __init__(self, network, y_ref: torch.Tensor, within_regions: bool = True):
        super().__init__()
        cols = network.columns
        if all(isinstance(c, HamiltonianColumn) for c in cols.values()):
            kind, field = "flow", {name: c.positions[0] for name, c in cols.items()}
        elif all(isinstance(c, MapColumn) for c in cols.values()):
            kind, field = "map", {name: c.fields[0] for name, c in cols.items()}
        else:
            raise TypeError("expectation_flow: the column types must all be Hamiltonian (a prior "
                            "flow q̇ at p = 0) or all define a map; got "
                            f"{[type(c).__name__ for c in cols.values()]}")
        if len(set(field.values())) != 1:
            raise TypeError(f"expectation_flow: the types' expectation fields differ: {field}")
        y_ref = y_ref.reshape(-1, network.state_size)
        self.network, self.kind, self._fields = network, kind, field
        self.field = next(iter(field.values()))
        self._parts, W_l, _ = network.layout.split(y_ref)
        self._W = network.edge_weights(W_l) * _edge_mask(network, within_regions)   # (Bw, E)
        self.noise_scale = None if kind == "map" else torch.cat(
            [c.masses()[self.field].to(network.real_dtype).expand(c.n) for c in cols.values()]
        ).rsqrt()

    def forward(self, t, mu: torch.Tensor) -> torch.Tensor:
        """μ̇ (B, N) at μ (B, N); t is not used (the flow is autonomous)."""
        return self.increment(mu)

    def increment(self, mu: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """μ̇, or for maps g(σ; u) − σ. Shapes: μ, u (B, N) -> (B, N)."""
        threads.sync()                           # a changed thread count applies here
        net, cp = self.network, self.network.coupling
        B = mu.shape[0]
        p = {name: {**{f: v.expand(B, -1) for f, v in part.items()}, self._fields[name]: mu_k}
             for name, _, part, mu_k in net.by_type(self._parts, mu)}
        x = net.send(p)
        nu = cp.sum_by_target(self._W * cp.gather_source(x)) if cp.n_edges else torch.zeros_like(x)
        out = []
        us = () if u is None else (u,)
        for name, c, part, nu_k, mu_k, *u_k in net.by_type(p, nu, mu, *us):
            zero = torch.zeros_like(nu_k)
            out.append(c.flows(part, nu_k, zero)[self._fields[name]] if self.kind == "flow" else
                       c.step(part, nu_k, zero, u_k[0] if us else None)[self._fields[name]] - mu_k)
        return torch.cat(out, -1)


def expectation_flow(network, y_ref: torch.Tensor, within_regions: bool = True) -> ExpectationFlow:
    """The expectation flow of ``network`` with the other fields and W from ``y_ref`` (module
    docstring)."""
    return ExpectationFlow(network, y_ref, within_regions)
