"""The BM regime map figure (README): heat maps of the bm arm's headline (median over the study's
3 batch seeds) per grid point of two sweeps, training length × gamma_W and gain × dwell.

    python docs/figures/bm_regime_map.py LEN_SWEEP GAIN_DWELL_SWEEP OUT.png

with the sweep folders of the two ``columns sweep multiregion`` commands in the README."""
import sys
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from experiments.harness.sweep import load

sweeps = [(sys.argv[1], "n_cycles", "gamma_W"), (sys.argv[2], "gain", "dwell")]
A = "headline.bm.regions.A."
metrics = [(A + "replay_forward_fraction", "A replay forward fraction", (0.3, 1.0)),
           (A + "distinct_attractors_matching_patterns", "A: patterns held by distinct attractors",
            (0, 3)),
           ("lam", "A: λ_fwd − λ_bwd", None)]
fig, axes = plt.subplots(2, 3, figsize=(11, 6.2))
for row, (path, ky, kx) in enumerate(sweeps):
    ds = load(path)
    for col, (m, title, lim) in enumerate(metrics):
        if m == "lam":
            v = (ds[A + "lambda_fwd"] - ds[A + "lambda_bwd"]).values
        else:
            v = ds[m].values
        v = v[..., 0]                              # one sweep seed (the study's 3 seeds inside)
        ax = axes[row, col]
        kw = {} if lim is None else {"vmin": lim[0], "vmax": lim[1]}
        cmap = matplotlib.colormaps["viridis"].copy()
        cmap.set_bad("0.85")
        im = ax.imshow(np.ma.masked_invalid(v), origin="lower", aspect="auto", cmap=cmap, **kw)
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                ax.text(j, i, "n/a" if not np.isfinite(v[i, j]) else f"{v[i, j]:.2f}",
                        ha="center", va="center", fontsize=9,
                        color="k" if not np.isfinite(v[i, j]) else "w")
        ax.set_xticks(range(ds.sizes[kx]), [str(x) for x in ds[kx].values])
        ax.set_yticks(range(ds.sizes[ky]), [str(x) for x in ds[ky].values])
        ax.set(xlabel=kx, ylabel=ky, title=title)
        fig.colorbar(im, ax=ax)
fig.suptitle("Bayesian-mechanics columns (Kim's model, α_W = 0.12, m_W = 10): at most one "
             "pattern attractor\n(gain 6) and no replay above chance (n/a: no change of expressed "
             "pattern in replay, or, for 100\ncycles and 30 cycles at γ_W = 0.05, a point not run: "
             "over 30 min each on 2 cores)", fontsize=10)
fig.tight_layout()
fig.savefig(sys.argv[3], dpi=90)
print("wrote", sys.argv[3])
