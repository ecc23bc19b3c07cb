"""``Step``: discrete-time networks, one synchronous map per step (docs/theory.md §6).

For networks whose column types are all ``MapColumn`` types (e.g. the FEP attractor node
``"fep"``), one step of the whole network is

    ν = W x(t)                                          (one sparse product, CSR by target)
    state(t+1) = column.step(state, ν, s, u)           (one vectorised call per type)
    learnable e: j → i:  W_e += α_i e_i x_j(t+1),   e = column.plasticity_error(state(t+1), ν, ν', s)

(ν' = W x(t+1), computed only for a type that asks for it). Every output interval [t_k, t_{k+1}]
takes ``substeps`` steps (default 1), the stimulus read at t_k + j (t_{k+1} − t_k)/substeps: the map's
own time is the step count, the grid only labels the samples.

Stochastic maps draw u = ``counter_uniform(seed_b, n, N)`` at step n for batch member b (seed_b =
seed + b, or ``seeds[b]``): a pure function of (seed, step, node), so a run reproduces, does not
depend on the batch, the chunking or an interruption (the carry is the step counter n), and
equals ``FEPRuns`` with the same seeds. ``first_step`` starts the counter elsewhere (a run
continued with fresh noise). The momenta P_W of learnable edges stay 0 (a map has none).

Options (``Step(...)``): stochastic (True), learn (True), seed (0), seeds (None: seed + b),
first_step (0), substeps (1), history (None: the initial state before t₀; delays only).

Delays (``columns.solvers.delays``): a delayed edge delivers x_j(n − L_e), L_e = round(d_e / step) with the
step = one grid interval / substeps (the intervals must be equal); the learning rule's
presynaptic term is the arriving x_j(n + 1 − L_e). The ring buffer is part of the carry.

Shapes: y (B, S); grid (T,) -> (K, B, S).
"""

from __future__ import annotations

import torch

from graphs.errors import SolverError

from . import delays
from ..rng import counter_uniform
from ..plasticity.map import learning_rates
from ..types.map import MapColumn
from . import options
from .base import Solver, options_dataclass


def map_step(network, y: torch.Tensor, s: torch.Tensor, u: torch.Tensor | None,
             learn: bool, alpha_l: torch.Tensor | None = None, arriving=None) -> torch.Tensor:
    """One step of the whole network; the learnable edges learn by the network's map rule
    (``columns.plasticity.MapLearning``). ``arriving(x, c)`` (delays): the signals (B, E)
    arriving at step n + c from the sent x (B, N) of step n + c (``columns.solvers.delays``; None: no
    delays). Shapes: y (B, S), s (B|1, N), u (B, N) or None -> (B, S)."""
    parts, W_l, P_l = network.layout.split(y)
    B = y.shape[0]
    s = s.expand(B, -1)
    x = network.send(parts)
    nu = network.field(W_l, x, B, None if arriving is None else arriving(x, 0.0))[1]
    us = () if u is None else (u,)
    new = {k: col.step(part, nu_k, s_k, u_k[0] if us else None)
           for k, col, part, nu_k, s_k, *u_k in network.by_type(parts, nu, s, *us)}
    if not (learn and network.layout.n_learnable):
        return network.layout.join(new, W_l, P_l)
    x_new = network.send(new)
    xe_new = None if arriving is None else arriving(x_new, 1.0)          # x_j(n + 1 − L_e)
    W_new = network.plasticity.update(network, parts, new, nu, s, x_new, xe_new, W_l, alpha_l)
    return network.layout.join(new, W_new, P_l)


@options_dataclass
class Step(Solver):
    """The synchronous map (module ``columns.solvers.step``). Final class. Carry: "step", the
    counter n."""

    name = "step"
    stochastic: bool = True
    learn: bool = True
    seed: int = 0
    seeds: object = None
    first_step: int = 0
    substeps: int = 1
    history: object = None
    takes_delays = True

    def validate(self):
        options.integer(self, "substeps", 1)
        options.integer(self, "first_step", 0)
        delays.check_history(self.history)

    def check(self, network):
        bad = [k for k, c in network.columns.items() if not isinstance(c, MapColumn)]
        if bad:
            raise SolverError(f"solver 'step' needs a discrete-time map in every column type; "
                              f"type {bad[0]!r} ({type(network.columns[bad[0]]).__name__}) has none: "
                              "use an ODE solver for it")
        if self.learn and network.layout.n_learnable:
            tgt = network.coupling.tgt[network.learn_idx]
            for k, col in network.columns.items():
                sl = network.coupling.type_slices[k]
                if not col.learns and bool(((tgt >= sl.start) & (tgt < sl.stop)).any()):
                    raise SolverError(f"learnable edges target type {k!r}, which has no learning "
                                      "rule in its map")

    def start(self, network, grid, y0):
        """The carry of a map run: the step counter, and with delays the ring buffer of past
        signals.

        Returns:
            {"step": 0[, "delay_buffer": …]}.

        Raises:
            SolverError: a grid with unequal intervals under delays.
        """
        carry = {"step": int(self.first_step)}
        if delays.first_delayed_edge(network) is None:
            return carry
        iv = grid[1:] - grid[:-1]
        if bool(((iv - iv[0]).abs() > 1e-9 * iv[0].abs()).any()):
            raise SolverError("step: with delays every grid interval must be the same (a map step "
                              "is one interval / substeps), got intervals from "
                              f"{float(iv.min()):g} to {float(iv.max()):g}")
        carry.update(delays.start_carry(self, network, float(iv[0]) / int(self.substeps), y0,
                                        carry["step"], float(grid[0])))
        return carry

    def diagnostics(self, carry):
        return delays.diagnostics(carry)

    def seed_tensor(self, B: int, device) -> torch.Tensor:
        """The map's seed per batch member: ``seed`` + b, or the given seeds.

        Returns:
            Seeds (B,) int64.

        Raises:
            SolverError: a seed tensor whose length is not B.
        """
        if self.seeds is not None:
            seeds = torch.as_tensor(self.seeds, dtype=torch.int64).to(device)
            if seeds.numel() != B:
                raise SolverError(f"step: {seeds.numel()} seeds for a batch of {B}")
            return seeds
        return int(self.seed) + torch.arange(B, device=device)

    def advance(self, network, y, grid, k0, k1, carry):
        """Run the map over grid[k0..k1] (``substeps`` steps per interval).

        Returns:
            (states (K, B, S) on grid[k0..k1], the carry with the step counter).
        """
        B, N, substeps = y.shape[0], network.n_nodes, int(self.substeps)
        seeds = self.seed_tensor(B, network.device)
        alpha_l = learning_rates(network) if network.layout.n_learnable else None
        n = carry["step"]
        line = delays.line_for(self, network, carry) if "delay_buffer" in carry else None
        buf = None if line is None else carry["delay_buffer"].clone()
        out = [y]
        for k in range(k0, k1):
            dt = (grid[k + 1] - grid[k]) / substeps
            for j in range(substeps):
                s = network.stimulus_at(grid[k] + j * dt, B)
                u = (counter_uniform(seeds, n, N, network.real_dtype, network.device)
                     if self.stochastic else None)
                y = map_step(network, y, s, u, self.learn, alpha_l, None if line is None else
                             lambda x, c: line.receive(buf, n, c, x))
                n += 1
            out.append(y)
        if line is None:
            return torch.stack(out), {"step": n}
        return torch.stack(out), {**carry, "step": n, "delay_buffer": buf}
