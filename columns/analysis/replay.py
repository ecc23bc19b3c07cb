"""Replay: the generative model run with the input removed (spec multiregion.md, "Replay").

Hamiltonian column types run their prior flow (p = 0, s = 0, every edge of the graph, couplings
frozen at a reference state y_ref):

    deterministic   μ_{k+1} = μ_k + Δt f(μ_k)                     (explicit Euler, step ``dt``)
    fluctuations    dμ = f(μ) dt + T m_μ^(−1/2) dW                 (Itô; ``columns.solvers.EulerMaruyama``,
                                                                     Brownian motion seeded by ``seed``)

with m_μ the precision (mass) of each column's expectation and T = ``temperature`` (1: the
model's own fluctuations). Types with a presynaptic trace run it along (τ x̄̇ = φ(μ) − x̄, started
at rest, x̄ = φ(μ₀), with its own fluctuations T m_x̄^(−1/2) dW); the samples are of μ. Map types (``MapColumn``, e.g. "fep") run their map without learning:
σ ← g(σ) (deterministic) or σ ← g(σ; u) with u = counter_uniform(seed + b, step, node) (the
stochastic map, as ``solver="step"`` draws it).

Batching: y_ref (Bw, S) and starts x0 (Bw · R, N), replica r of reference state b at row
b · R + r. Returns the samples x (K, B, N) at steps 0, every, 2·every, … (K = steps // every + 1).
"""

from __future__ import annotations

import torch

from graphs.errors import ConfigError

from ..rng import counter_uniform
from ..solvers import EulerMaruyama, iterate, run
from ..types.hamiltonian import HamiltonianColumn
from .flow import expectation_flow


def replay(network, y_ref: torch.Tensor, x0: torch.Tensor, steps: int, every: int = 1,
           stochastic: bool = False, temperature: float = 1.0, dt: float = 0.05,
           seed: int = 0) -> torch.Tensor:
    """The free run from x0 (module docstring). Shapes: y_ref (S,) or (Bw, S), x0 (Bw·R, N) ->
    (steps // every + 1, Bw·R, N)."""
    if steps < 1 or every < 1:
        raise ConfigError(f"replay: steps and every must be >= 1, got {steps}, {every}")
    if not temperature >= 0:
        raise ConfigError(f"replay: temperature must be >= 0, got {temperature}")
    y_ref = y_ref.reshape(-1, network.state_size)
    B, Bw = x0.shape[0], y_ref.shape[0]
    if B % Bw:
        raise ConfigError(f"replay: {B} starts are not a multiple of {Bw} reference states")
    y_ref = y_ref.repeat_interleave(B // Bw, 0)
    flow = expectation_flow(network, y_ref, within_regions=False)
    if flow.kind == "map":                      # the map is an Euler step of 1 of g(σ; u) − σ
        seeds = seed + torch.arange(B)
        draw = (lambda k: counter_uniform(seeds, k, x0.shape[1], x0.dtype, x0.device)) \
            if stochastic else (lambda k: None)
        return iterate(flow.increment, x0, steps, every, 1.0, draw, "the map")
    if not all(isinstance(c, HamiltonianColumn) for c in network.columns.values()):
        raise ConfigError("replay: a prior flow needs Hamiltonian column types")
    z0 = flow.lift(x0)                          # with traces: (μ, x̄ = φ(μ)) at the start
    if stochastic and temperature > 0:
        K = steps // every
        ts = torch.arange(K + 1, dtype=x0.dtype, device=x0.device) * (every * dt)
        return flow.project(run(EulerMaruyama(step_size=dt, temperature=temperature,
                                              seed=int(seed)), flow, z0, ts))
    return flow.project(iterate(flow.increment, z0, steps, every, dt, lambda k: None,
                                "the deterministic prior flow"))
