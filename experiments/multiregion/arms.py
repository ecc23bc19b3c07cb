"""What differs between the column types of the main study, chosen once per run (``ARMS``).

An arm says which field holds the expectations, which solvers apply, how the network is built
(plasticity or map parameters), the stream's schedule (cycles, dwell, gain, Δt), the solver of
each run, how the attractor search starts and on which couplings it runs.
"""

from __future__ import annotations

import torch

import columns as C


class BMArm:
    """Bayesian-mechanics columns ("bm"): least action (or the gradient baseline) on μ, Hebbian
    plasticity; attractors of the learned couplings; starts on the scale of the patterns. Kim's
    model as it is: no lag."""

    name = column_type = "bm"
    field, solvers, has_baseline, lagged = "mu", ("least_action", "gradient"), True, False
    attractor_note = ""

    def solver_name(self, cfg) -> str:
        return cfg.solver

    def column_params(self, cfg) -> dict:
        return {"mu_d": cfg.mu_d, "alpha": cfg.w_alpha, "gamma_w": cfg.w_gamma}

    def free_network(self, net: C.Network, cfg) -> C.Network:
        """The network of the attractor search and the replay: the trained one."""
        return net

    def network(self, G, cfg) -> C.Network:
        pl = C.HebbianPlasticity(m_W=cfg.m_W, gamma_W=cfg.gamma_W, alpha_W=cfg.alpha_W)
        return C.Network.from_graph(G, plasticity=pl,
                                    column_types={self.column_type: self.column_params(cfg)},
                                    dtype=torch.float64)

    def replay_grid(self, cfg) -> tuple[int, int, float]:
        """(steps, sample every, Δt) of a replay: the prior flow by Euler(–Maruyama)."""
        every = max(1, round(cfg.dt / cfg.replay_dt))
        return cfg.replay_length * every, every, cfg.replay_dt

    def schedule(self, cfg) -> tuple[int, int, float, float]:
        """(cycles, dwell, gain, Δt)."""
        return cfg.n_cycles, cfg.dwell, cfg.gain, cfg.dt

    def solver(self, cfg, name: str, first_step: int) -> C.Solver:
        if name == "least_action":
            return C.LeastAction(window=cfg.window, overlap=cfg.overlap, gtol=cfg.gtol)
        return C.Gradient(method="rk4", step_size=cfg.dt / 4)     # dt / 2 is unstable on reciprocal pairs

    def pattern_starts(self, pats: torch.Tensor) -> torch.Tensor:
        return pats

    def random_starts(self, cfg, N: int, pats: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return float(pats.std()) * torch.randn(cfg.random_starts, N, generator=g, dtype=torch.float64)

    def attractor_state(self, net: C.Network, state: torch.Tensor) -> torch.Tensor:
        return state


class BMLagArm(BMArm):
    """Bayesian-mechanics columns with a presynaptic trace ("bm_trace", arm "bm_lag"): a
    ``slow_fraction`` of the synapses transmits the source's trace x̄ (τ = ``tau_trace``) and
    learns by the temporally asymmetric Hebbian flow (post now × pre before minus pre now); the
    rest are Kim's fast synapses. The lag lets the learned asymmetric part carry the sequence."""

    name, column_type, lagged, has_baseline = "bm_lag", "bm_trace", True, False
    attractor_note = ("Attractors of the joint flow of μ and the traces x̄ (at a fixed point "
                      "x̄ = φ(μ)).")

    def column_params(self, cfg) -> dict:
        return {**super().column_params(cfg), "tau_trace": cfg.tau_trace}


class FEPArm:
    """FEP attractor columns ("fep"): the stochastic map with its learning rule (solver "step");
    attractors of the symmetric part of J (as Spisak & Friston do: the learned asymmetric J makes
    the map cycle); starts in [−1, 1]."""

    name = column_type = "fep"
    field, solvers, has_baseline, lagged = "sigma", ("step",), False, False
    attractor_note = ("Attractors of the deterministic map with the symmetric part (J + Jᵀ)/2 of "
                      "the learned couplings (the asymmetric J itself makes the map cycle, as in "
                      "Spisak & Friston's Sim 3).")

    def solver_name(self, cfg) -> str:
        return "step"

    def network(self, G, cfg) -> C.Network:
        return C.Network.from_graph(G, column_types={"fep": {"beta": cfg.fep_beta,
                                                             "alpha": cfg.fep_alpha}},
                                    dtype=torch.float64)

    def schedule(self, cfg) -> tuple[int, int, float, float]:
        return cfg.fep_cycles, cfg.fep_dwell, cfg.fep_evidence, 1.0

    def replay_grid(self, cfg) -> tuple[int, int, float]:
        """(steps, sample every, Δt): the map, every step sampled."""
        return cfg.fep_replay_length, 1, 1.0

    def solver(self, cfg, name: str, first_step: int) -> C.Solver:
        return C.Step(stochastic=True, seed=cfg.seed, first_step=first_step)

    def pattern_starts(self, pats: torch.Tensor) -> torch.Tensor:
        return pats / pats.abs().max()

    def random_starts(self, cfg, N: int, pats: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        return torch.rand(cfg.random_starts, N, generator=g, dtype=torch.float64) * 2 - 1

    def free_network(self, net: C.Network, cfg) -> C.Network:
        """The trained network with the map at β = ``fep_eval_beta`` (Spisak & Friston evaluate
        the attractors and the free run at β = 1 whatever β trained): a copy."""
        import copy
        free = copy.deepcopy(net)
        col = free.columns["fep"]
        col.beta = torch.full_like(col.beta, float(cfg.fep_eval_beta))
        return free

    def attractor_state(self, net: C.Network, state: torch.Tensor) -> torch.Tensor:
        return symmetrised(net, state)


def symmetrised(net: C.Network, state: torch.Tensor) -> torch.Tensor:
    """The state with each learnable coupling replaced by the symmetric part (W + Wᵀ)/2 (an
    edge without its reverse keeps half its weight)."""
    W = net.coupling_matrix(state)
    return net.with_learned_weights(state, 0.5 * (W + W.mT))


ARMS = {"bm": BMArm(), "bm_lag": BMLagArm(), "fep": FEPArm()}
