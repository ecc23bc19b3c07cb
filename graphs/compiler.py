"""``compile(G)``: a validated networkx DiGraph -> ``Coupling`` (CSR by target).

Node order: columns are grouped by type (types in order of first appearance in ``G.nodes``),
keeping the graph's node order within a type, so every type occupies one contiguous slice.
Edge order: sorted by (target, source) in that node order (CSR rows = targets).

networkx's ``to_numpy_array`` is row = source; ours is row = target: this is the one place
where the convention is set (an edge ``j -> i`` with weight w becomes ``W[i, j] = w``).
"""

from __future__ import annotations

import math

import torch

from .coupling import Coupling
from .errors import GraphError
from .schema import EDGE_DEFAULTS, NODE_DEFAULTS, RESERVED_NODE_ATTRS, validate
from .values import is_integer, is_number


def compile(G, allow_self_loops: bool | None = None,  # noqa: A001 (the documented name)
            speed: float | None = None) -> Coupling:
    """Validate ``G`` and compile it into a ``Coupling``.

    Delays: an edge's ``delay`` attribute, else its ``length`` / ``speed`` (``speed`` here or
    ``G.graph["speed"]``; ``math.inf``: lengths give no delay). Edges with a length and no
    speed anywhere are refused (a length alone does not say how long a signal takes).

    Shapes: the coupling has N = G.number_of_nodes() columns and E = G.number_of_edges() edges.

    Returns:
        A ``Coupling`` (CSR by target; weights, learnable flags, delays, node attributes).

    Raises:
        GraphError: a malformed graph (not a DiGraph, empty, a missing or non-numeric weight, a
            self-loop without ``allow_self_loops``, a negative delay or length, a bad speed); the
            node or edge and the attribute are named.
    """
    validate(G, allow_self_loops=allow_self_loops)
    nodes = list(G.nodes)
    types = [G.nodes[v].get("type", NODE_DEFAULTS["type"]) for v in nodes]
    type_order = list(dict.fromkeys(types))
    order = sorted(range(len(nodes)), key=lambda k: (type_order.index(types[k]), k))
    nodes = [nodes[k] for k in order]
    pos = {v: i for i, v in enumerate(nodes)}

    edges = sorted(G.edges(data=True), key=lambda e: (pos[e[1]], pos[e[0]]))
    kind_names = list(dict.fromkeys(a.get("kind", EDGE_DEFAULTS["kind"]) for _, _, a in edges))
    src = torch.tensor([pos[u] for u, _, _ in edges], dtype=torch.int64)
    tgt = torch.tensor([pos[v] for _, v, _ in edges], dtype=torch.int64)
    crow = torch.zeros(len(nodes) + 1, dtype=torch.int64)
    if len(edges):
        crow[1:] = torch.bincount(tgt, minlength=len(nodes)).cumsum(0)

    param_names = sorted({k for v in nodes for k in G.nodes[v] if k not in RESERVED_NODE_ATTRS})
    node_params = {
        k: torch.tensor([float(G.nodes[v].get(k, math.nan)) for v in nodes], dtype=torch.float64)
        for k in param_names}
    return Coupling(
        crow=crow, src=src, tgt=tgt,
        weight0=torch.tensor([float(a["weight"]) for _, _, a in edges], dtype=torch.float64),
        learnable=torch.tensor([bool(a.get("learnable", False)) for _, _, a in edges], dtype=torch.bool),
        kind=torch.tensor([kind_names.index(a.get("kind", "default")) for _, _, a in edges],
                          dtype=torch.int64),
        delay=edge_delays(G, edges, speed),
        slow=torch.tensor([a.get("synapse", "fast") == "slow" for _, _, a in edges], dtype=torch.bool),
        node_labels=[str(v) for v in nodes],
        node_types=[G.nodes[v].get("type", NODE_DEFAULTS["type"]) for v in nodes],
        regions=[str(G.nodes[v].get("region", NODE_DEFAULTS["region"])) for v in nodes],
        kind_names=kind_names, node_params=node_params)


def edge_delays(G, edges, speed) -> torch.Tensor:
    """d_e = delay_e, or length_e / speed where an edge has a length and no delay. Shapes: (E,)."""
    speed = G.graph.get("speed") if speed is None else speed
    if speed is not None and not is_number(speed, 0, strict=True, finite=False):
        raise GraphError(f"conduction speed must be a number > 0 (math.inf: no delays), got "
                         f"{speed!r}")
    out = []
    for u, v, a in edges:
        if "delay" in a:
            out.append(float(a["delay"]))
        elif "length" in a:
            if speed is None:
                raise GraphError(f"edge ({u!r} -> {v!r}) has a 'length' but no conduction speed "
                                 "is given: pass speed=… (length units per time unit; math.inf "
                                 "for no delays) or set G.graph['speed']")
            out.append(float(a["length"]) / speed)
        else:
            out.append(0.0)
    return torch.tensor(out, dtype=torch.float64)


def compile_arrays(n: int, src, tgt, weight, learnable=False, node_type: str = "bm",
                   labels=None, allow_self_loops: bool = False) -> Coupling:
    """Compile edge index arrays directly (for graphs too large for networkx), one node type.

    Edges are sorted into CSR order by (target, source); duplicates are refused.

    Shapes: src, tgt (E,) int in [0, n); weight (E,); learnable () or (E,) bool.

    Returns:
        A ``Coupling``.

    Raises:
        GraphError: arrays of different lengths, indices out of range, duplicate edges or non-finite
            weights.
    """
    if not is_integer(n, 1):
        raise GraphError(f"compile_arrays: n must be an integer >= 1 (the node count), got {n!r}")
    indices = []
    for name, arr in (("src", src), ("tgt", tgt)):
        a = torch.as_tensor(arr)
        if a.numel() and (a.dtype.is_floating_point or a.dtype.is_complex or a.dtype == torch.bool):
            raise GraphError(f"compile_arrays: {name} must hold integer node indices, got dtype "
                             f"{a.dtype} (a float index would be truncated)")
        indices.append(a.to(torch.int64))      # an empty list is float32 to torch: no edges
    src, tgt = indices
    weight = torch.as_tensor(weight, dtype=torch.float64)
    if not (src.shape == tgt.shape == weight.shape) or src.dim() != 1:
        raise GraphError(f"src, tgt and weight must be 1-D of equal length, got {tuple(src.shape)}, "
                         f"{tuple(tgt.shape)}, {tuple(weight.shape)}")
    if src.numel() and (min(src.min(), tgt.min()) < 0 or max(src.max(), tgt.max()) >= n):
        raise GraphError(f"edge indices must lie in [0, {n})")
    if not torch.isfinite(weight).all():
        raise GraphError(f"edge {int((~torch.isfinite(weight)).nonzero()[0, 0])}: weight is not finite")
    order = torch.argsort(tgt * n + src)
    src, tgt, weight = src[order], tgt[order], weight[order]
    key = tgt * n + src
    if key.numel() > 1 and (key.diff() == 0).any():
        raise GraphError("duplicate edges (same source and target)")
    learn = torch.as_tensor(learnable)
    if learn.dtype != torch.bool or not (learn.dim() == 0 or learn.shape == src.shape):
        raise GraphError(f"compile_arrays: learnable must be a bool or a bool array of shape "
                         f"({src.numel()},) (one per edge), got dtype {learn.dtype} and shape "
                         f"{tuple(learn.shape)}")
    learn = learn.expand(src.shape) if learn.dim() == 0 else learn[order]
    if not allow_self_loops and (src == tgt).any():
        raise GraphError(f"edge {int((src == tgt).nonzero()[0, 0])} is a self-loop; pass "
                         "allow_self_loops=True to allow it explicitly")
    crow = torch.zeros(n + 1, dtype=torch.int64)
    crow[1:] = torch.bincount(tgt, minlength=n).cumsum(0)
    return Coupling(crow=crow, src=src, tgt=tgt, weight0=weight, learnable=learn.clone(),
                    kind=torch.zeros_like(src), delay=torch.zeros_like(weight),
                    node_labels=[str(i) for i in range(n)] if labels is None else [str(v) for v in labels],
                    node_types=[node_type] * n, regions=["0"] * n, kind_names=["default"],
                    node_params={})
