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
from .schema import EDGE_DEFAULTS, NODE_DEFAULTS, RESERVED_NODE_ATTRS, validate


def compile(G, allow_self_loops: bool | None = None) -> Coupling:  # noqa: A001 (the spec's name)
    """Validate ``G`` and compile it into a ``Coupling``.

    Shapes: the coupling has N = G.number_of_nodes() columns and E = G.number_of_edges() edges.
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
        delay=torch.tensor([float(a.get("delay", 0.0)) for _, _, a in edges], dtype=torch.float64),
        node_labels=[str(v) for v in nodes],
        node_types=[G.nodes[v].get("type", NODE_DEFAULTS["type"]) for v in nodes],
        regions=[str(G.nodes[v].get("region", NODE_DEFAULTS["region"])) for v in nodes],
        kind_names=kind_names, node_params=node_params)
