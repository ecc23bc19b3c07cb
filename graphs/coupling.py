"""The compiled coupling: a sparse matrix ``W[target, source]`` stored CSR by target.

Edges are sorted by (target, source), so column ``i``'s incoming weights are the contiguous
slice ``crow[i]:crow[i+1]`` ("its own dendritic synapses"). Edge weights that learn are part
of the integrated state and arrive here as a ``(B, E)`` tensor; the coupling itself only owns
the pattern (indices) and the initial weights.

Products (x: presynaptic signal per column, y: postsynaptic quantity per column):

    forward     ν_i = Σ_{e: j→i} W_e x_j          (W x,   one SpMM for the whole batch)
    transposed  m_j = Σ_{e: j→i} W_e y_i          (Wᵀ y,  one scatter-add by source)
    outer       o_e = y_i x_j for e: j→i          (the Hebbian outer product on the edges)

Shapes:
    W: (B, E) or (E,) edge values in CSR order; x, y: (B, N); results (B, N) or (B, E).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from . import autodiff
from .errors import DeviceError, LabelError, StateError


SMALL = 256
"""Up to this many columns a shared W (one matrix for the whole batch) is multiplied dense: one
GEMM over the batch costs less than any sparse kernel's dispatch at this size (benchmark P2)."""


class Coupling(nn.Module):
    """Sparse coupling compiled from a graph (see ``graphs.compile``). Final class.

    Buffers (move with ``.to(device)``):
        crow: (N+1,) int64 CSR row pointers (rows = targets).
        src, tgt: (E,) int64 source and target column index of each edge (CSR order).
        weight0: (E,) float64 initial weights.
        learnable: (E,) bool.
        kind: (E,) int64 index into ``kind_names``.
        delay: (E,) float64.
        slow: (E,) bool: slow synapses (they transmit the source's trace).
    Attributes:
        node_labels: list[str] (length N, compiled node order);
        node_types: list[str]; type_slices: dict type -> slice (contiguous);
        regions: list[str]; kind_names: list[str]; node_params: dict name -> (N,) float64 with
        NaN where a node does not set that parameter.
    """

    def __init__(self, *, crow, src, tgt, weight0, learnable, kind, delay, node_labels,
                 node_types, regions, kind_names, node_params, slow=None):
        super().__init__()
        self.register_buffer("crow", crow)
        self.register_buffer("src", src)
        self.register_buffer("tgt", tgt)
        self.register_buffer("weight0", weight0)
        self.register_buffer("learnable", learnable)
        self.register_buffer("kind", kind)
        self.register_buffer("delay", delay)
        self.register_buffer("slow", torch.zeros_like(learnable) if slow is None else slow)
        self.register_buffer("_flat", tgt * len(node_labels) + src, persistent=False)
        self.node_labels = list(node_labels)
        self.node_types = list(node_types)
        self.regions = list(regions)
        self.kind_names = list(kind_names)
        self.node_params = dict(node_params)
        self.type_slices: dict[str, slice] = {}
        for i, t in enumerate(self.node_types):
            sl = self.type_slices.get(t)
            self.type_slices[t] = slice(i, i + 1) if sl is None else slice(sl.start, i + 1)
        self._index = {lab: i for i, lab in enumerate(self.node_labels)}
        self._batched_pattern: dict = {}

    # -- sizes and lookup -------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.node_labels)

    @property
    def n_edges(self) -> int:
        return int(self.src.numel())

    def index_of(self, label) -> int:
        """Position of a node label (as given in the graph, or its ``str``) in the node order.

        Returns:
            The node index.

        Raises:
            LabelError: no column has that label.
        """
        key = str(label)
        if key not in self._index:
            some = self.node_labels[:8] + (["…"] if len(self.node_labels) > 8 else [])
            raise LabelError(f"no column labelled {label!r}; labels: {some}")
        return self._index[key]

    def incoming(self, i: int) -> slice:
        """The contiguous edge slice of column ``i``'s incoming weights (its CSR row).

        Returns:
            A ``slice`` into the CSR edge order.
        """
        return slice(int(self.crow[i]), int(self.crow[i + 1]))

    def edge_labels(self) -> tuple[list[str], list[str]]:
        """(source labels, target labels) of every edge, in CSR order.

        Returns:
            A list of (source label, target label), in CSR edge order.
        """
        s = [self.node_labels[j] for j in self.src.tolist()]
        t = [self.node_labels[i] for i in self.tgt.tolist()]
        return s, t

    # -- products ---------------------------------------------------------------------------
    def _check(self, W: torch.Tensor, v: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if W.shape[-1] != self.n_edges:
            raise StateError(f"edge values have {W.shape[-1]} entries, expected E = {self.n_edges}")
        if v.shape[-1] != self.n_nodes:
            raise StateError(f"{name} has {v.shape[-1]} columns, expected N = {self.n_nodes}")
        if W.device != self.src.device or v.device != self.src.device:
            raise DeviceError(
                f"coupling is on {self.src.device} but edge values are on {W.device} and {name} on "
                f"{v.device}; move the network with .to(device)")
        if W.dim() == 1:
            W = W.unsqueeze(0)
        if v.dim() == 1:
            v = v.unsqueeze(0)
        return W, v

    @property
    def dense(self) -> bool:
        """Whether products use the dense matrix (at least half of all N² entries are edges)."""
        return 2 * self.n_edges >= self.n_nodes * self.n_nodes

    def dense_for(self, shared: bool) -> bool:
        """Whether the no-autograd forward product multiplies dense: a dense graph, or a shared W
        (``shared``: one matrix for the whole batch) on at most ``SMALL`` columns.

        Returns:
            Whether the dense path is used.
        """
        return self.dense or (shared and self.n_nodes <= SMALL)

    def forward_product(self, W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """ν = W x: ν_i = Σ_{e: j→i} W_e x_j.

        Shapes: W (B, E) or (E,), or dense (B, N, N) [target, source] (zeros off the graph);
        x (B, N) -> (B, N), or x (B, C, N) (C chains sharing their member's W) -> (B, C, N).
        Differentiable when autograd is on (scatter-add); without autograd one CSR SpMM for the
        whole batch, or, on a dense graph (``dense``), for a shared W on at most ``SMALL`` columns or
        for dense W, one batched dense product.

        Returns:
            ν (B, N).
        """
        if W.dim() == 3:                           # dense (B, N, N): one batched product
            if W.shape[0] == 1 and x.dim() == 2:   # one matrix for the batch: one GEMM
                return x @ W[0].mT
            return (x @ W.mT) if x.dim() == 3 else (x.unsqueeze(1) @ W.mT).squeeze(1)
        W, x = self._check(W, x, "x")
        if x.dim() == 3:
            if self.dense:
                return x @ self.to_dense(W).mT                            # (B, C, N)
            vals = W.unsqueeze(1) * x.index_select(-1, self.src)          # (B, C, E)
            out = torch.zeros(*vals.shape[:2], self.n_nodes, dtype=vals.dtype, device=vals.device)
            return out.index_add(2, self.tgt, vals)
        B = max(W.shape[0], x.shape[0])
        if autodiff.tracked(W, x):                   # autograd or forward-mode: scatter-add
            vals = W * x[:, self.src]                                     # (B, E)
            out = torch.zeros(vals.shape[0], self.n_nodes, dtype=vals.dtype, device=vals.device)
            return out.index_add(1, self.tgt, vals)
        if self.dense_for(W.shape[0] == 1):
            if W.shape[0] == 1:                    # one (B, N) × (N, N) GEMM for the batch
                return (x @ self.to_dense(W[0]).T).expand(B, -1)
            return (x.unsqueeze(1) @ self.to_dense(W).mT).squeeze(1).expand(B, -1)   # (B, N)
        if W.shape[0] == 1:                        # one matrix, all batch members: one SpMM
            A = self._csr(self.crow, self.src, W[0], self.n_nodes)
            return (A @ x.expand(B, -1).T).T                              # (B, N)
        crow, col = self._batched(B)               # block-diagonal CSR over the batch
        A = self._csr(crow, col, W.expand(B, -1).reshape(-1), B * self.n_nodes)
        return (A @ x.expand(B, -1).reshape(-1, 1)).view(B, self.n_nodes)

    def transposed_product(self, W: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """m = Wᵀ y: m_j = Σ_{e: j→i} W_e y_i (one scatter-add by source).

        Shapes: W (B, E) or (E,); y (B, N) -> (B, N).

        Returns:
            Wᵀ g (B, N).
        """
        W, y = self._check(W, y, "y")
        vals = W * y[:, self.tgt]                                         # (B, E)
        out = torch.zeros(vals.shape[0], self.n_nodes, dtype=vals.dtype, device=vals.device)
        return out.index_add(1, self.src, vals)

    def gather_source(self, x: torch.Tensor) -> torch.Tensor:
        """x_j for every edge e: j→i. Shapes: x (B, N) -> (B, E).

        Returns:
            (B, E).
        """
        return x.index_select(-1, self.src)

    def gather_target(self, y: torch.Tensor) -> torch.Tensor:
        """y_i for every edge e: j→i. Shapes: y (B, N) -> (B, E).

        Returns:
            (B, E).
        """
        return y.index_select(-1, self.tgt)

    def sum_by_source(self, vals: torch.Tensor) -> torch.Tensor:
        """Σ_{e: j→i} vals_e per source j. Shapes: vals (B, E) -> (B, N).

        Returns:
            (B, N).
        """
        out = torch.zeros(vals.shape[0], self.n_nodes, dtype=vals.dtype, device=vals.device)
        return out.index_add(1, self.src, vals)

    def sum_by_target(self, vals: torch.Tensor) -> torch.Tensor:
        """Σ_{e: j→i} vals_e per target i (a row sum of the CSR). Shapes: vals (B, E) -> (B, N).

        Returns:
            (B, N).
        """
        out = torch.zeros(vals.shape[0], self.n_nodes, dtype=vals.dtype, device=vals.device)
        return out.index_add(1, self.tgt, vals)

    def to_dense(self, W: torch.Tensor | None = None) -> torch.Tensor:
        """Dense ``W[target, source]``. Shapes: W (B, E) -> (B, N, N); (E,) or None -> (N, N).

        Returns:
            W[target, source]: (N, N), or (B, N, N) for weights (B, E).
        """
        if W is None:
            W = self.weight0
        lead = W.shape[:-1]
        dense = torch.zeros(*lead, self.n_nodes * self.n_nodes, dtype=W.dtype, device=W.device)
        dense = dense.index_copy(-1, self._flat, W)                      # row-major tgt·N + src
        return dense.view(*lead, self.n_nodes, self.n_nodes)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _csr(crow, col, values, n):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # "sparse CSR support is in beta" notice
            return torch.sparse_csr_tensor(crow, col, values, size=(n, n))

    def _batched(self, B: int):
        key = (B, self.src.device)
        if key not in self._batched_pattern:
            E, N = self.n_edges, self.n_nodes
            off_e = torch.arange(B, device=self.src.device).repeat_interleave(N) * E
            crow = torch.cat([(self.crow[:-1].repeat(B) + off_e), self.crow.new_tensor([B * E])])
            col = (self.src.unsqueeze(0) + N * torch.arange(B, device=self.src.device).unsqueeze(1))
            self._batched_pattern = {key: (crow, col.reshape(-1))}   # keep only the latest
        return self._batched_pattern[key]

    def extra_repr(self) -> str:
        """The sizes for ``repr``.

        Returns:
            "N=…, E=…".
        """
        return f"N={self.n_nodes}, E={self.n_edges}, types={list(self.type_slices)}"
