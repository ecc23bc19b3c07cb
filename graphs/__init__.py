"""graphs: networkx cortico-cortical graphs -> sparse coupling tensors (row = target).

Public surface: the schema (``validate``), ``compile``, ``Coupling``, the seeded generators,
the loaders, the project's error classes (``graphs.errors``: the lowest layer, so that ``graphs``
and ``columns`` raise from one base; ``columns`` re-exports them) and the argument predicates
every boundary check uses (``graphs.values``).
"""

import os as _os

# Large CPU tensors on transparent huge pages: a fresh 200 MB derivative then costs ~100 page
# faults instead of ~50 000 (×4 on a 10⁶-column dynamics call, benchmark P1). torch reads this
# once, at its first allocation, so it only takes effect when torch is not imported yet;
# THP_MEM_ALLOC_ENABLE=0 opts out.
_os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")


from .compiler import compile, compile_arrays  # noqa: A004
from .coupling import Coupling
from .errors import (ColumnsError, ConfigError, DeviceError, DivergenceError, GraphError,
                     OutputError, ParameterError, RegistryError, SolverError, StateError,
                     StimulusError)
from .generators import demo_connectome, modular, multiregion, random_directed, ring, single_column
from .loaders import from_graphml, from_neurolib, from_numpy, from_tvb_zip
from .schema import validate

__all__ = [
    "compile", "compile_arrays", "Coupling", "validate", "demo_connectome", "modular",
    "multiregion",
    "random_directed", "ring", "single_column", "from_graphml", "from_neurolib", "from_numpy",
    "from_tvb_zip", "ColumnsError", "ConfigError", "DeviceError",
    "DivergenceError", "GraphError", "OutputError", "ParameterError", "RegistryError", "SolverError",
    "StateError",
    "StimulusError",
]
