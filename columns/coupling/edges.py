"""``Edges``: a network's edges and every product over them, with the backend chosen here.

With x the sent signal, g = ∂H/∂ν per column, W the edge weights (the learnable ones from the
state, the rest from the graph) and A the rule's share of the backward message
(``columns.plasticity.base``):

    field      ν_i = Σ_{e: j→i} W_e a_e,   a_e = x_j (x_j delayed when the network has delays)
    backward   force_k = Σ_{e out of k} (W_e g_i + A_e x_i) + Σ_{e into k} A_e u_e
               (= Wᵀ g + ∂H_edges/∂x: what the network sends back to the sending momenta)

with u_e = a_e the presynaptic signal of the learning rule. A slow synapse (``slow``) transmits
the source's trace, a_e = x̄_j, and learns from u_e = x̄_j − x_j (post now × pre before minus pre
now); its share of the message splits: W_e g_i + A_e x_i goes to the trace's momentum
(``force_trace``), −A_e x_i to the rate's (``slow_signals``, ``backward``).

Backends, chosen per call below this API:

- **fused** (CPU, float32/float64, no autograd through the call, no delays, a rule with a fused
  kernel or none): two passes over the CSR rows in ``columns.coupling.kernels``, the rule's edge
  terms in the passes, no E-length temporaries; all, none or some of the edges learnable (some:
  the learnable and the fixed edges as two CSR lists over the same rows, each run by the same
  kernels, so no pass branches per edge; the learnable list is in W_l's order); one pass
  instead of two when the columns' g = ∂H/∂ν is known before ν (``coupling_gradient``: p_μ for
  the Bayesian-mechanics types), recorded in ``passes``;
- **dense**: a dense graph, or one W shared by the batch on at most ``graphs.coupling.SMALL``
  columns: one GEMM over the batch (``Coupling.forward_product``);
- **eager**: torch ops on the CSR (SpMM, index_add; differentiable), everything else: autograd,
  delays, slow synapses, GPU, complex states, rules without a kernel.

All backends agree to round-off (tests). ``kernels = False`` forces the eager path; ``backend``
records what the last call ran ("fused" or "eager"; dense products run inside "eager").

Shapes: W_l, P_l (B, E_l); x, g, ν (B, N); W (B|1, E).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from graphs import autodiff

from ..plasticity.base import Plasticity
from . import kernels

ONE_PASS_BYTES = 8 << 20
"""The cache the one-pass kernel's random accesses may use (x and the per-thread sums)."""


class Edges(nn.Module):
    """The edges of a network on a compiled ``graphs.Coupling`` (module
    ``columns.coupling.edges``). Final class.

    Buffers: learn_idx (E_l,) the learnable edges' positions in the CSR order, learn_src,
    learn_tgt (E_l,) their end points; for a partly learnable network the two lists of the fused
    passes: learn_crow (N+1,) the learnable edges' rows (sources ``learn_src``), fixed_idx
    (E − E_l,), fixed_src and fixed_crow (N+1,) the fixed edges'.
    """

    def __init__(self, coupling):
        super().__init__()
        self.coupling = coupling
        learn_idx = coupling.learnable.nonzero().flatten()
        self.register_buffer("learn_idx", learn_idx)
        self.register_buffer("learn_src", coupling.src[learn_idx], persistent=False)
        self.register_buffer("learn_tgt", coupling.tgt[learn_idx], persistent=False)
        N, fixed_idx = coupling.n_nodes, (~coupling.learnable).nonzero().flatten()
        rows = lambda tgt: torch.cat([torch.zeros(1, dtype=torch.int64),     # noqa: E731
                                      torch.bincount(tgt, minlength=N).cumsum(0)])
        self.register_buffer("learn_crow", rows(coupling.tgt[learn_idx]), persistent=False)
        self.register_buffer("fixed_idx", fixed_idx, persistent=False)
        self.register_buffer("fixed_src", coupling.src[fixed_idx], persistent=False)
        self.register_buffer("fixed_crow", rows(coupling.tgt[fixed_idx]), persistent=False)
        self.register_buffer("slow", coupling.slow.unsqueeze(0), persistent=False)   # (1, E)
        self.has_slow = bool(coupling.slow.any())
        self.n_learnable = int(learn_idx.numel())
        self.all_learnable = self.n_learnable == coupling.n_edges and self.n_learnable > 0
        self.kernels = True
        self.backend = None
        self.passes = None        # of the fused backend's last call: 1 (g known before ν) or 2
        self.one_pass = True      # False: two passes even where one would do (for A/B timing)
        self.node_kernels = []    # the types whose node kernel wrote the last one-pass call
        self._work: dict = {}

    def _apply(self, fn, *args, **kwargs):
        self._work = {}                    # work buffers follow device and dtype: rebuilt lazily
        return super()._apply(fn, *args, **kwargs)

    # -- the edge weights -------------------------------------------------------------------
    def weights(self, W_l: torch.Tensor) -> torch.Tensor:
        """All edge weights (B, E): the learnable ones from ``W_l`` (B, E_l), the rest from the
        graph ((1, E) when none learns).

        Returns:
            The weights, (B, E) or (1, E).
        """
        if self.all_learnable:
            return W_l
        W0 = self.coupling.weight0.unsqueeze(0)
        if W_l.shape[-1] == 0:
            return W0
        return W0.expand(W_l.shape[0], -1).index_copy(1, self.learn_idx, W_l)

    def scatter(self, v: torch.Tensor) -> torch.Tensor:
        """Values on the learnable edges (B, E_l) placed in all edges (B, E), 0 elsewhere.

        Returns:
            A tensor (B, E).
        """
        if self.all_learnable:
            return v
        out = torch.zeros(v.shape[0], self.coupling.n_edges, dtype=v.dtype, device=v.device)
        return out.index_copy(1, self.learn_idx, v)

    # -- the eager (and dense) products --------------------------------------------------------
    def field(self, W_l: torch.Tensor, x: torch.Tensor, B: int, x_edges=None):
        """(W (B|1, E) or None without edges, ν (B, N)); with ``x_edges`` (B, E), the signals
        arriving on each edge (delayed): ν_i = Σ_e W_e x_edges,e.

        Returns:
            (W, ν) as described.
        """
        cp = self.coupling
        if not cp.n_edges:
            return None, torch.zeros_like(x).expand(B, -1)
        W = self.weights(W_l)
        if x_edges is not None:
            return W, cp.sum_by_target(W * x_edges).expand(B, -1)
        return W, cp.forward_product(W, x).expand(B, -1)

    def slow_signals(self, a: torch.Tensor, x: torch.Tensor, trace: torch.Tensor):
        """(a_e, u_e) (B, E) with the slow synapses' entries set: a_e = x̄_j, u_e = x̄_j − x_j;
        ``a`` (B, E) the fast signals (gathered, or delayed), x, trace (B, N).

        Returns:
            (a_e, u_e), each (B, E).
        """
        src = self.coupling.src
        xt, xs = trace.index_select(-1, src), x.index_select(-1, src)
        return torch.where(self.slow, xt, a), torch.where(self.slow, xt - xs, a)

    def backward(self, terms, A: torch.Tensor | None):
        """force (B, N) = Wᵀ g + Σ_out A x_i + Σ_in A u_e (module ``columns.coupling.edges``),
        eager; with slow synapses the pair (force on the rates, force on the traces).

        Returns:
            force (B, N), or the pair (force on the rates, force on the traces).
        """
        cp = self.coupling
        back = terms.W * terms.g_tgt                                      # (B, E)
        if self.has_slow:
            aA = None if A is None else self.scatter(A)
            if aA is not None:
                back = back + aA * terms.x_tgt
            to_rate = torch.where(self.slow, 0.0 if aA is None else -aA * terms.x_tgt, back)
            force = cp.sum_by_source(to_rate)
            if aA is not None:
                force = force + cp.sum_by_target(aA * terms.u_src)
            return force, cp.sum_by_source(torch.where(self.slow, back, 0.0))
        if A is None:
            return cp.sum_by_source(back)                                 # Wᵀ g
        aA = self.scatter(A)                                              # (B, E)
        back = back + aA * terms.x_tgt
        return cp.sum_by_source(back) + (cp.forward_product(aA, terms.x) if terms.x_edges is None
                                         else cp.sum_by_target(aA * terms.x_src))

    # -- the fused backend -----------------------------------------------------------------
    def plan(self, y: torch.Tensor, x: torch.Tensor, rule) -> dict | None:
        """The fused kernels' work buffers for this call, or None where they do not apply
        (module ``columns.coupling.edges``); sets ``backend``.

        Returns:
            A dict of work buffers, or None (then the eager path runs).
        """
        cp = self.coupling
        if torch.compiler.is_compiling() or self.has_slow or not (
                self.kernels and kernels.AVAILABLE and y.device.type == "cpu"
                and y.dtype in (torch.float32, torch.float64) and cp.n_edges
                and not cp.dense_for(self.n_learnable == 0)
                and (rule is None or type(rule).kernel_params is not Plasticity.kernel_params)
                and not autodiff.tracked(y, x)):
            self.backend = "eager"
            return None
        C = kernels.threads()
        mixed = 0 < self.n_learnable < cp.n_edges
        key = (y.shape[0], y.dtype, C, mixed)
        work = self._work.get(key)
        if work is None:
            B, N = y.shape[0], cp.n_nodes
            work = {"bounds": kernels.chunk_bounds(self.learn_crow if mixed else cp.crow, C),
                    "mixed": mixed, "nu": y.new_empty(B, N), "fsrc": y.new_empty(C, B, N),
                    "ftgt": y.new_empty(B, N), "force": y.new_empty(B, N),
                    "params": ([y.new_zeros(1)] * 3 if rule is None
                               else rule.kernel_params(y.dtype))}
            if mixed:                             # the fixed edges' list
                work.update(fixed_bounds=kernels.chunk_bounds(self.fixed_crow, C),
                            fixed_nu=y.new_empty(B, N), fixed_of=None)
            self._work = {key: work}              # keep only the latest shape
        work["one_pass"] = self.one_pass_fits(y.shape[0], y.dtype, C)
        if mixed and work["fixed_of"] != (id(cp.weight0), cp.weight0._version):
            # the fixed weights in this dtype, again whenever the graph's weights change
            work["fixed_W"] = cp.weight0[self.fixed_idx].to(y.dtype).unsqueeze(0)
            work["fixed_of"] = (id(cp.weight0), cp.weight0._version)
        self.backend = "fused"
        return work

    @functools.cached_property
    def reach(self) -> int:
        """The median |source − target| over the edges, in node positions (how local the graph
        is); computed on first use, by the fused backend only."""
        cp = self.coupling
        return int((cp.src - cp.tgt).abs().float().median()) if cp.n_edges else 0

    def one_pass_fits(self, B: int, dtype: torch.dtype, C: int) -> bool:
        """Whether one pass over the edges beats two: its loop reaches two arrays in random order
        (x, and the by-source sums of its chunk), which must stay in the cache together. True
        when x and the C private sums fit ``ONE_PASS_BYTES``, or the graph is local (half its
        edges join columns whose sums lie within ``ONE_PASS_BYTES / 8`` of each other, e.g. a
        sheet). Measured (P1, 2 cores, the call with one pass against two): 1.2–1.7 × faster at 10⁵
        columns and 1.2–1.3 × on a local graph at 10⁶; on the random graph at 10⁶ the one pass
        alone took 73 ms against 39 ms for the two in float64 (``one_pass`` False forces two).

        Returns:
            True for one pass.
        """
        row = B * dtype.itemsize * (C + 1)
        return self.one_pass and (self.coupling.n_nodes * row <= ONE_PASS_BYTES
                                  or self.reach * row <= ONE_PASS_BYTES // 8)

    def fused_field(self, work: dict, W_l: torch.Tensor, x: torch.Tensor,
                    learn: tuple | None = None):
        """(W as the kernels read it, ν (B, N)) by the fused first pass; ``learn`` = (P_l, dW,
        dP), the rule's output blocks (B, E_l): the pass also writes Ẇ into ``dW`` and keeps
        x_j in ``dP`` for ``fused_backward`` (``columns.coupling.kernels``).

        Returns:
            (W, ν (B, N)).
        """
        cp = self.coupling
        self.passes, self.node_kernels = 2, []
        extra = None if learn is None else (learn[0], *work["params"], learn[1], learn[2])
        if work["mixed"]:                         # ν = the learnable list's + the fixed list's
            nu = kernels.field(self.learn_crow, self.learn_src, W_l, x, work["bounds"],
                               work["nu"], extra)
            return W_l, nu.add_(kernels.field(self.fixed_crow, self.fixed_src, work["fixed_W"], x,
                                              work["fixed_bounds"], work["fixed_nu"]))
        W = W_l if self.all_learnable else cp.weight0.unsqueeze(0)
        return W, kernels.field(cp.crow, cp.src, W, x, work["bounds"], work["nu"], extra)

    def fused_backward(self, work: dict, W, P_l: torch.Tensor, x: torch.Tensor, g: torch.Tensor,
                       dW: torch.Tensor | None, dP: torch.Tensor | None) -> torch.Tensor:
        """The rule's Ṗ written into ``dP`` (B, E_l) (None: no learnable edges; else ``dW``,
        ``dP`` are the blocks ``fused_field`` filled with Ẇ and the kept x_j) and the force
        (B, N), by the fused second pass.

        Returns:
            The force (B, N).
        """
        cp, g = self.coupling, g.contiguous()
        if work["mixed"]:                         # the learnable list's, then the fixed list's
            force = kernels.hebbian(self.learn_crow, self.learn_src, W,
                                    P_l if dW is not None else None, x, g, *work["params"],
                                    work["bounds"], dW, dP, work["fsrc"], work["ftgt"])
            return force.add_(kernels.hebbian(self.fixed_crow, self.fixed_src, work["fixed_W"],
                                              None, x, g, *work["params"], work["fixed_bounds"],
                                              None, None, work["fsrc"], work["ftgt"]))
        return kernels.hebbian(cp.crow, cp.src, W, P_l if dW is not None else None, x, g,
                               *work["params"], work["bounds"], dW, dP, work["fsrc"],
                               work["ftgt"], into=work["force"])

    def fused_one_pass(self, work: dict, W_l: torch.Tensor, P_l: torch.Tensor, x: torch.Tensor,
                       g: torch.Tensor, dW: torch.Tensor | None, dP: torch.Tensor | None):
        """ν, the rule's Ẇ and Ṗ (into ``dW``, ``dP`` (B, E_l); None: no learnable edges) and the
        force in one pass over the edges, for columns whose g = ∂H/∂ν (B, N) is known before ν
        (``columns.coupling.kernels.one_pass``).

        Returns:
            (W as the kernels read it, ν (B, N), force (B, N)).
        """
        cp, g = self.coupling, g.contiguous()
        self.passes, self.node_kernels = 1, []
        P = P_l if dW is not None else None
        if work["mixed"]:                         # the learnable list, then the fixed list
            nu, force = kernels.one_pass(self.learn_crow, self.learn_src, W_l, P, x, g,
                                         *work["params"], work["bounds"], dW, dP, work["fsrc"],
                                         work["ftgt"], work["nu"],
                                         then=(self.fixed_crow, self.fixed_src, work["fixed_W"],
                                               work["fixed_bounds"]), into=work["force"])
            return W_l, nu, force
        W = W_l if self.all_learnable else cp.weight0.unsqueeze(0)
        nu, force = kernels.one_pass(cp.crow, cp.src, W, P, x, g, *work["params"],
                                     work["bounds"], dW, dP, work["fsrc"], work["ftgt"],
                                     work["nu"], into=work["force"])
        return W, nu, force
