"""columns: Bayesian-mechanics cortical columns as vectorised PyTorch modules.

Public surface:
- column types (``columns.types``): the abstract ``ColumnType``, ``HamiltonianColumn``,
  ``MapColumn``, ``TraceLearningColumn``; the built-in ``K6Column``, ``NetworkBMColumn``,
  ``GenericBMColumn``, ``FEPColumn``, ``FEPTraceColumn``, ``CanonicalColumn``; ``register``;
  ``HebbianPlasticity``;
- the engine: ``Network`` (``from_graph``), ``Stimulus``, ``energy`` (H, U, L, … as functions),
  ``simulate`` with the solver objects ``IVP``, ``LeastAction``, ``Gradient``, ``Riccati``,
  ``Step`` (``columns.solvers``), ``Recording`` and ``write_netcdf``;
- ``rng`` (counter-based uniforms), ``sequences``, ``analysis``, ``canonical``; the project's errors.
"""

from graphs.errors import (AnalysisError, ColumnsError, ConfigError, DeviceError, DivergenceError,
                           FieldError, GraphError, LabelError, ParameterError, RecordingError,
                           RegistryError, SolverError, StateError, StimulusError)

from . import types  # noqa: F401  (registers the built-in column types)
from . import energy, rng, sequences
from .atomic import atomic_write
from .network import Network
from .recording import Recording, write_netcdf
from .types.registry import column_type, known_types, register, unregister
from .simulate import simulate
from .solvers import IVP, SOLVERS, Gradient, LeastAction, Riccati, Solver, Step, implicit_midpoint
from .stimulus import Stimulus
from .plasticity import HebbianPlasticity, MapLearning, Plasticity, TraceLearning
from .types import (CanonicalColumn, ColumnType, FEPColumn, FEPTraceColumn, GenericBMColumn,
                    HamiltonianColumn, K6Column, MapColumn, NetworkBMColumn,
                    StuartLandauColumn, TraceLearningColumn)
from .view import ColumnView

__version__ = "0.1.0"

__all__ = [
    "types", "energy", "rng", "sequences",
    "ColumnType", "HamiltonianColumn", "MapColumn", "TraceLearningColumn", "K6Column",
    "NetworkBMColumn", "GenericBMColumn", "FEPColumn", "FEPTraceColumn", "CanonicalColumn",
    "StuartLandauColumn", "HebbianPlasticity", "Network", "Stimulus", "simulate",
    "Solver", "IVP",
    "LeastAction", "Gradient", "Riccati", "Step", "SOLVERS", "Recording", "write_netcdf", "atomic_write",
    "ColumnView", "implicit_midpoint", "register", "unregister", "column_type", "known_types",
    "AnalysisError", "ColumnsError", "ConfigError", "DeviceError", "DivergenceError",
    "FieldError", "GraphError", "LabelError", "ParameterError", "RecordingError", "RegistryError",
    "SolverError", "StateError", "StimulusError",
    "__version__",
]
