"""The FEP attractor node as a column type (Spisak & Friston): discrete map and mean-field form.

Each column is one continuous-Bernoulli node σ ∈ [−1, 1]. Its bias is the stimulus s (evidence ×
pattern), its recurrent field ν = Σ_j J_ij σ_j comes from the coupling (J[i, j] = the weight of the
edge j → i), and θ = β (s + ν).

Discrete time (``solver="step"``, spec fep-attractor.md, synchronous):

    σ(t+1) ~ CB(θ)  (stochastic: inverse CDF of a uniform u)    or    σ(t+1) = L(θ)  (deterministic)

with L(θ) = coth θ − 1/θ. Learnable incoming edges j → i learn with rate α_i
(ΔJ_ij = α_i e_i σ_j(t+1)):

    rule="code"  (the authors' code, default):  e_i = σ_i(t+1) − L(ν_i(t))
    rule="paper" (the paper's text):            e_i = σ_i(t+1) − L(s_i + ν_i(t+1))

Continuous time (``solver="ivp"``, the mean-field form):

    τ σ̇ = L(β (s + ν)) − σ

Explicit Euler with dt = τ is exactly the deterministic map. Not Hamiltonian: it receives ν and
sends x = σ. (Continuous-time learning needs a lagged presynaptic trace: ``columns.FEPMeanField``.)

Parameters (defaults): beta = 1 (inverse temperature, ≥ 0), tau = 1 (time constant, > 0),
alpha = 0.01 (learning rate of the incoming learnable couplings, ≥ 0). Option: rule.
"""

from __future__ import annotations

from graphs.errors import ParameterError

from .column import ColumnType
from .langevin import cb_sample, langevin

RULES = ("code", "paper")


class FEPColumn(ColumnType):
    """Continuous-Bernoulli attractor node. Final class."""

    type_name = "fep"
    fields = ("sigma",)
    param_defaults = {"beta": 1.0, "tau": 1.0, "alpha": 0.01}
    positive_params = ("tau",)
    nonnegative_params = ("beta", "alpha")
    has_map = True
    learns_in_map = True

    def __init__(self, n: int, rule: str = "code", **params):
        if rule not in RULES:
            raise ParameterError(f"FEPColumn: rule must be one of {RULES}, got {rule!r}")
        super().__init__(n, **params)
        self.rule = rule
        self.needs_new_field = rule == "paper"

    def send(self, state):
        return state["sigma"]

    def rhs(self, state, nu, s):
        sigma = state["sigma"]
        return {"sigma": (langevin(self.beta * (s + nu)) - sigma) / self.tau}, None

    def step(self, state, nu, s, u):
        theta = self.beta * (s + nu)
        return {"sigma": langevin(theta) if u is None else cb_sample(theta, u)}

    def plasticity_error(self, new, nu, nu_new, s):
        if self.rule == "code":
            return new["sigma"] - langevin(nu)
        return new["sigma"] - langevin(s + nu_new)

    def extra_repr(self) -> str:
        return f"n={self.n}, rule={self.rule!r}"
