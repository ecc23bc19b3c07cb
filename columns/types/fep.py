"""The FEP attractor node (Spisak & Friston): the discrete map, its learning rules, the mean field.

Each column is one continuous-Bernoulli node σ ∈ [−1, 1]. Its bias is the stimulus s (evidence ×
pattern), its recurrent field ν = Σ_j J_ij σ_j comes from the coupling (J[i, j] = the weight of the
edge j → i), and θ = β (s + ν). This file is the one implementation of the model: the network
types below, the batched runs of the paper reproductions (``columns.FEPRuns``) and the main study
all call ``fep_theta``, ``fep_map`` and ``fep_error``.

Discrete time (``FEPColumn``, type "fep", ``solver="step"``, docs/theory.md §6, synchronous):

    σ(t+1) ~ CB(θ)  (stochastic: inverse CDF of a uniform u)    or    σ(t+1) = L(θ)  (deterministic)

with L(θ) = coth θ − 1/θ. Learnable incoming edges j → i learn with rate α_i
(ΔJ_ij = α_i e_i σ_j(t+1)):

    rule="code"  (the authors' code, default):  e_i = σ_i(t+1) − L(ν_i(t))
    rule="paper" (the paper's text):            e_i = σ_i(t+1) − L(s_i + ν_i(t+1))

Its continuous form (``solver="ivp"``, no learning) is τ σ̇ = L(β (s + ν)) − σ; explicit Euler
with dt = τ is exactly the deterministic map.

Continuous time with learning (``FEPTraceColumn``, type "fep_trace", fields σ and a trace x̄):

    τ σ̇   = L(β (s + ν)) − σ,          ν = J σ
    τ_x x̄̇ = σ − x̄                      (low-pass trace: σ a moment ago)
    τ J̇_ij = α [σ_i − L((J x̄)_i)] σ_j   (lag=True;  lag=False: L((J σ)_i), no asymmetry)

The discrete code rule compares the new state with the prediction made from the previous state;
the trace keeps that one-step lag in continuous time (``fep-sim3`` shows both).

Parameters (defaults): beta = 1 (inverse temperature, ≥ 0), tau = 1 (time constant, > 0),
alpha = 0.01 (learning rate, ≥ 0); fep_trace also tau_trace (default = tau). Options: rule
(fep), lag (fep_trace).

Shapes: (B, n) per field; parameters () or (n,).
"""

from __future__ import annotations

import torch

from graphs.errors import ParameterError

from .registry import register
from .langevin import cb_sample, langevin
from .map import MapColumn
from .trace_learning import TraceLearningColumn

RULES = ("code", "paper")


def fep_theta(beta: torch.Tensor, s: torch.Tensor, nu: torch.Tensor) -> torch.Tensor:
    """θ = β (s + ν). Shapes: broadcast."""
    return beta * (s + nu)


def fep_map(theta: torch.Tensor, u: torch.Tensor | None) -> torch.Tensor:
    """σ(t+1): a CB(θ) sample from uniforms u, or L(θ) when u is None. Shapes: elementwise."""
    return langevin(theta) if u is None else cb_sample(theta, u)


def fep_error(rule: str, new: torch.Tensor, nu: torch.Tensor, nu_new: torch.Tensor | None,
              s: torch.Tensor) -> torch.Tensor:
    """e_i of the learning rule (module ``columns.types.fep``). Shapes: (B, n)."""
    if rule == "code":
        return new - langevin(nu)
    return new - langevin(s + nu_new)


def check_rule(rule: str, who: str) -> None:
    if rule not in RULES:
        raise ParameterError(f"{who}: rule must be one of {RULES}, got {rule!r}")


@register
class FEPColumn(MapColumn):
    """Continuous-Bernoulli attractor node, discrete map. Final class."""

    type_name = "fep"
    fields = ("sigma",)
    param_defaults = {"beta": 1.0, "tau": 1.0, "alpha": 0.01}
    positive_params = ("tau",)
    nonnegative_params = ("beta", "alpha")

    def __init__(self, n: int, rule: str = "code", **params):
        check_rule(rule, "FEPColumn")
        super().__init__(n, **params)
        self.rule = rule
        self.needs_new_field = rule == "paper"

    def send(self, state):
        return state["sigma"]

    def rhs(self, state, nu, s):
        return {"sigma": (langevin(fep_theta(self.beta, s, nu)) - state["sigma"]) / self.tau}, None

    def step(self, state, nu, s, u):
        return {"sigma": fep_map(fep_theta(self.beta, s, nu), u)}

    def plasticity_error(self, new, nu, nu_new, s):
        return fep_error(self.rule, new["sigma"], nu, nu_new, s)

    def extra_repr(self) -> str:
        return f"n={self.n}, rule={self.rule!r}"


@register
class FEPTraceColumn(TraceLearningColumn):
    """Mean-field FEP node with a lagged presynaptic trace (continuous learning). Final class."""

    type_name = "fep_trace"
    fields = ("sigma", "trace")
    param_defaults = {"beta": 1.0, "tau": 1.0, "tau_trace": 1.0, "alpha": 0.001}
    positive_params = ("tau", "tau_trace")
    nonnegative_params = ("beta", "alpha")

    def __init__(self, n: int, lag: bool = True, **params):
        if "tau_trace" not in params and "tau" in params:
            params["tau_trace"] = params["tau"]
        super().__init__(n, **params)
        self.lag = bool(lag)

    def send(self, state):
        return state["sigma"]

    def rhs(self, state, nu, s):
        sigma = state["sigma"]
        return {"sigma": (langevin(fep_theta(self.beta, s, nu)) - sigma) / self.tau,
                "trace": (sigma - state["trace"]) / self.tau_trace}, None

    def trace(self, state):
        return state["trace"] if self.lag else state["sigma"]

    def learning_error(self, state, nu, nu_trace, s):
        return state["sigma"] - langevin(nu_trace)

    def learning_rate(self):
        return self.alpha / self.tau

    def extra_repr(self) -> str:
        return f"n={self.n}, lag={self.lag}"
