"""Building a ``Network``: from a networkx graph (compile it, one module per column type), and
the checks of what is wired (``check_columns``, ``check_slow_synapses``, called by
``Network``).

``column_types`` maps a type name to a ``ColumnType`` class, a dict of parameters (and options)
for the registered class, or a ready instance. Numeric node attributes override parameters for
that node (heterogeneous columns): the type's parameter becomes an (n,) tensor, the node's value
where it sets one, the type's value elsewhere.
"""

from __future__ import annotations

import torch

from graphs.compiler import compile as compile_graph
from graphs.errors import GraphError, ParameterError

from .types.registry import column_type
from .types.column import ColumnType


def from_graph(network_class, G, column_types: dict | None = None, plasticity=None, stimulus=None,
               dtype=None, allow_self_loops: bool | None = None, speed: float | None = None):
    """Compile ``G`` (``graphs.compile``; ``speed`` turns edge lengths into delays) and build a
    ``network_class`` (``Network``) on it (module ``columns.build``)."""
    coupling = compile_graph(G, allow_self_loops=allow_self_loops, speed=speed)
    if column_types is not None and not isinstance(column_types, dict):
        raise GraphError(f"column_types must be a dict {{type name: class, parameters or "
                         f"instance}}, got {type(column_types).__name__}")
    column_types = dict(column_types or {})
    unused = sorted(set(column_types) - set(coupling.type_slices), key=str)
    if unused:
        raise GraphError(f"column_types names {unused}, which no node of the graph has as its "
                         f"'type'; the graph's types: {sorted(coupling.type_slices)}")
    modules = {}
    for name, sl in coupling.type_slices.items():
        spec = column_types.get(name)
        if isinstance(spec, ColumnType):
            modules[name] = spec
            continue
        if isinstance(spec, type):
            if not issubclass(spec, ColumnType):
                raise GraphError(f"column_types[{name!r}] is the class {spec.__name__}, not a "
                                 "ColumnType subclass")
            klass, params = spec, {}
        elif spec is not None and not isinstance(spec, dict):
            raise GraphError(f"column_types[{name!r}] must be a ColumnType class, a dict of "
                             f"parameters or a ColumnType instance, got {spec!r}")
        else:
            klass, params = column_type(name, node=coupling.node_labels[sl.start]), dict(spec or {})
        options = {k: v for k, v in params.items() if k not in klass.param_defaults}
        params = {k: v for k, v in params.items() if k in klass.param_defaults}
        params.update(node_overrides(coupling, name, sl, klass, params))
        modules[name] = klass(sl.stop - sl.start, **options, **params)
    return network_class(coupling, modules, plasticity=plasticity, stimulus=stimulus, dtype=dtype)


def node_overrides(coupling, name: str, sl: slice, klass, params: dict) -> dict:
    """Per-node parameter values of type ``name`` set by node attributes: {param: (n,)}."""
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


def check_columns(coupling, columns: dict) -> None:
    """Every type of the graph has its module, of the right size."""
    for name, sl in coupling.type_slices.items():
        if name not in columns:
            raise GraphError(f"no column module for type {name!r} (nodes "
                             f"{coupling.node_labels[sl.start]!r}…); got {sorted(columns)}")
        if columns[name].n != sl.stop - sl.start:
            raise ParameterError(f"column type {name!r} holds {columns[name].n} columns but the "
                                 f"graph has {sl.stop - sl.start} nodes of that type")
    extra = sorted(set(columns) - set(coupling.type_slices))
    if extra:
        raise GraphError(f"column modules {extra} have no nodes in the graph")


def check_slow_synapses(coupling, columns: dict) -> None:
    """Every slow synapse leaves a column type that has a trace (``trace_field``)."""
    if not bool(coupling.slow.any()):
        return
    for e in coupling.slow.nonzero().flatten().tolist():
        j = int(coupling.src[e])
        t = coupling.node_types[j]
        if getattr(columns[t], "trace_field", None) is None:
            s, g = coupling.edge_labels()
            raise GraphError(f"edge ({s[e]!r} -> {g[e]!r}) is a slow synapse, but its source is a "
                             f"column of type {t!r}, which has no trace to transmit; use a type "
                             "with a trace_field (e.g. 'bm_trace') or synapse='fast'")
