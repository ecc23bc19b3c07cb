"""Experiments: one module per study, run by the ``columns`` CLI.

Each module defines ``Config`` (a dataclass with a ``tiny()`` preset for CI, and ``seed`` and
``device`` fields) and ``main(cfg, out) -> dict``, which writes ``results.json`` and figures into
``out``; nothing runs at import time.
"""

EXPERIMENTS = {
    "two-region": ("experiments.two_region", "small two-region BM network, switching stimulus "
                   "(the default until the multi-region study lands)"),
    "kim-papers": ("experiments.kim_papers", "Kim's four paper models (K18, K21, K23 complex, K24): "
                   "fixed points, spectra, classification, runs"),
    "bench-engine": ("experiments.bench_engine", "benchmarks P1 (dynamics call vs byte floor), "
                     "P2 (Stuart-Landau user column), P6 (memory)"),
}
DEFAULT = "two-region"
