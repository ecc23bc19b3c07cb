"""Engine benchmarks (docs/theory.md §8): P1 dynamics call vs the byte floor, P2 a
Stuart–Landau network vs a NumPy (or neurolib, if installed) baseline, with and without
conduction delays, P6 peak memory.

Every figure is a ratio against a baseline measured in the same process. Medians over repeats.

P1  BM network (NetworkBMColumn, E = 10 N edges), one dynamics call, float64 and float32: all
    edges learnable on a random and a local graph, and half of them learnable on the random graph
    (each row names the backend the coupling room ran); on the fused backend its phases and the
    scipy-pair-plus-stream baseline (``p1_phases``).
    Byte floor per call = bytes that must move: read the state and write its derivative
    (2·S·itemsize with S = 4N + 2E), read the int64 edge sources and targets (2·E·8) and CSR rows ((N+1)·8),
    divided by the bandwidth of a large tensor copy (2·bytes / time) measured here.
P2  80-node Stuart–Landau (Hopf) network with diffusive coupling (``C.StuartLandauColumn``, a plain
    ColumnType in Python, the way a user writes one), Euler, dt = 0.1 ms over ``p2_seconds``
    (10 s in the full run), single network and B = 128; P2d the same with conduction delays
    (lengths 10–150 mm at 5 mm/ms: 2–30 ms) against neurolib's HopfModel with that ``Dmat``.
    Paths: "default" what ``simulate`` picks with no option (here the native whole-loop kernel,
    ``columns.solvers.native_loop``, its first call, a compile or a disk-cache load, included),
    "eager" the torch fixed-step loop (``native=False``), "compiled" torch.compile'd blocks.
P6  peak RSS of a 10⁵-column, 10⁶-edge run (subprocess), recording μ only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
from columns import DelayRoundingWarning
import graphs

from ..harness.config import DTYPES, ExperimentConfig
from ..harness.timing import median_time, sync
from . import p1_phases
from .common import copy_bandwidth, local_coupling, random_coupling


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("p1_sizes", "p2_seconds", "p6_nodes", "p6_edges")
    AT_LEAST_ONE = ("p1_repeats", "p2_batch", "p6_steps")
    NONEMPTY = ("p1_sizes", "p1_dtypes")
    UNIQUE = ("p1_sizes", "p1_dtypes")
    CHOICES = {"p1_dtypes": DTYPES}
    p1_sizes: tuple[int, ...] = (1000, 10000, 100000, 1000000)
    """P1: network sizes N"""
    p1_repeats: int = 7
    """P1: timing repeats (median reported)"""
    p2_seconds: float = 10.0
    """P2: simulated seconds of the Stuart–Landau network"""
    p2_batch: int = 128
    """P2: parameter sets of the batched run"""
    p2_compiled: bool = True
    """P2: also time the compiled fixed-step loop (compiles for ~20 s per batch size)"""
    p6_nodes: int = 100000
    """P6: nodes of the memory test"""
    p6_edges: int = 1000000
    """P6: edges of the memory test"""
    p6_steps: int = 20
    """P6: steps of the memory test"""
    p1_dtypes: tuple[str, ...] = ("float64", "float32")
    """P1: dtypes measured"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(p1_sizes=(1000, 3000), p1_repeats=3, p2_seconds=0.05, p2_batch=8, p2_compiled=False,
                   p6_nodes=2000, p6_edges=20000, p6_steps=5)


def bench_p1(cfg, device):
    """Per dtype and graph family: the call eager (the before), fused with a fresh output, and
    fused into a buffer the caller owns (``out=``, what the fixed-step loop does)."""
    out = {"dtypes": {}}
    for dname in cfg.p1_dtypes:
        dt_ = getattr(torch, dname)
        bw = copy_bandwidth(device, dt_)
        item = torch.finfo(dt_).bits // 8      # index bytes (int64 CSR pointers) stay 8
        res = {"copy_bandwidth_GBs": bw / 1e9, "graphs": {}}
        for family in ("random", "local", "random_half_learnable"):
            rows = []
            for n in cfg.p1_sizes:
                cp = (random_coupling(n, 10 * n, cfg.seed) if family == "random" else
                      local_coupling(n, 10, cfg.seed) if family == "local" else
                      random_coupling(n, 10 * n, cfg.seed, learnable="half"))
                net = C.Network(cp, {"bm": C.NetworkBMColumn(n)}, stimulus=1.0, dtype=dt_).to(device)
                y = net.initial_state(noise=0.1, seed=cfg.seed)
                buf = torch.empty_like(y)
                t = torch.tensor(0.0, dtype=dt_, device=device)
                reps = cfg.p1_repeats if n < 10**6 else max(3, cfg.p1_repeats // 2)
                with torch.no_grad():
                    fused = median_time(lambda: net(t, y), reps, device)
                    into = median_time(lambda: net(t, y, out=buf), reps, device)
                    backend = net.edges.backend
                    split = p1_phases.phases(net, y, t, into, reps)
                    net.edges.one_pass = False               # the two-pass call, same process
                    two = median_time(lambda: net(t, y, out=buf), reps, device)
                    net.edges.one_pass = True
                    net.kernels = False
                    eager = median_time(lambda: net(t, y), reps, device)
                S, E = net.state_size, cp.n_edges
                floor_bytes = 2 * S * item + 2 * E * 8 + (n + 1) * 8
                fl = floor_bytes / bw
                rows.append({"N": n, "E": E, "E_learnable": net.layout.n_learnable,
                             "backend": backend, "eager_ms": eager * 1e3, "fused_ms": fused * 1e3,
                             "fused_out_ms": into * 1e3, "floor_ms": fl * 1e3,
                             "fraction_eager": fl / eager, "fraction_fused": fl / fused,
                             "fraction_fused_out": fl / into, "speedup": eager / into,
                             "two_pass_out_ms": two * 1e3, "one_over_two_pass": two / into,
                             "phases": split})
                net = cp = y = buf = None     # free before the next size
            big = [r for r in rows if r["N"] >= 10000] if len(rows) > 2 else rows
            fit = (float(np.polyfit(np.log([r["N"] + r["E"] for r in big]),
                                    np.log([r["fused_out_ms"] for r in big]), 1)[0])
                   if len(big) > 1 else None)
            res["graphs"][family] = {"rows": rows, "exponent_N_ge_1e4": fit}
        out["dtypes"][dname] = res
    return out


def _p2_numpy(Wd, k_in, x0, y0, steps, dt, a=0.25, omega=0.2, K=0.6):
    """The NumPy baseline: the same Euler loop, batched over rows of x0 (K (B, 1) or scalar)."""
    x, y = x0.copy(), y0.copy()
    for _ in range(steps):
        r = a - x * x - y * y
        nu = x @ Wd.T                                  # (B, N)
        dx = r * x - omega * y + K * (nu - k_in * x)
        dy = r * y + omega * x
        x, y = x + dt * dx, y + dt * dy
    return x, y


def _p2_neurolib(A, x0, y0, steps, dt, lengths=None, speed=1.0):
    """neurolib's HopfModel on the same matrix (no noise; delays lengths / speed, rounded to dt
    as neurolib does, when ``lengths`` is given): (final x, y, seconds of the second run, the
    first compiles) or None when neurolib is not installed."""
    try:
        from neurolib.models.hopf import HopfModel
    except ImportError:
        return None
    m = HopfModel(Cmat=A, Dmat=np.zeros_like(A) if lengths is None else lengths)
    m.params.update({"a": 0.25, "w": 0.2, "K_gl": 0.6, "dt": dt, "duration": steps * dt,
                     "signalV": speed,
                     "sigma_ou": 0.0, "x_ou_mean": 0.0, "y_ou_mean": 0.0,
                     "xs_init": x0.reshape(-1, 1).copy(), "ys_init": y0.reshape(-1, 1).copy()})
    m.run()
    t0 = time.perf_counter()
    m.run()
    sec = time.perf_counter() - t0
    return m.x[:, -1].copy(), m.y[:, -1].copy(), sec


def _p2_matrix(cfg):
    """P2's network: (n = 80, dt = 0.1 ms, steps, A (n, n) [target, source], the generator that
    drew A, for what else a benchmark draws)."""
    n, dt = 80, 0.1
    rng = np.random.default_rng(cfg.seed)
    A = rng.random((n, n)) * (rng.random((n, n)) < 0.2)
    np.fill_diagonal(A, 0.0)
    return n, dt, int(round(cfg.p2_seconds * 1000 / dt)), A, rng


def _p2_run(cfg, G, A, B: int, steps: int, dt: float, device, speed=None):
    """(K (B,), the network, y0 (B, S), the output grid: 100 samples and the end) of B parameter
    sets: K = 0.6 for B = 1, else 0.3 … 0.9."""
    n = A.shape[0]
    K = np.full(1, 0.6) if B == 1 else np.linspace(0.3, 0.9, B)
    net = C.Network.from_graph(G, speed=speed, dtype=torch.float64, column_types={
        "stuart_landau": C.StuartLandauColumn(n, K_sets=K, k_in=torch.as_tensor(A.sum(1)))})
    net = net.to(device)
    y0 = net.initial_state(batch=B, noise=0.5, seed=cfg.seed)
    t = torch.arange(0, steps + 1, max(1, steps // 100), dtype=torch.float64) * dt
    t[-1] = steps * dt
    return K, net, y0, t


def bench_p2(cfg, device):
    """One Stuart–Landau network (B = 1) and B = ``p2_batch`` parameter sets (K from 0.3 to 0.9),
    Euler through ``simulate``: the fixed-step loop eager and compiled, torchdiffeq's euler for
    the before; neurolib (if installed) and NumPy as the baselines, trajectories checked first."""
    n, dt, steps, A, _ = _p2_matrix(cfg)
    G = graphs.from_numpy(A, column_type="stuart_landau")
    out = {"nodes": n, "steps": steps, "dt_ms": dt}
    for B in (1, cfg.p2_batch):
        K, net, y0, t = _p2_run(cfg, G, A, B, steps, dt, device)
        row = {}
        # default: what simulate picks with no option (the native loop for this network; its
        # first call, a compile or a load from numba's disk cache, is inside the timing);
        # eager: the torch fixed-step loop (native=False)
        variants = [("torchdiffeq", {"options": {"step_size": dt}}), ("default", {}),
                    ("eager", {"native": False})]
        if cfg.p2_compiled:
            variants.append(("compiled", {"compiled": True}))
        for name, opts in variants:
            short = name == "torchdiffeq" and steps > 20000   # the before: a 1/10 window
            t_run, k = (t[t <= t[-1] / 10 + 1e-9], steps // 10) if short else (t, steps)
            if name == "compiled":                    # compile on a short run first (reported)
                opts = {"native": False, **opts}
                c0 = time.perf_counter()
                C.simulate(net, t[:3], y0=y0, method="euler", step_size=dt, record=["x"],
                           solver_options=opts, progress=False, update_state=False)
                row["compile_s"] = time.perf_counter() - c0
            t0 = time.perf_counter()
            rec = C.simulate(net, t_run, y0=y0, method="euler", step_size=dt, record=["x"],
                             chunk=10, solver_options=opts, progress=False, update_state=False)
            sync(device)
            sec = time.perf_counter() - t0
            row[name] = {"s": sec, "steps": k, "node_steps_per_s": B * n * k / sec}
            if name != "torchdiffeq":
                x_ours = rec["x"][-1].cpu().numpy()
        y0c = y0.cpu().numpy()
        t0 = time.perf_counter()
        xn, _ = _p2_numpy(A, A.sum(1), y0c[:, :n], y0c[:, n:], steps, dt, K=K.reshape(-1, 1))
        base = time.perf_counter() - t0
        row["numpy"] = {"s": base, "node_steps_per_s": B * n * steps / base,
                        "max_abs_diff": float(np.abs(x_ours - xn).max())}
        if B == 1:
            nl = _p2_neurolib(A, y0c[0, :n], y0c[0, n:], steps, dt)
            if nl is not None:
                row["neurolib"] = {"s": nl[2], "node_steps_per_s": n * steps / nl[2],
                                   "max_abs_diff": float(np.abs(x_ours[0] - nl[0]).max())}
        out[f"B{B}"] = row
    nl = out["B1"].get("neurolib")
    out["neurolib"] = ("HopfModel, same matrix, dt and duration, no delays, no noise"
                       if nl else "not installed (`pip install -e \".[bench]\"`): NumPy baseline only")
    if nl:
        ref = nl["node_steps_per_s"]
        best = lambda r: max(r[k]["node_steps_per_s"] for k in ("default", "eager", "compiled")
                             if k in r)
        out["B1_over_neurolib"] = best(out["B1"]) / ref
        out[f"B{cfg.p2_batch}_over_neurolib"] = best(out[f"B{cfg.p2_batch}"]) / ref
        out["B1_default_over_neurolib"] = out["B1"]["default"]["node_steps_per_s"] / ref
    return out


def bench_p2d(cfg, device):
    """P2d: the P2 network with conduction delays (symmetric lengths 10–150 mm at 5 mm/ms, so
    2–30 ms, 20–300 steps of dt = 0.1 ms), Euler, B = 1 and B = ``p2_batch``; neurolib's
    HopfModel with the same ``Dmat`` and ``signalV`` as the baseline, trajectories checked first
    (both read x_j(t − L_ij dt) with L = round(d / dt) and hold the initial state before t₀)."""
    speed = 5.0
    n, dt, steps, A, rng = _p2_matrix(cfg)
    L = rng.uniform(10.0, 150.0, (n, n))
    L = np.triu(L, 1) + np.triu(L, 1).T
    G = graphs.from_numpy(A, column_type="stuart_landau", lengths=L)
    out = {"nodes": n, "edges": int((A != 0).sum()), "steps": steps, "dt_ms": dt,
           "speed_mm_per_ms": speed}
    for B in (1, cfg.p2_batch):
        _, net, y0, t = _p2_run(cfg, G, A, B, steps, dt, device, speed)
        row = {}
        for name, native in (("default", True), ("eager", False)):
            t0 = time.perf_counter()
            with warnings.catch_warnings():             # the rounding is in row["delays"]
                warnings.simplefilter("ignore", DelayRoundingWarning)
                rec = C.simulate(net, t, y0=y0, method="euler", step_size=dt, record=["x"],
                                 chunk=10, progress=False, update_state=False, native=native)
            sync(device)
            sec = time.perf_counter() - t0
            row[name] = {"s": sec, "node_steps_per_s": B * n * steps / sec}
            if native:
                x_default = rec["x"][-1]
        row["delays"] = rec.config["delays"]
        row["default_vs_eager_max_abs_diff"] = float((x_default - rec["x"][-1]).abs().max())
        if B == 1:
            y0c = y0.cpu().numpy()
            nl = _p2_neurolib(A, y0c[0, :n], y0c[0, n:], steps, dt, lengths=L, speed=speed)
            if nl is not None:
                row["neurolib"] = {"s": nl[2], "node_steps_per_s": n * steps / nl[2],
                                   "max_abs_diff": float(np.abs(rec["x"][-1, 0].cpu().numpy()
                                                                - nl[0]).max())}
        out[f"B{B}"] = row
    nl = out["B1"].get("neurolib")
    out["neurolib"] = ("HopfModel, same matrix, Dmat, signalV, dt and duration, no noise" if nl
                       else "not installed (`pip install -e \".[bench]\"`)")
    if nl:
        ref = nl["node_steps_per_s"]
        out["B1_over_neurolib"] = out["B1"]["default"]["node_steps_per_s"] / ref
        out[f"B{cfg.p2_batch}_over_neurolib"] = (out[f"B{cfg.p2_batch}"]["default"]
                                                 ["node_steps_per_s"] / ref)
    return out


P6_SCRIPT = r"""
import json, resource, sys, torch
import columns as C
from experiments.bench.common import random_coupling
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
    p2d = bench_p2d(cfg, device)
    t2 = time.perf_counter()
    p6 = bench_p6(cfg) if device.type == "cpu" else {"skipped": "P6 measures host RSS on CPU runs"}
    t3 = time.perf_counter()
    lines = [f"device {device} ({os.cpu_count()} CPU threads, {torch.get_num_threads()} used)",
             "P1  dtype    graph                  N        E         backend  eager ms  fused ms  "
             "into-buffer ms  floor ms  fraction of floor (eager / fused / into buffer)"]
    for dname, res in p1["dtypes"].items():
        for family, g in res["graphs"].items():
            for r in g["rows"]:
                lines.append(f"    {dname:<8} {family:<22} {r['N']:<8d} {r['E']:<9d} "
                             f"{r['backend']:<8} "
                             f"{r['eager_ms']:<9.3f} {r['fused_ms']:<9.3f} {r['fused_out_ms']:<15.3f} "
                             f"{r['floor_ms']:<9.3f} {r['fraction_eager']:.3f} / "
                             f"{r['fraction_fused']:.3f} / {r['fraction_fused_out']:.3f}")
                if r.get("phases"):
                    ph = r["phases"]
                    lines.append(f"      phases ms: field {ph['field_ms']:.3f}, edge pass "
                                 f"{ph['edge_pass_ms']:.3f}, node + rest "
                                 f"{ph['node_and_rest_ms']:.3f}; scipy pair "
                                 f"{ph['scipy_pair_ms']:.3f} + stream {ph['stream_ms']:.3f}: "
                                 f"call / baseline {ph['call_over_baseline']:.2f}")
            lines.append(f"    {dname} {family}: copy bandwidth {res['copy_bandwidth_GBs']:.1f} GB/s, "
                         f"fitted exponent (N >= 1e4, into buffer) {g['exponent_N_ge_1e4']}")
    for key in ("B1", f"B{cfg.p2_batch}"):
        r = p2[key]
        parts = [f"{k} {r[k]['node_steps_per_s']:.3g}" for k in
                 ("torchdiffeq", "default", "eager", "compiled", "numpy", "neurolib") if k in r]
        lines.append(f"P2  {key} node-steps/s: " + ", ".join(parts) +
                     (f" (compile {r['compile_s']:.1f} s)" if "compile_s" in r else "") +
                     f"; max |Δx| vs NumPy "
                     f"{r['numpy']['max_abs_diff']:.1e}" +
                     (f", vs neurolib {r['neurolib']['max_abs_diff']:.1e}" if "neurolib" in r else ""))
    if "B1_over_neurolib" in p2:
        lines.append(f"    over neurolib: B=1 ×{p2['B1_over_neurolib']:.2f} (default path "
                     f"×{p2['B1_default_over_neurolib']:.2f}, its first call included), "
                     f"B={cfg.p2_batch} ×{p2[f'B{cfg.p2_batch}_over_neurolib']:.1f}")
    for key in ("B1", f"B{cfg.p2_batch}"):
        r = p2d[key]
        lines.append(f"P2d {key} delayed ({r['delays']['max_lag_steps']} steps max) node-steps/s: "
                     f"default {r['default']['node_steps_per_s']:.3g}, "
                     f"eager {r['eager']['node_steps_per_s']:.3g}" +
                     (f", neurolib {r['neurolib']['node_steps_per_s']:.3g}; max |Δx| vs neurolib "
                      f"{r['neurolib']['max_abs_diff']:.1e}" if "neurolib" in r else ""))
    if "B1_over_neurolib" in p2d:
        lines.append(f"    over neurolib: B=1 ×{p2d['B1_over_neurolib']:.2f}, "
                     f"B={cfg.p2_batch} ×{p2d[f'B{cfg.p2_batch}_over_neurolib']:.1f}")
    if "peak_rss_MB" in p6:
        lines.append(f"P6  {p6['nodes']} columns, {p6['edges']} edges: peak RSS "
                     f"{p6['peak_rss_MB']:.0f} MB (bar 2048 MB)")
    summary = "\n".join(lines)
    return {"summary": summary, "P1": p1, "P2": p2, "P2d": p2d, "P6": p6,
            "timings": {"P1_s": t1 - t0, "P2_s": t2 - t1, "P6_s": t3 - t2}}
