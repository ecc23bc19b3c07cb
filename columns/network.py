"""``Network``: all columns, the coupling and the stimulus; the function torchdiffeq integrates.

    dy/dt = network(t, y)

For Hamiltonian column types and the Hebbian edge Hamiltonian the collective equations are
(spec bayesian-mechanics.md §4), with x = φ(q_send) the sent rates and g_i = ∂H_i/∂ν_i:

    ν     = W x                                   (one sparse product, CSR by target)
    per type: (q̇, ṗ), g = column.rhs(state, ν, s)  (one vectorised call per type, never per column)
    ṗ_send,j −= φ′_j [ (Wᵀ g)_j + ∂H_edges/∂x_j ]    (one scatter-add by source)
    Ẇ_e = P_e/m_W + α_W x_i x_j − γ_W W_e,   Ṗ_e = γ_W P_e − g_i x_j          (elementwise)

Each call costs O(N + E). A batch dimension B in front runs an ensemble: one sparse product for
the whole batch. Non-Hamiltonian column types (e.g. a Stuart–Landau oscillator) only receive ν.

Shapes: y (B, S) or (S,); see ``columns.layout`` for S.
"""

from __future__ import annotations

import torch
from torch import nn

from graphs.compile import compile as compile_graph
from graphs.coupling import Coupling
from graphs.errors import (DeviceError, GraphError, ParameterError, SolverError, StateError,
                           StimulusError)

from .column import ColumnType
from .layout import StateLayout
from .plasticity import HebbianPlasticity
from .registry import column_type
from .stimulus import Stimulus
from .view import ColumnView


class Network(nn.Module):
    """A network of column types on a compiled coupling. Final class.

    Args:
        coupling: from ``graphs.compile``.
        columns: type name -> ``ColumnType`` instance holding that type's n columns.
        plasticity: edge Hamiltonian for learnable edges (default ``HebbianPlasticity()`` when
            the coupling has learnable edges).
        stimulus: ``Stimulus``, a callable of t, a constant, or None (s = 0).
        dtype: convert parameters and buffers (e.g. ``torch.float64`` for identity checks).
    """

    def __init__(self, coupling: Coupling, columns: dict[str, ColumnType],
                 plasticity: HebbianPlasticity | None = None, stimulus=None, dtype=None):
        super().__init__()
        self.coupling = coupling
        for name, sl in coupling.type_slices.items():
            if name not in columns:
                raise GraphError(f"no column module for type {name!r} (nodes "
                                 f"{coupling.node_labels[sl.start]!r}…); got {sorted(columns)}")
            n = sl.stop - sl.start
            if columns[name].n != n:
                raise ParameterError(f"column type {name!r} holds {columns[name].n} columns but the "
                                     f"graph has {n} nodes of that type")
        extra = sorted(set(columns) - set(coupling.type_slices))
        if extra:
            raise GraphError(f"column modules {extra} have no nodes in the graph")
        if (coupling.delay != 0).any():
            e = int((coupling.delay != 0).nonzero()[0, 0])
            s, t = coupling.edge_labels()
            raise GraphError(f"edge ({s[e]!r} -> {t[e]!r}) has delay {coupling.delay[e].item()}; "
                             "this network integrates ODEs and does not support delays")
        self.columns = nn.ModuleDict({k: columns[k] for k in coupling.type_slices})
        self.map_learners: list[str] = []
        self.register_buffer("learn_idx", coupling.learnable.nonzero().flatten())
        n_learn = int(self.learn_idx.numel())
        self.all_learnable = n_learn == coupling.n_edges and n_learn > 0
        if n_learn:
            tgt_types = {coupling.node_types[i] for i in coupling.tgt[self.learn_idx].tolist()}
            bad = [t for t in tgt_types if not (self.columns[t].is_hamiltonian or
                                                 self.columns[t].learns_in_map)]
            if bad:
                raise GraphError(f"learnable edges target columns of type {bad[0]!r}, which is not "
                                 "Hamiltonian (Hebbian plasticity needs ∂H/∂ν of the target) and "
                                 "has no learning rule in a discrete-time map")
            self.map_learners = sorted(t for t in tgt_types if not self.columns[t].is_hamiltonian)
            plasticity = plasticity if plasticity is not None else HebbianPlasticity()
            plasticity.check_edges(n_learn)
        self.plasticity = plasticity
        self.stimulus = self._as_stimulus(stimulus)
        self.layout = StateLayout({k: (c.fields, c.n) for k, c in self.columns.items()}, n_learn)
        self.hamiltonian_types = [k for k, c in self.columns.items() if c.is_hamiltonian]
        if dtype is not None:
            import warnings
            with warnings.catch_warnings():      # complex parameters ([K23]) are intended here
                warnings.filterwarnings("ignore", message="Complex modules are a new feature")
                self.to(dtype)
        pos, mom = self._canonical_pairs()
        self.register_buffer("_pos_idx", pos, persistent=False)
        self.register_buffer("_mom_idx", mom, persistent=False)
        self.register_buffer("state", self.initial_state())

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, column_types: dict | None = None, plasticity=None, stimulus=None,
                   dtype=None, allow_self_loops: bool | None = None) -> "Network":
        """Compile ``G`` and build one module per column type.

        ``column_types`` maps a type name to a ``ColumnType`` class, a dict of parameters for the
        registered class, or a ready instance. Numeric node attributes override parameters for
        that node (heterogeneous columns).
        """
        coupling = compile_graph(G, allow_self_loops=allow_self_loops)
        column_types = dict(column_types or {})
        modules = {}
        for name, sl in coupling.type_slices.items():
            spec = column_types.get(name)
            if isinstance(spec, ColumnType):
                modules[name] = spec
                continue
            if isinstance(spec, type):
                klass, params = spec, {}
            else:
                klass, params = column_type(name, node=coupling.node_labels[sl.start]), dict(spec or {})
            options = {k: v for k, v in params.items() if k not in klass.param_defaults}
            params = {k: v for k, v in params.items() if k in klass.param_defaults}
            params.update(cls._node_overrides(coupling, name, sl, klass, params))
            modules[name] = klass(sl.stop - sl.start, **options, **params)
        return cls(coupling, modules, plasticity=plasticity, stimulus=stimulus, dtype=dtype)

    @staticmethod
    def _node_overrides(coupling, name, sl, klass, params):
        out = {}
        for key, values in coupling.node_params.items():
            v = values[sl]
            if torch.isnan(v).all():
                continue
            if key not in klass.param_defaults:
                k = int((~torch.isnan(v)).nonzero()[0, 0])
                raise ParameterError(f"node {coupling.node_labels[sl.start + k]!r} (type {name!r}) sets "
                                     f"{key!r}, which is not a parameter of {klass.__name__}; known: "
                                     f"{sorted(klass.param_defaults)}")
            base = torch.as_tensor(params.get(key, klass.param_defaults[key]), dtype=torch.float64)
            out[key] = torch.where(torch.isnan(v), base.expand_as(v), v)
        return out

    def _as_stimulus(self, stimulus):
        if stimulus is None or isinstance(stimulus, Stimulus):
            st = stimulus
        elif callable(stimulus):
            st = Stimulus.from_callable(stimulus)
        else:
            st = Stimulus.constant(stimulus)
        if st is not None and st.values is not None and st.values.shape[-1] not in (1, self.n_nodes):
            raise StimulusError(f"stimulus has {st.values.shape[-1]} columns, the network has "
                                f"{self.n_nodes}")
        return st

    def set_stimulus(self, stimulus) -> None:
        """Replace the stimulus (a ``Stimulus``, callable, constant or None)."""
        st = self._as_stimulus(stimulus)
        if st is not None:
            st = st.to(device=self.coupling.src.device)
        self.stimulus = st

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
        """A state (B, S): fields from ``values`` (scalar, (N,) or (B, N)), else each type's default;
        W = the graph's weights, P_W = 0; plus ``noise`` · N(0, 1) on every field (seeded).
        """
        values = dict(values or {})
        unknown = sorted(set(values) - set(self.layout.node_fields()) - {"W", "p_W"})
        if unknown:
            raise StateError(f"unknown state field(s) {unknown}; fields: {self.layout.node_fields()}")
        y = torch.zeros(batch, self.layout.size, dtype=self.dtype, device=self.device)
        for name, f, start, n in self.layout.blocks:
            sl = self.coupling.type_slices[name]
            if f in values:
                v = torch.as_tensor(values[f], dtype=self.dtype, device=self.device)
                if v.dim() >= 1 and v.shape[-1] == self.n_nodes:
                    v = v[..., sl]
                try:
                    y[:, start:start + n] = v.expand(batch, n) if v.dim() < 2 else v
                except RuntimeError as err:
                    raise StateError(f"initial value of {f!r} has shape {tuple(v.shape)}; expected (), "
                                     f"({self.n_nodes},) or ({batch}, {self.n_nodes})") from err
            else:
                y[:, start:start + n] = self.columns[name].initial_values()[f]
        if self.layout.n_learnable:
            a, m = self.layout.edge_W
            y[:, a:a + m] = self.coupling.weight0[self.learn_idx]
        if noise:
            g = torch.Generator(device="cpu").manual_seed(0 if seed is None else int(seed))
            y = y + noise * torch.randn(y.shape, generator=g, dtype=self.dtype).to(self.device)
        return y

    def init_state(self, batch: int = 1, values: dict | None = None, noise: float = 0.0,
                   seed: int | None = None) -> torch.Tensor:
        """Set ``self.state`` (what the column views show) to ``initial_state(...)``; return it."""
        self.state = self.initial_state(batch, values, noise, seed)
        return self.state

    def check_state(self, y: torch.Tensor, name: str = "state") -> torch.Tensor:
        """Validate shape, device, dtype and finiteness of a state; return it as (B, S)."""
        if not torch.is_tensor(y):
            raise StateError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
        if y.device != self.device:
            raise DeviceError(f"{name} is on {y.device} but the network is on {self.device}; "
                              "use network.to(device) and a state on the same device")
        if y.dtype != self.dtype:
            raise StateError(f"{name} has dtype {y.dtype} but the network uses {self.dtype}")
        if y.dim() == 1:
            y = y.unsqueeze(0)
        if y.dim() != 2 or y.shape[-1] != self.layout.size:
            raise StateError(f"{name} must have shape (S,) or (B, S) with S = {self.layout.size}, got "
                             f"{tuple(y.shape)}")
        if not torch.isfinite(y).all():
            raise StateError(f"{name} contains non-finite values")
        return y

    # -- dynamics -------------------------------------------------------------------------------
    def stimulus_at(self, t, batch: int, s: torch.Tensor | None = None) -> torch.Tensor:
        """s(t) broadcast to (B, N); an explicit ``s`` ((B, N), (N,) or ()) overrides the stimulus."""
        if s is not None:
            s = torch.as_tensor(s, dtype=self.dtype, device=self.device)
            s = s.reshape(1, 1) if s.dim() == 0 else (s.unsqueeze(0) if s.dim() == 1 else s)
            return s.expand(s.shape[0], self.n_nodes)
        if self.stimulus is None:
            return torch.zeros(1, self.n_nodes, dtype=self.dtype, device=self.device)
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

    def coupling_matrix(self, y: torch.Tensor | None = None) -> torch.Tensor:
        """Dense couplings W[target, source] of a state (default ``self.state``), learned weights
        included. Shapes: y (S,) or (B, S) -> (N, N) or (B, N, N)."""
        y = self.state if y is None else y
        W = self.coupling.to_dense(self.edge_weights(self.layout.split(y.reshape(-1, y.shape[-1]))[1]))
        return W[0] if y.dim() == 1 else W

    def _scatter_learnable(self, v: torch.Tensor) -> torch.Tensor:
        if self.all_learnable:
            return v
        out = torch.zeros(v.shape[0], self.coupling.n_edges, dtype=v.dtype, device=v.device)
        return out.index_copy(1, self.learn_idx, v)

    def send(self, parts: dict) -> torch.Tensor:
        """x (B, N): every type's presynaptic signal, in compiled node order."""
        return torch.cat([self.columns[k].send(parts[k]) for k in self.columns], dim=-1)

    def field(self, W_l: torch.Tensor, x: torch.Tensor, B: int):
        """(W (B|1, E) or None without edges, ν = W x (B, N)): one sparse product (no autograd
        through the CSR path; see ``_differentiable_parts``)."""
        if not self.coupling.n_edges:
            return None, torch.zeros_like(x).expand(B, -1)
        W = self.edge_weights(W_l)
        return W, self.coupling.forward_product(W, x).expand(B, -1)

    def forward(self, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """dy/dt. ``s`` (B, N) overrides s(t) (the solvers evaluate many times in one batch).

        Shapes: y (B, S) or (S,) -> same shape.
        """
        if self.map_learners:
            raise SolverError(f"learnable edges into {self.map_learners[0]!r} columns learn by their "
                              "discrete-time map: run solver='step' (continuous-time FEP learning "
                              "with a lagged trace: columns.FEPMeanField)")
        squeeze = y.dim() == 1
        if squeeze:
            y = y.unsqueeze(0)
        parts, W_l, P_l = self.layout.split(y)
        B, cp = y.shape[0], self.coupling
        s = self.stimulus_at(t, B, s).expand(B, -1)                      # (B, N)
        x = self.send(parts)                                              # (B, N)
        has_edges = cp.n_edges > 0
        W, nu = self.field(W_l, x, B)
        derivs, g = {}, []
        for k, col in self.columns.items():
            sl = cp.type_slices[k]
            d, gk = col.rhs(parts[k], nu[:, sl], s[:, sl])
            derivs[k] = d
            g.append(torch.zeros_like(nu[:, sl]) if gk is None else gk)
        dW = dP = None
        if has_edges and self.hamiltonian_types:
            g = torch.cat(g, dim=-1)                                      # (B, N) ∂H/∂ν
            g_tgt = cp.gather_target(g)                                   # (B, E)
            back = W * g_tgt                                              # (B, E)
            if self.layout.n_learnable:
                pl = self.plasticity
                x_src, x_tgt = cp.gather_source(x), cp.gather_target(x)
                xs_l, xt_l = ((x_src, x_tgt) if self.all_learnable else
                              (x_src[:, self.learn_idx], x_tgt[:, self.learn_idx]))
                gt_l = g_tgt if self.all_learnable else g_tgt[:, self.learn_idx]
                dW, dP = pl.rhs(W_l, P_l, xs_l, xt_l, gt_l)
                aP = self._scatter_learnable(pl.alpha_W * P_l)            # (B, E)
                back = back + aP * x_tgt
                force = cp.sum_by_source(back) + cp.forward_product(aP, x)
            else:
                force = cp.sum_by_source(back)                            # (B, N) Wᵀ g
            for k in self.hamiltonian_types:
                col, sl = self.columns[k], cp.type_slices[k]
                name = "p_" + col.send_field
                derivs[k][name] = derivs[k][name] - col.send_derivative(parts[k]) * force[:, sl]
        elif self.layout.n_learnable:
            raise GraphError("learnable edges need at least one Hamiltonian column type")
        out = self.layout.join(derivs, dW, dP)
        return out.squeeze(0) if squeeze else out

    # -- energy and the autograd reference ------------------------------------------------------
    def _differentiable_parts(self, t, y, s=None):
        """Split y and compute s, x and ν with differentiable (scatter-add) products."""
        if len(self.hamiltonian_types) != len(self.columns):
            raise ParameterError("the network has non-Hamiltonian column types: no Hamiltonian")
        parts, W_l, P_l = self.layout.split(y)
        cp, B = self.coupling, y.shape[0]
        s = self.stimulus_at(t, B, s).expand(B, -1)
        x = self.send(parts)
        nu = torch.zeros_like(x)
        if cp.n_edges:
            nu = nu.index_add(1, cp.tgt, self.edge_weights(W_l) * x[:, cp.src])
        return parts, W_l, P_l, s, x, nu

    def hamiltonian(self, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """Total H(y; s(t)) per batch member: Σ_i H_i(q_i, p_i; ν_i, s_i) + Σ_e H_e.

        ``s`` (B, N) overrides s(t) (e.g. a leaf tensor for ∂H/∂s). Shapes: (B,).
        """
        squeeze = y.dim() == 1
        y = y.unsqueeze(0) if squeeze else y
        parts, W_l, P_l, s, x, nu = self._differentiable_parts(t, y, s)
        cp = self.coupling
        H = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
        for k, col in self.columns.items():
            sl = cp.type_slices[k]
            H = H + col.hamiltonian(parts[k], nu[:, sl], s[:, sl]).sum(-1)
        if self.layout.n_learnable:
            xs, xt = x[:, cp.src][:, self.learn_idx], x[:, cp.tgt][:, self.learn_idx]
            H = H + self.plasticity.hamiltonian(W_l, P_l, xs, xt).sum(-1)
        return H.squeeze(0) if squeeze else H

    def static_energy(self, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """U(q; s(t)) = L(q, q̇ = 0) = Σ_i U_i + Σ_e ½ m_W h_e² (momenta in y are ignored).

        Its critical points are the fixed points (p* = −M F(q*)); its minima the MAP estimates.
        Shapes: y (B, S) -> (B,).
        """
        squeeze = y.dim() == 1
        y = y.unsqueeze(0) if squeeze else y
        parts, W_l, _, s, x, nu = self._differentiable_parts(t, y, s)
        cp = self.coupling
        U = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
        for k, col in self.columns.items():
            sl = cp.type_slices[k]
            q = {f: parts[k][f] for f in col.positions}
            U = U + col.static_energy(q, nu[:, sl], s[:, sl]).sum(-1)
        if self.layout.n_learnable:
            xs, xt = x[:, cp.src][:, self.learn_idx], x[:, cp.tgt][:, self.learn_idx]
            h = self.plasticity.flow(W_l, xs, xt)
            U = U + (0.5 * self.plasticity.m_W * h * h).sum(-1)
        return U.squeeze(0) if squeeze else U

    def sensory_errors(self, t, y: torch.Tensor, s: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
        """(e, m_z): e_i = s_eff,i − g_i(q) and its precision per column (0 for non-Hamiltonian
        types), so that the likelihood part of U and L is Σ_i ½ m_z,i e_i². Differentiable in y.

        Shapes: y (B, S) -> (B, N), (N,).
        """
        squeeze = y.dim() == 1
        y = y.unsqueeze(0) if squeeze else y
        parts, _, _ = self.layout.split(y)
        B = y.shape[0]
        s = self.stimulus_at(t, B, s).expand(B, -1)
        errs, prec = [], []
        for k, col in self.columns.items():
            sl = self.coupling.type_slices[k]
            if col.is_hamiltonian:
                q = {f: parts[k][f] for f in col.positions}
                errs.append(col.effective_stimulus(q, s[:, sl]) - col.prediction(q))
                prec.append(getattr(col, col.sensory_precision).to(y.dtype).expand(sl.stop - sl.start))
            else:
                errs.append(torch.zeros_like(s[:, sl]))
                prec.append(torch.zeros(sl.stop - sl.start, dtype=y.dtype, device=y.device))
        e, m = torch.cat(errs, -1), torch.cat(prec)
        return (e.squeeze(0) if squeeze else e), m

    def sensory_energy(self, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """Σ_i ½ m_z,i (s_i − g_i)², the likelihood part of U and L. Shapes: y (B, S) -> (B,)."""
        e, m = self.sensory_errors(t, y, s)
        return (0.5 * m * e * e).sum(-1)

    def prior_flow(self, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """F(q; s) of every position (canonical order; the momenta in y are ignored): q̇ at p = 0.

        Differentiable in y. Shapes: y (B, S) -> (B, P) (P positions, see ``canonical_pairs``).
        """
        pos, mom = self.canonical_pairs()
        z = y.index_fill(-1, mom, 0.0)
        return self(t, z, s)[..., pos]

    def momenta_at_rest(self, t, y: torch.Tensor, s: torch.Tensor | None = None) -> torch.Tensor:
        """y with every momentum set to −M F(q): the momenta of a fixed point q (p* = −M F(q*)).

        ``s`` (B, N) overrides s(t). Shapes: y (B, S) or (S,) -> same.
        """
        _, mom = self.canonical_pairs()
        z = y.detach().clone()
        with torch.no_grad():
            z[..., mom] = -self.position_masses().to(z) * self.prior_flow(t, z, s)
        return z

    def position_masses(self) -> torch.Tensor:
        """The mass (precision) of every position, in ``canonical_pairs`` order. Shapes: (P,)."""
        out = [torch.zeros(0, dtype=self.dtype, device=self.device)]
        for name, f, start, n in self.layout.blocks:
            col = self.columns[name]
            if col.is_hamiltonian and f in col.positions:
                out.append(col.masses()[f].to(self.dtype).expand(n))
        if self.layout.n_learnable:
            out.append(self.plasticity.m_W.to(self.dtype).expand(self.layout.n_learnable))
        return torch.cat(out)

    def canonical_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices (positions, momenta) into y pairing every q with its p, for the Hamiltonian
        column types and the learnable edges. Shapes: (P,) each (P = S/2 when all are Hamiltonian)."""
        return self._pos_idx, self._mom_idx

    def _canonical_pairs(self) -> tuple[torch.Tensor, torch.Tensor]:
        pos, mom = [torch.zeros(0, dtype=torch.long)], [torch.zeros(0, dtype=torch.long)]
        for name, f, start, n in self.layout.blocks:   # non-Hamiltonian types have no pairs
            if self.columns[name].is_hamiltonian and f in self.columns[name].positions:
                pos.append(torch.arange(start, start + n))
                mom.append(torch.arange(self.layout.offset(name, "p_" + f),
                                        self.layout.offset(name, "p_" + f) + n))
        if self.layout.n_learnable:
            (a, m), (b, _) = self.layout.edge_W, self.layout.edge_P
            pos.append(torch.arange(a, a + m))
            mom.append(torch.arange(b, b + m))
        return torch.cat(pos), torch.cat(mom)

    def rhs_autograd(self, t, y: torch.Tensor) -> torch.Tensor:
        """dy/dt = J ∇H by autograd of ``hamiltonian`` (the reference for the closed forms)."""
        pos, mom = self.canonical_pairs()
        keep = torch.is_grad_enabled() and y.requires_grad
        with torch.enable_grad():
            yy = y if y.requires_grad else y.detach().requires_grad_(True)
            H = self.hamiltonian(t, yy).sum()
            gH = torch.autograd.grad(H, yy, grad_outputs=torch.ones_like(H), create_graph=keep)[0]
            gH = gH.conj() if H.is_complex() else gH          # holomorphic H: ∂H/∂z
        out = torch.empty_like(gH)
        out[..., pos] = gH[..., mom]
        out[..., mom] = -gH[..., pos]
        return out

    def extra_repr(self) -> str:
        return f"N={self.n_nodes}, E={self.coupling.n_edges}, S={self.layout.size}"


