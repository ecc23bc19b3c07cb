"""``riccati``: causal stable-manifold feedback for small systems (docs/theory.md §3).

At each output time t_k the fixed point q*(s(t_k)) is followed by Newton continuation on ∇U
(starting from the minimum of U nearest the initial state), Hamilton's equations are linearised
there, J = [[A, M⁻¹], [−H_qq, −Aᵀ]] (canonical order), and the continuous algebraic Riccati
equation

    Aᵀ X + X A − X M⁻¹ X + Q = 0,      Q = −H_qq

is solved for its stabilising solution X (scipy ``solve_continuous_are``). The momenta follow
the stable manifold p − p* = −X (q − q*), so

    q̇ = M⁻¹ (p*(t) − X(t) (q − q*(t))) + F(q; s(t)),

integrated with RK4 (``substeps`` per output interval; q*, p*, X interpolated linearly in t).
Closed-loop eigenvalues eig(A − M⁻¹ X) equal the stable eigenvalues of J. A fixed point with
centre directions (imaginary eigenvalues) has no stabilising X: a ``SolverError`` names the time.
Dense: for at most ``max_positions`` positions; batch members are handled one after another.

Shapes: y (B, S); ts (K,) -> (K, B, S).
"""

from __future__ import annotations

import numpy as np
import torch

from graphs.errors import SolverError

from .. import energy, landscape
from . import options
from .base import Solver, options_dataclass


def care_gain(J: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Stabilising X of the CARE built from a canonical-order Jacobian J, and the closed-loop
    eigenvalues. Shapes: J (2n, 2n) -> X (n, n), (n,) complex."""
    from scipy.linalg import solve_continuous_are
    n = J.shape[0] // 2
    Jn = J.detach().cpu().numpy()
    A, Minv, Q = Jn[:n, :n], Jn[:n, n:], Jn[n:, :n]
    Q = 0.5 * (Q + Q.T)
    try:
        X = solve_continuous_are(A, np.eye(n), Q, np.linalg.inv(Minv))
    except (np.linalg.LinAlgError, ValueError) as err:
        ev = np.linalg.eigvals(Jn)
        raise SolverError("riccati: no stabilising Riccati solution (the fixed point has "
                          f"eigenvalues on the imaginary axis: {np.round(ev, 6).tolist()}): {err}") from err
    closed = np.linalg.eigvals(A - Minv @ X)
    return torch.as_tensor(X, dtype=J.dtype, device=J.device), torch.as_tensor(closed)


def _plan(network, y1: torch.Tensor, ts: torch.Tensor, q_prev: torch.Tensor | None):
    """q*, p*, X at every output time for one batch member (continuation from ``q_prev``, the
    last chunk's fixed point); and the last fixed point."""
    pos, mom = energy.canonical_pairs(network)
    if q_prev is None:          # the minimum of U reached by descending from the initial state
        q_prev = _descend(network, y1[pos], ts[0])
    qs, ps, Xs = [], [], []
    for t in ts:
        q, g = landscape.newton(network, q_prev.unsqueeze(0), t)
        if not torch.isfinite(q).all() or float(g[0]) > 1e-8 * (1 + float(q.abs().max())):
            raise SolverError(f"riccati: lost the fixed point at t = {float(t):.6g} (Newton on ∇U "
                              "did not converge); the stimulus may have crossed a bifurcation")
        q_prev = q[0]
        y = energy.momenta_at_rest(network, t, landscape.positions_to_state(network, q))
        X, _ = care_gain(landscape.jacobian(network, y, t))
        qs.append(q[0])
        ps.append(y[0, mom])
        Xs.append(X)
    return torch.stack(qs), torch.stack(ps), torch.stack(Xs), q_prev


def _descend(network, q0, t, iters: int = 200):
    x = q0.detach().clone().unsqueeze(0).requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=iters, tolerance_grad=1e-12, tolerance_change=0.0,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        U = landscape.energy_of_positions(network, x, t).sum()
        U.backward()
        return U
    with torch.enable_grad():
        opt.step(closure)
    return x.detach()[0]


@options_dataclass
class Riccati(Solver):
    """Stable-manifold feedback (module ``columns.solvers.riccati``). Final class.

    Options: substeps (RK4 steps per output interval, 10), max_positions (200).
    Carry: "q_star", each batch member's last fixed point (the continuation's start).
    """

    name = "riccati"
    substeps: int = 10
    max_positions: int = 200

    def validate(self):
        options.integer(self, "substeps", 1)
        options.integer(self, "max_positions", 1)

    def check(self, network):
        n = energy.canonical_pairs(network)[0].numel()
        if n > self.max_positions:
            raise SolverError(f"riccati is dense: the network has {n} positions (> "
                              f"max_positions = {self.max_positions}); use least_action for large "
                              "networks")

    def start(self, network, grid, y0):
        return {"q_star": [None] * y0.shape[0]}

    def advance(self, network, y, grid, k0, k1, carry):
        """Integrate the Riccati-feedback closed loop over grid[k0..k1] (``simulate`` has run
        ``check``).

        Returns:
            (states (K, B, S) on grid[k0..k1], the carry).
        """
        q_star = list(carry["q_star"])
        traj = _closed_loop(network, y, grid[k0:k1 + 1], q_star, int(self.substeps))
        return traj, {"q_star": q_star}


def _closed_loop(network, y, ts, q_star: list, substeps: int) -> torch.Tensor:
    """RK4 on the closed loop for every batch member; updates ``q_star`` in place."""
    pos, mom = energy.canonical_pairs(network)
    out = []
    for b in range(y.shape[0]):
        qs, ps, Xs, q_star[b] = _plan(network, y[b], ts, q_star[b])
        q = y[b, pos].clone()
        traj = [q]
        for k in range(ts.numel() - 1):
            t0, t1 = ts[k], ts[k + 1]
            h = (t1 - t0) / substeps

            def field(t, q, k=k, t0=t0, t1=t1):
                a = ((t - t0) / (t1 - t0)).clamp(0, 1)
                qs_ = qs[k] + a * (qs[k + 1] - qs[k])
                ps_ = ps[k] + a * (ps[k + 1] - ps[k])
                X_ = Xs[k] + a * (Xs[k + 1] - Xs[k])
                p = ps_ - X_ @ (q - qs_)
                yy = y[b:b + 1].index_copy(1, pos, q.unsqueeze(0))
                yy = yy.index_copy(1, mom, p.unsqueeze(0))
                return network(t, yy)[0, pos]

            for j in range(substeps):
                t = t0 + j * h
                k1 = field(t, q)
                k2 = field(t + h / 2, q + h / 2 * k1)
                k3 = field(t + h / 2, q + h / 2 * k2)
                k4 = field(t + h, q + h * k3)
                q = q + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            traj.append(q)
        qt = torch.stack(traj)                                            # (K, n)
        pt = ps - torch.einsum("kij,kj->ki", Xs, qt - qs)
        yb = y[b].unsqueeze(0).expand(qt.shape[0], -1).clone()
        yb[:, pos] = qt
        yb[:, mom] = pt
        out.append(yb)
    return torch.stack(out, 1)
