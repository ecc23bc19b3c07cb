"""Engine benchmarks (spec performance.md): P1 dynamics call vs the byte floor, P2 a user-written
Stuart–Landau column vs a NumPy (or neurolib, if installed) baseline, P6 peak memory.

Every figure is a ratio against a baseline measured in the same process. Medians over repeats.

P1  BM network (NetworkBMColumn, all E = 10 N edges learnable), one dynamics call (float64;
    ``--dtype=float32`` for the other precision).
    Byte floor per call = bytes that must move: read the state and write its derivative
    (2·S·itemsize with S = 4N + 2E), read the int64 edge sources and targets (2·E·8) and CSR rows ((N+1)·8),
    divided by the bandwidth of a large tensor copy (2·bytes / time) measured here.
P2  80-node Stuart–Landau (Hopf) network with diffusive coupling written as a user ColumnType,
    Euler, dt = 0.1 ms over ``p2_seconds`` (10 s in the full run), single network and B = 128.
P6  peak RSS of a 10⁵-column, 10⁶-edge run (subprocess), recording μ only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
import graphs

from .config import ExperimentConfig
from .timing import median_time, sync


@dataclass
class Config(ExperimentConfig):
    p1_sizes: tuple[int, ...] = (1000, 10000, 100000, 1000000)
    """P1: network sizes N"""
    p1_repeats: int = 7
    """P1: timing repeats (median reported)"""
    p2_seconds: float = 10.0
    """P2: simulated seconds of the Stuart–Landau network"""
    p2_batch: int = 128
    """P2: parameter sets of the batched run"""
    p6_nodes: int = 100000
    """P6: nodes of the memory test"""
    p6_edges: int = 1000000
    """P6: edges of the memory test"""
    p6_steps: int = 20
    """P6: steps of the memory test"""
    dtype: str = "float64"
    """float64 or float32"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(p1_sizes=(1000, 10000), p1_repeats=3, p2_seconds=0.05, p2_batch=8,
                   p6_nodes=2000, p6_edges=20000, p6_steps=5)


def copy_bandwidth(device, dtype=torch.float64, nbytes=256 * 2**20) -> float:
    """Bytes/s of a large tensor copy (read + write counted)."""
    x = torch.empty(nbytes // 8, dtype=dtype, device=device).fill_(1.0)
    y = torch.empty_like(x)
    t = median_time(lambda: y.copy_(x), 5, device)
    return 2 * x.numel() * x.element_size() / t


def random_coupling(n, e, seed, learnable=True):
    g = torch.Generator().manual_seed(seed)
    draws = int(e * 1.05) + 16
    key = torch.unique(torch.randint(0, n, (draws,), generator=g) * n
                       + torch.randint(0, n, (draws,), generator=g))
    key = key[(key // n) != (key % n)]
    key = key[torch.randperm(key.numel(), generator=g)[:e]]
    w = 0.1 * torch.randn(key.numel(), generator=g, dtype=torch.float64)
    return graphs.compile_arrays(n, key % n, key // n, w, learnable=learnable)


def bench_p1(cfg, device):
    bw = copy_bandwidth(device, getattr(torch, cfg.dtype))
    rows = []
    for n in cfg.p1_sizes:
        cp = random_coupling(n, 10 * n, cfg.seed)
        dt_ = getattr(torch, cfg.dtype)
        net = C.Network(cp, {"bm": C.NetworkBMColumn(n)}, stimulus=1.0, dtype=dt_).to(device)
        y = net.initial_state(noise=0.1, seed=cfg.seed)
        t = torch.tensor(0.0, dtype=dt_, device=device)
        with torch.no_grad():
            sec = median_time(lambda: net(t, y), cfg.p1_repeats, device)
        S, E = net.state_size, cp.n_edges
        item = torch.finfo(dt_).bits // 8      # index bytes (int64 CSR pointers) stay 8
        floor_bytes = 2 * S * item + 2 * E * 8 + (n + 1) * 8
        rows.append({"N": n, "E": E, "call_ms": sec * 1e3, "floor_ms": floor_bytes / bw * 1e3,
                     "fraction_of_floor": floor_bytes / bw / sec,
                     "ns_per_edge": sec / E * 1e9})
        net = cp = y = None     # free before the next size
    x = np.log([r["N"] + r["E"] for r in rows])
    yv = np.log([r["call_ms"] for r in rows])
    big = [r for r in rows if r["N"] >= 10000] if len(rows) > 2 else rows
    xs = np.log([r["N"] + r["E"] for r in big])
    ys = np.log([r["call_ms"] for r in big])
    return {"copy_bandwidth_GBs": bw / 1e9, "rows": rows,
            "exponent_all": float(np.polyfit(x, yv, 1)[0]),
            "exponent_N_ge_1e4": float(np.polyfit(xs, ys, 1)[0]) if len(big) > 1 else None}


class StuartLandauColumn(C.ColumnType):
    """Stuart–Landau (Hopf normal form) oscillators with diffusive coupling — a user column type.

        ẋ = (a − x² − y²) x − ω y + K (ν − k_in x),     ẏ = (a − x² − y²) y + ω x

    ν = Σ_j W_ij x_j (from the engine), k_in = Σ_j W_ij (in-strength, a per-column parameter).
    """

    type_name = "stuart_landau"
    fields = ("x", "y")
    param_defaults = {"a": 0.25, "omega": 0.2, "K": 0.6, "k_in": 0.0}

    def send(self, state):
        return state["x"]

    def rhs(self, state, nu, s):
        x, y = state["x"], state["y"]
        r = self.a - x * x - y * y
        return {"x": r * x - self.omega * y + self.K * (nu - self.k_in * x),
                "y": r * y + self.omega * x}, None


def _p2_numpy(Wd, k_in, x0, y0, steps, dt, a=0.25, omega=0.2, K=0.6):
    x, y = x0.copy(), y0.copy()
    for _ in range(steps):
        r = a - x * x - y * y
        nu = x @ Wd.T                                  # (B, N)
        dx = r * x - omega * y + K * (nu - k_in * x)
        dy = r * y + omega * x
        x, y = x + dt * dx, y + dt * dy
    return x, y


def bench_p2(cfg, device):
    n, dt = 80, 0.1                                   # ms
    steps = int(round(cfg.p2_seconds * 1000 / dt))
    rng = np.random.default_rng(cfg.seed)
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.2)
    np.fill_diagonal(A, 0.0)
    G = graphs.from_numpy(A, column_type="stuart_landau")
    out = {"nodes": n, "steps": steps, "dt_ms": dt}
    for B in (1, cfg.p2_batch):
        k_in = torch.as_tensor(A.sum(1))
        net = C.Network.from_graph(G, column_types={"stuart_landau": StuartLandauColumn(n, k_in=k_in)},
                                   dtype=torch.float64).to(device)
        y0 = net.initial_state(batch=B, noise=0.5, seed=cfg.seed)
        t = torch.arange(0, steps + 1, max(1, steps // 100), dtype=torch.float64) * dt
        t[-1] = steps * dt
        t0 = time.perf_counter()
        rec = C.simulate(net, t, y0=y0, method="euler", step_size=dt, record=["x"], chunk=10)
        sync(device)
        ours = time.perf_counter() - t0
        y0c = y0.cpu().numpy()
        t0 = time.perf_counter()
        xn, _ = _p2_numpy(A, A.sum(1), y0c[:, :n], y0c[:, n:], steps, dt)
        base = time.perf_counter() - t0
        err = float(np.abs(rec["x"][-1].numpy() - xn).max())
        out[f"B{B}"] = {"ours_s": ours, "numpy_s": base,
                        "ours_node_steps_per_s": B * n * steps / ours,
                        "numpy_node_steps_per_s": B * n * steps / base,
                        "speedup_vs_numpy": base / ours, "max_abs_diff_vs_numpy": err}
    try:
        import neurolib  # noqa: F401
        out["neurolib"] = "installed but not wired: see README"
    except ImportError:
        out["neurolib"] = "not installed (optional extra `pip install .[bench]`); NumPy baseline used"
    return out


P6_SCRIPT = r"""
import json, resource, sys, torch
import columns as C
from experiments.bench_engine import random_coupling
def peak_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss is inherited across fork/exec on Linux
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n, e, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cp = random_coupling(n, e, 0)
net = C.Network(cp, {"bm": C.NetworkBMColumn(n)}, stimulus=1.0, dtype=torch.float64)
y0 = net.initial_state(noise=0.01, seed=0)
before = peak_mb()
t = torch.linspace(0, 0.01 * steps, steps + 1, dtype=torch.float64)
rec = C.simulate(net, t, y0=y0, method="rk4", record=["mu"], chunk=5)
after = peak_mb()
print(json.dumps({"rss_before_run_MB": before, "peak_rss_MB": after,
                  "recording_MB": rec["mu"].numel() * 8 / 2**20, "state_MB": y0.numel() * 8 / 2**20}))
"""


def bench_p6(cfg):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", P6_SCRIPT, str(cfg.p6_nodes), str(cfg.p6_edges),
                           str(cfg.p6_steps)], capture_output=True, text=True, cwd=root,
                          env={**os.environ, "PYTHONPATH": root})
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"nodes": cfg.p6_nodes, "edges": cfg.p6_edges, "steps": cfg.p6_steps, **res,
            "bar_MB": 2048, "within_bar": res["peak_rss_MB"] <= 2048}


def main(cfg: Config, out: str) -> dict:
    device = torch.device(cfg.device)
    t0 = time.perf_counter()
    p1 = bench_p1(cfg, device)
    t1 = time.perf_counter()
    p2 = bench_p2(cfg, device)
    t2 = time.perf_counter()
    p6 = bench_p6(cfg) if device.type == "cpu" else {"skipped": "P6 measures host RSS on CPU runs"}
    t3 = time.perf_counter()
    lines = [f"device {device} ({os.cpu_count()} CPU threads), copy bandwidth "
             f"{p1['copy_bandwidth_GBs']:.2f} GB/s",
             "P1  N        E         call ms   floor ms  fraction of floor"]
    for r in p1["rows"]:
        lines.append(f"    {r['N']:<8d} {r['E']:<9d} {r['call_ms']:<9.3f} {r['floor_ms']:<9.3f} "
                     f"{r['fraction_of_floor']:.2f}")
    lines.append(f"    fitted exponent of cost vs N+E: {p1['exponent_all']:.2f} (all), "
                 f"{p1['exponent_N_ge_1e4']} (N >= 1e4)")
    for key in ("B1", f"B{cfg.p2_batch}"):
        r = p2[key]
        lines.append(f"P2  {key}: ours {r['ours_node_steps_per_s']:.3g} node-steps/s, NumPy "
                     f"{r['numpy_node_steps_per_s']:.3g} (×{r['speedup_vs_numpy']:.2f}); "
                     f"max |Δx| {r['max_abs_diff_vs_numpy']:.1e}")
    if "peak_rss_MB" in p6:
        lines.append(f"P6  {p6['nodes']} columns, {p6['edges']} edges: peak RSS "
                     f"{p6['peak_rss_MB']:.0f} MB (bar 2048 MB)")
    summary = "\n".join(lines)
    return {"summary": summary, "P1": p1, "P2": p2, "P6": p6,
            "timings": {"P1_s": t1 - t0, "P2_s": t2 - t1, "P6_s": t3 - t2}}
