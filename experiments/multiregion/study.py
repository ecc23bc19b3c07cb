"""The main study: multi-region attractor replay under sequential learning (docs/main-study.md).

Network: ``graphs.multiregion`` (regions A, B, C of n = 64 columns; dense random within a region,
sparse feedforward A→B→C and feedback C→B→A; every edge learnable), the same graph for every
column type ("arm", ``arms``): bm (Bayesian-mechanics columns, Hebbian couplings,
receding-horizon least action; μ_d = 0 so the prior flow is odd) and fep (the FEP attractor map
with its learning rule), side by side with ``--column_type=both`` (the default); ``all`` adds
bm_lag (the same BM columns with a presynaptic trace: a ``slow_fraction`` of the synapses
transmits it, the lag that lets learned couplings carry a sequence). Input
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

Analysis per seed (``analysis``): attractors of each region's learned prior flow (±
pairs merged), replay with the input removed (deterministic and fluctuation-driven) at every
checkpoint, occupancy, overlap, the sequence replay score and the follow score against nulls, the
driven occupancy, coupling asymmetry and the circulation of each input region,

    circ_r = Σ_k (ξ_{k+1}ᵀ W_rr ξ_k − ξ_kᵀ W_rr ξ_{k+1}) / (P ‖W_rr‖_F ‖ξ‖²)

(``columns.analysis.circulation``; > 0: the couplings carry each pattern forward to the next
one in the training order).

Writes results.json, recording_<arm>.nc (the main run: the fields of every seed at every step,
the couplings at the checkpoints), the figures (``figures``) and report.md (``report``).
"""

from __future__ import annotations

import os
import time

import torch

from columns import ColumnsError

from ..harness import workers
from ..harness.progress import bar as progress_bar
from ..harness.progress import progress
from . import analysis as analysis_
from . import figures as figures_
from . import report
from .config import Config
from .headline import headline
from .inputs import patterns
from .training import arms_of, cost, save_recording, train


def main(cfg: Config, out: str):
    """Train and analyse every arm; return (results, finish): ``finish()`` writes the recordings,
    the figures and report.md after the runner has written results.json."""
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
    steps = {arm.name: arm.schedule(cfg)[0] * len(cfg.digits) * arm.schedule(cfg)[1] - 1
             for arm in arms_of(cfg)}
    jobs = workers.jobs_for(cfg.jobs, len(plans), cfg.device)
    t0 = time.perf_counter()
    if jobs > 1:                                   # the runs side by side, saved as units
        longest = sorted(plans, key=lambda p: -cost(cfg, p[0], p[3]))
        with progress_bar(sum(steps[p[0].name] for p in plans),
                          f"multiregion: training ({jobs} processes)", "step") as bar:
            workers.prefetch("experiments.multiregion.training:train_task",
                             [(cfg, arm.name, order, slv) for arm, _, order, slv in longest], jobs,
                             bar)
    for arm in arms_of(cfg):                       # one bar per column type: its steps cost alike
        mine = [p for p in plans if p[0] is arm]
        with progress_bar(len(mine) * steps[arm.name], f"multiregion {arm.name}: training",
                          "step", show=jobs == 1) as bar:
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
    timings["training_s"], timings["training_processes"] = time.perf_counter() - t0, jobs
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
    results["headline"] = headline(cfg, results)
    failed = [f"{arm} {name}: {why}" for arm, a in results["arms"].items()
              for name, why in a.get("failed_runs", {}).items()]
    if failed:                                     # written, then the run fails (runner.Incomplete)
        results["incomplete"] = failed
    results["timings"] = timings

    def finish() -> dict:
        for arm in arms_of(cfg):
            save_recording(cfg, runs[arm.name, "main"], os.path.join(out, f"recording_{arm.name}.nc"))
        figs = figures_.figures(cfg, runs, results, pats, out)
        results["figures"] = figs
        return {"figures": figs, "summary": report.write(cfg, results, out)}
    return results, finish
