"""``step``: discrete-time networks, one synchronous map per step (spec fep-attractor.md).

For networks whose column types all define a map (``ColumnType.step``, e.g. the FEP attractor
node ``"fep"``), one step of the whole network is

    ν = W x(t)                                          (one sparse product, CSR by target)
    state(t+1) = column.step(state, ν, s, u)           (one vectorised call per type)
    learnable e: j → i:  W_e += α_i e_i x_j(t+1),   e = column.plasticity_error(state(t+1), ν, ν', s)

(ν' = W x(t+1), computed only for a type that asks for it). Every output interval [t_k, t_{k+1}]
takes ``substeps`` steps (default 1), the stimulus read at t_k + j (t_{k+1} − t_k)/substeps: the map's
own time is the step count, the grid only labels the samples.

Stochastic maps draw u = ``counter_uniform(seed + b, first_step + n, N)`` at step n for batch member
b: a pure function of (seed, step, node), so a run reproduces, does not depend on the batch or the
chunking, and equals ``FEPRuns`` with seeds seed + b. Pass a different ``first_step`` (or seed) to
continue a run with fresh noise. The momenta P_W of learnable edges stay 0 (a map has none).

Options (``simulate(..., solver="step", solver_options={...})``): stochastic (True), learn (True),
seed (0), first_step (0), substeps (1).

Shapes: y (B, S); ts (K,) -> (K, B, S).
"""

from __future__ import annotations

import torch

from graphs.errors import SolverError

from .langevin import counter_uniform


def check_network(network) -> None:
    """Raise ``SolverError`` unless every column type defines a map."""
    bad = [k for k, c in network.columns.items() if not c.has_map]
    if bad:
        raise SolverError(f"solver 'step' needs a discrete-time map in every column type; "
                          f"type {bad[0]!r} ({type(network.columns[bad[0]]).__name__}) has none: "
                          "use an ODE solver for it")


def _learn_alpha(network) -> torch.Tensor:
    """α of each learnable edge's target column, (E_l,)."""
    cp = network.coupling
    alpha = torch.zeros(cp.n_nodes, dtype=network.real_dtype, device=network.device)
    for k, col in network.columns.items():
        if col.learns_in_map:
            alpha[cp.type_slices[k]] = col.alpha.to(alpha)
    return alpha[cp.tgt[network.learn_idx]]


def map_step(network, y: torch.Tensor, s: torch.Tensor, u: torch.Tensor | None,
             learn: bool, alpha_l: torch.Tensor | None = None) -> torch.Tensor:
    """One step of the whole network. Shapes: y (B, S), s (B|1, N), u (B, N) or None -> (B, S)."""
    parts, W_l, P_l = network.layout.split(y)
    cp, B = network.coupling, y.shape[0]
    s = s.expand(B, -1)
    W, nu = network.field(W_l, network.send(parts), B)
    new = {}
    for k, col in network.columns.items():
        sl = cp.type_slices[k]
        new[k] = col.step(parts[k], nu[:, sl], s[:, sl], None if u is None else u[:, sl])
    if not (learn and network.layout.n_learnable):
        return network.layout.join(new, W_l, P_l)
    x_new = network.send(new)
    nu_new = None
    if any(c.needs_new_field for c in network.columns.values()):
        nu_new = network.field(W_l, x_new, B)[1]
    err = torch.zeros_like(x_new)
    for k, col in network.columns.items():
        if col.learns_in_map:
            sl = cp.type_slices[k]
            err[:, sl] = col.plasticity_error(new[k], nu[:, sl], None if nu_new is None
                                              else nu_new[:, sl], s[:, sl])
    src, tgt = cp.src[network.learn_idx], cp.tgt[network.learn_idx]
    alpha_l = _learn_alpha(network) if alpha_l is None else alpha_l
    W_new = W_l + alpha_l * err[:, tgt] * x_new[:, src]
    return network.layout.join(new, W_new, P_l)


def advance(network, y: torch.Tensor, ts: torch.Tensor, *, context: dict, stochastic: bool = True,
            learn: bool = True, seed: int = 0, first_step: int = 0, substeps: int = 1,
            **_) -> torch.Tensor:
    """Run the map over ``ts`` (``substeps`` steps per interval); return the states at ``ts``."""
    check_network(network)
    substeps = int(substeps)
    if substeps < 1:
        raise SolverError(f"step: substeps must be >= 1, got {substeps}")
    if learn and network.layout.n_learnable and "step_checked" not in context:
        tgt = network.coupling.tgt[network.learn_idx]
        for k, col in network.columns.items():
            sl = network.coupling.type_slices[k]
            if not col.learns_in_map and bool(((tgt >= sl.start) & (tgt < sl.stop)).any()):
                raise SolverError(f"learnable edges target type {k!r}, which has no learning rule "
                                  "in its map")
        context["step_checked"] = True
    B, N = y.shape[0], network.n_nodes
    seeds = int(seed) + torch.arange(B, device=network.device)
    alpha_l = _learn_alpha(network) if network.layout.n_learnable else None
    n = context.setdefault("step", int(first_step))
    out = [y]
    for k in range(ts.numel() - 1):
        dt = (ts[k + 1] - ts[k]) / substeps
        for j in range(substeps):
            s = network.stimulus_at(ts[k] + j * dt, B)
            u = counter_uniform(seeds, n, N, network.real_dtype, network.device) if stochastic else None
            y = map_step(network, y, s, u, learn, alpha_l)
            n += 1
        out.append(y)
    context["step"] = n
    return torch.stack(out)
