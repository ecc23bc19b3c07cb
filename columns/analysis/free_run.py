"""Replay: the generative model run with the input removed (docs/main-study.md, "Replay").

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

from graphs.errors import ConfigError, DeviceError, StateError
from graphs.values import is_integer, is_number

from ..rng import counter_uniform
from ..solvers import EulerMaruyama, iterate, run
from ..types.hamiltonian import HamiltonianColumn
from .flow import expectation_flow


def _shape(x) -> str:
    return f"shape {tuple(x.shape)}" if torch.is_tensor(x) else type(x).__name__


def replay(network, y_ref: torch.Tensor, x0: torch.Tensor, steps: int, every: int = 1,
           stochastic: bool = False, temperature: float = 1.0, dt: float = 0.05,
           seed: int = 0) -> torch.Tensor:
    """Run the network's generative model with the input removed, from the starts ``x0``.

    Hamiltonian column types follow their prior flow (momenta 0, stimulus 0, couplings frozen at
    ``y_ref``), deterministically by explicit Euler or, with ``stochastic``, with their own
    fluctuations dμ = f(μ) dt + T m_μ^(−1/2) dW; map types (FEP) run their map without learning,
    stochastic or deterministic (the module's docstring has the equations).

    Args:
        network: a ``columns.Network``.
        y_ref: the reference states whose couplings the replay uses, (S,) or (Bw, S).
        x0: the starts, one value per column: (Bw · R, N), replica r of reference b at row
            b · R + r.
        steps: steps to run (≥ 1). every: keep every ``every``-th step (≥ 1).
        stochastic: add the model's own fluctuations (False: deterministic).
        temperature: T, the scale of the fluctuations (1: the model's own; ≥ 0).
        dt: the Euler step of a continuous flow (> 0; maps take one map step per step).
        seed: seeds the Brownian motion or the map's uniforms (replica b draws from seed + b).

    Returns:
        The samples of μ (or σ for maps) at steps 0, every, 2·every, …: a tensor
        (steps // every + 1, Bw · R, N).

    Raises:
        ConfigError: steps, every, temperature, dt or seed out of range, or starts that are not
            a multiple of the reference states.
        StateError: x0 or y_ref of the wrong shape, or with NaN/inf entries.
        DeviceError: x0 or y_ref on another device than the network.
    """
    for key, v in (("steps", steps), ("every", every)):
        if not is_integer(v, 1):
            raise ConfigError(f"replay: {key} must be an integer >= 1, got {v!r}")
    if not is_number(temperature, 0.0):
        raise ConfigError(f"replay: temperature must be a finite number >= 0, got {temperature!r}")
    if not is_number(dt, 0.0, strict=True):
        raise ConfigError(f"replay: dt must be a finite number > 0, got {dt!r}")
    if not is_integer(seed, 0):
        raise ConfigError(f"replay: seed must be an integer >= 0, got {seed!r}")
    if not torch.is_tensor(x0) or x0.dim() != 2 or x0.shape[1] != network.n_nodes:
        raise StateError(f"replay: x0 must be the starts, a tensor (B, {network.n_nodes}) (one "
                         f"value per column), got {_shape(x0)}")
    if not torch.is_tensor(y_ref) or y_ref.numel() % network.state_size or not y_ref.numel():
        raise StateError(f"replay: y_ref must be reference states (S,) or (Bw, S) with S = "
                         f"{network.state_size}, got {_shape(y_ref)}")
    for name, t in (("x0", x0), ("y_ref", y_ref)):
        if t.device != network.device:
            raise DeviceError(f"replay: {name} is on {t.device}, the network on {network.device}: "
                              f"move it with .to({str(network.device)!r})")
        if not bool(torch.isfinite(t).all()):
            raise StateError(f"replay: {name} has non-finite entries (NaN or inf; the first in "
                             f"row {int((~torch.isfinite(t)).nonzero()[0, 0])})")
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
