"""The main study: multi-region attractor overlap under sequential learning (spec multiregion.md).

Network: ``graphs.multiregion`` (regions A, B, C of n = 64 columns; dense random within a region,
sparse feedforward A→B→C and feedback C→B→A; every edge learnable). Input: the digits 1, 2, 3
(scikit-learn's 8×8 images, squared and z-scored) as sequences: region A sees them in cyclic order,
B the same order delayed by ``delay`` elements, C nothing. Each element is held for ``dwell`` steps
of Δt, with gain ``gain``.

Runs (each in ``checkpoints`` segments; the state at every segment end is a checkpoint):

- ``main``:     the chosen column type and solver on the cyclic stream
                (bm: receding-horizon least action; fep: the stochastic map with its learning rule),
- ``control``:  the same on a random order (a fresh permutation per cycle: same frequencies),
- ``baseline``: bm only, the predictive-coding ``gradient`` flow on the cyclic stream.

Analysis (``columns.analysis``), per run:

1. attractors of each region's prior flow (within-region edges, p = 0, s = 0) from the training
   patterns, from the states the run visited at the end of each element of its last cycle, and
   from random starts: count, stability, mean |cos|, correlation with the digits;
2. the same at every checkpoint, tracked through learning (births, deaths, movement);
3. occupancy over the last ``analysis_fraction`` of training: each region's state labelled by its
   nearest final attractor (cos ≥ ``threshold``), dwell times, transition matrices;
4. overlap: co-occupancy O_rq, joint labels and mutual information, lagged MI (best lag; B should
   follow A by delay · dwell steps), coupling asymmetry ‖W − Wᵀ‖/‖W‖ within / between regions
   over the reciprocal pairs (on a sparse graph an unpaired edge gives √2 whatever was learned)
   against the random-order control, and the sequence circulation of each input region,
       circ_r = Σ_k (ξ_{k+1}ᵀ W_rr ξ_k − ξ_kᵀ W_rr ξ_{k+1}) / (P ‖W_rr‖_F ‖ξ‖²)
   (> 0: the couplings carry each pattern forward to the next one in the training order).

Writes results.json, recording.nc (the main run: column fields every step, couplings at the
checkpoints), the figures and report.md (``experiments.multiregion_report``).
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

from .config import ExperimentConfig
from .fep_data import digits, zscore_rows
from .multiregion_arms import ARMS, symmetrised  # noqa: F401  (symmetrised: public here)


@dataclass
class Config(ExperimentConfig):
    column_type: str = "bm"
    solver: str = "least_action"
    regions: tuple[str, ...] = ("A", "B", "C")
    n: int = 64
    p_within: float = 0.3
    p_feedforward: float = 0.05
    p_feedback: float = 0.02
    digits: tuple[int, ...] = (1, 2, 3)
    gain: float = 2.0
    dwell: int = 10
    n_cycles: int = 10
    delay: int = 1
    noise: float = 0.0
    dt: float = 0.1
    window: int = 4
    overlap: int = 2
    gtol: float = 1e-5
    m_W: float = 1.0
    gamma_W: float = 0.2
    alpha_W: float = 0.04
    fep_evidence: float = 20.0
    fep_beta: float = 1.0
    fep_alpha: float = 0.001
    fep_dwell: int = 1
    fep_cycles: int = 667
    checkpoints: int = 5
    random_starts: int = 24
    threshold: float = 0.9
    analysis_fraction: float = 0.5
    control: bool = True
    baseline: bool = True

    @classmethod
    def tiny(cls) -> "Config":
        return cls(n=16, n_cycles=3, dwell=5, fep_cycles=60, checkpoints=2, random_starts=4)


def arm_of(cfg: "Config"):
    return ARMS[cfg.column_type]


@dataclass
class Run:
    """One trained network: its recording (T, N) per field, the states at the checkpoints."""

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
    if cfg.column_type not in ARMS:
        raise ConfigError(f"--column_type must be one of {sorted(ARMS)}, got {cfg.column_type!r}")
    arm = ARMS[cfg.column_type]
    if cfg.solver not in arm.solvers and cfg.solver != Config.solver:   # default: the arm's own
        raise ConfigError(f"--solver {cfg.solver!r} does not apply to column type "
                          f"{cfg.column_type!r}; use one of {arm.solvers}")
    if len(cfg.regions) < 2:
        raise ConfigError(f"--regions needs at least two regions (A and B receive input), got {cfg.regions}")
    if cfg.checkpoints < 1 or cfg.dwell < 1 or cfg.n_cycles < 1 or cfg.fep_dwell < 1 or cfg.fep_cycles < 1:
        raise ConfigError("--checkpoints, --dwell, --n_cycles, --fep_dwell and --fep_cycles must be >= 1")
    if not 0 < cfg.analysis_fraction <= 1:
        raise ConfigError(f"--analysis_fraction must be in (0, 1], got {cfg.analysis_fraction}")
    if cfg.window <= cfg.overlap or cfg.overlap < 0:
        raise ConfigError(f"--window must exceed --overlap >= 0, got {cfg.window} / {cfg.overlap}")


def patterns(cfg: Config, device) -> torch.Tensor:
    """The digits (P, n): 8×8 images for n = 64, average-pooled to 4×4 (n = 16) or 2×2 (n = 4)."""
    side = math.isqrt(cfg.n)
    if side * side != cfg.n or 8 % side:
        raise ConfigError(f"--n must be 64, 16 or 4 (the 8×8 digits, pooled), got {cfg.n}")
    if not cfg.digits or min(cfg.digits) < 0 or max(cfg.digits) > 9:
        raise ConfigError(f"--digits must be digits 0..9, got {cfg.digits}")
    train, _ = digits()
    X = train[list(cfg.digits)]
    if side < 8:
        k = 8 // side
        X = zscore_rows(X.reshape(-1, side, k, side, k).mean((2, 4)).reshape(-1, cfg.n))
    return X.to(device)


def build(cfg: Config, device) -> C.Network:
    G = graphs.multiregion(cfg.regions, cfg.n, cfg.p_within, cfg.p_feedforward, cfg.p_feedback,
                           column_type=cfg.column_type, seed=cfg.seed)
    return arm_of(cfg).network(G, cfg).to(device)


def schedule(cfg: Config, order: str) -> tuple[torch.Tensor, torch.Tensor, int, float, float]:
    """(A's pattern order, B's, dwell, gain, Δt) for the column type."""
    cycles, dwell, gain, dt = arm_of(cfg).schedule(cfg)
    P = len(cfg.digits)
    pA = S.order(order, P, cycles * P, seed=cfg.seed)
    return pA, S.delayed(pA, cfg.delay), dwell, gain, dt


def train(cfg: Config, order: str, solver: str, pats: torch.Tensor, device, bar=None) -> Run:
    """Train one network on one stream in ``checkpoints`` segments: the network, the recorded
    column fields (T, N) each, the states at the checkpoints, the presented order."""
    arm = arm_of(cfg)
    net = build(cfg, device)
    net.state = net.initial_state()
    pA, pB, dwell, gain, dt = schedule(cfg, order)
    vA = S.stream(pats.cpu(), pA, dwell, gain, cfg.noise, cfg.seed)
    vB = S.stream(pats.cpu(), pB, dwell, gain, cfg.noise, cfg.seed + 1)
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
        rec = C.simulate(net, times[b0:b1 + 1].to(device), solver=arm.solver(cfg, solver, b0),
                         record=fields, progress=False)
        if rec.status != "complete":
            raise RuntimeError(f"multiregion: the {order} {solver} run failed at t = {float(rec.t[-1]):.4g}: "
                               f"{rec.message}")
        parts.append({k: v[(1 if c else 0):, 0] for k, v in rec.fields.items()})
        states.append(net.state.detach().clone())
        converged &= bool(rec.config.get("solver_converged", True))
        windows += int(rec.config.get("solver_windows", 0))
        iters = max(iters, int(rec.config.get("solver_iterations_max", 0)))
        if bar is not None:
            bar.update(b1 - b0)
    rec_fields = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return Run(order=order, solver=solver, net=net, times=times, fields=rec_fields,
               states=states, checkpoint_index=bounds.tolist(), order_A=pA, dwell=dwell,
               wall_s=time.perf_counter() - t0, converged=converged, windows=windows,
               iterations_max=iters)


def starts(cfg: Config, run: Run, pats: torch.Tensor) -> torch.Tensor:
    """Relaxation starts (B, N): every pattern in every region, the visited states at the end of
    each element of the last cycle, and seeded random starts."""
    arm, net = arm_of(cfg), run.net
    idx = analysis.region_index(net.coupling.regions, net.device)
    N, P = net.n_nodes, pats.shape[0]
    pat = torch.zeros(P, N, dtype=torch.float64, device=net.device)
    for r in idx.values():
        pat[:, r] = arm.pattern_starts(pats)
    x = run.fields[arm.field]
    T, d = x.shape[0], run.dwell
    ends = x[[T - 1 - k * d for k in range(P) if T - 1 - k * d >= 0]].to(net.device)
    g = torch.Generator().manual_seed(cfg.seed + 17)
    return torch.cat([pat, ends, arm.random_starts(cfg, N, pats, g).to(net.device)])


def attractors(cfg: Config, run: Run, state: torch.Tensor, pats: torch.Tensor) -> dict:
    """Each region's attractors at ``state`` (of the couplings the arm chooses)."""
    net = run.net
    state = arm_of(cfg).attractor_state(net, state)
    x0 = starts(cfg, run, pats)
    res = analysis.find_attractors(net, state, x0, patterns={r: pats for r in cfg.regions})
    res["n_starts"] = int(x0.shape[0])
    return res


def summarise_attractors(res: dict) -> dict:
    out = {"n_converged": int(res["converged"].sum()), "n_starts": res["n_starts"],
           "relax_steps": int(res["steps"]), "regions": {}}
    for r, a in res["regions"].items():
        pc = a.get("pattern_corr")
        best = pc.abs().max(1) if pc is not None and len(a["attractors"]) else None
        out["regions"][r] = {
            "count": int(len(a["attractors"])), "n_stable": int(a["stable"].sum()),
            "basin": a["basin"].tolist(), "max_real_eig": a["max_real_eig"].tolist(),
            "spectral_radius": a["spectral_radius"].tolist() if "spectral_radius" in a else None,
            "mean_abs_cos": a["mean_abs_cos"],
            "pattern_corr": pc.tolist() if pc is not None else None,
            "best_pattern": best.indices.tolist() if best is not None else [],
            "best_abs_corr": best.values.tolist() if best is not None else [],
            "norm": a["attractors"].norm(dim=1).tolist(),
            "points": a["attractors"].tolist()}
    return out


def circulation(W: torch.Tensor, pats: torch.Tensor) -> float:
    """Σ_k (ξ_{k+1}ᵀ W ξ_k − ξ_kᵀ W ξ_{k+1}) / (P ‖W‖_F ‖ξ‖²) (module docstring)."""
    P = pats.shape[0]
    nxt = pats.roll(-1, 0)
    fwd = (nxt * (pats @ W.T)).sum()                  # ξ_{k+1}ᵀ W ξ_k
    bwd = (pats * (nxt @ W.T)).sum()
    den = P * float(W.norm()) * float((pats ** 2).sum(1).mean())
    return float(fwd - bwd) / den if den > 0 else 0.0


def occupancy(cfg: Config, run: Run, final: dict) -> dict:
    """Labels, dwell times, transitions and pairwise overlap over the analysed part of the run."""
    net = run.net
    idx = analysis.region_index(net.coupling.regions)
    x = run.fields[arm_of(cfg).field]
    T = x.shape[0]
    t0 = int(round(T * (1 - cfg.analysis_fraction)))
    labels, per = {}, {}
    for r, i in idx.items():
        xs, att = x[t0:, i], final["regions"][r]["attractors"].cpu()
        K = len(att)
        lab = analysis.label_states(xs, att, cfg.threshold)
        labels[r] = lab
        dw = analysis.dwell_times(lab, K)
        cos = analysis.cosines(xs, att) if K else torch.zeros(len(xs), 1)
        per[r] = {"occupied_fraction": float((lab >= 0).double().mean()),
                  "best_cos_median": float(cos.max(1).values.median()),
                  "fraction_per_attractor": [float((lab == k).double().mean()) for k in range(K)],
                  "dwell_median": [float(d.double().median()) if len(d) else None for d in dw],
                  "dwell_mean": [float(d.double().mean()) if len(d) else None for d in dw],
                  "n_visits": [int(len(d)) for d in dw],
                  "transitions": analysis.transition_matrix(lab, K).tolist()}
    names = list(idx)
    pairs = {}
    max_lag = max(1, (len(cfg.digits) * run.dwell) // 2)
    for a_i, a in enumerate(names):
        for b in names[a_i + 1:]:
            ka = len(final["regions"][a]["attractors"])
            kb = len(final["regions"][b]["attractors"])
            lg = analysis.lagged(labels[a], labels[b], ka, kb, max_lag)
            pairs[f"{a}-{b}"] = {
                "co_occupancy": analysis.co_occupancy(labels[a], labels[b]),
                "mutual_information_bits": analysis.mutual_information(labels[a], labels[b], ka, kb),
                "joint": analysis.joint_distribution(labels[a], labels[b], ka, kb).tolist(),
                "best_lag": lg["best_lag"], "mi_at_best_lag": max(lg["mi_bits"]),
                "lags": lg["lags"], "mi_by_lag": lg["mi_bits"], "co_occupancy_by_lag": lg["co_occupancy"]}
    presented = run.order_A.repeat_interleave(run.dwell)[t0:]
    return {"t_start": t0, "regions": per, "pairs": pairs, "expected_lag": cfg.delay * run.dwell,
            "labels": {r: v.tolist() for r, v in labels.items()}, "presented_A": presented.tolist()}


def analyse(cfg: Config, run: Run, pats: torch.Tensor, track: bool) -> dict:
    """Attractors (at every checkpoint if ``track``, else at the end), occupancy, asymmetry."""
    net = run.net
    states = run.states if track else run.states[-1:]
    found = [attractors(cfg, run, s, pats) for s in states]
    final = found[-1]
    out = {"attractors": summarise_attractors(final),
           "occupancy": occupancy(cfg, run, final)}
    if track:
        out["checkpoints"] = [summarise_attractors(f) for f in found]
        out["track"] = {r: _jsonable_track(analysis.track_attractors(
            [f["regions"][r]["attractors"].cpu() for f in found], cfg.threshold)) for r in cfg.regions}
    W = net.coupling_matrix(run.states[-1][0])
    idx = analysis.region_index(net.coupling.regions, net.device)
    mask = torch.zeros_like(W, dtype=torch.bool)
    mask[net.coupling.tgt, net.coupling.src] = True
    out["asymmetry"] = analysis.region_asymmetry(W, net.coupling.regions, mask)
    out["asymmetry"]["whole"] = analysis.asymmetry(W, mask)
    out["asymmetry"]["reciprocal_pairs"] = int((mask & mask.T).sum()) // 2
    out["asymmetry_all_entries"] = analysis.region_asymmetry(W, net.coupling.regions)
    out["circulation"] = {r: circulation(W[idx[r]][:, idx[r]], pats) for r in cfg.regions[:2]}
    out["coupling_norm"] = {r: float(W[idx[r]][:, idx[r]].norm()) for r in cfg.regions}
    out["wall_s"], out["converged"] = run.wall_s, run.converged
    out["solver"], out["order"] = run.solver, run.order
    out["solver_windows"], out["solver_iterations_max"] = run.windows, run.iterations_max
    return out


def _jsonable_track(t: dict) -> dict:
    return {"ids": t["ids"], "births": {str(k): v for k, v in t["births"].items()},
            "deaths": {str(k): v for k, v in t["deaths"].items()},
            "moved": {str(k): v for k, v in t["moved"].items()}}


def save_recording(cfg: Config, run: Run, path: str) -> None:
    """recording.nc: the column fields of the main run at every step, W at the checkpoints."""
    net = run.net
    cp = net.coupling
    fields = {k: v.unsqueeze(1) for k, v in run.fields.items()}
    rec = C.Recording(t=run.times, fields=fields, node_labels=cp.node_labels,
                      node_types=cp.node_types, regions=cp.regions,
                      config={"experiment": "multiregion", "column_type": cfg.column_type,
                              "solver": run.solver, "order": run.order})
    ds = rec.to_xarray()
    ci = run.checkpoint_index
    src, tgt = cp.edge_labels()
    Ws = torch.stack([net.coupling_matrix(s[0])[cp.tgt, cp.src] for s in run.states]).cpu()
    ds = ds.assign_coords(checkpoint_time=("checkpoint", run.times[ci].numpy()),
                          coupling_source=("coupling", np.array(src, dtype=object)),
                          coupling_target=("coupling", np.array(tgt, dtype=object)))
    ds["W_checkpoints"] = (("checkpoint", "coupling"), Ws.numpy())
    C.write_netcdf(ds, path)


def main(cfg: Config, out: str):
    """Train and analyse; return (results, finish): ``finish()`` writes recording.nc, the figures
    and report.md after the runner has written results.json (so a failing figure loses nothing)."""
    from tqdm.auto import tqdm

    from . import multiregion_report as report
    check(cfg)
    arm, device = arm_of(cfg), torch.device(cfg.device)
    pats = patterns(cfg, device)
    solver = arm.solver_name(cfg)
    plan = [("main", "cyclic", solver)]
    if cfg.control:
        plan.append(("control", "random", solver))
    if cfg.baseline and arm.has_baseline and solver != "gradient":
        plan.append(("baseline", "cyclic", "gradient"))
    order_A, _, dwell, _, _ = schedule(cfg, "cyclic")
    T = order_A.numel() * dwell
    timings, runs, results = {}, {}, {"runs": {}}
    with tqdm(total=len(plan) * (T - 1), desc="multiregion: training", unit="step") as bar:
        for name, order, slv in plan:
            bar.set_postfix_str(f"{name} ({order}, {slv})")
            try:
                runs[name] = train(cfg, order, slv, pats, device, bar)
            except (ColumnsError, RuntimeError) as err:     # a comparison run may fail: keep the rest
                if name == "main":
                    raise
                results.setdefault("failed_runs", {})[name] = f"{type(err).__name__}: {err}"
                continue
            timings[f"train_{name}_s"] = runs[name].wall_s
    for name in tqdm(list(runs), desc="multiregion: analysis", unit="run"):
        t0 = time.perf_counter()
        results["runs"][name] = analyse(cfg, runs[name], pats, track=(name == "main"))
        timings[f"analysis_{name}_s"] = time.perf_counter() - t0
    net = runs["main"].net
    results["network"] = {"n_nodes": net.n_nodes, "n_edges": net.coupling.n_edges,
                          "n_learnable": int(net.layout.n_learnable), "steps": int(T),
                          "duration": float(runs["main"].times[-1]), "solver": solver}
    results["timings"] = timings

    def finish() -> dict:
        save_recording(cfg, runs["main"], os.path.join(out, "recording.nc"))
        figures = report.figures(cfg, runs, results, pats, out)
        results["figures"] = figures
        return {"figures": figures, "summary": report.write(cfg, results, out)}
    return results, finish
