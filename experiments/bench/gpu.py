"""``columns run bench-gpu``: the GPU check in one call (at most about 8 minutes on a fresh GPU
machine): the GPU tests, then P1, P2, P3 and P5 on CUDA in float32 and float64, with the HBM
copy floor measured in the same process; one ``results.json`` and a table in its summary.

    GPU tests   ``pytest tests/test_gpu.py`` in a subprocess (every solver on CUDA equals the CPU
                result; the analysis on CUDA): passed / failed / skipped counts
    floor       bytes/s of a 256 MB device copy (read + write), per dtype
    P1          the dynamics call at N = 10⁴ … ``p1_max`` (random graph, E = 10 N, all edges
                learnable; half learnable), ms and fraction of the byte floor
    P2          80 Stuart–Landau columns, Euler, ``p2_seconds`` simulated, B = 1 and B = 128
    P3          the FEP attractor map step at N = 64 and 1024
    P5          least-action iterations at N = 10³, windows 10 and 20

Without CUDA it refuses before doing anything (a ``ConfigError`` naming what is missing): the
same script is what a CPU-only CI runs to check that it is ready.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass

import torch

from columns import ConfigError

from ..harness.config import DTYPES, ExperimentConfig
from .common import copy_bandwidth


@dataclass
class Config(ExperimentConfig):
    CHOICES = {"dtypes": DTYPES}
    NONEMPTY = ("dtypes",)
    UNIQUE = ("dtypes",)
    POSITIVE = ("p2_seconds",)
    AT_LEAST_ONE = ("p1_max",)
    device: str = "cuda"
    """the CUDA device measured (cuda, cuda:1, …)"""
    dtypes: tuple[str, ...] = ("float32", "float64")
    """dtypes of P1, P3 and P5"""
    p1_max: int = 1000000
    """P1: largest network (N; E = 10 N)"""
    p2_seconds: float = 2.0
    """P2: simulated seconds"""
    tests: bool = True
    """run tests/test_gpu.py first"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(p1_max=10000, p2_seconds=0.05, tests=False)


def _tests(device) -> dict:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "tests", "test_gpu.py")
    if not os.path.exists(path):
        return {"skipped": f"{path} not found (an installed copy without the tests)"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path],
                          capture_output=True, text=True, cwd=root, timeout=300)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|error)", tail)}
    return {"returncode": proc.returncode, **counts, "line": tail,
            "s": time.perf_counter() - t0}


def _run(name: str, out: str, cfg: Config, **overrides) -> dict:
    """Another benchmark through the runner (no study imports another), into ``out/name``."""
    from ..harness import runner
    return runner.run(name, os.path.join(out, name), device=cfg.device, seed=cfg.seed,
                      overrides={k: ",".join(map(str, v)) if isinstance(v, tuple) else str(v)
                                 for k, v in overrides.items()})


def main(cfg: Config, out: str) -> dict:
    if not torch.cuda.is_available():
        raise ConfigError("bench-gpu needs a CUDA device, and torch sees none here "
                          f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); "
                          "nothing was run")
    device = torch.device(cfg.device)
    if device.type != "cuda":
        raise ConfigError(f"bench-gpu measures a CUDA device, got --device {cfg.device}")
    t0 = time.perf_counter()
    res = {"gpu": torch.cuda.get_device_name(device), "torch": torch.__version__,
           "tests": _tests(device) if cfg.tests else {"skipped": "--tests=false"}}
    res["floor_GBs"] = {d: copy_bandwidth(device, getattr(torch, d)) / 1e9 for d in cfg.dtypes}
    sizes = tuple(n for n in (10000, 100000, 1000000) if n <= cfg.p1_max) or (cfg.p1_max,)
    eng = _run("bench-engine", out, cfg, p1_sizes=sizes, p1_repeats=5, p1_dtypes=cfg.dtypes,
               p2_seconds=cfg.p2_seconds, p2_compiled=False)
    res["P1"], res["P2"], res["P2d"] = eng["P1"], eng["P2"], eng["P2d"]
    res["P3"], res["P5"] = {}, {}
    for d in cfg.dtypes:
        res["P3"][d] = _run("bench-fep", os.path.join(out, d), cfg, grid=False, dtype=d)
        res["P5"][d] = _run("bench-solvers", os.path.join(out, d), cfg, sizes=(1000,),
                            windows=(10, 20), repeats=3, dtype=d, stream_n=1000,
                            stream_steps=20, stream_windows=(10, 20), stream_optimizers=("krylov",))
    res["timings"] = {"total_bench_s": time.perf_counter() - t0}
    res["summary"] = table(res)
    return res


def table(res: dict) -> str:
    """The README's GPU table from the results (one line per measurement)."""
    t = res["tests"]
    lines = [f"GPU {res['gpu']} (torch {res['torch']}); tests/test_gpu.py: "
             + (t.get("line", t.get("skipped", "")))]
    for d, bw in res["floor_GBs"].items():
        lines.append(f"copy floor {d}: {bw:.0f} GB/s")
    for d, r in res["P1"]["dtypes"].items():
        for family, g in r["graphs"].items():
            for row in g["rows"]:
                lines.append(f"P1 {d} {family} N={row['N']}: fused {row['fused_out_ms']:.3g} ms, "
                             f"eager {row['eager_ms']:.3g} ms, floor {row['floor_ms']:.3g} ms "
                             f"({row['fraction_fused_out']:.1%} / {row['fraction_eager']:.1%} of "
                             "the floor)")
    for name in ("P2", "P2d"):
        for key, r in res[name].items():
            if isinstance(r, dict) and key.startswith("B"):
                lines.append(f"{name} {key}: " + ", ".join(
                    f"{k} {v['node_steps_per_s']:.3g} node-steps/s" for k, v in r.items()
                    if isinstance(v, dict) and "node_steps_per_s" in v))
    for part in ("P3", "P5"):
        for d, r in res[part].items():
            lines.append(f"{part} {d}: " + str(r.get("summary", "")).replace("\n", "; ")[:400])
    return "\n".join(lines)
