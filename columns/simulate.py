"""``simulate``: integrate a network over a time grid, in chunks, with divergence detection.

Solvers (``solver=``, spec bayesian-mechanics.md §3):

- ``"ivp"`` — Kim-faithful forward integration of Hamilton's equations with torchdiffeq (any of
  its methods: "dopri5", "dopri8", "rk4", "euler", …) or ``method="implicit_midpoint"`` (ours,
  symplectic). Initial momenta are taken from the state (default 0).
- ``"least_action"`` — the least-action path (``columns.least_action``): q(t_0) given, free end;
  receding horizon with ``solver_options={"window": K_w, "overlap": K_o}`` (steps of the grid).
- ``"gradient"`` — predictive coding, q̇ = −κ ∇U (``columns.gradient_flow``).
- ``"riccati"`` — stable-manifold feedback p − p* = −X (q − q*) (``columns.riccati``).
- ``"step"`` — discrete-time maps, e.g. the FEP attractor node (``columns.step_map``): one
  synchronous map per step, stochastic or deterministic, learnable couplings by the map's rule.

A solver is a function ``advance(network, y, ts, *, context, **options) -> (K, B, S)`` in
``SOLVERS`` (``context`` is one dict per ``simulate`` call: warm starts, diagnostics).

The run proceeds chunk by chunk (``chunk`` output times each): device memory is bounded by a
chunk, samples are copied to the CPU recording as they come, a progress bar advances per chunk.
After every chunk the state is checked: a non-finite value or max|y| > ``max_norm`` raises
``DivergenceError`` naming the first bad time, with ``.recording`` holding every sample before it.

Shapes: t (T,); y0 (S,) or (B, S); the Recording's fields (T, B, N) / (T, B, E).
"""

from __future__ import annotations

import sys
import time as _time

import torch

from graphs.errors import ColumnsError, DivergenceError, SolverError, StateError

from . import gradient_flow, least_action, riccati, step_map
from .midpoint import implicit_midpoint
from .recording import Recording

EDGE_FIELDS = ("W", "p_W")


def _advance_ivp(network, y, ts, method="dopri5", rtol=1e-7, atol=1e-9, step_size=None,
                 options=None, midpoint_tol=None, midpoint_max_iter=100, **_):
    if method == "implicit_midpoint":
        return implicit_midpoint(network, y, ts, step_size=step_size, tol=midpoint_tol,
                                 max_iter=midpoint_max_iter)
    from torchdiffeq import odeint
    opts = dict(options or {})
    if step_size is not None:
        opts.setdefault("step_size", step_size)
    return odeint(network, y, ts, method=method, rtol=rtol, atol=atol, options=opts or None)


SOLVERS = {"ivp": _advance_ivp, "least_action": least_action.advance,
           "gradient": gradient_flow.advance, "riccati": riccati.advance, "step": step_map.advance}
IVP_METHODS = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun", "euler", "midpoint",
               "heun3", "rk4", "explicit_adams", "implicit_adams", "fixed_adams",
               "scipy_solver", "implicit_midpoint")


def _time_grid(t, network) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=network.real_dtype).to(network.device)
    if t.dim() != 1 or t.numel() < 2:
        raise SolverError(f"t must be a 1-D grid of at least 2 times, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all() or not (t.diff() > 0).all():
        raise SolverError("t must be finite and strictly increasing")
    return t


def _field_indices(network, record):
    layout, cp = network.layout, network.coupling
    available = layout.node_fields() + (list(EDGE_FIELDS) if layout.n_learnable else [])
    names = available if record is None else list(record)
    bad = [f for f in names if f not in available]
    if bad:
        raise StateError(f"cannot record {bad}: recordable fields are {available}")
    idx = {}
    for f in names:
        if f in EDGE_FIELDS:
            a, m = layout.edge_W if f == "W" else layout.edge_P
            idx[f] = torch.arange(a, a + m)
        else:
            idx[f] = layout.field_index(f, cp.type_slices, cp.n_nodes)
    return idx


def _bad_index(traj: torch.Tensor, max_norm: float) -> int | None:
    """First k with a non-finite or too-large state (any batch member), else None."""
    flat = traj.reshape(traj.shape[0], -1)
    if flat.is_complex():
        flat = torch.view_as_real(flat).reshape(flat.shape[0], -1)
    # one pass: max|y| propagates NaN, and NaN <= bound is False
    bad = ~(torch.linalg.vector_norm(flat, ord=float("inf"), dim=-1) <= max_norm)
    if bad.any():
        return int(bad.nonzero()[0, 0])
    return None


def simulate(network, t, *, y0=None, solver: str = "ivp", method: str = "dopri5",
             rtol: float = 1e-7, atol: float = 1e-9, step_size: float | None = None,
             options: dict | None = None, record=None, chunk: int = 64,
             max_norm: float = 1e8, progress: bool | None = None, midpoint_tol=None,
             midpoint_max_iter: int = 100, update_state: bool = True,
             solver_options: dict | None = None) -> Recording:
    """Integrate ``network`` over the times ``t`` and return a ``Recording``.

    Args:
        network: a ``columns.Network``.
        t: output times (T,), strictly increasing; the run starts at t[0] from ``y0``.
        y0: initial state (S,) or (B, S); default ``network.state`` (see ``Network.init_state``).
        solver: "ivp", "least_action", "gradient", "riccati", "step" (or any name in ``SOLVERS``).
        method: a torchdiffeq method or "implicit_midpoint" (ivp and gradient).
        rtol, atol: tolerances of adaptive methods.
        step_size: fixed step for fixed-step methods (default: the output grid).
        record: field names to record (default all: column fields and learnable-edge fields).
        chunk: output times integrated per chunk (bounds device memory); for least_action the
            chunk is the committed part of a window (window − overlap).
        max_norm: divergence bound on max|y|.
        progress: show a progress bar (default: when stderr is a terminal).
        update_state: write the final state into ``network.state``.
        solver_options: options of the solver: least_action ``window``, ``overlap`` (grid steps;
            default one window over the whole grid), ``rule``, ``max_iter``, ``gtol``; gradient
            ``kappa``; riccati ``substeps``; step ``stochastic``, ``learn``, ``seed``,
            ``first_step``, ``substeps``. For least_action the grid is the discretisation.

    Raises:
        DivergenceError: (``.time``, ``.recording`` up to the last good sample).
        SolverError, StateError, DeviceError, StimulusError: bad arguments (specific messages).
    """
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver {solver!r}; available: {sorted(SOLVERS)}")
    if solver == "ivp" and method not in IVP_METHODS:
        raise SolverError(f"unknown ivp method {method!r}; available: {IVP_METHODS}")
    if int(chunk) < 1:
        raise SolverError(f"chunk must be >= 1, got {chunk}")
    ts_all = _time_grid(t, network)
    solver_options = dict(solver_options or {})
    if solver == "least_action":
        chunk = _least_action_chunk(solver_options, ts_all.numel())
    y = network.check_state(network.state if y0 is None else y0, "y0")
    B = y.shape[0]
    if network.stimulus is not None:
        network.stimulus.check(float(ts_all[0]), B, network.n_nodes, network.real_dtype,
                               network.device)
    idx = _field_indices(network, record)
    T = ts_all.numel()
    rec = {f: torch.full((T, B, i.numel()), float("nan"), dtype=network.dtype) for f, i in idx.items()}
    cp = network.coupling
    src, tgt = cp.edge_labels() if network.layout.n_learnable else ([], [])
    learn = network.learn_idx.tolist()
    config = {"solver": solver, "solver_options": dict(solver_options or {}), "method": method, "rtol": rtol, "atol": atol,
              "step_size": step_size, "chunk": chunk, "max_norm": max_norm, "batch": B,
              "n_nodes": cp.n_nodes, "n_edges": cp.n_edges, "dtype": str(network.dtype)}

    def recording(n_done: int, status="complete", message="") -> Recording:
        return Recording(t=ts_all[:n_done].cpu(), fields={f: v[:n_done] for f, v in rec.items()},
                         node_labels=cp.node_labels, node_types=cp.node_types, regions=cp.regions,
                         edge_source=[src[e] for e in learn] if src else [],
                         edge_target=[tgt[e] for e in learn] if tgt else [],
                         config=config, status=status, message=message)

    def store(k0: int, traj: torch.Tensor) -> None:
        traj = traj.detach().cpu()
        for f, i in idx.items():
            vals = traj[..., i.clamp(min=0)]
            rec[f][k0:k0 + traj.shape[0]] = torch.where(i >= 0, vals, torch.nan) if (i < 0).any() else vals

    kw = dict(method=method, rtol=rtol, atol=atol, step_size=step_size, options=options,
              midpoint_tol=midpoint_tol, midpoint_max_iter=midpoint_max_iter)
    kw.update(solver_options)
    context = {"ts_all": ts_all}
    kw["context"] = context
    advance = SOLVERS[solver]
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=T, desc=f"simulate[{solver}:{method}]", unit="t", leave=False)
    store(0, y.unsqueeze(0))
    done, k = 1, 0
    t_start = _time.perf_counter()
    try:
        with torch.no_grad():
            while k < T - 1:
                k1 = min(k + int(chunk), T - 1)
                ts = ts_all[k:k1 + 1]
                failure = None
                try:
                    traj = advance(network, y, ts, **kw)
                except (AssertionError, RuntimeError, SolverError, OverflowError):
                    traj, failure = _locate_failure(advance, network, y, ts, kw)
                bad = _bad_index(traj, max_norm)
                if bad is not None or failure is not None:
                    n_good = bad if bad is not None else traj.shape[0]
                    store(k, traj[:n_good])
                    done = k + n_good
                    t_bad = float(ts[n_good]) if n_good < ts.numel() else float(ts[-1])
                    y_last = traj[n_good - 1]
                    finite_ok = bool(torch.isfinite(y_last).all()) and float(y_last.abs().max()) <= max_norm
                    if bad is None and finite_ok and isinstance(failure, SolverError) and \
                            "non-finite" not in str(failure):
                        failure.recording = recording(done, "failed", str(failure))
                        raise failure
                    why = ("non-finite state" if bad is not None and not torch.isfinite(traj[bad]).all()
                           else f"max|y| > {max_norm:g}" if bad is not None
                           else f"solver failed ({failure})")
                    msg = (f"integration diverged at t = {t_bad:.6g} ({why}); the recording keeps "
                           f"{done} samples up to t = {float(ts_all[done - 1]):.6g}")
                    raise DivergenceError(msg, t_bad, recording(done, "diverged", msg))
                store(k if solver != "ivp" else k + 1, traj if solver != "ivp" else traj[1:])
                done = k1 + 1
                y = traj[-1]
                k = k1
                if bar is not None:
                    bar.update(k1 + 1 - bar.n)
    except ColumnsError as err:
        if getattr(err, "recording", None) is None:
            err.recording = recording(done, "failed", str(err))
        raise
    finally:
        if bar is not None:
            bar.close()
    config["wall_time_s"] = _time.perf_counter() - t_start
    if context.get("info"):
        info = context["info"]
        config["solver_windows"] = len(info)
        config["solver_iterations_max"] = max(i["iterations"] for i in info)
        config["solver_grad_max"] = max(i["grad_max"] for i in info)
        config["solver_converged"] = all(i["converged"] for i in info)
    if update_state:
        network.state = y.detach().clone()
    return recording(done)


def _least_action_chunk(options: dict, T: int) -> int:
    """Committed steps per receding-horizon window (the whole grid without ``window``)."""
    window, overlap = options.get("window"), options.get("overlap")
    if window is None:
        if overlap:
            raise SolverError("least_action: 'overlap' needs 'window'")
        return T - 1
    window, overlap = int(window), int(overlap if overlap is not None else window // 2)
    if window < 2 or not 0 <= overlap < window:
        raise SolverError(f"least_action: need window >= 2 and 0 <= overlap < window, got "
                          f"window={window}, overlap={overlap}")
    options["overlap"] = overlap
    return window - overlap


def _locate_failure(advance, network, y, ts, kw):
    """Re-run a failed chunk one output interval at a time: (samples up to the failure, error)."""
    out = [y]
    for k in range(ts.numel() - 1):
        try:
            step = advance(network, out[-1], ts[k:k + 2], **kw)
        except (AssertionError, RuntimeError, SolverError, OverflowError) as err:
            return torch.stack(out), err
        out.append(step[-1])
        if _bad_index(step[-1:], float("inf")) is not None:
            break
    return torch.stack(out), None
