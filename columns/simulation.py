"""``simulate``: run a network over a time grid with any solver, in chunks, with checkpoints.

    rec = simulate(net, t, solver=IVP(method="rk4"))              # a solver object, or
    rec = simulate(net, t, solver="least_action", window=4)       # a name and its options

Solvers (``columns.solvers``, docs/theory.md §3): ``"ivp"`` (torchdiffeq methods and
the implicit midpoint), ``"least_action"`` (receding horizon), ``"gradient"`` (predictive coding),
``"riccati"`` (stable-manifold feedback), ``"step"`` (discrete-time maps). Every solver returns the
K samples of the K requested times of a chunk; this loop is the same for all of them:

- chunks of ``chunk`` output intervals (the solver may choose: least action commits
  window − overlap); device memory is bounded by a chunk, samples go to the CPU recording as they
  come, a progress bar advances per chunk;
- after every chunk the state is checked: a non-finite value or max|y| > ``max_norm`` raises
  ``DivergenceError`` naming the first bad time, with ``.recording`` holding every sample before
  it; a solver's own failure raises its ``SolverError`` with the recording so far;
- with ``checkpoint=path`` the state, the solver's carry and the recording so far are written
  atomically every ``checkpoint_every`` chunks and when the run is interrupted (a
  ``KeyboardInterrupt``: Ctrl-C, or the CLI's SIGTERM; the last finished chunk is saved, the
  interrupt then goes on) (``columns.checkpoint``); ``resume=path`` continues
  such a run to the result the uninterrupted run gives (bit-identical on CPU). ``resume=True``
  resumes from ``checkpoint`` when that file exists and starts afresh otherwise.

Shapes: t (T,); y0 (S,) or (B, S); the Recording's fields (T, B, N) / (T, B, E).
"""

from __future__ import annotations

import os
import sys
import time as _time

import torch

from graphs.errors import (ColumnsError, DivergenceError, SolverError, StateError,
                           is_user_error)
from graphs.values import is_integer, is_number

from . import checkpoint as ckpt
from .atomic import check_writable
from . import threads
from .solvers import delays
from .recording import Recording
from .solvers import Solver, make_solver

EDGE_FIELDS = ("W", "p_W")
FAILURES = (AssertionError, RuntimeError, SolverError, OverflowError)


def simulate(network, t, *, y0=None, solver: str | Solver = "ivp", record=None, chunk: int = 64,
             max_norm: float = 1e8, progress: bool | None = None, update_state: bool = True,
             checkpoint=None, checkpoint_every: int = 1, resume=None,
             solver_options: dict | None = None, **options) -> Recording:
    """Run ``network`` over the times ``t`` and return a ``Recording``.

    Args:
        network: a ``columns.Network``.
        t: output times (T,), strictly increasing; the run starts at t[0] from ``y0``.
        y0: initial state (S,) or (B, S); default ``network.state``.
        solver: a ``Solver`` object or a name in ``columns.solvers.SOLVERS``.
        record: field names to record (default all: column fields and learnable-edge fields).
        chunk: output intervals per chunk (bounds device memory); the solver may override it.
        max_norm: divergence bound on max|y|.
        progress: show a progress bar (default: when stderr is a terminal).
        update_state: write the final state into ``network.state``.
        checkpoint: path of a checkpoint file written every ``checkpoint_every`` chunks.
        resume: path of a checkpoint to continue from (or True: ``checkpoint`` if it exists).
        solver_options: options of a solver given by name (e.g. ``{"method": "rk4"}``); an
            option the solver does not have is a ``SolverError``.
        **options: the same options as keywords (e.g. ``method="rk4"``, ``window=4``).

    Raises:
        DivergenceError: (``.time``, ``.recording`` up to the last good sample).
        SolverError, StateError, DeviceError, StimulusError: bad arguments (specific messages).

    Returns:
        A ``Recording``: the recorded fields at every time of ``t`` (fields (T, B, n) per field),
        ``config`` (the solver's settings, chunking, delays' rounding) and ``diagnostics`` (the
        solver's: steps, residuals, iterations). The final state is also in ``network.state``
        unless ``update_state=False``.
    """
    if not isinstance(network, torch.nn.Module) or not hasattr(network, "check_state"):
        raise StateError(f"simulate: network must be a columns Network, got {type(network).__name__}")
    if solver_options is not None and not isinstance(solver_options, dict):
        raise SolverError(f"solver_options must be a dict of option names to values, got "
                          f"{solver_options!r}")
    slv = make_solver(solver, {**(solver_options or {}), **options})
    for key, value in (("chunk", chunk), ("checkpoint_every", checkpoint_every)):
        if not is_integer(value, 1):
            raise SolverError(f"{key} must be an integer >= 1, got {value!r}")
    if checkpoint is not None:
        check_writable(checkpoint, "checkpoint")
    if not is_number(max_norm, 0, strict=True, finite=False):       # inf: no bound
        raise SolverError(f"max_norm must be a number > 0 (the divergence bound on max|y|), got "
                          f"{max_norm!r}")
    grid = _time_grid(t, network)
    T = grid.numel()
    delays.check_network(network, slv)
    slv.check(network)
    chunk = int(slv.chunk(int(chunk), T - 1))
    y = network.check_state(network.state if y0 is None else y0, "y0")
    B = y.shape[0]
    if network.stimulus is not None:
        network.stimulus.check(float(grid[0]), B, network.n_nodes, network.real_dtype,
                               network.device)
    idx = _field_indices(network, record)
    cp = network.coupling
    config = {"solver": slv.name, **slv.settings, "chunk": chunk, "max_norm": max_norm, "batch": B,
              "n_nodes": cp.n_nodes, "n_edges": cp.n_edges, "dtype": str(network.dtype)}
    fingerprint = {"solver": ckpt.solver_identity(slv), "grid": grid.cpu(), "y0": y.detach().cpu(),
                   "record": list(idx), "chunk": chunk, "state_size": network.state_size,
                   "dtype": str(network.dtype)}
    rec = _Record(network, grid, idx, B, config)
    if resume is True:
        resume = checkpoint if checkpoint is not None and os.path.exists(checkpoint) else None
    if resume:
        data = ckpt.load(resume, fingerprint)
        k, y, carry = data["k"], data["y"].to(network.device), _to(data["carry"], network.device)
        rec.restore(data["fields"], k + 1)
    else:
        k, carry = 0, slv.start(network, grid, y)
        rec.store(0, y.unsqueeze(0))
    bar = _bar(progress, T, slv, k)
    hook = None if bar is None else network.register_forward_pre_hook(_Where(bar))
    t_start, n_chunks = _time.perf_counter(), 0
    done = (k, y, carry)                       # the last finished chunk, replaced in one store

    def save():
        k_, y_, carry_ = done
        ckpt.save(checkpoint, {"fingerprint": fingerprint, "k": k_, "y": y_.detach().cpu(),
                               "carry": _to(carry_, "cpu"), "fields": rec.upto(k_ + 1)})
    try:
        with torch.no_grad(), threads.engine(slv.work(network, B, chunk)):
            while k < T - 1:
                k1 = min(k + chunk, T - 1)
                try:
                    traj, new_carry = slv.advance(network, y, grid, k, k1, carry)
                    failure = None
                except FAILURES as err:
                    if is_user_error(err):
                        raise
                    traj, new_carry, failure = _locate_failure(slv, network, y, grid, k, k1, carry)
                bad = _bad_index(traj, max_norm)
                if bad is not None or failure is not None:
                    _fail(rec, grid, k, k1, traj, bad, failure, max_norm)
                rec.store(k, traj)
                done = (k1, traj[-1], new_carry)
                k, y, carry = done
                n_chunks += 1
                if checkpoint is not None and (n_chunks % int(checkpoint_every) == 0 or k == T - 1):
                    save()
                if bar is not None:
                    bar.update(k1 + 1 - bar.n)
    except KeyboardInterrupt:                  # Ctrl-C (or SIGTERM made one): keep what is done
        if checkpoint is not None and done[0] > 0:
            save()
        raise
    except ColumnsError as err:
        if getattr(err, "recording", None) is None:
            err.recording = rec.recording("failed", str(err))
        raise
    finally:
        if bar is not None:
            hook.remove()
            bar.close()
    config.update(slv.diagnostics(carry), wall_time_s=_time.perf_counter() - t_start)
    if update_state:
        network.state = y.detach().clone()
    return rec.recording()


class _Record:
    """The CPU recording being filled: (T, B, n_f) per field, NaN where not yet computed."""

    def __init__(self, network, grid, idx, B, config):
        self.network, self.grid, self.idx, self.config = network, grid, idx, config
        self.fields = {f: torch.full((grid.numel(), B, i.numel()), float("nan"), dtype=network.dtype)
                       for f, i in idx.items()}
        self.done = 0

    def store(self, k0: int, traj: torch.Tensor) -> None:
        traj = traj.detach().cpu()
        for f, i in self.idx.items():
            vals = traj[..., i.clamp(min=0)]
            self.fields[f][k0:k0 + traj.shape[0]] = (torch.where(i >= 0, vals, torch.nan)
                                                     if (i < 0).any() else vals)
        self.done = max(self.done, k0 + traj.shape[0])

    def restore(self, fields: dict, n: int) -> None:
        for f, v in fields.items():
            self.fields[f][:n] = v
        self.done = n

    def upto(self, n: int) -> dict:
        return {f: v[:n].clone() for f, v in self.fields.items()}

    def recording(self, status: str = "complete", message: str = "") -> Recording:
        net, n = self.network, self.done
        cp = net.coupling
        labels = cp.node_labels
        return Recording(t=self.grid[:n].cpu(), fields={f: v[:n] for f, v in self.fields.items()},
                         node_labels=labels, node_types=cp.node_types, regions=cp.regions,
                         edge_source=[labels[j] for j in net.learn_src.tolist()],
                         edge_target=[labels[i] for i in net.learn_tgt.tolist()],
                         config=self.config, status=status, message=message)


def _fail(rec: _Record, grid, k, k1, traj, bad, failure, max_norm):
    """Keep the good samples of a failed chunk and raise the right error with the recording."""
    n_good = bad if bad is not None else traj.shape[0]
    rec.store(k, traj[:n_good])
    ts = grid[k:k1 + 1]
    if bad is None and isinstance(failure, SolverError):   # the solver's own failure, state fine
        failure.recording = rec.recording("failed", str(failure))
        raise failure
    t_bad = float(ts[n_good]) if n_good < ts.numel() else float(ts[-1])
    why = ("non-finite state" if bad is not None and not torch.isfinite(traj[bad]).all()
           else f"max|y| > {max_norm:g}" if bad is not None else f"solver failed ({failure})")
    msg = (f"integration diverged at t = {t_bad:.6g} ({why}); the recording keeps "
           f"{rec.done} samples up to t = {float(grid[rec.done - 1]):.6g}")
    raise DivergenceError(msg, t_bad, rec.recording("diverged", msg))


def _locate_failure(slv, network, y, grid, k0, k1, carry):
    """Re-run a failed chunk one output interval at a time: (samples up to the failure, the carry
    there, the error or None)."""
    out = [y]
    for k in range(k0, k1):
        try:
            step, carry = slv.advance(network, out[-1], grid, k, k + 1, carry)
        except FAILURES as err:
            if is_user_error(err):
                raise
            return torch.stack(out), carry, err
        out.append(step[-1])
        if _bad_index(step[-1:], float("inf")) is not None:
            break
    return torch.stack(out), carry, None


def _time_grid(t, network) -> torch.Tensor:
    try:
        t = torch.as_tensor(t, dtype=network.real_dtype).to(network.device)
    except (TypeError, ValueError, RuntimeError) as err:
        raise SolverError(f"t must be a 1-D grid of numbers (a list, array or tensor), got "
                          f"{t!r} ({err})") from None
    if t.dim() != 1 or t.numel() < 2:
        raise SolverError(f"t must be a 1-D grid of at least 2 times, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all() or not (t.diff() > 0).all():
        raise SolverError("t must be finite and strictly increasing")
    return t


def _field_indices(network, record):
    layout, cp = network.layout, network.coupling
    available = layout.node_fields() + (list(EDGE_FIELDS) if layout.n_learnable else [])
    names = available if record is None else [record] if isinstance(record, str) else list(record)
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
    return int(bad.nonzero()[0, 0]) if bad.any() else None


PROGRESS: bool | None = None
"""The default of ``simulate(progress=None)``: None shows a bar when stderr is a terminal; the
``columns`` CLI sets True (every experiment shows where it is)."""


class _Where:
    """A forward pre-hook: at most twice a second, the bar shows the time the solver is at (inside
    a chunk: an adaptive step shrinking near a divergence shows as a t that stops advancing)."""

    def __init__(self, bar):
        self.bar, self.last, self.calls = bar, 0.0, 0

    def __call__(self, module, args):
        self.calls += 1
        now = _time.perf_counter()
        if now - self.last > 0.5 and args:
            self.last = now
            try:
                t = float(args[0])
            except (TypeError, ValueError, RuntimeError):
                return
            self.bar.set_postfix_str(f"solver at t = {t:.6g}, {self.calls} rhs calls", refresh=True)


def _bar(progress, T, slv, k):
    if progress is None:
        progress = PROGRESS if PROGRESS is not None else sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=T, initial=k + 1, desc=f"simulate[{slv.describe()}]", unit="t", leave=False)


def _to(obj, device):
    """Tensors inside a carry (dicts, lists, tuples) moved to ``device``."""
    if torch.is_tensor(obj):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to(v, device) for v in obj)
    return obj
