"""The maze agent of Isomura et al. (2022): canonical networks batched over mazes (code semantics).

Each agent is a canonical network with 121 middle neurons x (the hidden-state posterior), 121
inputs o (its 11 × 11 view) and 256 output neurons y (decisions; neuron k codes a 4-move sequence
of which the first move, k // 64 ∈ {up, down, left, right}, is executed). At step t (t = 2..T):

    pos_t = move(pos_{t−1}, a_{t−1});  o_t = view(pos_t)
    x_t   = sig(ln Ā_{1·}·(o; ō) − ln Ā_{0·}·(o; ō) + ln B̄†_{1·}·(x′; x̄′) − ln B̄†_{0·}·(x′; x̄′) + ln D1 − ln D0)
    y_t   = sig(ln C̄†_{1·}·(x′; x̄′) − ln C̄†_{0·}·(x′; x̄′) + ln E1 − ln E0),     x′ = x_{t−1}
    d_t ~ P(k) ∝ y_k / (1 − y_k + 10⁻⁶)     (the authors' capped odds, computed in log space)
    G_t = risk(pos_{t−1}, pos_t)

with ln Ā the log of the Dirichlet means (floored at 10⁻⁶ as in the code). After the trial (goal
or T steps): A += Σ_t (o; ō) ⊗ (x; x̄), B† += Σ_t (x_{t−1}; x̄_{t−1}) ⊗ (x; x̄), and per 200-step
block b (pairs τ = t − 1 in the block, risk G_τ with G_1 = 0, as in the code):
net = 200 (1 − 2 mean G) ; Γ = 0.55 if net ≤ 0, 0.45 if net ≤ 10, else 0;
C† ← max(C† + (1 − 2Γ) Σ_τ (x_τ; x̄_τ) ⊗ (d_{τ+1}; 1 − d_{τ+1}), 1).

All agents step together (finished ones masked); the block sums are batched matrix products; the
decision draws come from ``counter_uniform(seed_m, step)`` per agent (batch-independent).

Shapes: M agents; counts A (M, 2, 2, 121, 121) [o value, s value, s, o]; B (M, 2, 2, 121, 121)
[s′ value, s value, s, s′]; C (M, 2, 2, 256, 121) [s′ value, δ value, δ, s′]; D (121,), E (M, 256).
"""

from __future__ import annotations

import math

import torch

from ..langevin import counter_uniform
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
        dtype: of the per-step inference (counts are float64).
    """

    def __init__(self, mazes: Mazes, E, seeds, T: int = 20000, dtype=torch.float32):
        self.env, self.T, self.dtype = mazes, int(T), dtype
        dev = mazes.device
        M = mazes.n
        self.E = torch.as_tensor(E, dtype=torch.float64, device=dev).expand(M, ND).clone()
        self.seeds = torch.as_tensor(seeds, dtype=torch.int64, device=dev)
        self.counts = initial_counts(M, device=dev)
        self.trials_done = 0
        self.views = mazes.all_views().to(dtype)                       # (M, P, 121), static

    def trial(self, record_path: bool = False) -> dict:
        """One trial for every agent; learning applied at the end. Returns per-agent results."""
        env, dev, dt = self.env, self.env.device, self.dtype
        M = env.n
        Mo, ko = (v.to(dt) for v in _linear(self.counts["A"]))
        Mb, kb = (v.to(dt) for v in _linear(self.counts["B"]))
        Mc, kc = (v.to(dt) for v in _linear(self.counts["C"]))
        lnE = torch.log(self.E.clamp(min=1e-6)) - torch.log((1 - self.E).clamp(min=1e-6))
        MbMc = torch.cat([Mb, Mc], -1)                                  # (M, 121, 121 + 256)
        Vo = torch.bmm(self.views, Mo) + ko.unsqueeze(1)                # A-term at every cell (M, P, 121)
        rows = torch.arange(M, device=dev)
        kd = (kc + lnE).to(dt)                                          # ln D1 − ln D0 = 0
        x = torch.full((M, NS), 0.5, dtype=dt, device=dev)              # code: qs(:, 1) = D (equal channels)
        pos = env.start()
        action = torch.full((M,), -1, dtype=torch.int64, device=dev)
        active = torch.ones(M, dtype=torch.bool, device=dev)
        time = torch.full((M,), self.T, dtype=torch.int64, device=dev)
        acc = {k: torch.zeros_like(self.counts[k]) for k in ("A", "B")}
        Cnew = self.counts["C"].clone()
        G_prev = torch.zeros(M, dtype=torch.float64, device=dev)         # G_1 = 0
        buf = {"o": [], "x": [], "xp": [], "d": [], "G": [], "w": []}
        path = [pos.clone()] if record_path else None
        step0 = self.trials_done * self.T
        for t in range(2, self.T + 1):
            new_pos = env.move(pos, action)
            cell = env.cell_index(new_pos)
            o = self.views[rows, cell]
            both = torch.bmm(x.unsqueeze(1), MbMc).squeeze(1)           # (M, 121 + 256)
            x_new = torch.sigmoid(Vo[rows, cell] + both[:, :NS] + kb)
            vd = both[:, NS:] + kd                                     # decision from x_{t−1}
            # P(k) ∝ y/(1 − y + 1e−6): log odds = log σ(v) − log(σ(−v) + 1e−6)
            logodds = torch.nn.functional.logsigmoid(vd) - torch.logaddexp(
                torch.nn.functional.logsigmoid(-vd), torch.tensor(math.log(1e-6), dtype=dt, device=dev))
            cdf = torch.softmax(logodds, -1).cumsum(-1)
            u = counter_uniform(self.seeds, step0 + t, 1, dt, dev)          # (M, 1)
            d = torch.searchsorted(cdf, u * cdf[:, -1:]).clamp(max=ND - 1).squeeze(1)
            G = Mazes.risk(pos, new_pos).to(torch.float64)
            w = active.to(dt)
            buf["o"].append(o * w[:, None]); buf["x"].append(x_new * w[:, None])
            buf["xp"].append(x * w[:, None]); buf["d"].append(d); buf["G"].append(G_prev)
            buf["w"].append(w)
            pos = torch.where(active.unsqueeze(1), new_pos, pos)
            x = torch.where(active.unsqueeze(1), x_new, x)
            action = torch.where(active, d // (ND // 4), action)
            G_prev = G
            if record_path:
                path.append(pos.clone())
            reached = active & Mazes.at_goal(pos)
            time = torch.where(reached, torch.full_like(time, t), time)
            active = active & ~reached
            if (t - 1) % BLOCK == 0 or t == self.T or not bool(active.any()):
                self._flush(buf, acc, Cnew)
                if not bool(active.any()):
                    break
        self.counts["A"] += acc["A"]
        self.counts["B"] += acc["B"]
        self.counts["C"] = Cnew
        self.trials_done += 1
        out = {"time": time.cpu()}
        if record_path:
            out["path"] = torch.stack(path, 1).cpu()
        return out

    @staticmethod
    def _tables(post, pre, n):
        """2 × 2 count tables [pre value, post value] from one product: with x̄ = w − x on the
        active steps, x̄ᵀp̄ = n − Σp − Σx + xᵀp etc. post (M, K, n_post), pre (M, K, n_pre)."""
        xp = post.mT @ pre                                              # (M, n_post, n_pre)
        sp, sx = pre.sum(1).unsqueeze(1), post.sum(1).unsqueeze(2)      # (M, 1, n_pre), (M, n_post, 1)
        nn = n.view(-1, 1, 1)
        return torch.stack([torch.stack([nn - sp - sx + xp, sx - xp]),
                            torch.stack([sp - xp, xp])]).permute(2, 0, 1, 3, 4)

    def _flush(self, buf, acc, Cnew):
        """Block sums of the buffered steps into A, B (pending) and C (with the block's Γ)."""
        if not buf["w"]:
            return
        o, x, xp = (torch.stack(buf[k], 1).to(torch.float64) for k in ("o", "x", "xp"))  # (M, K, n)
        w = torch.stack(buf["w"], 1).to(torch.float64)                  # (M, K)
        d = torch.stack(buf["d"], 1)
        G = torch.stack(buf["G"], 1)
        for k in buf:
            buf[k].clear()
        n = w.sum(1)                                                    # steps of each agent (M,)
        acc["A"] += self._tables(x, o, n)
        acc["B"] += self._tables(x, xp, n)
        M, K = w.shape
        net = BLOCK * (1 - 2 * (G * w).sum(1) / n.clamp(min=1))
        gam = torch.where(net <= 0, 0.55, torch.where(net <= 10, 0.45, 0.0))
        g = (1 - 2 * gam).view(M, 1, 1)                                 # (1 − 2Γ) of this block
        idx = (torch.arange(M, device=d.device).view(-1, 1) * ND + d).reshape(-1)

        def by_decision(v):                                             # Σ_τ v_τ ⊗ e_{d_{τ+1}}
            out = torch.zeros(M * ND, NS, dtype=torch.float64, device=v.device)
            return out.index_add_(0, idx, v.reshape(-1, NS)).view(M, ND, NS)
        Sd = by_decision(xp)
        count = by_decision(w.unsqueeze(-1).expand(-1, -1, NS))         # times each δ was drawn
        Sdb = count - Sd                                               # Σ x̄_τ ⊗ e_{d_{τ+1}}
        sx = xp.sum(1).unsqueeze(1)                                     # (M, 1, NS)
        sxb = n.view(M, 1, 1) - sx
        Cnew[:, 1, 1] = (Cnew[:, 1, 1] + g * Sd).clamp(min=1)
        Cnew[:, 1, 0] = (Cnew[:, 1, 0] + g * (sx - Sd)).clamp(min=1)
        Cnew[:, 0, 1] = (Cnew[:, 0, 1] + g * Sdb).clamp(min=1)
        Cnew[:, 0, 0] = (Cnew[:, 0, 0] + g * (sxb - Sdb)).clamp(min=1)
