"""The main study's configuration (``columns run --key=value``): the network, the input, the two
column types' training and the analysis; ``tiny()`` is the CI preset."""

from __future__ import annotations

import math
from dataclasses import dataclass

from columns import ConfigError

from ..harness.config import ExperimentConfig

ALIASES = {"n_per_region": "n"}
"""Other names the command line accepts for config keys (``--n_per_region=256`` is ``--n=256``)."""


@dataclass
class Config(ExperimentConfig):
    """The main study's options (``columns run --key=value``; each field's docstring says what it
    is); the declared checks below and ``check`` run whenever a config is made."""

    CHOICES = {"column_type": ("all", "bm", "bm_lag", "fep", "both"),
               "solver": ("least_action", "gradient"),
               "patterns": ("digits", "decorrelated", "random")}
    AT_LEAST_ONE = ("checkpoints", "dwell", "n_cycles", "fep_dwell", "fep_cycles", "seeds",
                    "replicas", "replay_length", "fep_replay_length", "null_samples", "relax_steps",
                    "window")
    POSITIVE = ("gain", "dt", "replay_dt", "m_W", "fep_evidence", "threshold", "analysis_fraction",
                "tau_trace", "gtol")
    NONNEGATIVE = ("jobs", "noise", "replay_temperature", "gamma_W", "alpha_W", "fep_beta",
                   "fep_alpha", "fep_eval_beta", "topographic", "w_alpha", "w_gamma", "delay",
                   "overlap")
    FRACTION = ("match", "threshold", "analysis_fraction", "slow_fraction", "p_within",
                "p_feedforward", "p_feedback")
    NONEMPTY = ("regions", "digits")
    UNIQUE = ("regions", "digits")
    UNCHECKED = {"mu_d": "any resting expectation", "n": "checked in check() (a square size)",
                 "window": "checked in check() (> overlap)", "random_starts": "0: patterns only",
                 "gtol": "checked by the solver"}

    column_type: str = "all"
    """column types: "bm" (Bayesian mechanics as Kim wrote it, least action), "bm_lag" (the same with a presynaptic trace on slow synapses), "fep" (FEP attractor map), "both" (bm and fep side by side) or "all" (the three: Kim's arm as the reference, the lagged arm beside it)"""
    solver: str = "least_action"
    """bm solver of the main run: "least_action" or "gradient" (the predictive-coding baseline)"""
    regions: tuple[str, ...] = ("A", "B", "C")
    """region names in hierarchical order; the first two receive the input"""
    n: int = 64
    """columns per region (64: the 8×8 digits; 16 or 4: pooled)"""
    p_within: float = 0.3
    """edge probability within a region (with --reciprocal: the probability of a pair)"""
    reciprocal: bool = True
    """within-region edges in reciprocal pairs (the symmetric part of the learned couplings is then a symmetric matrix: attractors of an energy)"""
    p_feedforward: float = 0.05
    """edge probability from a region to the next (A → B → C)"""
    p_feedback: float = 0.02
    """edge probability from a region to the previous (C → B → A)"""
    topographic: float = 0.0
    """initial weight of the topographic feedforward edges (column k of a region to column k of the next; 0: none, only the random feedforward edges)"""
    patterns: str = "decorrelated"
    """input patterns: "digits" (scikit-learn's, z-scored), "decorrelated" (the digits orthogonalised, same norm) or "random" (seeded ±1)"""
    digits: tuple[int, ...] = (1, 2, 3)
    """which digits (or how many patterns) form the sequence, in the trained order"""
    gain: float = 2.0
    """bm: input amplitude (stimulus = gain · pattern)"""
    dwell: int = 10
    """bm: steps each element of the sequence is held"""
    n_cycles: int = 10
    """bm: cycles through the sequence during training"""
    delay: int = 1
    """elements by which region B's sequence lags A's (B sees A's previous pattern)"""
    noise: float = 0.2
    """input noise (std per column and step, added to the stimulus; one draw per seed)"""
    dt: float = 0.1
    """bm: time step of training (model time units)"""
    window: int = 4
    """bm least action: steps per receding-horizon window"""
    overlap: int = 2
    """bm least action: steps by which successive windows overlap"""
    gtol: float = 1e-5
    """bm least action: gradient tolerance of each window's L-BFGS"""
    m_W: float = 1.0
    """bm: precision (mass) of the learned couplings"""
    gamma_W: float = 0.2
    """bm: decay rate of the couplings in the Hebbian flow h = α_W φ_i φ_j − γ_W W"""
    alpha_W: float = 0.04
    """bm: Hebbian learning rate α_W"""
    slow_fraction: float = 0.5
    """bm_lag: fraction of the synapses that are slow (transmit the presynaptic trace)"""
    tau_trace: float = 3.0
    """bm_lag: time constant τ of the presynaptic trace (model time units)"""
    w_alpha: float = 0.5
    """bm: learning rate α of each column's own gain w (g = w μ, ẇ = α s μ − γ_w w; Kim's 0.5)"""
    w_gamma: float = 0.5
    """bm: decay rate γ_w of each column's gain w (Kim's 0.5)"""
    mu_d: float = 0.0
    """bm: the prior's resting expectation μ_d (0: the prior flow is odd, attractors come in ± pairs)"""
    fep_evidence: float = 20.0
    """fep: input amplitude"""
    fep_beta: float = 1.0
    """fep: inverse temperature β of the map"""
    fep_eval_beta: float = 1.0
    """fep: inverse temperature of the map in the attractor search and the replay (the paper's β = 1)"""
    fep_alpha: float = 0.001
    """fep: learning rate"""
    fep_dwell: int = 1
    """fep: steps each element is held"""
    fep_cycles: int = 667
    """fep: cycles through the sequence during training"""
    seeds: int = 3
    """seeds trained as one batch (input noise, the control's orders, the map's draws, replay noise differ; the graph is --seed's)"""
    jobs: int = 0
    """processes training the runs side by side (each run is small: one core each; the results are the same): 0 = as many as --threads allows (auto: the cores free at the start), 1 = one after another in this process"""
    checkpoints: int = 5
    """training segments; attractors and replay are measured at the start and after each segment"""
    random_starts: int = 24
    """random starts of the attractor search (plus every pattern and the visited states)"""
    threshold: float = 0.9
    """|cos| to an attractor at or above which a state is labelled as in it"""
    match: float = 0.3
    """replay order: a state expresses the pattern it correlates with best when that |corr| ≥ match"""
    relax_steps: int = 5000
    """attractor search: at most this many relaxation steps (Euler dt 0.05, or map steps)"""
    analysis_fraction: float = 0.5
    """driven occupancy: the last fraction of training that is analysed"""
    replay_length: int = 400
    """bm replay: samples (one per dt of model time) of each free run"""
    replay_dt: float = 0.05
    """bm replay: Euler(–Maruyama) step of the prior flow"""
    replay_temperature: float = 1.0
    """bm replay: fluctuations T · m_μ^(−1/2) dW (1: the model's own precision)"""
    fep_replay_length: int = 1000
    """fep replay: map steps of each free run"""
    replicas: int = 8
    """fluctuation-driven replays per seed (batched)"""
    null_samples: int = 1000
    """samples of each null distribution (label shuffles, circular shifts)"""
    control: bool = True
    """also train the random-order control (same frequencies, no order)"""
    baseline: bool = True
    """bm: also run the gradient (predictive-coding) baseline"""

    def check(self) -> None:
        """Relations between the options (errors name them)."""
        if self.column_type == "fep" and self.solver != "least_action":
            raise ConfigError(f"--solver {self.solver!r} does not apply to column type 'fep'; "
                              "use one of ('step',)")
        if len(self.regions) < 2:
            raise ConfigError(f"--regions needs at least two regions (A and B receive input), "
                              f"got {self.regions}")
        if self.window <= self.overlap:
            raise ConfigError(f"--window must exceed --overlap >= 0, got {self.window} / "
                              f"{self.overlap}")
        side = math.isqrt(self.n) if self.n > 0 else 0
        if self.n < 1 or side * side != self.n or (8 % side and side % 8):
            raise ConfigError(f"--n must be 4, 16, 64 or (8k)² such as 256 (the 8×8 digits "
                              f"pooled or upsampled), got {self.n}")
        if not self.digits or min(self.digits) < 0 or max(self.digits) > 9:
            raise ConfigError(f"--digits must be digits 0..9, got {self.digits}")
        P = len(self.digits)
        if self.replay_length < 2 * P * self.dwell:
            raise ConfigError(f"--replay_length ({self.replay_length} samples) must cover at least "
                              f"two cycles of the trained sequence ({P} elements × --dwell "
                              f"{self.dwell} = {P * self.dwell} samples each) to see an order")
        if self.fep_replay_length < 2 * P * self.fep_dwell:
            raise ConfigError(f"--fep_replay_length ({self.fep_replay_length}) must cover at least "
                              f"two cycles ({P} × --fep_dwell {self.fep_dwell} steps each)")

    @classmethod
    def tiny(cls) -> "Config":
        return cls(n=16, n_cycles=3, dwell=5, fep_cycles=60, checkpoints=2, random_starts=4,
                   seeds=2, replay_length=120, fep_replay_length=120, replicas=2, null_samples=100,
                   jobs=1)          # seconds of training: starting worker processes costs more
