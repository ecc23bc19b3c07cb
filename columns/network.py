"""``Network``: all columns, the coupling and the stimulus; the function torchdiffeq integrates.

    dy/dt = network(t, y)

For Hamiltonian column types and the Hebbian edge Hamiltonian the collective equations are
(spec bayesian-mechanics.md §4), with x = φ(q_send) the sent rates and g_i = ∂H_i/∂ν_i:

    ν     = W x                                   (one sparse product, CSR by target)
    per type: (q̇, ṗ), g = column.rhs(state, ν, s)  (one vectorised call per type, never per column)
    ṗ_send,j −= φ′_j [ (Wᵀ g)_j + ∂H_edges/∂x_j ]    (one scatter-add by source)
    Ẇ_e = P_e/m_W + α_W x_i x_j − γ_W W_e,   Ṗ_e = γ_W P_e − g_i x_j          (elementwise)

Learnable edges into a ``TraceLearningColumn`` type learn by its local rule instead,
Ẇ_e = r_i e_i x_j (``columns.types.trace_learning``); edges into a ``MapColumn`` type learn in its
map (``solver="step"``). Each call costs O(N + E). A batch dimension B in front runs an ensemble:
one sparse product for the whole batch. Other column types (e.g. a Stuart–Landau oscillator) only
receive ν. Building from a graph: ``columns.build``; energies: ``columns.energy``.

Engines. On the CPU (float32/float64, no autograd through the call), networks whose edges are all
learnable with the Hebbian Hamiltonian, or none learnable, run the edge work in the fused kernels
of ``columns.kernels`` (two passes over the CSR, no E-length temporaries, work buffers owned by the
network and dropped on ``.to()``); everything else, autograd and other devices run the eager
torch ops. Both give the same result to round-off (test); ``network.kernels = False`` forces eager.

Shapes: y (B, S) or (S,); see ``columns.layout`` for S.
"""

from __future__ import annotations

import torch
from torch import nn

from graphs.coupling import Coupling
from graphs.errors import ParameterError, SolverError, mark_user_error

from . import energy, kernels, state, threads
from .build import check_columns, from_graph, learning_kind
from .layout import StateLayout
from .stimulus import as_stimulus
from .types.column import ColumnType
from .types.hamiltonian import HamiltonianColumn
from .types.plasticity import HebbianPlasticity
from .types.trace_learning import TraceLearningColumn
from .view import ColumnView

DTYPES = (torch.float32, torch.float64, torch.complex64, torch.complex128)
"""The dtypes a network computes in (complex for Kim's [K23] complex parameters)."""


class Network(nn.Module):
    """A network of column types on a compiled coupling. Final class.

    Args:
        coupling: from ``graphs.compile``.
        columns: type name -> ``ColumnType`` instance holding that type's n columns.
        plasticity: edge Hamiltonian for learnable edges into Hamiltonian types (default
            ``HebbianPlasticity()``).
        stimulus: ``Stimulus``, a callable of t, a constant, or None (s = 0).
        dtype: convert parameters and buffers (e.g. ``torch.float64`` for identity checks).

    Attributes:
        learning: how the learnable edges learn: "hebbian", "trace", "map" or None (none).
    """

    def __init__(self, coupling: Coupling, columns: dict[str, ColumnType],
                 plasticity: HebbianPlasticity | None = None, stimulus=None, dtype=None):
        super().__init__()
        self.coupling = coupling
        check_columns(coupling, columns)
        self.columns = nn.ModuleDict({k: columns[k] for k in coupling.type_slices})
        self.register_buffer("learn_idx", coupling.learnable.nonzero().flatten())
        self.register_buffer("learn_src", coupling.src[self.learn_idx], persistent=False)
        self.register_buffer("learn_tgt", coupling.tgt[self.learn_idx], persistent=False)
        n_learn = int(self.learn_idx.numel())
        self.all_learnable = n_learn == coupling.n_edges and n_learn > 0
        self.learning = learning_kind(coupling, self.columns, self.learn_idx)
        if self.learning == "hebbian":
            plasticity = plasticity if plasticity is not None else HebbianPlasticity()
            plasticity.check_edges(n_learn)
        self.plasticity = plasticity
        self.stimulus = as_stimulus(stimulus, self.n_nodes)
        self.layout = StateLayout({k: (c.fields, c.n) for k, c in self.columns.items()}, n_learn)
        self.hamiltonian_types = [k for k, c in self.columns.items()
                                  if isinstance(c, HamiltonianColumn)]
        if dtype is not None:
            if not (isinstance(dtype, torch.dtype) and dtype in DTYPES):
                raise ParameterError(f"Network: dtype must be one of {[str(d) for d in DTYPES]}, "
                                     f"got {dtype!r} (float16/bfloat16 lose the state within a few "
                                     "steps)")
            import warnings
            with warnings.catch_warnings():      # complex parameters ([K23]) are intended here
                warnings.filterwarnings("ignore", message="Complex modules are a new feature")
                self.to(dtype)
        pos, mom = energy.pair_indices(self)
        self.register_buffer("_pos_idx", pos, persistent=False)
        self.register_buffer("_mom_idx", mom, persistent=False)
        self.register_buffer("state", self.initial_state())
        self.kernels = True
        self._work: dict = {}

    def _apply(self, fn, *args, **kwargs):
        self._work = {}                          # work buffers follow device and dtype: rebuilt lazily
        return super()._apply(fn, *args, **kwargs)

    @classmethod
    def from_graph(cls, G, column_types: dict | None = None, plasticity=None, stimulus=None,
                   dtype=None, allow_self_loops: bool | None = None,
                   speed: float | None = None) -> "Network":
        """Compile ``G`` and build one module per column type (``columns.build.from_graph``;
        ``speed``: the conduction speed that turns edge lengths into delays)."""
        return from_graph(G, column_types, plasticity, stimulus, dtype, allow_self_loops, speed)

    def set_stimulus(self, stimulus) -> None:
        """Replace the stimulus (a ``Stimulus``, callable, constant or None)."""
        st = as_stimulus(stimulus, self.n_nodes)
        self.stimulus = None if st is None else st.to(device=self.device)

    # -- sizes, views, state --------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return self.coupling.n_nodes

    @property
    def state_size(self) -> int:
        return self.layout.size

    @property
    def dtype(self) -> torch.dtype:
        return self.coupling.weight0.dtype

    @property
    def real_dtype(self) -> torch.dtype:
        """The real dtype of times (float64 for complex128 states, [K23])."""
        return self.dtype.to_real() if self.dtype.is_complex else self.dtype

    @property
    def device(self) -> torch.device:
        return self.coupling.src.device

    def column(self, label) -> ColumnView:
        """The per-column view of the column labelled ``label`` (its own state and parameters)."""
        return ColumnView(self, self.coupling.index_of(label))

    def initial_state(self, batch: int = 1, values: dict | None = None, noise: float = 0.0,
                      seed: int | None = None) -> torch.Tensor:
        """A state (B, S) (``columns.state.initial_state``); set ``network.state = …`` for what
        the column views show."""
        return state.initial_state(self, batch, values, noise, seed)

    def check_state(self, y: torch.Tensor, name: str = "state") -> torch.Tensor:
        """Validate shape, device, dtype and finiteness of a state; return it as (B, S)."""
        return state.check_state(self, y, name)

    # -- the coupling ---------------------------------------------------------------------------
    def stimulus_at(self, t, batch: int, s: torch.Tensor | None = None) -> torch.Tensor:
        """s(t) broadcast to (B, N); an explicit ``s`` ((B, N), (N,) or ()) overrides the stimulus."""
        if s is not None:
            s = torch.as_tensor(s, dtype=self.dtype, device=self.device)
        elif self.stimulus is None:
            return torch.zeros(1, self.n_nodes, dtype=self.dtype, device=self.device)
        else:
            s = self.stimulus(t).to(self.dtype)
        s = s.reshape(1, 1) if s.dim() == 0 else (s.unsqueeze(0) if s.dim() == 1 else s)
        return s.expand(s.shape[0], self.n_nodes)

    def edge_weights(self, W_learn: torch.Tensor) -> torch.Tensor:
        """All edge weights (B, E): the learnable ones from the state, the rest from the graph."""
        if self.all_learnable:
            return W_learn
        W0 = self.coupling.weight0.unsqueeze(0)
        if W_learn.shape[-1] == 0:
            return W0
        return W0.expand(W_learn.shape[0], -1).index_copy(1, self.learn_idx, W_learn)

    def learned_edges(self, y: torch.Tensor | None = None) -> dict:
        """The learnable edges of a state (default ``self.state``): {"W" (B, E_l), "p_W" (B, E_l),
        "source", "target" (E_l,) node indices, "edge" (E_l,) index into the CSR edge order}."""
        y = self.state if y is None else y
        _, W_l, P_l = self.layout.split(y.reshape(-1, y.shape[-1]))
        return {"W": W_l, "p_W": P_l, "source": self.learn_src, "target": self.learn_tgt,
                "edge": self.learn_idx}

    def with_learned_weights(self, y: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        """A copy of state y whose learnable edges take their weights from the dense W[target,
        source]. Shapes: y (B, S) or (S,); W (N, N) or (B, N, N) -> like y."""
        out = y.clone()
        a, m = self.layout.edge_W
        out[..., a:a + m] = W[..., self.learn_tgt, self.learn_src]
        return out

    def coupling_matrix(self, y: torch.Tensor | None = None) -> torch.Tensor:
        """Dense couplings W[target, source] of a state (default ``self.state``), learned weights
        included. Shapes: y (S,) or (B, S) -> (N, N) or (B, N, N)."""
        y = self.state if y is None else y
        W = self.coupling.to_dense(self.edge_weights(self.layout.split(y.reshape(-1, y.shape[-1]))[1]))
        return W[0] if y.dim() == 1 else W

    def scatter_learnable(self, v: torch.Tensor) -> torch.Tensor:
        """Values on the learnable edges (B, E_l) placed in all edges (B, E), 0 elsewhere."""
        if self.all_learnable:
            return v
        out = torch.zeros(v.shape[0], self.coupling.n_edges, dtype=v.dtype, device=v.device)
        return out.index_copy(1, self.learn_idx, v)

    def by_type(self, parts: dict, *node_values: torch.Tensor):
        """The per-type loop, written once: yields (name, column, its state part, each of
        ``node_values`` (B, N) sliced to its columns (B, n))."""
        for k, col in self.columns.items():
            sl = self.coupling.type_slices[k]
            yield (k, col, parts[k], *(v[..., sl] for v in node_values))

    def send(self, parts: dict, signal: str = "send") -> torch.Tensor:
        """x (B, N): every type's presynaptic signal (``signal="trace"``: a trace learner's trace,
        the others' signal), in compiled node order."""
        return torch.cat([col.trace(p) if signal == "trace" and isinstance(col, TraceLearningColumn)
                          else col.send(p) for _, col, p in self.by_type(parts)], dim=-1)

    def field(self, W_l: torch.Tensor, x: torch.Tensor, B: int, x_edges=None):
        """(W (B|1, E) or None without edges, ν = W x (B, N)): one sparse product; with
        ``x_edges`` (B, E), the signals arriving on each edge (delayed), ν_i = Σ_e W_e x_edges,e."""
        if not self.coupling.n_edges:
            return None, torch.zeros_like(x).expand(B, -1)
        W = self.edge_weights(W_l)
        if x_edges is not None:
            return W, self.coupling.sum_by_target(W * x_edges).expand(B, -1)
        return W, self.coupling.forward_product(W, x).expand(B, -1)

    # -- dynamics -------------------------------------------------------------------------------
    def forward(self, t, y: torch.Tensor, s: torch.Tensor | None = None,
                out: torch.Tensor | None = None, delayed=None) -> torch.Tensor:
        """dy/dt. ``s`` (B, N) overrides s(t) (the solvers evaluate many times in one batch);
        ``out`` (B, S), a buffer the caller owns, receives the result (no fresh allocation);
        ``delayed``, a function x (B, N) -> (B, E) giving the signal that arrives on each edge
        now, x_j(t − d_e) (``columns.delays``; None: x_j(t)). With delays, ν and the Hebbian
        edge terms take the arriving x_j(t − d_e); the backward message to the source's momentum,
        φ′_j(t) Σ_e [W_e g_i(t) + α_W P_e x_i(t)], is instantaneous (``columns.delays``).

        Shapes: y (B, S) or (S,) -> same shape.
        """
        if self.learning == "map":
            raise SolverError("the learnable edges of this network learn by a discrete-time map: run "
                              "solver='step' (continuous-time learning with a lagged trace: a "
                              "TraceLearningColumn type, e.g. 'fep_trace')")
        if not torch.compiler.is_compiling():
            threads.sync()                       # a count changed mid-run applies here
        squeeze = y.dim() == 1
        y = y.unsqueeze(0) if squeeze else y
        parts, W_l, P_l = self.layout.split(y)
        B, cp = y.shape[0], self.coupling
        s = self.stimulus_at(t, B, s).expand(B, -1)                      # (B, N)
        x = self.send(parts)                                              # (B, N)
        x_edges = None if delayed is None else delayed(x)                 # (B, E) arriving
        work = self._fused_work(y, x) if x_edges is None else None
        if work is None:
            W, nu = self.field(W_l, x, B, x_edges)
        else:
            W = W_l if self.all_learnable else cp.weight0.unsqueeze(0)
            nu = kernels.field(cp.crow, cp.src, W, x, work["bounds"], work["nu"])
        derivs, g = {}, []
        for k, col, part, nu_k, s_k in self.by_type(parts, nu, s):
            try:
                derivs[k], gk = col.rhs(part, nu_k, s_k)
            except Exception as err:
                if not type(col).__module__.startswith("columns."):   # a user's column type
                    mark_user_error(err)
                raise
            g.append(torch.zeros_like(nu_k) if gk is None else gk)
        dW = dP = None
        if out is not None:
            out = out.view(B, self.layout.size)
        elif work is not None:
            out = y.new_empty(B, self.layout.size)
        if cp.n_edges and self.hamiltonian_types:
            if work is None:
                dW, dP = self._hamiltonian_coupling(parts, derivs, torch.cat(g, -1), W, W_l, P_l, x,
                                                    x_edges)
            else:
                dW, dP = self._fused_coupling(work, parts, derivs, torch.cat(g, -1), W, P_l, x, out)
        if self.learning == "trace":
            dW, dP = self._trace_learning(parts, W_l, P_l, x, nu, s)
        out = self.layout.join(derivs, dW, dP, out=out)
        return out.squeeze(0) if squeeze else out

    def _fused_work(self, y: torch.Tensor, x: torch.Tensor) -> dict | None:
        """The work buffers of the fused kernels for this call, or None where they do not apply."""
        cp = self.coupling
        if torch.compiler.is_compiling() or not (
                self.kernels and kernels.AVAILABLE and y.device.type == "cpu"
                and y.dtype in (torch.float32, torch.float64) and cp.n_edges
                and not cp.dense_for(not self.all_learnable)
                and self.learning in (None, "hebbian")
                and (self.all_learnable or self.layout.n_learnable == 0)):
            return None
        if torch.is_grad_enabled() and (y.requires_grad or x.requires_grad):
            return None
        C = kernels.threads()
        key = (y.shape[0], y.dtype, C)
        work = self._work.get(key)
        if work is None:
            B, N = y.shape[0], self.n_nodes
            work = {"bounds": kernels.chunk_bounds(cp.crow, C),
                    "nu": y.new_empty(B, N), "fsrc": y.new_empty(C, B, N), "ftgt": y.new_empty(B, N)}
            pl = self.plasticity
            if self.learning == "hebbian":
                work["params"] = [v.to(y.dtype).reshape(-1).contiguous()
                                  for v in (pl.alpha_W, 1.0 / pl.m_W, pl.gamma_W)]
            else:
                work["params"] = [y.new_zeros(1)] * 3
            self._work = {key: work}              # keep only the latest shape
        return work

    def _fused_coupling(self, work, parts, derivs, g, W, P_l, x, out):
        """``_hamiltonian_coupling`` by the fused kernel: Ẇ, Ṗ written into ``out``'s edge blocks."""
        cp = self.coupling
        dW = dP = None
        if self.learning == "hebbian":
            (a, m), (b, _) = self.layout.edge_W, self.layout.edge_P
            dW, dP = out[:, a:a + m], out[:, b:b + m]
        force = kernels.hebbian(cp.crow, cp.src, W, P_l if dW is not None else None, x,
                                g.contiguous(), *work["params"], work["bounds"], dW, dP,
                                work["fsrc"], work["ftgt"])
        self._send_back(parts, derivs, force)
        return dW, dP

    def _send_back(self, parts, derivs, force):
        """ṗ_send −= φ′ · force for every Hamiltonian type (in place in ``derivs``).
        Shapes: force (B, N) = Wᵀ g + ∂H_edges/∂x."""
        for k in self.hamiltonian_types:
            col, sl = self.columns[k], self.coupling.type_slices[k]
            name = "p_" + col.send_field
            derivs[k][name] = derivs[k][name] - col.send_derivative(parts[k]) * force[:, sl]

    def _hamiltonian_coupling(self, parts, derivs, g, W, W_l, P_l, x, x_edges=None):
        """The backward message −φ′ (Wᵀ g + ∂H_edges/∂x) into ṗ_send (in place in ``derivs``) and
        the Hebbian edge equations (presynaptic x_j: ``x_edges`` (B, E) when delayed).
        Shapes: g (B, N) ∂H/∂ν; returns (dW, dP) (B, E_l) or None."""
        cp = self.coupling
        g_tgt = cp.gather_target(g)                                       # (B, E)
        back = W * g_tgt                                                  # (B, E)
        dW = dP = None
        if self.learning == "hebbian":
            pl = self.plasticity
            x_src = cp.gather_source(x) if x_edges is None else x_edges
            x_tgt = cp.gather_target(x)
            pick = (lambda v: v) if self.all_learnable else (lambda v: v[:, self.learn_idx])
            dW, dP = pl.rhs(W_l, P_l, pick(x_src), pick(x_tgt), pick(g_tgt))
            aP = self.scatter_learnable(pl.alpha_W * P_l)                 # (B, E)
            back = back + aP * x_tgt
            force = cp.sum_by_source(back) + (cp.forward_product(aP, x) if x_edges is None
                                              else cp.sum_by_target(aP * x_src))
        else:
            force = cp.sum_by_source(back)                                # (B, N) Wᵀ g
        self._send_back(parts, derivs, force)
        return dW, dP

    def _trace_learning(self, parts, W_l, P_l, x, nu, s):
        """Ẇ_e = r_i e_i x_j for the learnable edges into trace learners; P_W stays 0."""
        nu_bar = self.field(W_l, self.send(parts, "trace"), x.shape[0])[1]
        err, rate = [], []
        for _, col, part, nu_k, nb_k, s_k in self.by_type(parts, nu, nu_bar, s):
            learner = isinstance(col, TraceLearningColumn)
            err.append(col.learning_error(part, nu_k, nb_k, s_k) if learner else torch.zeros_like(nu_k))
            r = col.learning_rate() if learner else torch.zeros(())
            rate.append(r.to(x).expand(col.n))
        post = torch.cat(rate) * torch.cat(err, -1)                       # (B, N) r_i e_i
        return (post.index_select(-1, self.learn_tgt) * x.index_select(-1, self.learn_src),
                torch.zeros_like(P_l))

    def extra_repr(self) -> str:
        return f"N={self.n_nodes}, E={self.coupling.n_edges}, S={self.layout.size}"

