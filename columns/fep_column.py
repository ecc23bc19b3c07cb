"""The FEP attractor node as a column type: continuous-time mean-field form (Spisak & Friston).

Each column is one continuous-Bernoulli node whose expected state σ ∈ [−1, 1] relaxes to the mean
of its conditional distribution given the bias (the stimulus s, evidence × pattern) and the
recurrent field ν = Σ_j J_ij σ_j from the coupling:

    τ σ̇ = L(β (s + ν)) − σ,        L(θ) = coth θ − 1/θ (the Langevin function)

Explicit Euler with dt = τ is exactly the deterministic map σ(t+1) = L(β (b + J σ(t))) of the
discrete-time network (``columns.FEPRuns``). Not Hamiltonian: it receives ν and sends x = σ.

Parameters (defaults): beta = 1 (inverse temperature, ≥ 0), tau = 1 (time constant, > 0).
"""

from __future__ import annotations

from .column import ColumnType
from .langevin import langevin


class FEPColumn(ColumnType):
    """Mean-field continuous-Bernoulli node. Final class."""

    type_name = "fep"
    fields = ("sigma",)
    param_defaults = {"beta": 1.0, "tau": 1.0}
    positive_params = ("tau",)
    nonnegative_params = ("beta",)

    def send(self, state):
        return state["sigma"]

    def rhs(self, state, nu, s):
        sigma = state["sigma"]
        return {"sigma": (langevin(self.beta * (s + nu)) - sigma) / self.tau}, None
