"""``least_action``: the least-action path of a Bayesian-mechanics network (docs/theory.md §3).

The discretised action on a uniform grid t_0 < … < t_K (step Δt) with the midpoint rule,

    S[q_1..q_K] = Σ_k L_d(q_k, q_{k+1}),   L_d = Δt · L(q̄_k, (q_{k+1} − q_k)/Δt; s(t_k + Δt/2)),
    L(q, q̇; s)  = ½ (q̇ − F(q; s))ᵀ M (q̇ − F(q; s)) + ½ Σ_i m_z,i (s_i − g_i(q))²,   q̄_k = (q_k + q_{k+1})/2

is minimised over q_1..q_K with q_0 given and the end free (natural boundary condition p(T) = 0).
``rule="left"`` uses L(q_k, …; s(t_k)) instead (first order). S is a sum of squares, so S ≥ 0.

Variables. The first-order optimiser works in scaled increments z_k = √(Δt M) (q_{k+1} − q_k)/Δt, so
q_{k+1} = q_0 + Σ_{j≤k} √Δt M^{-1/2} z_j and the kinetic part of S is ½ Σ |z_k − √(Δt M) F|²:
its Hessian is the identity, and the conditioning of S is set by the horizon (≈ (1 + λ T)²), not
by Δt. L-BFGS (strong-Wolfe line search, autograd gradient) then minimises S; each iteration costs
one vectorised evaluation of F and g at all K midpoints (the K steps form one batch: O(K (N + E))).
For small systems the result is polished by Newton steps with the exact Hessian, which is
block-tridiagonal in time (``columns.solvers.gauss_newton``): quadratic convergence to max|∂S/∂z| ≤ 1e-10.

Momenta (the discrete Legendre transform of L_d; at the minimiser they are continuous across
steps, and p_K = 0 exactly):

    p_k = ∂L_d(q_{k−1}, q_k)/∂q_k  (k ≥ 1),     p_0 = −∂L_d(q_0, q_1)/∂q_0

Receding horizon (long streams): windows of ``window`` steps; the first ``window − overlap`` are
committed, the next window starts at the committed end and is warm-started with the rest of the
previous solution. ``LeastAction(window=…, overlap=…)`` (or ``simulate(solver="least_action",
window=…, overlap=…)``) drives it chunk by chunk (memory bounded by a window); its carry is the
warm start of the next window and the convergence record. At a commit point the positions continue
but the momenta jump: the next window sees further into the future (the recording keeps the new
window's p there).

Conduction delays (``columns.solvers.delayed_action``): on a uniform grid the prior flow of step
k reads each delayed edge's signal at q̃_{k−L_e}; the positions before a window are the carry
("delay_past": the committed path, the initial state held constant before t₀).

Shapes: q (K+1, B, n) positions in ``network.canonical_pairs`` order; y (K+1, B, S).
"""

from __future__ import annotations

import math
import warnings

import torch

from graphs.errors import DivergenceError, SolverError

from .. import energy
from . import delayed_action, delays, options
from .base import Solver, options_dataclass
from .delayed_action import DelayedPath
from .gauss_newton import gauss_newton
from .newton_krylov import newton_krylov

RULES = ("midpoint", "left")
OPTIMIZERS = ("auto", "newton", "krylov", "lbfgs")
KRYLOV_WARMUP = 100
"""L-BFGS iterations before Newton–Krylov takes over (or fewer: down to ``polish_from``)."""


def stimulus_grid(network, times: torch.Tensor, batch: int) -> torch.Tensor:
    """s at each time, stacked. Shapes: times (K,) -> (K, B, N).

    Returns:
        s (K, B, N).
    """
    return torch.stack([network.stimulus_at(t, batch).expand(batch, -1) for t in times])


def discrete_lagrangian(network, qa: torch.Tensor, qb: torch.Tensor, dt: torch.Tensor,
                        s: torch.Tensor, rule: str = "midpoint", delayed=None) -> torch.Tensor:
    """L_d(q_a, q_b) for K steps at once; ``delayed``: the arriving signals of the K steps
    (``DelayedPath.receiver``; None: undelayed). Shapes: qa, qb (K, B, n); dt (K,); s (K, B, N)
    -> (K, B).

    Returns:
        L_d (K, B).
    """
    K, B, n = qa.shape
    q = 0.5 * (qa + qb) if rule == "midpoint" else qa
    v = (qb - qa) / dt.view(K, 1, 1)
    pos, _ = energy.canonical_pairs(network)
    y = torch.zeros(K * B, network.state_size, dtype=qa.dtype, device=qa.device)
    y = y.index_copy(1, pos, q.reshape(K * B, n))                                  # (K·B, S)
    sk = s.reshape(K * B, -1)
    F = energy.prior_flow(network, None, y, sk, delayed).reshape(K, B, n)
    m = energy.position_masses(network).to(qa)
    kin = 0.5 * (m * (v - F) ** 2).sum(-1)
    sen = energy.sensory_energy(network, None, y, sk).reshape(K, B)
    return dt.view(K, 1) * (kin + sen)


def _positions(q0, z, sdt, m_isqrt):
    """q_0..q_K from the scaled increments. Shapes: q0 (B, n), z (K, B, n) -> (K+1, B, n)."""
    steps = sdt.view(-1, 1, 1) * m_isqrt * z
    return torch.cat([q0.unsqueeze(0), q0.unsqueeze(0) + torch.cumsum(steps, 0)], 0)


def momenta(network, q: torch.Tensor, dt: torch.Tensor, s: torch.Tensor, rule: str = "midpoint",
            path: DelayedPath | None = None, past: torch.Tensor | None = None) -> torch.Tensor:
    """Discrete Legendre momenta p_0..p_K of a discrete path (with delays: ``path`` and the
    positions before the window ``past``, ``columns.solvers.delayed_action``).
    Shapes: q (K+1, B, n) -> same."""
    with torch.enable_grad():
        qa = q[:-1].detach().requires_grad_(True)
        qb = q[1:].detach().requires_grad_(True)
        delayed = None if path is None else \
            path.receiver(path.arriving(network, past, q.detach(), rule))
        Ld = discrete_lagrangian(network, qa, qb, dt, s, rule, delayed).sum()
        ga, gb = torch.autograd.grad(Ld, (qa, qb))
        if path is not None:                     # p_0 = −∂S/∂q_0, the delayed terms included
            q0 = q[:1].detach().requires_grad_(True)
            qq = torch.cat([q0, q[1:].detach()], 0)
            S = discrete_lagrangian(network, qq[:-1], qq[1:], dt, s, rule, path.receiver(
                path.arriving(network, past, qq, rule))).sum()
            ga = torch.autograd.grad(S, q0)[0]
    return torch.cat([-ga[:1], gb], 0)


def solve_window(network, q0: torch.Tensor, times: torch.Tensor, z0: torch.Tensor | None = None,
                 solver: "LeastAction | None" = None, polish_from: float | None = None,
                 path: DelayedPath | None = None, past: torch.Tensor | None = None,
                 **options) -> dict:
    """Minimise the action over one window with q(t_0) = q0 and a free end; with conduction
    delays, ``path`` (``DelayedPath``) and ``past`` (D, B, n), the positions of the D steps before
    t_0 (default: q0 held constant; ``columns.solvers.delayed_action``). The options are
    ``LeastAction``'s (``solver``'s, with ``options`` overriding: rule, max_iter, gtol, history,
    accept, optimizer, dense_max; their defaults are its field defaults).

    Optimisers: ``"lbfgs"`` (matrix-free, any size) runs until max|∂S/∂z| ≤ ``gtol`` (default
    1e-10 in float64, 1e-5 in float32) or no further progress; ``"newton"`` is L-BFGS down to
    ``polish_from`` (default 1e-5 / 1e-3) followed by Newton steps with the exact block-tridiagonal
    Hessian (``columns.solvers.gauss_newton``; quadratic convergence, dense n × n blocks);
    ``"krylov"`` is L-BFGS for at most ``KRYLOV_WARMUP`` iterations (down to ``polish_from``), then
    matrix-free trust-region Newton–CG (``columns.solvers.newton_krylov``; Hessian-vector
    products, any size) to ``gtol``, with L-BFGS as the fallback should its trust region
    collapse; ``"auto"`` picks newton when the window has at most ``dense_max`` positions per
    batch member, krylov otherwise.
    The window counts as converged when max|∂S/∂z| ≤ ``accept`` (1e-6 / 1e-3).

    Returns {"q" (K+1, B, n), "p" (K+1, B, n), "z" (K, B, n) (for warm starts), "action" (B,),
    "iterations", "evaluations", "grad_max", "converged", "optimizer"}.

    Returns:
        The dict described above.

    Raises:
        SolverError: options out of range, or the dense Newton polish asked for with delays.
    """
    la = solver if solver is not None and not options else \
        LeastAction(**{**(solver.settings if solver is not None else {}), **options})
    rule, max_iter, history, optimizer = la.rule, la.max_iter, la.history, la.optimizer
    if path is not None:
        optimizer = delayed_action.check_optimizer(optimizer)
        past = path.initial_past(q0) if past is None else past
    if optimizer == "auto":
        optimizer = "newton" if q0.shape[1] <= la.dense_max else "krylov"
    dt = times.diff().to(q0.dtype)
    K, B = dt.numel(), q0.shape[0]
    t_eval = times[:-1] + 0.5 * times.diff() if rule == "midpoint" else times[:-1]
    s = stimulus_grid(network, t_eval, B)
    m = energy.position_masses(network).to(q0)
    m_isqrt, sdt = m.rsqrt(), dt.sqrt()
    gtol, accept, polish = la.tolerances(q0.dtype)
    polish_from = polish if polish_from is None else polish_from
    z = (torch.zeros(K, B, q0.shape[1], dtype=q0.dtype, device=q0.device) if z0 is None
         else z0.detach().clone()).requires_grad_(True)
    first_tol = max(gtol, polish_from) if optimizer == "newton" else gtol
    opt = torch.optim.LBFGS([z], lr=1.0, max_iter=max_iter or 2000, history_size=history,
                            tolerance_grad=first_tol, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")
    count = [0]

    def action(zz):
        q = _positions(q0, zz, sdt, m_isqrt)
        delayed = None if path is None else path.receiver(path.arriving(network, past, q, rule))
        return discrete_lagrangian(network, q[:-1], q[1:], dt, s, rule, delayed).sum()

    def closure():
        z.grad = None
        S = action(z)
        S.backward()
        count[0] += 1
        return S

    krylov_iter = 0
    if optimizer == "krylov":     # L-BFGS while it is cheap progress, then Newton–Krylov
        warm = torch.optim.LBFGS([z], lr=1.0, max_iter=KRYLOV_WARMUP, history_size=history,
                                 tolerance_grad=max(gtol, polish_from), tolerance_change=0.0,
                                 line_search_fn="strong_wolfe")
        with torch.enable_grad():
            warm.step(closure)
        krylov_iter = int(warm.state[warm._params[0]].get("n_iter", 0))
        nk = newton_krylov(action, z.detach(), gtol, max_iter=max_iter or 100)
        with torch.no_grad():
            z.copy_(nk["z"])
        krylov_iter += nk["iterations"]
        count[0] += nk["iterations"] + 2 * nk["hvps"]
        if not nk["failed"] and nk["grad_max"] <= gtol:
            opt.param_groups[0]["max_iter"] = 1        # only the final gradient below

    with torch.enable_grad():
        opt.step(closure)
        S = closure().detach()
    if not math.isfinite(float(S)):
        raise DivergenceError("least_action: the action became non-finite (check the stimulus and "
                              "parameters; a smaller window or step may help)", float(times[0]))
    iterations = int(opt.state[opt._params[0]].get("n_iter", 0)) + krylov_iter
    gmax = float(z.grad.abs().max())
    with torch.no_grad():
        q = _positions(q0, z.detach(), sdt, m_isqrt)
    if optimizer == "newton" and gmax > gtol:
        a, b = (0.5, 0.5) if rule == "midpoint" else (1.0, 0.0)
        out = gauss_newton(network, q, dt, s, a, b, 30, gtol, newton=True)
        if out["grad_max"] < gmax:
            q, gmax = out["q"], out["grad_max"]
        iterations += out["iterations"]
        count[0] += out["iterations"]
    zq = (q[1:] - q[:-1]) / dt.view(-1, 1, 1) * (dt.view(-1, 1, 1) * m).sqrt()
    p = momenta(network, q, dt, s, rule, path, past)
    with torch.no_grad():
        delayed = None if path is None else path.receiver(path.arriving(network, past, q, rule))
        action = discrete_lagrangian(network, q[:-1], q[1:], dt, s, rule, delayed).sum(0)
    if not torch.isfinite(action).all():
        raise DivergenceError("least_action: the action became non-finite", float(times[0]))
    return {"q": q, "p": p, "z": zq, "action": action, "iterations": iterations,
            "evaluations": count[0], "grad_max": gmax, "converged": gmax <= accept,
            "optimizer": optimizer}


def check_choices(rule: str, optimizer: str) -> None:
    """``SolverError`` naming a rule or an optimizer that does not exist."""
    if rule not in RULES:
        raise SolverError(f"least_action: rule must be one of {RULES}, got {rule!r}")
    if optimizer not in OPTIMIZERS:
        raise SolverError(f"least_action: optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")


def assemble(network, q: torch.Tensor, p: torch.Tensor, y_ref: torch.Tensor) -> torch.Tensor:
    """Full states from positions and momenta. Shapes: q, p (K, B, n); y_ref (B, S) -> (K, B, S)."""
    pos, mom = energy.canonical_pairs(network)
    y = y_ref.unsqueeze(0).expand(q.shape[0], -1, -1).clone()
    y[..., pos] = q
    y[..., mom] = p
    return y


@options_dataclass
class LeastAction(Solver):
    """Receding-horizon least action (module ``columns.solvers.least_action``). Final class.

    Options: window (grid steps per window; default one window over the whole grid), overlap
    (steps of a window past its committed part; default window // 2), rule ("midpoint" |
    "left"), optimizer ("auto" | "newton" | "lbfgs"), max_iter, gtol, history, accept,
    dense_max (see ``solve_window``).
    Carry: "z_next" (the warm start), and the record "windows", "iterations_max", "grad_max",
    "converged" (also the recording's ``solver_*`` diagnostics).
    """

    name = "least_action"
    takes_delays = True
    window: int | None = None
    overlap: int | None = None
    rule: str = "midpoint"
    max_iter: int | None = None
    gtol: float | None = None
    history: int = 50
    accept: float | None = None
    optimizer: str = "auto"
    dense_max: int = 64

    def validate(self):
        check_choices(self.rule, self.optimizer)
        options.integer(self, "window", 2, optional=True)
        options.integer(self, "overlap", 0, optional=True)
        options.integer(self, "max_iter", 1, optional=True)
        options.number(self, "gtol", optional=True)
        options.number(self, "accept", optional=True)
        options.integer(self, "history", 1)
        options.integer(self, "dense_max", 0)
        window, overlap = self.window, self.overlap
        if window is None:
            if overlap:
                raise SolverError("least_action: 'overlap' needs 'window'")
            return
        overlap = overlap if overlap is not None else window // 2
        if window < 2 or not 0 <= overlap < window:
            raise SolverError(f"least_action: need window >= 2 and 0 <= overlap < window, got "
                              f"window={window}, overlap={overlap}")
        self._resolve(window=window, overlap=overlap)

    def tolerances(self, dtype) -> tuple[float, float, float]:
        """(gtol, accept, polish_from) in ``dtype``: the options, or their defaults 1e−10, 1e−6,
        1e−5 in float64 (1e−5, 1e−3, 1e−3 in float32); accept is at least gtol.

        Returns:
            (gtol, accept, polish_from) as floats.
        """
        f64 = dtype == torch.float64
        gtol = (1e-10 if f64 else 1e-5) if self.gtol is None else self.gtol
        accept = max(gtol, (1e-6 if f64 else 1e-3) if self.accept is None else self.accept)
        return gtol, accept, 1e-5 if f64 else 1e-3

    def chunk(self, requested, n_intervals):
        """Committed steps per window (the whole grid without ``window``).

        Returns:
            Steps committed per window.
        """
        return n_intervals if self.window is None else self.window - self.overlap

    def work(self, network, batch, chunk):
        """A window's path at once: (window) × batch × state size.

        Returns:
            The element count.
        """
        return (chunk + int(self.overlap or 0)) * batch * network.state_size

    def start(self, network, grid, y0):
        carry = {"z_next": None, "windows": 0, "iterations_max": 0, "grad_max": 0.0,
                 "converged": True}
        if delays.first_delayed_edge(network) is None or grid.numel() < 2:
            return carry
        h = float(grid[1] - grid[0])
        delays.uniform_step(grid, h, "the grid's")
        path = self._path(network, h)
        if path.max_lag == 0:
            return carry
        if self.optimizer == "newton":
            delayed_action.check_optimizer(self.optimizer)
        pos, _ = energy.canonical_pairs(network)
        return {**carry, "delay_past": path.initial_past(y0[:, pos]), "delays": path.report}

    def _path(self, network, h: float | None = None) -> DelayedPath:
        """The run's ``DelayedPath`` at grid step h (built once per network and step)."""
        net, path = self.__dict__.get("_delayed_path", (None, None))
        if net is not network or (h is not None and path.report["step"] != h):
            path = DelayedPath(network, h)
            self.__dict__["_delayed_path"] = (network, path)
        return path

    def advance(self, network, y, grid, k0, k1, carry):
        """One receding-horizon commit: the path on grid[k0..k1] from the window that extends
        ``overlap`` steps past it. Shapes: y (B, S) -> (K, B, S).

        Returns:
            (states (K, B, S) on grid[k0..k1], the carry with the warm start of the next window).
        """
        look = 0 if self.overlap is None else int(self.overlap)
        times = grid[k0:min(k1 + look, grid.numel() - 1) + 1]
        pos, _ = energy.canonical_pairs(network)
        z0, prev = None, carry["z_next"]
        if prev is not None and prev.shape[1:] == (y.shape[0], pos.numel()):
            K = times.numel() - 1
            z0 = torch.zeros(K, *prev.shape[1:], dtype=prev.dtype, device=prev.device)
            m = min(K, prev.shape[0])
            z0[:m] = prev[:m]
            if 0 < m < K:
                z0[m:] = prev[m - 1]
        n_commit = k1 - k0
        past = carry.get("delay_past")
        path = None if past is None else self._path(network, carry["delays"]["step"])
        sol = solve_window(network, y[:, pos], times, z0, self, path=path, past=past)
        if not sol["converged"]:
            warnings.warn(f"least_action: window at t = {float(times[0]):.4g} stopped after "
                          f"{sol['iterations']} iterations with max|∇S| = {sol['grad_max']:.2e}; "
                          "raise max_iter or shorten the window", RuntimeWarning, stacklevel=2)
        carry = {"z_next": sol["z"][n_commit:], "windows": carry["windows"] + 1,
                 "iterations_max": max(carry["iterations_max"], sol["iterations"]),
                 "grad_max": max(carry["grad_max"], sol["grad_max"]),
                 "converged": carry["converged"] and bool(sol["converged"])}
        if path is not None:
            carry.update(delay_past=path.next_past(past, sol["q"], n_commit),
                         delays=path.report)
        return assemble(network, sol["q"][:n_commit + 1], sol["p"][:n_commit + 1], y), carry

    def diagnostics(self, carry):
        return {"solver_windows": carry["windows"], "solver_iterations_max": carry["iterations_max"],
                "solver_grad_max": carry["grad_max"], "solver_converged": carry["converged"],
                **delays.diagnostics(carry)}
