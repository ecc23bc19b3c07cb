"""Building a ``Network`` from a networkx graph: compile it, one module per column type.

``column_types`` maps a type name to a ``ColumnType`` class, a dict of parameters (and options)
for the registered class, or a ready instance. Numeric node attributes override parameters for
that node (heterogeneous columns): the type's parameter becomes an (n,) tensor, the node's value
where it sets one, the type's value elsewhere.
"""

from __future__ import annotations

import torch

from graphs.compile import compile as compile_graph
from graphs.errors import ParameterError

from .network import Network
from .registry import column_type
from .types.column import ColumnType


def from_graph(G, column_types: dict | None = None, plasticity=None, stimulus=None, dtype=None,
               allow_self_loops: bool | None = None) -> Network:
    """Compile ``G`` (``graphs.compile``) and build the network (module docstring)."""
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
        params.update(node_overrides(coupling, name, sl, klass, params))
        modules[name] = klass(sl.stop - sl.start, **options, **params)
    return Network(coupling, modules, plasticity=plasticity, stimulus=stimulus, dtype=dtype)


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
