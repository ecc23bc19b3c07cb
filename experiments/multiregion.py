"""The main study: multi-region attractor replay under sequential learning (spec multiregion.md).

Network: ``graphs.multiregion`` (regions A, B, C of n = 64 columns; dense random within a region,
sparse feedforward A→B→C and feedback C→B→A; every edge learnable), the same graph for every
column type ("arm", ``multiregion_arms``): bm (Bayesian-mechanics columns, Hebbian couplings,
receding-horizon least action; μ_d = 0 so the prior flow is odd) and fep (the FEP attractor map
with its learning rule), side by side with ``--column_type=both`` (the default). Input
(``--patterns``): the digits 1, 2, 3 (scikit-learn's 8×8 images, z-scored), decorrelated digits,
or seeded ±1 patterns; region A sees them in cyclic order, B the same order delayed by ``delay``
elements, C nothing; each element held for ``dwell`` steps, gain ``gain``, input noise ``noise``.

Seeds: S = ``seeds`` networks train as one batch (the batch dimension of the state); seed b draws
its input noise, its control's random order, its map noise and its replay noise from --seed + b;
the graph is --seed's.

Runs per arm (each in ``checkpoints`` segments; the initial state and each segment's end are the
checkpoints):

- ``main``:     the cyclic stream,
- ``control``:  a random order (a fresh permutation per cycle: same frequencies, no order),
- ``baseline``: bm only, the predictive-coding ``gradient`` flow on the cyclic stream.

Analysis per seed (``multiregion_analysis``): attractors of each region's learned prior flow (±
pairs merged), replay with the input removed (deterministic and fluctuation-driven) at every
checkpoint, occupancy, overlap, the sequence replay score and the follow score against nulls, the
driven occupancy, coupling asymmetry and the circulation of each input region,

    circ_r = Σ_k (ξ_{k+1}ᵀ W_rr ξ_k − ξ_kᵀ W_rr ξ_{k+1}) / (P ‖W_rr‖_F ‖ξ‖²)

(> 0: the couplings carry each pattern forward to the next one in the training order).

Writes results.json, recording_<arm>.nc (the main run: the fields of every seed at every step,
the couplings at the checkpoints), the figures (``multiregion_figures``) and report.md
(``multiregion_report``).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
import graphs
from columns import analysis
from columns import sequences as S
from graphs.errors import ColumnsError, ConfigError

from . import resume
from .config import ExperimentConfig
from .fep_data import digits, zscore_rows
from .multiregion_arms import ARMS, symmetrised  # noqa: F401  (symmetrised: public here)
from .progress import bar as progress_bar
from .progress import progress

ALIASES = {"n_per_region": "n"}
"""Other names the command line accepts for config keys (``--n_per_region=256`` is ``--n=256``)."""


@dataclass
class Config(ExperimentConfig):
    column_type: str = "both"
    """column types: "bm" (Bayesian mechanics, least action), "fep" (FEP attractor map) or "both" (side by side)"""
    solver: str = "least_action"
    """bm solver of the main run: "least_action" or "gradient" (the predictive-coding baseline)"""
    regions: tuple[str, ...] = ("A", "B", "C")
    """region names in hierarchical order; the first two receive the input"""
    n: int = 64
    """columns per region (64: the 8×8 digits; 16 or 4: pooled)"""
    p_within: float = 0.3
    """edge probability within a region"""
    p_feedforward: float = 0.05
    """edge probability from a region to the next (A → B → C)"""
    p_feedback: float = 0.02
    """edge probability from a region to the previous (C → B → A)"""
    patterns: str = "digits"
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
    mu_d: float = 0.0
    """bm: the prior's resting expectation μ_d (0: the prior flow is odd, attractors come in ± pairs)"""
    fep_evidence: float = 20.0
    """fep: input amplitude"""
    fep_beta: float = 1.0
    """fep: inverse temperature β of the map"""
    fep_alpha: float = 0.001
    """fep: learning rate"""
    fep_dwell: int = 1
    """fep: steps each element is held"""
    fep_cycles: int = 667
    """fep: cycles through the sequence during training"""
    seeds: int = 3
    """seeds trained as one batch (input noise, the control's orders, the map's draws, replay noise differ; the graph is --seed's)"""
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

    @classmethod
    def tiny(cls) -> "Config":
        return cls(n=16, n_cycles=3, dwell=5, fep_cycles=60, checkpoints=2, random_starts=4,
                   seeds=2, replay_length=120, fep_replay_length=120, replicas=2, null_samples=100)


PATTERNS = ("digits", "decorrelated", "random")


def arms_of(cfg: "Config") -> list:
    return [ARMS["bm"], ARMS["fep"]] if cfg.column_type == "both" else [ARMS[cfg.column_type]]


@dataclass
class Run:
    """One trained batch of S seeds: recorded fields (T, S, N) each, states (S, state) at the
    checkpoints, the presented orders (S, L)."""

    arm: object
    order: str
    solver: str
    net: C.Network
    times: torch.Tensor
    fields: dict
    states: list
    checkpoint_index: list
    order_A: torch.Tensor
    dwell: int
    wall_s: float
    converged: bool = True
    windows: int = 0
    iterations_max: int = 0


def check(cfg: Config) -> None:
    """Every option checked before any training starts (errors name the option)."""
    if cfg.column_type not in (*ARMS, "both"):
        raise ConfigError(f"--column_type must be one of {[*sorted(ARMS), 'both']}, got {cfg.column_type!r}")
    for arm in arms_of(cfg):
        if cfg.solver not in arm.solvers and cfg.solver != Config.solver and cfg.column_type != "both":
            raise ConfigError(f"--solver {cfg.solver!r} does not apply to column type "
                              f"{cfg.column_type!r}; use one of {arm.solvers}")
    if cfg.solver not in ARMS["bm"].solvers:
        raise ConfigError(f"--solver must be one of {ARMS['bm'].solvers}, got {cfg.solver!r}")
    if cfg.patterns not in PATTERNS:
        raise ConfigError(f"--patterns must be one of {PATTERNS}, got {cfg.patterns!r}")
    if len(cfg.regions) < 2:
        raise ConfigError(f"--regions needs at least two regions (A and B receive input), got {cfg.regions}")
    for key in ("checkpoints", "dwell", "n_cycles", "fep_dwell", "fep_cycles", "seeds", "replicas",
                "replay_length", "fep_replay_length", "null_samples"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"--{key} must be >= 1, got {getattr(cfg, key)}")
    for key in ("gain", "dt", "replay_dt", "m_W", "fep_evidence"):
        if not getattr(cfg, key) > 0:
            raise ConfigError(f"--{key} must be > 0, got {getattr(cfg, key)}")
    for key in ("noise", "replay_temperature", "gamma_W", "alpha_W", "fep_beta", "fep_alpha"):
        if not getattr(cfg, key) >= 0:
            raise ConfigError(f"--{key} must be >= 0, got {getattr(cfg, key)}")
    if not 0 <= cfg.match <= 1:
        raise ConfigError(f"--match must be in [0, 1], got {cfg.match}")
    if cfg.relax_steps < 1:
        raise ConfigError(f"--relax_steps must be >= 1, got {cfg.relax_steps}")
    if not 0 < cfg.threshold <= 1:
        raise ConfigError(f"--threshold must be in (0, 1], got {cfg.threshold}")
    if not 0 < cfg.analysis_fraction <= 1:
        raise ConfigError(f"--analysis_fraction must be in (0, 1], got {cfg.analysis_fraction}")
    if cfg.window <= cfg.overlap or cfg.overlap < 0:
        raise ConfigError(f"--window must exceed --overlap >= 0, got {cfg.window} / {cfg.overlap}")
    if cfg.delay < 0:
        raise ConfigError(f"--delay must be >= 0 elements, got {cfg.delay}")
    P = len(cfg.digits)
    if cfg.replay_length < 2 * P * cfg.dwell:
        raise ConfigError(f"--replay_length ({cfg.replay_length} samples) must cover at least two "
                          f"cycles of the trained sequence ({P} elements × --dwell {cfg.dwell} = "
                          f"{P * cfg.dwell} samples each) to see an order")
    if cfg.fep_replay_length < 2 * P * cfg.fep_dwell:
        raise ConfigError(f"--fep_replay_length ({cfg.fep_replay_length}) must cover at least two "
                          f"cycles ({P} × --fep_dwell {cfg.fep_dwell} steps each)")


def patterns(cfg: Config, device) -> torch.Tensor:
    """The input patterns (P, n) (``--patterns``): the digits (8×8 images for n = 64, average-pooled
    to 4×4 for n = 16 or 2×2 for n = 4, each pixel repeated k × k for n = (8k)², e.g. 16×16 for
    n = 256; z-scored); "decorrelated": the same digits made orthogonal
    (Löwdin: X → (X Xᵀ)^(−1/2) X on the centred digits, the closest orthonormal set) and rescaled
    to their norm √n; "random": seeded ±1 patterns (norm √n)."""
    side = math.isqrt(cfg.n)
    if side * side != cfg.n or (8 % side and side % 8):
        raise ConfigError(f"--n must be 4, 16, 64 or (8k)² such as 256 (the 8×8 digits pooled or "
                          f"upsampled), got {cfg.n}")
    if not cfg.digits or min(cfg.digits) < 0 or max(cfg.digits) > 9:
        raise ConfigError(f"--digits must be digits 0..9, got {cfg.digits}")
    if cfg.patterns == "random":
        g = torch.Generator().manual_seed(cfg.seed + 7)
        X = torch.sign(torch.randn(len(cfg.digits), cfg.n, generator=g, dtype=torch.float64))
        return X.to(device)
    train, _ = digits()
    X = train[list(cfg.digits)]
    if side < 8:
        k = 8 // side
        X = zscore_rows(X.reshape(-1, side, k, side, k).mean((2, 4)).reshape(-1, cfg.n))
    elif side > 8:                          # pixel repetition keeps each row's z-score
        k = side // 8
        X = X.reshape(-1, 8, 1, 8, 1).expand(-1, 8, k, 8, k).reshape(-1, cfg.n)
    if cfg.patterns == "decorrelated":
        Xc = X - X.mean(1, keepdim=True)
        U, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
        X = (U @ Vh) * math.sqrt(cfg.n)
    return X.to(device)


def build(cfg: Config, arm, device) -> C.Network:
    G = graphs.multiregion(cfg.regions, cfg.n, cfg.p_within, cfg.p_feedforward, cfg.p_feedback,
                           column_type=arm.name, seed=cfg.seed)
    return arm.network(G, cfg).to(device)


def schedule(cfg: Config, arm, order: str) -> tuple[torch.Tensor, torch.Tensor, int, float, float]:
    """(A's pattern orders (S, L), B's, dwell, gain, Δt) of the arm; seed b's random order is
    drawn from --seed + b."""
    cycles, dwell, gain, dt = arm.schedule(cfg)
    P = len(cfg.digits)
    pA = torch.stack([S.order(order, P, cycles * P, seed=cfg.seed + b) for b in range(cfg.seeds)])
    pB = torch.stack([S.delayed(p, cfg.delay) for p in pA])
    return pA, pB, dwell, gain, dt


def train(cfg: Config, arm, order: str, solver: str, pats: torch.Tensor, device, bar=None) -> Run:
    """Train S = --seeds networks as one batch on one stream in ``checkpoints`` segments: the
    recorded fields (T, S, N), the states (S, state) at the checkpoints, the presented orders."""
    net = build(cfg, arm, device)
    B = cfg.seeds
    net.state = net.initial_state(batch=B)
    pA, pB, dwell, gain, dt = schedule(cfg, arm, order)
    streams = lambda p, k: torch.stack([S.stream(pats.cpu(), p[b], dwell, gain, cfg.noise,  # noqa: E731
                                                 cfg.seed + 1000 * b + k) for b in range(B)], 1)
    vA, vB = streams(pA, 1), streams(pB, 2)
    T = vA.shape[0]
    times = torch.arange(T, dtype=torch.float64) * dt
    regions = list(cfg.regions)
    net.set_stimulus(S.region_stimulus(net, {regions[0]: vA, regions[1]: vB}, times))
    fields = net.layout.node_fields()
    bounds = np.linspace(0, T - 1, cfg.checkpoints + 1).round().astype(int)
    states = [net.state.detach().clone()]
    parts, converged, windows, iters, t0 = [], True, 0, 0, time.perf_counter()
    for c in range(cfg.checkpoints):
        b0, b1 = int(bounds[c]), int(bounds[c + 1])
        key = f"train/{arm.name}/{order}/{solver}/segment-{c}"

        def segment():                        # one unit of work: resumable (experiments.resume)
            rec = C.simulate(net, times[b0:b1 + 1].to(device), solver=arm.solver(cfg, solver, b0),
                             record=fields, progress=False, **resume.sim_checkpoint(key))
            if rec.status != "complete":
                raise RuntimeError(f"multiregion: the {arm.name} {order} {solver} run failed at "
                                   f"t = {float(rec.t[-1]):.4g}: {rec.message}")
            return {"fields": {k: v[(1 if c else 0):] for k, v in rec.fields.items()},
                    "state": net.state.detach().cpu(), "config": rec.config}
        seg = resume.unit(key, segment)
        net.state = seg["state"].to(device)
        parts.append(seg["fields"])
        states.append(net.state.detach().clone())
        converged &= bool(seg["config"].get("solver_converged", True))
        windows += int(seg["config"].get("solver_windows", 0))
        iters = max(iters, int(seg["config"].get("solver_iterations_max", 0)))
        if bar is not None:
            bar.update(b1 - b0)
    rec_fields = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return Run(arm=arm, order=order, solver=solver, net=net, times=times, fields=rec_fields,
               states=states, checkpoint_index=bounds.tolist(), order_A=pA, dwell=dwell,
               wall_s=time.perf_counter() - t0, converged=converged, windows=windows,
               iterations_max=iters)


def circulation(W: torch.Tensor, pats: torch.Tensor) -> float:
    """Σ_k (ξ_{k+1}ᵀ W ξ_k − ξ_kᵀ W ξ_{k+1}) / (P ‖W‖_F ‖ξ‖²) (module docstring)."""
    P = pats.shape[0]
    nxt = pats.roll(-1, 0)
    fwd = (nxt * (pats @ W.T)).sum()                  # ξ_{k+1}ᵀ W ξ_k
    bwd = (pats * (nxt @ W.T)).sum()
    den = P * float(W.norm()) * float((pats ** 2).sum(1).mean())
    return float(fwd - bwd) / den if den > 0 else 0.0


def save_recording(cfg: Config, run: Run, path: str) -> None:
    """recording.nc: the column fields of the main run at every step (batch = seeds), W at the
    checkpoints (checkpoint × seed × coupling)."""
    net = run.net
    cp = net.coupling
    rec = C.Recording(t=run.times, fields=run.fields, node_labels=cp.node_labels,
                      node_types=cp.node_types, regions=cp.regions,
                      config={"experiment": "multiregion", "column_type": run.arm.name,
                              "solver": run.solver, "order": run.order})
    ds = rec.to_xarray()
    ci = run.checkpoint_index
    src, tgt = cp.edge_labels()
    Ws = torch.stack([net.coupling_matrix(s)[:, cp.tgt, cp.src] for s in run.states]).cpu()
    ds = ds.assign_coords(checkpoint_time=("checkpoint", run.times[ci].numpy()),
                          coupling_source=("coupling", np.array(src, dtype=object)),
                          coupling_target=("coupling", np.array(tgt, dtype=object)))
    ds["W_checkpoints"] = (("checkpoint", "seed", "coupling"), Ws.numpy())
    C.write_netcdf(ds, path)


def main(cfg: Config, out: str):
    """Train and analyse every arm; return (results, finish): ``finish()`` writes the recordings,
    the figures and report.md after the runner has written results.json."""
    from . import multiregion_analysis as analysis_
    from . import multiregion_figures as figures_
    from . import multiregion_report as report
    check(cfg)
    device = torch.device(cfg.device)
    pats = patterns(cfg, device)
    plans = []
    for arm in arms_of(cfg):
        solver = arm.solver_name(cfg)
        plans += [(arm, "main", "cyclic", solver)]
        if cfg.control:
            plans.append((arm, "control", "random", solver))
        if cfg.baseline and arm.has_baseline and solver != "gradient":
            plans.append((arm, "baseline", "cyclic", "gradient"))
    timings, runs, results = {}, {}, {"arms": {}, "patterns_corr": torch.corrcoef(pats).tolist()}
    for arm in arms_of(cfg):                       # one bar per column type: its steps cost alike
        mine = [p for p in plans if p[0] is arm]
        cycles, dwell = arm.schedule(cfg)[:2]
        T = cycles * len(cfg.digits) * dwell
        with progress_bar(len(mine) * (T - 1), f"multiregion {arm.name}: training",
                          "step") as bar:
            for _, name, order, slv in mine:
                bar.set_postfix_str(f"{name} ({order}, {slv}, {cfg.seeds} seeds)")
                try:
                    runs[arm.name, name] = train(cfg, arm, order, slv, pats, device, bar)
                except (ColumnsError, RuntimeError) as err:   # a comparison run may fail: keep the rest
                    if name == "main":
                        raise
                    results["arms"].setdefault(arm.name, {}).setdefault("failed_runs", {})[name] = \
                        f"{type(err).__name__}: {err}"
                    continue
                timings[f"train_{arm.name}_{name}_s"] = runs[arm.name, name].wall_s
    for (arm_name, name), run in progress(list(runs.items()), "multiregion: attractors and replay",
                                          "run"):
        t0 = time.perf_counter()
        res = results["arms"].setdefault(arm_name, {}).setdefault("runs", {})
        res[name] = analysis_.analyse(cfg, run, pats, track=(name == "main"))
        timings[f"analysis_{arm_name}_{name}_s"] = time.perf_counter() - t0
    for arm in arms_of(cfg):
        run = runs[arm.name, "main"]
        results["arms"][arm.name]["network"] = {
            "n_nodes": run.net.n_nodes, "n_edges": run.net.coupling.n_edges,
            "n_learnable": int(run.net.layout.n_learnable), "steps": int(run.times.numel()),
            "duration": float(run.times[-1]), "solver": run.solver, "dwell": run.dwell}
    results["timings"] = timings

    def finish() -> dict:
        for arm in arms_of(cfg):
            save_recording(cfg, runs[arm.name, "main"], os.path.join(out, f"recording_{arm.name}.nc"))
        figs = figures_.figures(cfg, runs, results, pats, out)
        results["figures"] = figs
        return {"figures": figs, "summary": report.write(cfg, results, out)}
    return results, finish
