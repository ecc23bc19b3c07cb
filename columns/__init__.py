"""columns: Bayesian-mechanics cortical columns as vectorised PyTorch modules.

Public surface: column types (abstract ``ColumnType``, ``HamiltonianColumn``; final ``K6Column``,
``NetworkBMColumn``, ``GenericBMColumn``, ``FEPColumn``), the batched discrete-time FEP attractor
networks ``FEPRuns``, ``HebbianPlasticity``, ``Network``, ``Stimulus``,
``simulate``, ``Recording``, the registry, and the project's errors.
"""

from graphs.errors import (ColumnsError, ConfigError, DeviceError, DivergenceError, GraphError,
                           ParameterError, SolverError, StateError, StimulusError)

from .bm_network import NetworkBMColumn
from .column import ColumnType
from .fep_column import FEPColumn
from .fep_meanfield import FEPMeanField
from .fep_runs import FEPRuns
from .generic import GenericBMColumn
from .hamiltonian import HamiltonianColumn
from .k6 import K6Column
from .midpoint import implicit_midpoint
from .network import Network
from .plasticity import HebbianPlasticity
from .recording import Recording
from .registry import column_type, known_types, register_column_type
from .simulate import SOLVERS, simulate
from .stimulus import Stimulus
from .view import ColumnView
from . import sequences

__version__ = "0.1.0"

__all__ = [
    "sequences",
    "ColumnType", "HamiltonianColumn", "K6Column", "NetworkBMColumn", "GenericBMColumn",
    "FEPColumn", "FEPRuns", "FEPMeanField",
    "HebbianPlasticity", "Network", "Stimulus", "simulate", "SOLVERS", "Recording", "ColumnView",
    "implicit_midpoint", "column_type", "known_types", "register_column_type", "ColumnsError",
    "ConfigError", "DeviceError", "DivergenceError", "GraphError", "ParameterError",
    "SolverError", "StateError", "StimulusError", "__version__",
]
