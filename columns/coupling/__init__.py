"""The coupling room: every product over a network's edges (``Edges``: the field ν = W x, the
backward message Wᵀ g + ∂H_edges/∂x, the edge weights assembled from the state and the graph),
with the backend chosen below the API: the fused CPU kernels (``kernels``), a dense GEMM, or the
eager torch ops on the compiled CSR (``graphs.Coupling``, which holds the pattern and the eager
products). Nothing outside this package and ``graphs.coupling`` writes a product over edges."""

from .edges import Edges

__all__ = ["Edges"]
