"""``IVP``: Kim-faithful forward integration (docs/theory.md §3) with torchdiffeq or the
implicit midpoint.

``IVP(method="dopri5")`` runs any torchdiffeq method ("dopri5", "dopri8", "rk4", "euler", …)
with ``rtol``, ``atol``, ``step_size`` (fixed-step methods; default the output grid) and
torchdiffeq ``options``; "euler" and "rk4" without ``options`` run our fixed-step loop instead
(``columns.solvers.fixed_step``: the same grid and formulas, equal to round-off, stage buffers
preallocated; ``compiled=True`` compiles ``unroll`` steps per call with torch.compile; networks
of Stuart–Landau columns run the whole loop natively, ``columns.solvers.native_loop``, unless
``native=False``);
``method="implicit_midpoint"`` runs ours (below; ``midpoint_tol``, ``midpoint_max_iter``).
Initial momenta are taken from the state (default 0). No carry: every chunk is an independent
initial-value problem from the chunk's first state, except with conduction delays
(``columns.solvers.delays``, "euler" and "rk4" only, ``history`` option): the carry is then the ring
buffer of sent signals and the step count (``columns.solvers.delayed``).

The implicit-midpoint rule: a symplectic, symmetric, second-order one-step method.

    y_{n+1} = y_n + h f(t_n + h/2, (y_n + y_{n+1}) / 2)

Solved per step by fixed-point iteration from an explicit-Euler predictor,

    z_{k+1} = y_n + h f(t_n + h/2, (y_n + z_k) / 2),

until max|z_{k+1} − z_k| ≤ tol (1 + max|z_{k+1}|); it converges when h·Lip(f)/2 < 1. For a
Hamiltonian flow it preserves the symplectic form, so H shows bounded, non-growing oscillation
instead of drift (torchdiffeq 0.2.5 on PyPI has no symplectic method).

Shapes: y (B, S); ts (K,) -> trajectory (K, B, S).
"""

from __future__ import annotations

import math

import torch

from graphs.errors import DivergenceError, SolverError

from . import delays
from . import delayed, fixed_step, native_loop, options
from .base import Solver, options_dataclass

METHODS = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun", "euler", "midpoint", "heun3",
           "rk4", "explicit_adams", "implicit_adams", "fixed_adams", "scipy_solver",
           "implicit_midpoint")
FIXED = ("midpoint", "heun3", "explicit_adams", "implicit_adams", "fixed_adams",
         "implicit_midpoint")
"""Fixed-step methods without a delayed form (delays run with "euler" and "rk4")."""


@options_dataclass
class IVP(Solver):
    """Forward integration of ``dy/dt = network(t, y)`` (module ``columns.solvers.ivp``). Final
    class."""

    name = "ivp"
    method: str = "dopri5"
    rtol: float = 1e-7
    atol: float = 1e-9
    step_size: float | None = None
    options: dict | None = None
    midpoint_tol: float | None = None
    midpoint_max_iter: int = 100
    compiled: bool = False
    unroll: int | None = None
    history: object = None
    native: bool = True
    takes_delays = True

    def validate(self):
        if self.method not in METHODS:
            raise SolverError(f"unknown ivp method {self.method!r}; available: {METHODS}")
        options.tolerances(self)
        options.number(self, "midpoint_tol", optional=True)
        options.integer(self, "midpoint_max_iter", 1)
        options.integer(self, "unroll", 1, optional=True)
        for key in ("compiled", "native"):
            if not isinstance(getattr(self, key), bool):
                raise SolverError(f"ivp: option {key!r} must be True or False, got "
                                  f"{getattr(self, key)!r}")
        delays.check_history(self.history)

    def check(self, network):
        e = delays.first_delayed_edge(network)
        if e is None:
            return
        if self.method not in fixed_step.METHODS or self.options or self.compiled:
            why = ("has no delayed form here (only 'euler' and 'rk4' have)" if self.method in FIXED
                   else "is adaptive" if self.method not in fixed_step.METHODS
                   else "runs through torchdiffeq (options=…)" if self.options
                   else "is compiled (compiled=True)")
            raise SolverError(f"{delays.describe_edge(network, e)}, and ivp method "
                              f"{self.method!r} {why}: {delays.ALTERNATIVES}")

    def start(self, network, grid, y0):
        if delays.first_delayed_edge(network) is None:
            return {}
        h = float(self.step_size) if self.step_size is not None else float(grid[1] - grid[0])
        delays.uniform_step(grid, h, "step_size" if self.step_size is not None else
                            "no step_size: the first output interval,")
        return {"delay_step": 0, **delays.start_carry(self, network, h, y0, 0, float(grid[0]))}

    def diagnostics(self, carry):
        return delays.diagnostics(carry)

    def describe(self):
        return f"ivp:{self.method}"

    def advance(self, network, y, grid, k0, k1, carry):
        ts = grid[k0:k1 + 1]
        if "delay_buffer" in carry:
            line = delays.line_for(self, network, carry)
            native = self.native and native_loop.plan(network, y, ts, self.method, line.h, True)
            if native:
                traj, buf, n = native_loop.integrate(
                    network, y, *native, self.method,
                    delays=(line, carry["delay_buffer"], carry["delay_step"]))
                return traj, {**carry, "delay_buffer": buf, "delay_step": n}
            traj, buf, n = delayed.integrate(network, line, y, ts, self.method,
                                             carry["delay_buffer"], carry["delay_step"])
            return traj, {**carry, "delay_buffer": buf, "delay_step": n}
        if self.method == "implicit_midpoint":
            return implicit_midpoint(network, y, ts, step_size=self.step_size,
                                     tol=self.midpoint_tol, max_iter=self.midpoint_max_iter), carry
        if self.method in fixed_step.METHODS and not self.options:
            if self.native and not self.compiled:
                native = native_loop.plan(network, y, ts, self.method, self.step_size)
                if native is not None:
                    return native_loop.integrate(network, y, *native, self.method), carry
            return fixed_step.fixed_grid(network, y, ts, self.method, self.step_size,
                                         bool(self.compiled), self.unroll), carry
        from torchdiffeq import odeint
        opts = dict(self.options or {})
        if self.step_size is not None:
            opts.setdefault("step_size", self.step_size)
        return odeint(network, y, ts, method=self.method, rtol=self.rtol, atol=self.atol,
                      options=opts or None), carry


def implicit_midpoint(func, y0: torch.Tensor, ts: torch.Tensor, step_size: float | None = None,
                      tol: float | None = None, max_iter: int = 100) -> torch.Tensor:
    """Integrate ``dy/dt = func(t, y)`` over the output times ``ts`` (steps ≤ ``step_size``).

    Raises:
        SolverError: the fixed-point iteration did not converge within ``max_iter`` (the message
            names the time; use a smaller step).
        DivergenceError: a non-finite iterate.

    Returns:
        The trajectory (len(ts), *y0.shape).
    """
    if tol is None:
        tol = 1e-13 if y0.dtype == torch.float64 else 1e-6
    out = [y0]
    y = y0
    for k in range(ts.numel() - 1):
        t0, t1 = float(ts[k]), float(ts[k + 1])
        n_sub = 1 if step_size is None else max(1, math.ceil((t1 - t0) / step_size - 1e-9))
        h = (t1 - t0) / n_sub
        for j in range(n_sub):
            t = t0 + j * h
            tm = torch.tensor(t + 0.5 * h, dtype=ts.dtype, device=ts.device)
            z = y + h * func(torch.tensor(t, dtype=ts.dtype, device=ts.device), y)
            for _ in range(max_iter):
                z_new = y + h * func(tm, 0.5 * (y + z))
                err = (z_new - z).abs().max()
                z = z_new
                if not torch.isfinite(err):
                    raise DivergenceError(f"implicit midpoint: non-finite iterate at t = {t:.6g}", t)
                if err <= tol * (1.0 + z.abs().max()):
                    break
            else:
                raise SolverError(f"implicit midpoint: fixed-point iteration did not converge at "
                                  f"t = {t:.6g} (step {h:.3g}); use a smaller step_size")
            y = z
        out.append(y)
    return torch.stack(out)
