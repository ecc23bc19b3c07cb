"""The maze agent of Isomura et al. (2022): canonical networks batched over mazes (code semantics).

Each agent is a canonical network with 121 middle neurons x (the hidden-state posterior), 121
inputs o (its 11 × 11 view) and 256 output neurons y (decisions; neuron k codes a 4-move sequence
of which the first move, k // 64 ∈ {up, down, left, right}, is executed). At step t (t = 2..T):

    pos_t = move(pos_{t−1}, a_{t−1});  o_t = view(pos_t)
    x_t   = sig(ln Ā_{1·}·(o; ō) − ln Ā_{0·}·(o; ō) + ln B̄†_{1·}·(x′; x̄′) − ln B̄†_{0·}·(x′; x̄′) + ln D1 − ln D0)
    y_t   = sig(ln C̄†_{1·}·(x′; x̄′) − ln C̄†_{0·}·(x′; x̄′) + ln E1 − ln E0),     x′ = x_{t−1}
    d_t ~ P(k) ∝ y_k / (1 − y_k + 10⁻⁶)     (the authors' capped odds, as 1/(e^{−v}(1+10⁻⁶)+10⁻⁶))
    G_t = risk(pos_{t−1}, pos_t)

with ln Ā the log of the Dirichlet means (floored at 10⁻⁶ as in the code). After the trial (goal
or T steps): A += Σ_t (o; ō) ⊗ (x; x̄), B† += Σ_t (x_{t−1}; x̄_{t−1}) ⊗ (x; x̄), and per 200-step
block b (pairs τ = t − 1 in the block, risk G_τ with G_1 = 0, as in the code):
net = 200 (1 − 2 mean G) ; Γ = 0.55 if net ≤ 0, 0.45 if net ≤ 10, else 0;
C† ← max(C† + (1 − 2Γ) Σ_τ (x_τ; x̄_τ) ⊗ (d_{τ+1}; 1 − d_{τ+1}), 1).

Agents run in 200-step blocks (``agent_steps``: all agents in lockstep with torch, or each agent
in a compiled loop on a CPU); after each block the block sums are batched matrix products and
agents that reached the goal leave the batch. The decision draws come from
``counter_uniform(seed_m, step)`` per agent, so an agent's run does not depend on its batch.

Shapes: M agents; counts A (M, 2, 2, 121, 121) [o value, s value, s, o]; B (M, 2, 2, 121, 121)
[s′ value, s value, s, s′]; C (M, 2, 2, 256, 121) [s′ value, δ value, δ, s′]; D (121,), E (M, 256).
"""

from __future__ import annotations

import torch

from columns.rng import counter_uniform_steps
from .agent_steps import (c_update_numba, c_update_torch, numba_available, steps_numba,
                          steps_torch)
from .maze import Mazes

NO = NS = 121
ND = 256
BLOCK = 200


def prior_E(e_right: float) -> torch.Tensor:
    """P(δ_k = 1) per output neuron: (0.25, 0.25, 0.5 − e_r, e_r) / 64 over (up, down, left, right)."""
    per = torch.tensor([0.25, 0.25, 0.5 - e_right, e_right], dtype=torch.float64) / (ND // 4)
    return per.repeat_interleave(ND // 4)


def initial_counts(M: int, dtype=torch.float64, device=None) -> dict[str, torch.Tensor]:
    """The authors' priors: A ≈ identity at 0.99 (1e7 + 9.9e8), B† uniform (1e7), C† uniform (3000)."""
    A = torch.full((M, 2, 2, NS, NO), 1e7, dtype=dtype, device=device)
    eye = torch.eye(NS, NO, dtype=dtype, device=device) * 9.9e8
    A[:, 1, 1] += eye
    A[:, 0, 0] += eye
    B = torch.full((M, 2, 2, NS, NS), 1e7, dtype=dtype, device=device)
    C = torch.full((M, 2, 2, ND, NS), 3000.0, dtype=dtype, device=device)
    return {"A": A, "B": B, "C": C}


def _log_means(c: torch.Tensor):
    """(ln P(1|1), ln P(0|1), ln P(1|0), ln P(0|0)) floored like the code. c (M, 2, 2, n, m)."""
    p1 = (c[:, 1, 1] / (c[:, 1, 1] + c[:, 0, 1])).clamp(1e-6, 1 - 1e-6)
    p0 = (c[:, 1, 0] / (c[:, 1, 0] + c[:, 0, 0])).clamp(1e-6, 1 - 1e-6)
    return torch.log(p1), torch.log1p(-p1), torch.log(p0), torch.log1p(-p0)


def _linear(c: torch.Tensor):
    """v_1 − v_0 = Mᵀ v + k for the factor (v; v̄): M (M, m, n), k (M, n)."""
    l11, l01, l10, l00 = _log_means(c)
    return (l11 - l01 - l10 + l00).mT, (l01 - l00).sum(-1)


class MazeAgents:
    """M canonical-network agents, one per maze, learning across trials. Final class.

    Args:
        mazes: ``Mazes`` (M mazes).
        E: (M, 256) or (256,) decision prior P(δ_k = 1).
        seeds: (M,) ints for the decision draws.
        T: maximum steps per trial (20 000).
        dtype: of the per-step inference and of the block products (counts accumulate in float64).
        backend: "numba" (CPU: each agent's block in a compiled loop, agents in parallel),
            "torch" (all agents in lockstep, one batched product per step: any device) or
            "auto" (numba on a CPU when it is installed).
    """

    def __init__(self, mazes: Mazes, E, seeds, T: int = 20000, dtype=torch.float32,
                 backend: str = "auto"):
        if backend not in ("auto", "torch", "numba"):
            raise ValueError(f"MazeAgents: backend must be 'auto', 'torch' or 'numba', got {backend!r}")
        if backend == "auto":
            backend = "numba" if mazes.device.type == "cpu" and numba_available() else "torch"
        if backend == "numba" and mazes.device.type != "cpu":
            raise ValueError("MazeAgents: backend='numba' runs on the CPU; use 'torch' on "
                             f"{mazes.device}")
        self.env, self.T, self.dtype, self.backend = mazes, int(T), dtype, backend
        dev = mazes.device
        M = mazes.n
        self.E = torch.as_tensor(E, dtype=torch.float64, device=dev).expand(M, ND).clone()
        self.seeds = torch.as_tensor(seeds, dtype=torch.int64, device=dev)
        self.counts = initial_counts(M, device=dev)
        self.trials_done = 0
        self.views = mazes.all_views().to(dtype)                       # (M, P, 121), static
        self.views_flat = self.views.reshape(-1, NO)
        # a step is one row f = (m·P + cell)·5 + action of the move tables: the next cell's view
        # row, the next step's row (less its action), whether it reaches the goal, its risk
        nxt, risk = mazes.transitions()                                  # (M, P, 5) each
        P = nxt.shape[1]
        m = torch.arange(M, device=dev).view(-1, 1, 1)
        self.P = P
        self.row = (m * P + nxt).reshape(-1)                              # its new cell's view row
        self.fnext = (m * (P * 5) + nxt * 5).reshape(-1)                 # next step's row − its action
        self.arrive = (nxt == P - 1).reshape(-1)                         # this move reaches the goal
        self.risk_flat = risk.reshape(-1)

    def _terms(self):
        """Per-trial linear forms of the log-means: the input drive at every cell (incl. ln B̄
        offset) (M·P, 121), the recurrent and decision weights [B† | C†] (M, 121, 377) and the
        decision offsets (M, 256)."""
        dt = self.dtype
        Mo, ko = _linear(self.counts["A"])
        Mb, kb = _linear(self.counts["B"])
        Mc, kc = _linear(self.counts["C"])
        lnE = torch.log(self.E.clamp(min=1e-6)) - torch.log((1 - self.E).clamp(min=1e-6))
        W = torch.cat([Mb, Mc], -1).to(dt)                               # (M, 121, 121 + 256)
        drive = torch.bmm(self.views, Mo.to(dt)) + (ko + kb).to(dt).unsqueeze(1)   # ln D1 − ln D0 = 0
        return drive.reshape(-1, NS), W, (kc + lnE).to(dt)

    def trial(self, record_path: bool = False) -> dict:
        """One trial for every agent; learning applied at the end.

        Returns {"time": (M,) step at the goal (T if not reached), "decisions": (M, 256) how often
        each output neuron was drawn, "path": (M, T) cell indices (−1 after the goal) if asked}.
        Agents step in 200-step blocks; those that reached the goal leave the batch after theirs.
        """
        env, dev, dt = self.env, self.env.device, self.dtype
        M, P = env.n, self.P
        drive, W, kd = self._terms()
        stepper = steps_numba if self.backend == "numba" else steps_torch
        ids = torch.arange(M, device=dev)                                # active agents
        start = env.cell_index(env.start())
        f = ids * (P * 5) + start * 5 + 4                                # row (agent, cell, action); 4 = stay
        G_last = torch.zeros(M, dtype=torch.float64, device=dev)         # G_1 = 0
        x = torch.full((M, NS), 0.5, dtype=dt, device=dev)               # code: qs(:, 1) = D
        time = torch.full((M,), self.T, dtype=torch.int64, device=dev)
        acc = {k: torch.zeros((M,) + shape, dtype=torch.float64, device=dev) for k, shape in
               (("xo", (NS, NO)), ("xx", (NS, NS)), ("x", (NS,)), ("o", (NO,)), ("xp", (NS,)),
                ("n", ()))}
        C = self.counts["C"].clone()
        dec = torch.zeros(M, ND, dtype=torch.float64, device=dev)
        path = torch.full((M, self.T), -1, dtype=torch.int64, device=dev) if record_path else None
        if record_path:
            path[:, 0] = start
        step0 = self.trials_done * self.T
        t = 2
        while t <= self.T and len(ids):
            K = min(BLOCK - (t - 2) % BLOCK, self.T - t + 1)            # steps left in this block
            xs = torch.empty(len(ids), K + 1, NS, dtype=dt, device=dev)  # x_{t−1}, x_t, ...
            xs[:, 0] = x
            fs = torch.empty(len(ids), K, dtype=torch.int64, device=dev)
            ds = torch.empty_like(fs)
            U = counter_uniform_steps(self.seeds[ids], torch.arange(step0 + t, step0 + t + K), dt, dev)
            f, n, reached = stepper(W, drive, kd, self.row, self.fnext, self.arrive, ids, f, xs, fs,
                                    ds, U)
            valid = torch.arange(fs.shape[1], device=dev) < n.unsqueeze(1)   # (Ma, K′)
            fs, ds = fs.where(valid, 0), ds.where(valid, 0)
            xs = xs[:, :fs.shape[1] + 1].where(torch.cat([valid[:, :1], valid], 1).unsqueeze(-1), 0)
            if record_path:
                cells = self.row[fs] - (ids * P).unsqueeze(1)
                k = torch.arange(fs.shape[1], device=dev).expand_as(fs)
                path[ids.unsqueeze(1).expand_as(fs)[valid], (t - 1 + k)[valid]] = cells[valid]
            time[ids[reached]] = t + n[reached] - 1
            G_last = self._flush(ids, xs, fs, ds, G_last, n, acc, C, dec)
            x = xs[torch.arange(len(ids), device=dev), n]
            keep = ~reached
            ids, f, x, G_last = ids[keep], f[keep], x[keep], G_last[keep]
            t += K
        self.counts["A"] += self._tables(acc["xo"], acc["x"], acc["o"], acc["n"])
        self.counts["B"] += self._tables(acc["xx"], acc["x"], acc["xp"], acc["n"])
        self.counts["C"] = C
        self.trials_done += 1
        out = {"time": time.cpu(), "decisions": dec.cpu()}
        if record_path:
            out["path"] = path.cpu()
        return out

    @staticmethod
    def _tables(prod, s_post, s_pre, n):
        """2 × 2 count tables [pre value, post value] of n steps from the sums Σ post ⊗ pre
        (prod (M, n_post, n_pre)), Σ post (M, n_post), Σ pre (M, n_pre): with x̄ = 1 − x,
        Σ x̄ ⊗ p̄ = n − Σp − Σx + Σ x ⊗ p etc. Returns (M, 2, 2, n_post, n_pre)."""
        sp, sx, nn = s_pre.unsqueeze(1), s_post.unsqueeze(2), n.view(-1, 1, 1).to(prod.dtype)
        return torch.stack([torch.stack([nn - sp - sx + prod, sx - prod]),
                            torch.stack([sp - prod, prod])]).permute(2, 0, 1, 3, 4)

    def _flush(self, ids, xs, fs, ds, G_last, n, acc, C, dec):
        """Add one block of agents ``ids`` (n[a] ≤ K steps each) to the pending sums of A and B
        and to C (with the block's Γ). xs (Ma, K + 1, 121) = x_{t0−1}..x_{t0+K−1}; fs (Ma, K) the
        move-table rows of the steps; ds (Ma, K) decisions; entries past n are zero. G_last (Ma,):
        the risk before the block. Returns the risk of each agent's last step (for the next)."""
        Ma, K = fs.shape
        f64 = torch.float64
        valid = torch.arange(K, device=fs.device) < n.unsqueeze(1)
        w = valid.to(xs.dtype).unsqueeze(-1)
        o = self.views_flat[self.row[fs].view(-1)].view(Ma, K, NO) * w
        x, xp = xs[:, 1:], xs[:, :-1] * w
        for key, v in (("xo", x.mT @ o), ("xx", x.mT @ xp), ("x", x.sum(1)), ("o", o.sum(1)),
                       ("xp", xp.sum(1)), ("n", n)):
            acc[key].index_add_(0, ids, v.to(f64))                       # products in dtype
        G = self.risk_flat[fs]                                           # G_t of each step
        Gpair = torch.cat([G_last.unsqueeze(1), G[:, :-1]], 1)            # G_τ of pair (x_τ, d_τ+1)
        net = BLOCK * (1 - 2 * (Gpair * valid).sum(1) / n)
        g = torch.ones_like(net)                                         # (1 − 2Γ) of this block:
        g[net <= 10] = 1 - 2 * 0.45                                      # Γ = 0.45 if net ≤ 10,
        g[net <= 0] = 1 - 2 * 0.55                                       # 0.55 if net ≤ 0, else 0
        if self.backend == "numba":
            c_update_numba(C, ids, xp, ds, n, g, dec)
        else:
            c_update_torch(C, ids, xp, ds, n, g, dec)
        return G[torch.arange(Ma, device=fs.device), n - 1]
