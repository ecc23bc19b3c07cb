"""Training the main study's networks: S seeds as one batch on one stream, in segments that are
resumable units of work (``experiments.harness.resume``), and the main run's recording file."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
import graphs

from ..harness import resume
from .arms import ARMS
from . import sequences as S
from .config import Config
from .inputs import patterns, schedule


def arms_of(cfg: "Config") -> list:
    """The arms ``--column_type`` names: "all" (bm, bm_lag, fep), "both" (bm, fep) or one."""
    names = {"all": ("bm", "bm_lag", "fep"), "both": ("bm", "fep")}.get(cfg.column_type,
                                                                     (cfg.column_type,))
    return [ARMS[n] for n in names]


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
    free_net: object = None
    """the network of the attractor search and the replay (``analysis.free_network``)"""


def build(cfg: Config, arm, device) -> C.Network:
    G = graphs.multiregion(cfg.regions, cfg.n, cfg.p_within, cfg.p_feedforward, cfg.p_feedback,
                           column_type=arm.column_type, seed=cfg.seed,
                           slow_fraction=cfg.slow_fraction if arm.lagged else 0.0,
                           topographic=cfg.topographic, reciprocal=cfg.reciprocal)
    return arm.network(G, cfg).to(device)


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
    parts, converged, windows, iters, wall = [], True, 0, 0, 0.0
    for c in range(cfg.checkpoints):
        b0, b1 = int(bounds[c]), int(bounds[c + 1])
        key = f"train/{arm.name}/{order}/{solver}/segment-{c}"

        def segment():                        # one unit of work: resumable (experiments.harness.resume)
            t_seg = time.perf_counter()
            rec = C.simulate(net, times[b0:b1 + 1].to(device), solver=arm.solver(cfg, solver, b0),
                             record=fields, progress=False, **resume.sim_checkpoint(key))
            if rec.status != "complete":
                raise RuntimeError(f"multiregion: the {arm.name} {order} {solver} run failed at "
                                   f"t = {float(rec.t[-1]):.4g}: {rec.message}")
            return {"fields": {k: v[(1 if c else 0):] for k, v in rec.fields.items()},
                    "state": net.state.detach().cpu(), "config": rec.config,
                    "wall_s": time.perf_counter() - t_seg}
        seg = resume.unit(key, segment)
        net.state = seg["state"].to(device)
        parts.append(seg["fields"])
        states.append(net.state.detach().clone())
        wall += float(seg.get("wall_s", 0.0))   # the computing time, wherever it ran
        converged &= bool(seg["config"].get("solver_converged", True))
        windows += int(seg["config"].get("solver_windows", 0))
        iters = max(iters, int(seg["config"].get("solver_iterations_max", 0)))
        if bar is not None:
            bar.update(b1 - b0)
    rec_fields = {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
    return Run(arm=arm, order=order, solver=solver, net=net, times=times, fields=rec_fields,
               states=states, checkpoint_index=bounds.tolist(), order_A=pA, dwell=dwell,
               wall_s=wall, converged=converged, windows=windows,
               iterations_max=iters)


def train_task(cfg: Config, arm_name: str, order: str, solver: str, bar=None) -> None:
    """``train`` in a worker process (``experiments.harness.workers.prefetch``): its segments
    are saved in the run's store, where ``train`` in the main process then finds them."""
    device = torch.device(cfg.device)
    train(cfg, ARMS[arm_name], order, solver, patterns(cfg, device), device, bar)


def cost(cfg: Config, arm, solver: str) -> float:
    """A run's expected computing time in units of one least-action step of a bm network (the
    default run's timings: a gradient step ~0.15, an FEP map step ~0.05, bm_lag ~1.15), for
    ordering the runs longest first."""
    cycles, dwell = arm.schedule(cfg)[:2]
    per_step = {"least_action": 1.0, "gradient": 0.15}.get(solver, 0.05)
    return cycles * len(cfg.digits) * dwell * per_step * (1.15 if arm.lagged else 1.0)


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
