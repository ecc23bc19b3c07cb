"""The reference K6 Bayesian-mechanics column (Kim; docs/theory.md §1).

Positions q = (μ, a, w): expectation of the sensory cause, motor variable, synaptic weight;
momenta (p_μ, p_a, p_w). Phase space is six-dimensional. With s_eff = s + κ_env a (closed loop;
κ_env = 0 by default) and e = s_eff − g:

    f(μ)  = −γ_μ (μ − μ_d) + ν            (ν: summed coupling input, 0 for a lone column)
    π(a)  = −γ_a (a − a_d)
    h     = α s_eff μ − γ_w w                ("hebb", default)   or   α s_eff μ − γ_w s_eff² w  ("oja")
    g     = θ₀ + w μ + β a

    H = ½ p_μ²/m_μ + ½ p_a²/m_a + ½ p_w²/m_w + p_μ f + p_a π + p_w h − ½ m_z e²

    μ̇ = p_μ/m_μ + f                 ṗ_μ = γ_μ p_μ − p_w ∂h/∂μ − m_z e w
    ȧ = p_a/m_a + π                 ṗ_a = γ_a p_a − p_w ∂h/∂a + m_z e (κ_env − β)
    ẇ = p_w/m_w + h                 ṗ_w = −p_w ∂h/∂w − m_z e μ
    ∂h/∂μ = α s_eff,  ∂h/∂a = α κ_env μ [− 2 γ_w s_eff κ_env w],  ∂h/∂w = −γ_w [s_eff²]

Parameters (defaults): m_mu = m_a = m_w = 1, m_z = 4 (precisions, > 0), gamma_mu = 1, mu_d = 0.2,
gamma_a = 1, a_d = 0, alpha = 0.5, gamma_w = 0.5, theta0 = 0, beta = 0.5, kappa_env = 0.
Options: ``h_rule`` "hebb" | "oja"; ``rate`` "tanh" | "linear" (x = φ(μ) sent along edges).

Reference: C. S. Kim, *Bayesian mechanics of learning in the brain*; [K23] for β a.
"""

from __future__ import annotations

from graphs.errors import ParameterError

from .registry import register
from .hamiltonian import HamiltonianColumn

H_RULES = ("hebb", "oja")


@register
class K6Column(HamiltonianColumn):
    """K6 column, closed-form Hamilton's equations (checked against autograd). Final class."""

    type_name = "k6"
    positions = ("mu", "a", "w")
    mass_params = {"mu": "m_mu", "a": "m_a", "w": "m_w"}
    param_defaults = {"m_mu": 1.0, "m_a": 1.0, "m_w": 1.0, "m_z": 4.0, "gamma_mu": 1.0,
                      "mu_d": 0.2, "gamma_a": 1.0, "a_d": 0.0, "alpha": 0.5, "gamma_w": 0.5,
                      "theta0": 0.0, "beta": 0.5, "kappa_env": 0.0}
    positive_params = ("m_mu", "m_a", "m_w", "m_z")

    def __init__(self, n: int = 1, h_rule: str = "hebb", rate: str = "tanh", **params):
        super().__init__(n, rate=rate, **params)
        if h_rule not in H_RULES:
            raise ParameterError(f"K6Column: h_rule must be one of {H_RULES}, got {h_rule!r}")
        self.h_rule = h_rule

    def initial_values(self):
        return {"mu": 0.0, "a": 0.0, "w": 0.5, "p_mu": 0.0, "p_a": 0.0, "p_w": 0.0}

    def effective_stimulus(self, q, s):
        return s + self.kappa_env * q["a"]

    def flows(self, q, nu, s):
        mu, a, w = q["mu"], q["a"], q["w"]
        decay = self.gamma_w * (s * s if self.h_rule == "oja" else 1.0)
        return {"mu": -self.gamma_mu * (mu - self.mu_d) + nu,
                "a": -self.gamma_a * (a - self.a_d),
                "w": self.alpha * s * mu - decay * w}

    def prediction(self, q):
        return self.theta0 + q["w"] * q["mu"] + self.beta * q["a"]

    def coupling_gradient(self, state):
        """∂H/∂ν = p_μ (the prior flow of μ is linear in ν with coefficient 1).

        Returns:
            p_μ (B, n).
        """
        return state["p_mu"]

    def rhs(self, state, nu, s):
        mu, a, w = state["mu"], state["a"], state["w"]
        p_mu, p_a, p_w = state["p_mu"], state["p_a"], state["p_w"]
        se = s + self.kappa_env * a
        e = se - (self.theta0 + w * mu + self.beta * a)
        mze = self.m_z * e
        if self.h_rule == "oja":
            h = self.alpha * se * mu - self.gamma_w * se * se * w
            dh_da = self.kappa_env * (self.alpha * mu - 2.0 * self.gamma_w * se * w)
            dh_dw = -self.gamma_w * se * se
        else:
            h = self.alpha * se * mu - self.gamma_w * w
            dh_da = self.alpha * self.kappa_env * mu
            dh_dw = -self.gamma_w
        out = {
            "mu": p_mu / self.m_mu - self.gamma_mu * (mu - self.mu_d) + nu,
            "a": p_a / self.m_a - self.gamma_a * (a - self.a_d),
            "w": p_w / self.m_w + h,
            "p_mu": self.gamma_mu * p_mu - p_w * self.alpha * se - mze * w,
            "p_a": self.gamma_a * p_a - p_w * dh_da + mze * (self.kappa_env - self.beta),
            "p_w": -p_w * dh_dw - mze * mu,
        }
        return out, p_mu
