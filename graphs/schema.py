"""The attribute schema of cortico-cortical graphs, and ``validate(G)``.

A graph is a ``networkx.DiGraph``; an edge ``j -> i`` means column ``j`` (source, presynaptic)
drives column ``i`` (target, postsynaptic). Compiled, it becomes ``W[target, source]``.

Node attributes
    ``type``       str, default ``"bm"``: the column type (a name registered in ``columns``).
    ``region``     str or int, default ``"0"``: the region the column belongs to.
    any other      int/float: a per-column parameter override (e.g. ``m_z=2.0``) for the
                   column type named by ``type``; checked against that type when a
                   ``columns.Network`` is built. Must be finite.

Edge attributes
    ``weight``     int/float, **required**, finite: the initial coupling weight W_e.
    ``learnable``  bool, default ``False``: whether W_e is part of the integrated state.
    ``kind``       str, default ``"default"``: the edge kind (e.g. ``"intra"``, ``"inter"``).
    ``delay``      int/float >= 0, default ``0``: the conduction delay d_e in the model's time
                   units: the target receives x_j(t − d_e) (``columns.delays``).
    ``length``     int/float >= 0: a tract length; with a conduction speed v (``compile(...,
                   speed=v)`` or the graph attribute ``speed``) the delay is length / v. An
                   edge's own ``delay`` takes precedence over its length.
    ``synapse``    ``"fast"`` (default) or ``"slow"``: a slow synapse transmits the source's
                   presynaptic trace x̄_j instead of its rate φ(μ_j) and learns by the
                   temporally asymmetric rule (``columns.plasticity.hebbian``); its source's
                   column type must have a trace (``trace_field``).

Graph attributes
    ``allow_self_loops``  bool, default ``False``: self-loops are an explicit choice; they are
                          refused unless this is set (or ``compile(..., allow_self_loops=True)``).
    ``speed``             number > 0 (``math.inf``: no delays): the conduction speed that turns
                          edge lengths into delays (length units per time unit).
"""

from __future__ import annotations

import math
import numbers

import networkx as nx

from .errors import GraphError

NODE_DEFAULTS = {"type": "bm", "region": "0"}
EDGE_DEFAULTS = {"learnable": False, "kind": "default", "delay": 0.0, "synapse": "fast"}
SYNAPSES = ("fast", "slow")
RESERVED_NODE_ATTRS = ("type", "region", "label")


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_bool(x) -> bool:
    # GraphML and numpy give bool-like values; 0/1 integers are accepted as well.
    return isinstance(x, bool) or type(x).__name__ == "bool_" or (
        isinstance(x, numbers.Integral) and int(x) in (0, 1))


def validate(G: nx.DiGraph, allow_self_loops: bool | None = None) -> None:
    """Check ``G`` against the schema; raise ``GraphError`` naming the first violation.

    Args:
        G: the graph to check.
        allow_self_loops: overrides ``G.graph["allow_self_loops"]`` when given.

    Raises:
        GraphError: not a DiGraph (undirected or multigraph), empty, a label collision after
            converting labels to ``str``, a missing/non-numeric/non-finite attribute, a negative
            delay, a self-loop that was not allowed.
    """
    if not isinstance(G, nx.DiGraph) or isinstance(G, nx.MultiDiGraph):
        kind = type(G).__name__
        hint = " (undirected: use G.to_directed() to make both directions explicit)" \
            if isinstance(G, nx.Graph) and not G.is_directed() else ""
        raise GraphError(f"expected a networkx.DiGraph, got {kind}{hint}")
    if G.number_of_nodes() == 0:
        raise GraphError("the graph is empty: it has no nodes (columns)")
    if allow_self_loops is None:
        allow_self_loops = bool(G.graph.get("allow_self_loops", False))

    seen: dict[str, object] = {}
    for node, attrs in G.nodes(data=True):
        label = str(node)
        if label in seen:
            raise GraphError(
                f"node labels {seen[label]!r} and {node!r} both become {label!r} as strings; "
                "relabel the graph so that str(label) is unique")
        seen[label] = node
        t = attrs.get("type", NODE_DEFAULTS["type"])
        if not isinstance(t, str) or not t:
            raise GraphError(f"node {node!r}: attribute 'type' must be a non-empty str, got {t!r}")
        r = attrs.get("region", NODE_DEFAULTS["region"])
        if not isinstance(r, (str, numbers.Integral)) or isinstance(r, bool):
            raise GraphError(f"node {node!r}: attribute 'region' must be a str or int, got {r!r}")
        for key, value in attrs.items():
            if key in RESERVED_NODE_ATTRS:
                continue
            if not _is_number(value):
                raise GraphError(
                    f"node {node!r}: parameter attribute {key!r} must be a number, got {value!r}")
            if not math.isfinite(float(value)):
                raise GraphError(f"node {node!r}: parameter attribute {key!r} is not finite ({value})")

    for u, v, attrs in G.edges(data=True):
        if u == v and not allow_self_loops:
            raise GraphError(
                f"edge ({u!r} -> {v!r}) is a self-loop; set G.graph['allow_self_loops'] = True "
                "or compile(G, allow_self_loops=True) to allow it explicitly")
        if "weight" not in attrs:
            raise GraphError(f"edge ({u!r} -> {v!r}) has no 'weight' attribute (required)")
        w = attrs["weight"]
        if not _is_number(w):
            raise GraphError(f"edge ({u!r} -> {v!r}): 'weight' must be a number, got {w!r}")
        if not math.isfinite(float(w)):
            raise GraphError(f"edge ({u!r} -> {v!r}): 'weight' is not finite ({w})")
        learn = attrs.get("learnable", EDGE_DEFAULTS["learnable"])
        if not _is_bool(learn):
            raise GraphError(f"edge ({u!r} -> {v!r}): 'learnable' must be a bool, got {learn!r}")
        kind = attrs.get("kind", EDGE_DEFAULTS["kind"])
        if not isinstance(kind, str) or not kind:
            raise GraphError(f"edge ({u!r} -> {v!r}): 'kind' must be a non-empty str, got {kind!r}")
        syn = attrs.get("synapse", EDGE_DEFAULTS["synapse"])
        if syn not in SYNAPSES:
            raise GraphError(f"edge ({u!r} -> {v!r}): 'synapse' must be one of {list(SYNAPSES)}, "
                             f"got {syn!r}")
        if syn == "slow" and (attrs.get("delay", 0) or attrs.get("length", 0)):
            raise GraphError(f"edge ({u!r} -> {v!r}) is a slow synapse with a delay or length: a "
                             "slow synapse's lag is its trace; give it one or the other")
        for key in ("delay", "length"):
            d = attrs.get(key, 0.0)
            if not _is_number(d) or not math.isfinite(float(d)) or float(d) < 0:
                raise GraphError(
                    f"edge ({u!r} -> {v!r}): {key!r} must be a finite number >= 0, got {d!r}")
