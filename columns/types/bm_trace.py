"""The network Bayesian-mechanics column with a presynaptic trace: the lag that lets learned
couplings carry a sequence forward (Sompolinsky & Kanter 1986; Kleinfeld 1986; Gillett, Pereira &
Brunel 2020).

The column of ``columns.types.bm`` with a third position, the trace x̄ of its own rate, whose prior
flow is a leaky copy of φ(μ) with time constant τ (in the generative model: the column expects
its recent past to fade into its present):

    f_μ = −γ_μ (μ − μ_d) + ν,    f_w = α s μ − γ_w w,    f_x̄ = (φ(μ) − x̄) / τ
    H_i = Σ_k (½ p_k²/m_k + p_k f_k) − ½ m_z e²,   e = s − θ₀ − w μ,   k ∈ {μ, w, x̄}

    μ̇ = p_μ/m_μ + f_μ       ṗ_μ = γ_μ p_μ − α s p_w − m_z e w − p_x̄ φ′(μ)/τ   (+ coupling terms)
    ẇ = p_w/m_w + f_w       ṗ_w = γ_w p_w − m_z e μ
    x̄̇ = p_x̄/m_x̄ + f_x̄      ṗ_x̄ = p_x̄/τ                                        (+ slow-synapse terms)

Fast synapses out of the column transmit φ(μ) (as for "bm"); slow synapses (graph edges with
``synapse="slow"``) transmit x̄ (``trace_field``), and their learned weights follow the
temporally asymmetric Hebbian flow of ``columns.plasticity.hebbian`` (post now × pre before minus
pre now). The network adds the coupling terms (−φ′(μ) × the message of the fast synapses to
ṗ_μ, −the message of the slow ones to ṗ_x̄).

Parameters (defaults): as "bm" (m_mu = m_w = 1, m_z = 4, gamma_mu = 1, mu_d = 0.2, alpha = 0.5,
gamma_w = 0.5, theta0 = 0), m_trace = 1 (> 0), tau_trace = 3 (> 0). Option ``rate``: "tanh" |
"linear".
"""

from __future__ import annotations


from .hamiltonian import HamiltonianColumn
from .registry import register


@register
class NetworkBMTraceColumn(HamiltonianColumn):
    """BM column with a presynaptic trace x̄ (module ``columns.types.bm_trace``); closed-form
    equations. Final
    class."""

    type_name = "bm_trace"
    positions = ("mu", "w", "trace")
    mass_params = {"mu": "m_mu", "w": "m_w", "trace": "m_trace"}
    trace_field = "trace"
    param_defaults = {"m_mu": 1.0, "m_w": 1.0, "m_trace": 1.0, "m_z": 4.0, "gamma_mu": 1.0,
                      "mu_d": 0.2, "alpha": 0.5, "gamma_w": 0.5, "theta0": 0.0,
                      "tau_trace": 3.0}
    positive_params = ("m_mu", "m_w", "m_trace", "m_z", "tau_trace")

    def __init__(self, n: int = 1, rate: str = "tanh", **params):
        super().__init__(n, rate=rate, **params)

    def initial_values(self):
        return {"mu": 0.0, "w": 0.5, "trace": 0.0, "p_mu": 0.0, "p_w": 0.0, "p_trace": 0.0}

    def flows(self, q, nu, s):
        return {"mu": -self.gamma_mu * (q["mu"] - self.mu_d) + nu,
                "w": self.alpha * s * q["mu"] - self.gamma_w * q["w"],
                "trace": (self.send(q) - q["trace"]) / self.tau_trace}

    def prediction(self, q):
        return self.theta0 + q["w"] * q["mu"]

    def coupling_gradient(self, state):
        """∂H/∂ν = p_μ (the prior flow of μ is linear in ν with coefficient 1).

        Returns:
            p_μ (B, n).
        """
        return state["p_mu"]

    def rhs(self, state, nu, s):
        mu, w, xb = state["mu"], state["w"], state["trace"]
        p_mu, p_w, p_x = state["p_mu"], state["p_w"], state["p_trace"]
        mze = self.m_z * (s - self.theta0 - w * mu)
        out = {
            "mu": p_mu / self.m_mu - self.gamma_mu * (mu - self.mu_d) + nu,
            "w": p_w / self.m_w + self.alpha * s * mu - self.gamma_w * w,
            "trace": p_x / self.m_trace + (self.send(state) - xb) / self.tau_trace,
            "p_mu": (self.gamma_mu * p_mu - self.alpha * s * p_w - mze * w
                     - p_x * self.send_derivative(state) / self.tau_trace),
            "p_w": self.gamma_w * p_w - mze * mu,
            "p_trace": p_x / self.tau_trace,
        }
        return out, p_mu
