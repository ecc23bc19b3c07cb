"""columns: Bayesian-mechanics cortical columns as vectorised PyTorch modules.

What a user calls (``__all__``):

- build: ``Network`` (``Network.from_graph``), ``Stimulus``; the column types ``ColumnType``,
  ``HamiltonianColumn``, ``MapColumn``, ``TraceLearningColumn`` (abstract) and ``K6Column``,
  ``NetworkBMColumn``, ``GenericBMColumn``, ``FEPColumn``, ``FEPTraceColumn``,
  ``CanonicalColumn``, ``StuartLandauColumn``; ``register`` / ``unregister`` / ``known_types``;
  the learning rules ``HebbianPlasticity`` and their base ``Plasticity``;
- run: ``simulate`` with the solvers ``IVP``, ``LeastAction``, ``Gradient``, ``Riccati``,
  ``Step``, ``EulerMaruyama``; ``Recording``; ``set_threads``; ``DelayRoundingWarning``;
- measure: the modules ``energy`` (H, U, L, … as functions) and ``analysis``;
- the errors (``ColumnsError`` and its subclasses).

Public modules beside these: ``columns.analysis``, ``columns.energy``, ``columns.landscape``,
``columns.solvers``, ``columns.plasticity``, ``columns.coupling``, ``columns.types`` (and each
type's module), ``columns.canonical``, ``columns.rng`` (counter-based uniforms),
``columns.threads``, ``columns.recording`` (``write_netcdf``), ``columns.atomic``
(``atomic_write``). Other names below stay importable here for old code.
"""

from graphs.errors import (AnalysisError, ColumnsError, ConfigError, DeviceError, DivergenceError,
                           FieldError, GraphError, LabelError, OutputError, ParameterError,
                           RecordingError, RegistryError, SolverError, StateError, StimulusError)

from . import types  # noqa: F401  (registers the built-in column types)
from . import analysis, energy, rng  # noqa: F401
from .atomic import atomic_write  # noqa: F401
from .network import Network
from .plasticity import HebbianPlasticity, Plasticity
from .recording import Recording, write_netcdf  # noqa: F401
from .simulation import simulate
from .solvers import (IVP, SOLVERS, EulerMaruyama, Gradient, LeastAction,  # noqa: F401
                      Riccati, Solver, Step, implicit_midpoint)
from .solvers.delays import DelayRoundingWarning
from .stimulus import Stimulus
from .threads import set_threads
from .types import (CanonicalColumn, ColumnType, FEPColumn, FEPTraceColumn, GenericBMColumn,
                    HamiltonianColumn, K6Column, MapColumn, NetworkBMColumn, NetworkBMTraceColumn,
                    StuartLandauColumn, TraceLearningColumn)
from .types.registry import column_type, known_types, register, unregister  # noqa: F401
from .view import ColumnView  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "Network", "Stimulus", "simulate", "Recording", "set_threads",
    "ColumnType", "HamiltonianColumn", "MapColumn", "TraceLearningColumn", "K6Column",
    "NetworkBMColumn", "NetworkBMTraceColumn", "GenericBMColumn", "FEPColumn", "FEPTraceColumn", "CanonicalColumn",
    "StuartLandauColumn", "register", "unregister", "known_types",
    "HebbianPlasticity", "Plasticity",
    "IVP", "LeastAction", "Gradient", "Riccati", "Step", "EulerMaruyama",
    "DelayRoundingWarning", "energy", "analysis",
    "ColumnsError", "AnalysisError", "ConfigError", "DeviceError", "DivergenceError",
    "FieldError", "GraphError", "LabelError", "OutputError", "ParameterError", "RecordingError",
    "RegistryError",
    "SolverError", "StateError", "StimulusError",
    "__version__",
]
