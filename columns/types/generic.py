"""A Bayesian-mechanics column from user-supplied generative functions (autograd equations).

The user gives the prior flow of every position (f for μ, π for a, h for w, or any others), the
sensory prediction g and the precisions; Hamilton's equations are derived by autograd from

    H = ½ Σ_k p_k²/m_k + Σ_k p_k F_k(q; ν, s) − ½ m_z (s − g(q))²

Example (a K6 column without motor, written by hand)::

    col = GenericBMColumn(
        n=3,
        flows={"mu": lambda q, nu, s, P: -(q["mu"] - 0.2) + nu,
               "w": lambda q, nu, s, P: 0.5 * s * q["mu"] - 0.5 * q["w"]},
        prediction=lambda q, P: q["w"] * q["mu"],
        masses={"mu": 1.0, "w": 1.0}, m_z=4.0)

Each callable receives the positions dict q (B, n), ν (B, n), s (B, n) and the parameter dict P
(``extra`` parameters given at construction, shape () or (n,)). Complex parameters are allowed.
"""

from __future__ import annotations

from typing import Callable

from graphs.errors import ParameterError

from .registry import register
from .hamiltonian import HamiltonianColumn


@register
class GenericBMColumn(HamiltonianColumn):
    """Column defined by user callables; equations by autograd. Final class."""

    type_name = "generic"

    def __init__(self, n: int, flows: dict[str, Callable], prediction: Callable,
                 masses: dict[str, float], m_z: float = 4.0, send_field: str | None = None,
                 rate: str = "tanh", extra: dict | None = None):
        extra = dict(extra or {})
        if not flows:
            raise ParameterError("GenericBMColumn: 'flows' must name at least one position")
        missing = sorted(set(flows) ^ set(masses))
        if missing:
            raise ParameterError(f"GenericBMColumn: flows and masses must name the same positions; "
                                 f"mismatch on {missing}")
        # instance-level declarations (a class attribute for the fixed column types)
        self.positions = tuple(flows)
        self.mass_params = {k: "m_" + k for k in self.positions}
        self.param_defaults = {**{"m_" + k: v for k, v in masses.items()}, "m_z": m_z, **extra}
        self.positive_params = tuple(self.mass_params.values()) + ("m_z",)
        self.send_field = send_field or self.positions[0]
        if self.send_field not in self.positions:
            raise ParameterError(f"GenericBMColumn: send_field {self.send_field!r} is not a position")
        super().__init__(n, rate=rate)
        self._flows = dict(flows)
        self._prediction = prediction

    def _P(self):
        return {k: getattr(self, k) for k in self.param_defaults}

    def flows(self, q, nu, s):
        P = self._P()
        return {k: fn(q, nu, s, P) for k, fn in self._flows.items()}

    def prediction(self, q):
        return self._prediction(q, self._P())
