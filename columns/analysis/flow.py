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

Types with a presynaptic trace (``trace_field``, e.g. "bm_trace") carry it along: the flow's
state is then z = (μ, x̄) (B, 2N), the trace with its own prior flow and fluctuations (x̄ of the
types without one stays 0), slow synapses transmitting x̄ (``columns.coupling.edges``);
``lift`` puts a μ (B, N) at rest in z (x̄ = φ(μ)), ``project`` takes μ back out.

(Not ``columns.energy.prior_flow``, which is q̇ at p = 0 for every position of a full state.)

Shapes: y_ref (S,) or (Bw, S) with Bw = 1 or B (one reference state per batch member);
z (B, D) -> ż (B, D), D = N, or 2N with traces.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import threads
from ..types.hamiltonian import HamiltonianColumn
from ..types.map import MapColumn


DENSE_MAX = 1024
"""Up to this many columns the frozen couplings are held dense: a batched GEMM per step costs less
than the gather and scatter over the edges (the flow runs thousands of steps)."""


def _edge_mask(network, within_regions: bool) -> torch.Tensor:
    cp = network.coupling
    if not within_regions:
        return torch.ones(cp.n_edges, dtype=torch.bool, device=network.device)
    reg = np.asarray([str(r) for r in cp.regions])
    same = reg[cp.src.cpu().numpy()] == reg[cp.tgt.cpu().numpy()]
    return torch.as_tensor(same, device=network.device)


class ExpectationFlow(torch.nn.Module):
    """The expectation flow of ``network`` at ``y_ref`` (module ``columns.analysis.flow``). Final
    class.

    Attributes: kind ("flow" for Hamiltonian types, "map" for map types), field (the expectation
    field's name), traced (whether z carries traces), dim (D), noise_scale (D,) (flows only;
    None for maps).
    ``flow(t, z)`` is ż (a system for ``columns.solvers``); ``increment(z, u)`` is ż, or the
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
        cp = network.coupling
        self._dense = None                       # small networks: the frozen W as dense matrices
        if cp.n_edges and cp.n_nodes <= DENSE_MAX:
            slow = cp.slow.to(self._W.dtype)
            self._dense = (cp.to_dense(self._W * (1 - slow)),
                           cp.to_dense(self._W * slow) if bool(cp.slow.any()) else None)
        self._traces = {name: getattr(c, "trace_field", None) for name, c in cols.items()}
        self.traced = kind == "flow" and any(self._traces.values())
        N = network.n_nodes
        self.dim = 2 * N if self.traced else N
        if kind == "map":
            self.noise_scale = None
        else:
            m = [c.masses()[self.field].to(network.real_dtype).expand(c.n) for c in cols.values()]
            if self.traced:
                m += [c.masses()[self._traces[name]].to(network.real_dtype).expand(c.n)
                      if self._traces[name] else torch.ones(c.n, dtype=network.real_dtype,
                                                             device=network.device)
                      for name, c in cols.items()]
            self.noise_scale = torch.cat(m).rsqrt()

    def lift(self, mu: torch.Tensor) -> torch.Tensor:
        """z at rest for expectations μ (B, N): (μ, φ(μ)) with traces, else μ itself.

        Returns:
            z (B, D).
        """
        if not self.traced:
            return mu
        net = self.network
        x = net.send({name: {**{f: v.expand(mu.shape[0], -1) for f, v in part.items()},
                             self._fields[name]: mu_k}
                      for name, _, part, mu_k in net.by_type(self._parts, mu)})
        keep = torch.cat([torch.full((c.n,), bool(self._traces[name]), device=mu.device)
                          for name, c in net.columns.items()])
        return torch.cat([mu, torch.where(keep, x, torch.zeros_like(x))], -1)

    def project(self, z: torch.Tensor) -> torch.Tensor:
        """μ (…, N) out of z (…, D).

        Returns:
            μ (…, N).
        """
        return z[..., :self.network.n_nodes]

    def forward(self, t, z: torch.Tensor) -> torch.Tensor:
        """ż (B, D) at z (B, D); t is not used (the flow is autonomous).

        Returns:
            ż (B, D).
        """
        return self.increment(z)

    def increment(self, z: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """ż, or for maps g(σ; u) − σ. Shapes: z (B, D), u (B, N) -> (B, D).

        Returns:
            The increment (B, D).
        """
        threads.sync()                           # a changed thread count applies here
        net, cp = self.network, self.network.coupling
        B, N = z.shape[0], net.n_nodes
        mu = z[:, :N]
        xb = z[:, N:] if self.traced else mu
        p = {}
        for name, _, part, mu_k, xb_k in net.by_type(self._parts, mu, xb):
            p[name] = {**{f: v.expand(B, -1) for f, v in part.items()}, self._fields[name]: mu_k}
            if self.traced and self._traces[name]:
                p[name][self._traces[name]] = xb_k
        x = net.send(p)
        if self._dense is not None:              # one batched GEMM (two with slow synapses)
            fast, slow = self._dense
            nu = cp.forward_product(fast, x)
            if slow is not None:
                nu = nu + cp.forward_product(slow, net.trace_signal(p))
        elif cp.n_edges:
            a, _ = net.edge_signals(p, x)
            a = cp.gather_source(x) if a is None else a                     # (B, E) arriving
            nu = cp.sum_by_target(self._W * a)
        else:
            nu = torch.zeros_like(x)
        out, out_trace = [], []
        us = () if u is None else (u,)
        for name, c, part, nu_k, mu_k, *u_k in net.by_type(p, nu, mu, *us):
            zero = torch.zeros_like(nu_k)
            if self.kind == "map":
                out.append(c.step(part, nu_k, zero, u_k[0] if us else None)[self._fields[name]]
                           - mu_k)
                continue
            F = c.flows(part, nu_k, zero)
            out.append(F[self._fields[name]])
            if self.traced:
                out_trace.append(F[self._traces[name]] if self._traces[name] else zero)
        return torch.cat(out + out_trace, -1)


def expectation_flow(network, y_ref: torch.Tensor, within_regions: bool = True) -> ExpectationFlow:
    """The expectation flow of ``network`` with the other fields and W from ``y_ref`` (module
    ``columns.analysis.flow``).

    Returns:
        An ``ExpectationFlow`` (a module: call it as ``flow(t, z)``).

    Raises:
        TypeError: the column types are neither all Hamiltonian nor all maps, or their expectation
            fields differ.
    """
    return ExpectationFlow(network, y_ref, within_regions)
