"""``Network``: all columns, the coupling and the stimulus; the function torchdiffeq integrates.

    dy/dt = network(t, y)

For Hamiltonian column types and the Hebbian edge Hamiltonian the collective equations are
(docs/theory.md §4), with x = φ(q_send) the sent rates and g_i = ∂H_i/∂ν_i:

    ν     = W x                                   (one sparse product, CSR by target)
    per type: (q̇, ṗ), g = column.rhs(state, ν, s)  (one vectorised call per type, never per column)
    ṗ_send,j −= φ′_j [ (Wᵀ g)_j + ∂H_edges/∂x_j ]    (one scatter-add by source)
    Ẇ_e = P_e/m_W + α_W x_i x_j − γ_W W_e,   Ṗ_e = γ_W P_e − g_i x_j          (elementwise)

The learning rule is an object (``columns.plasticity``, chosen from the types the learnable edges
target): the Hebbian edge Hamiltonian above, continuous learning against a trace for
``TraceLearningColumn`` targets, or learning in the map step for ``MapColumn`` targets
(``solver="step"``). Each call costs O(N + E). A batch dimension B in front runs an ensemble:
one sparse product for the whole batch. Other column types (e.g. a Stuart–Landau oscillator) only
receive ν. Building from a graph: ``columns.build``; energies: ``columns.energy``.

Every product over the edges goes through ``network.edges`` (``columns.coupling.Edges``), which
picks the backend: the fused CPU kernels (all, some or none of the edges learnable), a dense GEMM,
or the eager torch ops (autograd, delays, GPU); all agree to round-off (tests);
``network.kernels = False`` forces eager.

Shapes: y (B, S) or (S,); see ``columns.layout`` for S.
"""

from __future__ import annotations

import torch
from torch import nn

from graphs.coupling import Coupling
from graphs.errors import ParameterError, SolverError, mark_user_error

from . import energy, state, threads
from .build import check_columns, check_slow_synapses, from_graph
from .coupling import Edges
from .layout import StateLayout
from .plasticity import EdgeTerms, Plasticity, rule_for
from .stimulus import as_stimulus
from .types.column import ColumnType
from .types.hamiltonian import HamiltonianColumn
from .view import ColumnView

DTYPES = (torch.float32, torch.float64, torch.complex64, torch.complex128)
"""The dtypes a network computes in (complex for Kim's [K23] complex parameters)."""


class Network(nn.Module):
    """A network of column types on a compiled coupling. Final class.

    Args:
        coupling: from ``graphs.compile``.
        columns: type name -> ``ColumnType`` instance holding that type's n columns.
        plasticity: the rule for learnable edges into Hamiltonian types (a
            ``columns.plasticity`` rule; default ``HebbianPlasticity()``); the other types'
            rules follow from the types.
        stimulus: ``Stimulus``, a callable of t, a constant, or None (s = 0).
        dtype: convert parameters and buffers (e.g. ``torch.float64`` for identity checks).

    Attributes:
        plasticity: the learning rule (``columns.plasticity``), or None without learnable edges.
        edges: the coupling room (``columns.coupling.Edges``): every product over the edges.
    """

    def __init__(self, coupling: Coupling, columns: dict[str, ColumnType],
                 plasticity: Plasticity | None = None, stimulus: object = None,
                 dtype: torch.dtype | None = None):
        super().__init__()
        self.coupling = coupling
        check_columns(coupling, columns)
        self.columns = nn.ModuleDict({k: columns[k] for k in coupling.type_slices})
        self.edges = Edges(coupling)
        check_slow_synapses(coupling, self.columns)
        n_learn = self.edges.n_learnable
        self.plasticity = rule_for(coupling, self.columns, self.edges.learn_idx, plasticity)
        if self.plasticity is not None:
            self.plasticity.check_edges(n_learn)
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

    # -- the learnable edges (``edges``) ----------------------------------------------------------
    @property
    def learn_idx(self) -> torch.Tensor:
        """(E_l,) the learnable edges' positions in the CSR edge order."""
        return self.edges.learn_idx

    @property
    def learn_src(self) -> torch.Tensor:
        return self.edges.learn_src

    @property
    def learn_tgt(self) -> torch.Tensor:
        return self.edges.learn_tgt

    @property
    def kernels(self) -> bool:
        """Whether the fused CPU kernels may run (False: the eager torch ops)."""
        return self.edges.kernels

    @kernels.setter
    def kernels(self, on: bool) -> None:
        self.edges.kernels = bool(on)

    @classmethod
    def from_graph(cls, G, column_types: dict | None = None, plasticity=None, stimulus=None,
                   dtype=None, allow_self_loops: bool | None = None,
                   speed: float | None = None) -> "Network":
        """Compile ``G`` and build one module per column type (``columns.build.from_graph``;
        ``speed``: the conduction speed that turns edge lengths into delays).

        Returns:
            A ``Network`` (state: the types' initial values; plasticity: ``rule_for`` the learnable
            edges' targets unless given).

        Raises:
            GraphError: a malformed graph (the node or edge and the attribute are named).
            RegistryError: a node type that is not registered.
            ParameterError: a column parameter out of range (e.g. a negative precision).
            StimulusError: a stimulus that is not a ``Stimulus``, callable, number or tensor.
        """
        return from_graph(cls, G, column_types, plasticity, stimulus, dtype, allow_self_loops, speed)

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
        """The per-column view of the column labelled ``label`` (its own state and parameters).

        Returns:
            A ``ColumnView``: attribute access to that column's fields and parameters.

        Raises:
            LabelError: no column has that label (the message lists some labels).
        """
        return ColumnView(self, self.coupling.index_of(label))

    def initial_state(self, batch: int = 1, values: dict | None = None, noise: float = 0.0,
                      seed: int | None = None) -> torch.Tensor:
        """A state (B, S) (``columns.state.initial_state``); set ``network.state = …`` for what
        the column views show.

        Returns:
            A state (B, S) on the network's device and dtype.

        Raises:
            StateError: an unknown field in ``values``, a value of the wrong shape, a batch < 1 or a
                negative noise.
        """
        return state.initial_state(self, batch, values, noise, seed)

    def check_state(self, y: torch.Tensor, name: str = "state") -> torch.Tensor:
        """Validate shape, device, dtype and finiteness of a state; return it as (B, S).

        Returns:
            ``y`` as (B, S).

        Raises:
            StateError: not a tensor, the wrong dtype or shape, or NaN/inf entries.
            DeviceError: ``y`` on another device than the network.
        """
        return state.check_state(self, y, name)

    # -- the coupling ---------------------------------------------------------------------------
    def stimulus_at(self, t, batch: int, s: torch.Tensor | None = None) -> torch.Tensor:
        """s(t) broadcast to (B, N); an explicit ``s`` ((B, N), (N,) or ()) overrides the stimulus.

        Returns:
            s (B, N) (or (1, N) without a stimulus: zeros).
        """
        if s is not None:
            s = torch.as_tensor(s, dtype=self.dtype, device=self.device)
        elif self.stimulus is None:
            return torch.zeros(1, self.n_nodes, dtype=self.dtype, device=self.device)
        else:
            s = self.stimulus(t).to(self.dtype)
        s = s.reshape(1, 1) if s.dim() == 0 else (s.unsqueeze(0) if s.dim() == 1 else s)
        return s.expand(s.shape[0], self.n_nodes)

    def edge_weights(self, W_learn: torch.Tensor) -> torch.Tensor:
        """All edge weights (B, E): the learnable ones from the state, the rest from the graph.

        Returns:
            The weights (B, E) in CSR edge order.
        """
        return self.edges.weights(W_learn)

    def learned_edges(self, y: torch.Tensor | None = None) -> dict:
        """The learnable edges of a state (default ``self.state``): {"W" (B, E_l), "p_W" (B, E_l),
        "source", "target" (E_l,) node indices, "edge" (E_l,) index into the CSR edge order}.

        Returns:
            A dict of the learnable edges' weights, momenta and end points (above).
        """
        y = self.state if y is None else y
        _, W_l, P_l = self.layout.split(y.reshape(-1, y.shape[-1]))
        return {"W": W_l, "p_W": P_l, "source": self.learn_src, "target": self.learn_tgt,
                "edge": self.learn_idx}

    def with_learned_weights(self, y: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        """A copy of state y whose learnable edges take their weights from the dense W[target,
        source]. Shapes: y (B, S) or (S,); W (N, N) or (B, N, N) -> like y.

        Returns:
            The new state, shaped like ``y``.
        """
        out = y.clone()
        a, m = self.layout.edge_W
        out[..., a:a + m] = W[..., self.learn_tgt, self.learn_src]
        return out

    def coupling_matrix(self, y: torch.Tensor | None = None) -> torch.Tensor:
        """Dense couplings W[target, source] of a state (default ``self.state``), learned weights
        included. Shapes: y (S,) or (B, S) -> (N, N) or (B, N, N).

        Returns:
            The dense couplings, (N, N) or (B, N, N).
        """
        y = self.state if y is None else y
        W = self.coupling.to_dense(self.edge_weights(self.layout.split(y.reshape(-1, y.shape[-1]))[1]))
        return W[0] if y.dim() == 1 else W

    def scatter_learnable(self, v: torch.Tensor) -> torch.Tensor:
        """Values on the learnable edges (B, E_l) placed in all edges (B, E), 0 elsewhere.

        Returns:
            A tensor (B, E).
        """
        return self.edges.scatter(v)

    def by_type(self, parts: dict, *node_values: torch.Tensor):
        """The per-type loop, written once: yields (name, column, its state part, each of
        ``node_values`` (B, N) sliced to its columns (B, n)).

        Returns:
            A generator of (name, column module, state part, sliced node values).
        """
        for k, col in self.columns.items():
            sl = self.coupling.type_slices[k]
            yield (k, col, parts[k], *(v[..., sl] for v in node_values))

    def send(self, parts: dict) -> torch.Tensor:
        """x (B, N): every type's presynaptic signal, in compiled node order.

        Returns:
            x (B, N).
        """
        return torch.cat([col.send(p) for _, col, p in self.by_type(parts)], dim=-1)

    def trace_signal(self, parts: dict) -> torch.Tensor:
        """x̄ (B, N): the traces slow synapses transmit (0 for types without one).

        Returns:
            x̄ (B, N).
        """
        return torch.cat([col.trace(p) if getattr(col, "trace_field", None) else
                          torch.zeros_like(col.send(p)) for _, col, p in self.by_type(parts)], dim=-1)

    def edge_signals(self, parts: dict, x: torch.Tensor, x_edges=None):
        """(a_e, u_e) (B, E) or (x_edges, None) without slow synapses: what arrives on every
        edge, and the learning rule's presynaptic signal (``columns.coupling.edges``).

        Returns:
            (a_e, u_e), each (B, E), or (x_edges, None).
        """
        if not self.edges.has_slow:
            return x_edges, None
        a = self.coupling.gather_source(x) if x_edges is None else x_edges
        return self.edges.slow_signals(a, x, self.trace_signal(parts))

    def field(self, W_l: torch.Tensor, x: torch.Tensor, B: int, x_edges=None):
        """(W (B|1, E) or None without edges, ν = W x (B, N)) (``edges.field``; ``x_edges``
        (B, E): the signals arriving on each edge, delayed).

        Returns:
            (W, ν) as described.
        """
        return self.edges.field(W_l, x, B, x_edges)

    # -- dynamics -------------------------------------------------------------------------------
    def forward(self, t, y: torch.Tensor, s: torch.Tensor | None = None,
                out: torch.Tensor | None = None, delayed=None) -> torch.Tensor:
        """dy/dt. ``s`` (B, N) overrides s(t) (the solvers evaluate many times in one batch);
        ``out`` (B, S), a buffer the caller owns, receives the result (no fresh allocation);
        ``delayed``, a function x (B, N) -> (B, E) giving the signal that arrives on each edge
        now, x_j(t − d_e) (``columns.solvers.delays``; None: x_j(t)). With delays, ν and the Hebbian
        edge terms take the arriving x_j(t − d_e); the backward message to the source's momentum,
        φ′_j(t) Σ_e [W_e g_i(t) + α_W P_e x_i(t)], is instantaneous (``columns.solvers.delays``).

        Shapes: y (B, S) or (S,) -> same shape.

        Returns:
            dy/dt (B, S) (``out`` itself when given).

        Raises:
            SolverError: the learnable edges learn by a discrete-time map (run ``solver="step"``).
            Exception: an error raised in a user's column type, re-raised with the type named.

        The state is not checked here (``simulate`` and the solvers check it once).
        """
        rule = self.plasticity
        if rule is not None and not rule.continuous:
            raise SolverError("the learnable edges of this network learn by a discrete-time map: run "
                              "solver='step' (continuous-time learning with a lagged trace: a "
                              "TraceLearningColumn type, e.g. 'fep_trace')")
        if not torch.compiler.is_compiling():
            threads.sync()                       # a count changed mid-run applies here
        squeeze = y.dim() == 1
        y = y.unsqueeze(0) if squeeze else y
        parts, W_l, P_l = self.layout.split(y)
        B, cp, edges = y.shape[0], self.coupling, self.edges
        s = self.stimulus_at(t, B, s).expand(B, -1)                      # (B, N)
        x = self.send(parts)                                              # (B, N)
        x_edges = None if delayed is None else delayed(x)                 # (B, E) arriving
        x_edges, u_edges = self.edge_signals(parts, x, x_edges)           # slow synapses
        work = edges.plan(y, x, rule) if x_edges is None else None
        if x_edges is not None:
            edges.backend = "eager"
        dW = dP = force = None
        if work is None:
            W, nu = edges.field(W_l, x, B, x_edges)
        else:                                    # the fused passes write into the output
            out = y.new_empty(B, self.layout.size) if out is None else out.view(B, self.layout.size)
            if rule is not None and cp.n_edges and self.hamiltonian_types:
                (a, m), (b, _) = self.layout.edge_W, self.layout.edge_P
                dW, dP = out[:, a:a + m], out[:, b:b + m]
            g_known = self._coupling_gradient(parts, B) if self.hamiltonian_types else None
            if g_known is not None and work["one_pass"]:   # g does not wait for ν: one pass
                W, nu, force = edges.fused_one_pass(work, W_l, P_l, x, g_known, dW, dP)
            else:
                W, nu = edges.fused_field(work, W_l, x, None if dW is None else (P_l, dW, dP))
                if g_known is not None:          # two passes, the second before the columns
                    force = edges.fused_backward(work, W, P_l, x, g_known, dW, dP)
        derivs, g, done = {}, [], ()
        if force is not None:                    # the force is known: node kernels finish
            derivs, done = self._fused_nodes(parts, x, nu, s, force, out)
        for k, col, part, nu_k, s_k in self.by_type(parts, nu, s):
            if k in done:
                continue
            try:
                derivs[k], gk = col.rhs(part, nu_k, s_k)
            except Exception as err:
                if not type(col).__module__.startswith("columns."):   # a user's column type
                    mark_user_error(err)
                raise
            g.append(torch.zeros_like(nu_k) if gk is None else gk)
        if out is not None:
            out = out.view(B, self.layout.size)
        if work is not None:                     # the rule's Ṗ and the message in one pass
            if cp.n_edges and self.hamiltonian_types:
                if force is None:
                    force = edges.fused_backward(work, W, P_l, x, torch.cat(g, -1), dW, dP)
                self._send_back(parts, derivs, force, skip=done)
        elif (cp.n_edges and self.hamiltonian_types) or rule is not None:
            terms = EdgeTerms(self, parts, nu, s, x, x_edges, torch.cat(g, -1), W, W_l, P_l,
                              u_edges)
            A = None
            if rule is not None:
                dW, dP, A = rule.rates(terms)
            if cp.n_edges and self.hamiltonian_types:
                self._send_back(parts, derivs, edges.backward(terms, A))
        out = self.layout.join(derivs, dW, dP, out=out)
        return out.squeeze(0) if squeeze else out

    def _coupling_gradient(self, parts, B: int) -> torch.Tensor | None:
        """g = ∂H/∂ν (B, N) before ν is known: every Hamiltonian type's ``coupling_gradient``
        (0 for the other types), or None when a Hamiltonian type's depends on ν."""
        gs = []
        for _, col, part in self.by_type(parts):
            if isinstance(col, HamiltonianColumn):
                gk = col.coupling_gradient(part)
                if gk is None:
                    return None
                gs.append(gk)
            else:
                gs.append(part[col.fields[0]].new_zeros(B, col.n))
        return gs[0] if len(gs) == 1 else torch.cat(gs, -1)

    def _fused_nodes(self, parts, x, nu, s, force, out) -> tuple[dict, set]:
        """Let every type with a node kernel (``fused_rhs``) write its derivatives, the
        coupling's term included, into ``out``; returns ({type: its views of out}, those types)."""
        views, done = self.layout.split(out)[0], set()
        for k, col, part, x_k, nu_k, s_k, f_k in self.by_type(parts, x, nu, s, force):
            if isinstance(col, HamiltonianColumn) and col.fused_rhs(part, x_k, nu_k, s_k, f_k,
                                                                    views[k]):
                done.add(k)
        self.edges.node_kernels = sorted(done)
        return {k: views[k] for k in done}, done

    def _send_back(self, parts, derivs, force, skip=()):
        """ṗ_send −= φ′ · force for every Hamiltonian type (in place in ``derivs``); with slow
        synapses ``force`` is (to the rates, to the traces) and ṗ_trace −= the second.
        Shapes: force (B, N) = Wᵀ g + ∂H_edges/∂x."""
        force, to_trace = force if isinstance(force, tuple) else (force, None)
        for k in self.hamiltonian_types:
            if k in skip:
                continue
            col, sl = self.columns[k], self.coupling.type_slices[k]
            name = "p_" + col.send_field
            derivs[k][name] = derivs[k][name] - col.send_derivative(parts[k]) * force[:, sl]
            if to_trace is not None and col.trace_field is not None:
                name = "p_" + col.trace_field
                derivs[k][name] = derivs[k][name] - to_trace[:, sl]

    def extra_repr(self) -> str:
        """The sizes for ``repr``.

        Returns:
            "N=…, E=…, S=…" (columns, edges, state size).
        """
        return f"N={self.n_nodes}, E={self.coupling.n_edges}, S={self.layout.size}"

