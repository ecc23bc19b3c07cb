"""Least action with conduction delays: the delayed terms of a window's discretised action.

With delays the prior flow of step k reads, on edge e: j → i, the signal sent L_e = round(d_e / Δt)
steps earlier, at the same point of its step (the rule's evaluation point):

    x_e,k = x_j(q̃_{k−L_e}),     q̃_m = (q_m + q_{m+1}) / 2   (rule "midpoint"),   q̃_m = q_m   ("left")
    L_d,k = Δt [½ (v_k − F(q̃_k; x_{·,k}))ᵀ M (v_k − F(q̃_k; x_{·,k})) + ½ Σ_i m_z,i (s_i − g_i(q̃_k))²]

so S = Σ_k L_d,k reads the path up to D = max L_e steps back. Positions q_m with m < 0 are the
path before the window: the committed positions of the finished windows (fixed, not variables)
and, before t₀, the initial positions held constant (the fixed-step solvers' default history).
Inside the window they are the variables: ∂S/∂q_k collects the delayed terms of later steps
(autograd through one gather), which L-BFGS and Newton–Krylov take as they are. The dense
Newton polish (``columns.solvers.gauss_newton``) assumes a block-tridiagonal Hessian in time,
which delays break: it is refused by name, and ``optimizer="auto"`` picks Newton–Krylov.

Edges with L_e = 0 read the step's own signal inside the network (as undelayed edges do), so a
graph whose delays all round to zero steps runs the undelayed solver.

Momenta: p_k = ∂S_{<k}/∂q_k (k ≥ 1) with S_{<k} = Σ_{j<k} L_d,j, which reads q_k only through
step k − 1 (L_e ≥ 1 edges of step k − 1 read q̃_{≤k−2}), so p_k = ∂L_d,k−1/∂q_k as without delays;
p_0 = −∂S/∂q_0 (the whole window, its delayed terms included). At the minimiser p_K = 0.

Shapes: past (D, B, n) positions at t₀ − D Δt … t₀ − Δt; q (K+1, B, n); arriving (K, B, E).
"""

from __future__ import annotations

import torch

from graphs.errors import SolverError

from .. import energy
from . import delays


class DelayedPath:
    """The lags of a delayed network at grid step ``h`` and the signals a window's steps read."""

    def __init__(self, network, h: float):
        line = delays.DelayLine(network, h)                     # lags, rounding warning, report
        self.lag, self.src, self.max_lag, self.report = line.lag, line.src, line.max_lag, line.report
        self.mask = line.mask                                   # (1, E): L_e ≥ 1

    def initial_past(self, q0: torch.Tensor) -> torch.Tensor:
        """The constant history: q0 at each of the D steps before t₀. Shapes: (B, n) -> (D, B, n)."""
        delays.check_memory(float(self.max_lag) * q0.numel() * q0.element_size(), q0.device,
                            f"the path before the window ({self.max_lag} steps × {q0.shape[0]} × "
                            f"{q0.shape[1]} positions, the longest delay "
                            f"{self.report['max_delay']:g})",
                            "use a coarser time grid, shorter delays or a smaller batch")
        return q0.unsqueeze(0).expand(self.max_lag, -1, -1).clone()

    def next_past(self, past: torch.Tensor, q: torch.Tensor, n_commit: int) -> torch.Tensor:
        """The D positions before the next window's start (committed step ``n_commit``)."""
        return torch.cat([past, q[:n_commit]], 0)[-self.max_lag:].detach().clone()

    def arriving(self, network, past: torch.Tensor, q: torch.Tensor, rule: str) -> torch.Tensor:
        """x_j(q̃_{k−L_e}) for every step k and edge e (values of L_e = 0 edges are unused: the
        network computes them). Differentiable in q. Shapes: past (D, B, n), q (K+1, B, n) ->
        (K, B, E)."""
        K, B, n = q.shape[0] - 1, q.shape[1], q.shape[2]
        D, N = self.max_lag, network.n_nodes
        path = torch.cat([past, q], 0)                                        # (D+K+1, B, n)
        qt = 0.5 * (path[:-1] + path[1:]) if rule == "midpoint" else path[:-1]  # (D+K, B, n)
        pos, _ = energy.canonical_pairs(network)
        y = torch.zeros((D + K) * B, network.state_size, dtype=q.dtype, device=q.device)
        y = y.index_copy(1, pos, qt.reshape(-1, n))
        x = network.send(network.layout.split(y)[0]).view(D + K, B, N)        # (D+K, B, N)
        steps = torch.arange(K, device=q.device).unsqueeze(1) + D - self.lag.unsqueeze(0)  # (K, E)
        flat = x.permute(1, 0, 2).reshape(B, (D + K) * N)
        return flat[:, (steps * N + self.src).reshape(-1)].view(B, K, -1).transpose(0, 1)

    def receiver(self, arriving: torch.Tensor):
        """The ``delayed`` function of ``network.forward`` for K steps at once: L_e ≥ 1 edges
        take ``arriving``, L_e = 0 edges the step's own x_j. Shapes: arriving (K, B, E)."""
        a = arriving.reshape(-1, arriving.shape[-1])                          # (K·B, E)
        return lambda x: torch.where(self.mask, a, x.index_select(-1, self.src))


def check_optimizer(optimizer: str) -> str:
    """The optimizer a delayed window runs: "newton" refused by name, "auto" -> "krylov"."""
    if optimizer == "newton":
        raise SolverError("least_action: optimizer 'newton' polishes with a block-tridiagonal "
                          "Hessian in time, which conduction delays break; use optimizer='krylov' "
                          "(Newton–Krylov, Hessian-vector products) or 'lbfgs' ('auto' picks "
                          "krylov for delayed networks)")
    return "krylov" if optimizer == "auto" else optimizer
