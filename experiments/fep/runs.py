"""Many FEP attractor networks as one batch (Spisak & Friston 2025): the paper reproductions'
front end over the one FEP implementation (``columns.types.fep``).

R independent networks ("runs") of N continuous-Bernoulli nodes on one graph (the paper's
complete graph without self-loops, or a sparse one: ``edges``), each with its own couplings J,
its own inverse temperature β_r, learning rate α_r and seed: the batch B = R of the network
engine. J is held as the coupling's products want it: dense (R, N, N) on the complete graph,
edge values (R, E) in CSR order by target on a sparse one (``graphs.Coupling``). One step for the whole batch
(docs/theory.md §6, the authors' code semantics) is the map of ``FEPColumn``:

    h = J σ(t)                      (``Coupling.forward_product``, the network's product)
    σ(t+1) = fep_map(β (b + h), u)  (CB sample from u = counter_uniform(seed_r, t, N), or L(θ))
    ΔJ_e = α_r e_i σ_j(t+1)         (e = fep_error(rule, …): "code" or "paper"; the update of
                                    ``solvers.step``, on edges or dense)

Absent edges (the diagonal) are never trained: they stay exactly 0.

Attractors: deterministic relaxation σ ← L(J σ) (b = 0, β = 1) until the variational free energy

    F = Σ_i [ln(b_q/sinh b_q) + b_q L(b_q) − ln(b/sinh b) − b L(b_q)] − [bᵀ L(b_q) + L(b_q)ᵀ J L(b_q)],
    b_q = b + J σ

changes by < ``tol`` (max ``max_steps``; non-converged starts are reported).

Shapes: σ, b (R, N) or (R, C, N) for C chains per run; J (R, N, N) or (R, E); β, α, seeds (R,).
"""

from __future__ import annotations

import torch

from graphs import compile_arrays
from columns import ParameterError, StimulusError

from columns.rng import counter_uniform
from columns.plasticity import learn_update, learn_update_dense_
from columns.types.fep import check_rule, fep_error, fep_map, fep_theta
from columns.types.langevin import langevin, log_x_over_sinh


class FEPRuns:
    """R FEP attractor networks stepped together. Final class.

    Args:
        n: nodes per network.
        runs: R.
        beta, alpha: scalars or (R,) tensors (inverse temperature, learning rate).
        seeds: (R,) ints (default 0..R−1).
        edges: optional (src, tgt) index tensors (E,) of a sparse graph (no self-loops); default
            all-to-all (the paper's complete graph).
        rule: "code" (default) or "paper".
    """

    def __init__(self, n: int, runs: int = 1, beta=1.0, alpha=0.01, seeds=None, edges=None,
                 rule: str = "code", dtype=torch.float64, device=None):
        check_rule(rule, "FEPRuns")
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
        else:
            i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
            off = i != j
            src, tgt = j[off], i[off]
        self.coupling = compile_arrays(self.n, src, tgt, torch.zeros(src.numel()), node_type="fep"
                                       ).to(self.device)
        self.src, self.tgt = self.coupling.src, self.coupling.tgt
        shape = (self.runs, self.coupling.n_edges) if self.sparse else (self.runs, n, n)
        self.J = torch.zeros(shape, dtype=dtype, device=self.device)
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

    # -- the couplings ---------------------------------------------------------------------------
    def _own(self, J: torch.Tensor | None) -> torch.Tensor:
        """J in this object's representation (dense on the complete graph, else edges)."""
        if J is None:
            return self.J
        if self.sparse:
            return J[..., self.tgt, self.src] if J.dim() == 3 else J
        return J if J.dim() == 3 else self.coupling.to_dense(J)

    def dense_J(self) -> torch.Tensor:
        """J as (R, N, N) (zeros off the graph)."""
        return self.coupling.to_dense(self.J) if self.sparse else self.J

    def field(self, sigma: torch.Tensor, J: torch.Tensor | None = None) -> torch.Tensor:
        """h = J σ. Shapes: σ (R, N) or (R, C, N) -> same."""
        return self.coupling.forward_product(self._own(J), sigma)

    # -- the dynamics ----------------------------------------------------------------------------
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
        """One synchronous step for all runs (and chains); learning updates ``J`` (in place on
        the complete graph: clone it to keep a snapshot).

        A bias tensor is checked for non-finite values the first time it is passed (reusing the
        same tensor for an epoch's steps costs no device sync).

        Shapes: σ, bias (R, N) (or (R, C, N) without learning) -> σ(t+1) same shape.
        """
        b = self._bias(bias, sigma)
        beta = self.beta if beta is None else self._per_run(beta, "beta")
        h = self.field(sigma)
        theta = fep_theta(beta.view((-1,) + (1,) * (sigma.dim() - 1)), b, h)
        u = None
        if stochastic:
            C = 1 if sigma.dim() == 2 else sigma.shape[1]
            u = counter_uniform(self.seeds, self.t, C * self.n, self.dtype, self.device).view(sigma.shape)
        new = fep_map(theta, u)
        if learn:
            if sigma.dim() != 2:
                raise ParameterError("FEPRuns.step: learning needs one chain per run, σ (R, N)")
            h_new = self.field(new) if self.rule == "paper" else None
            err = fep_error(self.rule, new, h, h_new, b)
            a = self.alpha.view(-1, 1)
            if self.sparse:
                self.J = learn_update(self.src, self.tgt, self.J, err, new, a)
            else:                                  # in place (clone J to keep a snapshot)
                learn_update_dense_(self.J, err, new, a)
        self.t += 1
        return new

    # -- free energy and attractors ------------------------------------------------------------
    def vfe(self, sigma: torch.Tensor, bias=None, J: torch.Tensor | None = None) -> torch.Tensor:
        """Variational free energy F(σ) (see the docstring of module ``experiments.fep.runs``).
        Shapes: σ (R[, C], N) -> (R[, C])."""
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
        J = self._own(J)
        s = start
        F = self.vfe(s, None, J)
        steps = torch.zeros(F.shape, dtype=torch.int64, device=self.device)
        done = torch.zeros(F.shape, dtype=torch.bool, device=self.device)
        for _ in range(max_steps):
            new = fep_map(self.field(s, J), None)
            Fn = self.vfe(new, None, J)
            s = torch.where(done.unsqueeze(-1), s, new)
            newly = ~done & ((Fn - F).abs() < tol)
            steps = torch.where(done, steps, steps + 1)
            F = torch.where(done, F, Fn)
            done = done | newly
            if bool(done.all()):
                break
        return {"sigma": s, "steps": steps, "converged": done, "F": F}
