"""Self-orthogonalizing FEP attractor networks (Spisak & Friston 2025), batched discrete-time runs.

R independent networks ("runs") of N continuous-Bernoulli nodes, each with its own couplings
J (R, N, N) (J[r, i, j]: from j to i) — or, on a sparse graph, J (R, E) on shared edges
(src → tgt, CSR order by target) — its own inverse temperature β_r, learning rate α_r and seed.
One step for the whole batch (spec fep-attractor.md, the authors' code semantics):

    h = J σ(t),   θ = β (b + h)
    σ(t+1) ~ CB(θ)  (stochastic)      or      σ(t+1) = L(θ)  (deterministic)
    ΔJ_ij = α [σ_i(t+1) − L(h_i)] σ_j(t+1),   i ≠ j            (rule="code")
    ΔJ_ij = α [σ_i σ_j − L(b_i + Σ_{k≠i} J_ik σ_k) σ_j] at σ(t+1)  (rule="paper", the text's rule)

The diagonal (and, on a graph, every absent edge) is never trained: it stays exactly 0. Random
draws come from ``counter_uniform(seed_r, step, N)``, so each run's stream is its own.

Attractors: deterministic relaxation σ ← L(J σ) (b = 0, β = 1) until the variational free energy

    F = Σ_i [ln(b_q/sinh b_q) + b_q L(b_q) − ln(b/sinh b) − b L(b_q)] − [bᵀ L(b_q) + L(b_q)ᵀ J L(b_q)],
    b_q = b + J σ

changes by < ``tol`` (max ``max_steps``; non-converged starts are reported).

Learning updates ``J`` in place (clone it to keep a snapshot).

Shapes: σ, b (R, N) or (R, C, N) for C chains per run; J (R, N, N) or (R, E); β, α, seeds (R,).
"""

from __future__ import annotations

import torch

from graphs.errors import ParameterError, StimulusError

from .langevin import counter_uniform, cb_sample, langevin, log_x_over_sinh

RULES = ("code", "paper")


class FEPRuns:
    """R FEP attractor networks stepped together. Final class.

    Args:
        n: nodes per network.
        runs: R.
        beta, alpha: scalars or (R,) tensors (inverse temperature, learning rate).
        seeds: (R,) ints (default 0..R−1).
        edges: optional (src, tgt) index tensors (E,) of a sparse graph (no self-loops); default
            all-to-all (the paper's complete graph, dense J).
        rule: "code" (default) or "paper".
    """

    def __init__(self, n: int, runs: int = 1, beta=1.0, alpha=0.01, seeds=None, edges=None,
                 rule: str = "code", dtype=torch.float64, device=None):
        if rule not in RULES:
            raise ParameterError(f"FEPRuns: rule must be one of {RULES}, got {rule!r}")
        self.n, self.runs, self.rule = int(n), int(runs), rule
        self.dtype, self.device = dtype, torch.device(device or "cpu")
        self.beta = self._per_run(beta, "beta")
        self.alpha = self._per_run(alpha, "alpha")
        if (self.beta < 0).any():
            raise ParameterError("FEPRuns: beta (inverse temperature) must be >= 0")
        self.seeds = (torch.arange(self.runs) if seeds is None else
                      torch.as_tensor(seeds, dtype=torch.int64)).to(self.device)
        if self.seeds.numel() != self.runs:
            raise ParameterError(f"FEPRuns: {self.seeds.numel()} seeds for {self.runs} runs")
        self.sparse = edges is not None
        if self.sparse:
            src, tgt = (torch.as_tensor(e, dtype=torch.int64) for e in edges)
            if (src == tgt).any():
                raise ParameterError("FEPRuns: self-loops are not allowed (the diagonal is never trained)")
            order = torch.argsort(tgt * self.n + src)
            self.src, self.tgt = src[order].to(self.device), tgt[order].to(self.device)
            self.J = torch.zeros(self.runs, self.src.numel(), dtype=dtype, device=self.device)
        else:
            self.J = torch.zeros(self.runs, n, n, dtype=dtype, device=self.device)
        self.t = 0
        self._checked_bias = None

    def _per_run(self, v, name):
        v = torch.as_tensor(v, dtype=self.dtype, device=self.device)
        if v.dim() == 0:
            v = v.expand(self.runs)
        if v.shape != (self.runs,) or not torch.isfinite(v).all():
            raise ParameterError(f"FEPRuns: {name} must be a finite scalar or ({self.runs},), got "
                                 f"shape {tuple(v.shape)}")
        return v.clone()

    # -- the pieces -----------------------------------------------------------------------------
    def field(self, sigma: torch.Tensor, J: torch.Tensor | None = None) -> torch.Tensor:
        """h = J σ. Shapes: σ (R, N) or (R, C, N) -> same."""
        J = self.J if J is None else J
        squeeze = sigma.dim() == 2
        s3 = sigma.unsqueeze(1) if squeeze else sigma                       # (R, C, N)
        if self.sparse:
            contrib = J.unsqueeze(1) * s3[..., self.src]                    # (R, C, E)
            h = torch.zeros_like(s3).index_add_(2, self.tgt, contrib)
        else:
            h = s3 @ J.mT                                                   # (R, C, N)
        return h.squeeze(1) if squeeze else h

    def dense_J(self) -> torch.Tensor:
        """J as (R, N, N) (zeros off the graph)."""
        if not self.sparse:
            return self.J
        out = torch.zeros(self.runs, self.n, self.n, dtype=self.dtype, device=self.device)
        out[:, self.tgt, self.src] = self.J
        return out

    def _bias(self, bias, like):
        if bias is None:
            return torch.zeros_like(like)
        b = torch.as_tensor(bias, dtype=self.dtype, device=self.device)
        if b is not self._checked_bias:          # checked once per bias tensor: no sync per step
            if not torch.isfinite(b).all():
                raise StimulusError("FEPRuns: the bias (evidence × pattern) contains non-finite values")
            self._checked_bias = b
        return b.expand_as(like) if b.dim() < like.dim() else b

    def step(self, sigma: torch.Tensor, bias=None, learn: bool = True, stochastic: bool = True,
             beta: torch.Tensor | None = None) -> torch.Tensor:
        """One synchronous step for all runs (and chains); learning updates ``self.J`` in place.

        A bias tensor is checked for non-finite values the first time it is passed (reusing the
        same tensor for an epoch's steps costs no device sync).

        Shapes: σ, bias (R, N) (or (R, C, N) without learning) -> σ(t+1) same shape.
        """
        b = self._bias(bias, sigma)
        beta = self.beta if beta is None else self._per_run(beta, "beta")
        h = self.field(sigma)
        bshape = (-1,) + (1,) * (sigma.dim() - 1)
        theta = beta.view(bshape) * (b + h)
        if stochastic:
            C = 1 if sigma.dim() == 2 else sigma.shape[1]
            u = counter_uniform(self.seeds, self.t, C * self.n, self.dtype, self.device)
            new = cb_sample(theta, u.view(sigma.shape))
        else:
            new = langevin(theta)
        if learn:
            if sigma.dim() != 2:
                raise ParameterError("FEPRuns.step: learning needs one chain per run, σ (R, N)")
            self._learn(new, h, b)
        self.t += 1
        return new

    def _learn(self, new, h, b):
        a = self.alpha.view(-1, 1)
        if self.rule == "code":
            err = new - langevin(h)                                          # (R, N)
        else:
            err = None
        if self.sparse:
            if self.rule == "code":
                dJ = err[:, self.tgt] * new[:, self.src]
            else:
                h_new = self.field(new)
                dJ = (new[:, self.tgt] - langevin(b + h_new)[:, self.tgt]) * new[:, self.src]
            self.J.add_(a * dJ)
        else:
            if self.rule == "paper":
                err = new - langevin(b + self.field(new))
            # J += α err newᵀ: one batched rank-1 update, in place (J is this object's own
            # buffer: clone it to keep a snapshot), then the diagonal back to exactly 0
            self.J.addcmul_((a * err).unsqueeze(-1), new.unsqueeze(-2))
            self.J.diagonal(dim1=-2, dim2=-1).zero_()

    # -- free energy and attractors ------------------------------------------------------------
    def vfe(self, sigma: torch.Tensor, bias=None, J: torch.Tensor | None = None) -> torch.Tensor:
        """Variational free energy F(σ) (see the module docstring). Shapes: σ (R[, C], N) -> (R[, C])."""
        b = self._bias(bias, sigma)
        bq = b + self.field(sigma, J)
        Lq = langevin(bq)
        local = log_x_over_sinh(bq) + bq * Lq - log_x_over_sinh(b) - b * Lq
        JL = self.field(Lq, J)
        return local.sum(-1) - (b * Lq).sum(-1) - (Lq * JL).sum(-1)

    def relax(self, start: torch.Tensor, tol: float = 1e-12, max_steps: int = 1000,
              J: torch.Tensor | None = None) -> dict:
        """Deterministic relaxation σ ← L(J σ) from ``start`` (R, C, N) until |ΔF| < tol.

        Returns {"sigma" (R, C, N), "steps" (R, C), "converged" (R, C) bool, "F" (R, C)}.
        """
        s = start
        F = self.vfe(s, None, J)
        steps = torch.zeros(F.shape, dtype=torch.int64, device=self.device)
        done = torch.zeros(F.shape, dtype=torch.bool, device=self.device)
        for k in range(max_steps):
            new = langevin(self.field(s, J))
            Fn = self.vfe(new, None, J)
            s = torch.where(done.unsqueeze(-1), s, new)
            newly = ~done & ((Fn - F).abs() < tol)
            steps = torch.where(done, steps, steps + 1)
            F = torch.where(done, F, Fn)
            done = done | newly
            if bool(done.all()):
                break
        return {"sigma": s, "steps": steps, "converged": done, "F": F}
