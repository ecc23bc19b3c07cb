"""The canonical network's middle neuron as a column type (Isomura et al. 2022): thresholds are priors.

Column i is one binary hidden-state factor: membrane potential v_i, rate x_i = sig(v_i) = the
posterior Q(s_i = 1). It receives ν_i = Σ_j W_ij x_j along the graph's edges j → i (the recurrent
synapses K = K1 − K0, or another column's rates) and the stimulus s_i (the sensory drive W o of the
canonical network, W = W1 − W0). With threshold h_i:

    τ v̇ = −v + ν + s + h  =  f  =  −∂L/∂x_i      (the rate equation; x = sig v)
    map (solver="step"):   v(t+1) = ν(t) + s + h      i.e. x(t+1) = sig(W o + K x(t) + h)

so the map is the canonical network's inference step (``cost.fixed_point`` with x′ = x(t)) and the
flow is its rate equation written in potentials (with x′ = x(t): the recurrent input is the
current rate). The threshold is the prior (``reverse.priors_from_thresholds``):

    h_i = ln(D_i / (1 − D_i)) + c_i,   c_i = Σ_j [ln(1 − Ŵ1_ij) − ln(1 − Ŵ0_ij)]
                                         + Σ_j [ln(1 − K̂1_ij) − ln(1 − K̂0_ij)]

D_i = P(s_i = 1) the state prior (parameter ``prior``) and c_i the synapses' part (``structure``;
``columns.canonical.graph_from_network`` sets it). The map is deterministic (the rate network has no noise; u is
ignored). Learning of canonical synapses needs both channels of each synapse (W1, W0: the
homeostatic term depends on each), which a graph edge (one weight W1 − W0) does not carry: learn
with ``columns.canonical`` (``plasticity``, ``MazeAgents``) and wire the result here. The
modulator Γ of the paper is broadcast to the output layer's learning only, so it has no role here.

Parameters (defaults): prior = 0.5 (in (0, 1)), structure = 0, tau = 1 (> 0).
"""

from __future__ import annotations

import torch

from graphs.errors import ParameterError

from .registry import register
from .map import MapColumn


@register
class CanonicalColumn(MapColumn):
    """Middle neuron of a canonical network (hidden-state factor). Final class."""

    type_name = "canonical"
    fields = ("v",)
    param_defaults = {"prior": 0.5, "structure": 0.0, "tau": 1.0}
    positive_params = ("tau",)

    def __init__(self, n: int, **params):
        super().__init__(n, **params)
        bad = (self.prior <= 0) | (self.prior >= 1)
        if bad.any():
            where = "" if self.prior.dim() == 0 else f" at column {int(bad.nonzero()[0, 0])}"
            val = self.prior if self.prior.dim() == 0 else self.prior[bad][0]
            raise ParameterError(f"CanonicalColumn: parameter 'prior' (D = P(s = 1)) must lie in "
                                 f"(0, 1), got {val.item()}{where}")

    def threshold(self) -> torch.Tensor:
        """h = logit(D) + c: () or (n,).

        Returns:
            h, () or (n,).
        """
        return torch.logit(self.prior) + self.structure

    def send(self, state):
        return torch.sigmoid(state["v"])

    def rhs(self, state, nu, s):
        return {"v": (nu + s + self.threshold() - state["v"]) / self.tau}, None

    def step(self, state, nu, s, u):
        return {"v": nu + s + self.threshold()}
