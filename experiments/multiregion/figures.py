"""Figures of the main study (``experiments.multiregion``), one set per column type (``_bm``,
``_fep``), seed 0 unless a panel says otherwise. Every colour-coded panel has a legend or a
colourbar; "none" (no attractor) is light grey, never a palette colour; the same pattern has the
same colour in every region; compared panels share one colour scale; an empty panel says why.

    phase_portrait   a column of region A before (first segment) and after (last) learning
    coupling         W (target × source) with region blocks, initial and final, one scale
    occupancy        driven: input pattern and each region's attractor (by its pattern), the
                     last 30 elements
    replay_raster    replay (fluctuation-driven, replica 0): each region's pattern over time
    transitions      replay: pattern-to-pattern transitions per region (arrow width: count)
    overlap          replay: co-occupancy, MI (diagonal: entropy), lagged MI with the null band
    attractor_track  attractors (± pairs merged) per checkpoint, colour |corr| with a digit
    asymmetry        ‖W − Wᵀ‖/‖W‖ per block and run (median over seeds, range as error bars)
"""

from __future__ import annotations


import numpy as np

from columns.analysis import region_index
from ..harness.figures import pyplot, save

GREY = (0.86, 0.86, 0.86)


def _save(fig, out: str, name: str) -> str:
    fig.tight_layout()
    return save(fig, out, name)


def _pattern_cmap(P: int):
    from matplotlib.colors import ListedColormap
    base = pyplot().get_cmap("tab10").colors
    return ListedColormap([GREY] + [base[k % 10] for k in range(P)])


def _pattern_legend(ax, names, P):
    from matplotlib.patches import Patch
    cols = _pattern_cmap(P).colors
    ax.legend(handles=[Patch(color=cols[0], label="none")] +
              [Patch(color=cols[k + 1], label=names[k]) for k in range(P)],
              fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)


def _raster(ax, rows, names, P, ylabels, xlabel):
    ax.imshow(np.stack(rows).astype(float) + 1, aspect="auto", cmap=_pattern_cmap(P), vmin=0,
              vmax=P, interpolation="nearest")
    ax.set_yticks(range(len(rows)), ylabels)
    ax.set_xlabel(xlabel)
    _pattern_legend(ax, names, P)


def figures(cfg, runs: dict, results: dict, pats, out: str) -> list[str]:
    names = []
    P = pats.shape[0]
    pname = [f"{cfg.patterns[:-1] if cfg.patterns.endswith('s') else cfg.patterns} "
             f"{d if cfg.patterns != 'random' else k}" for k, d in enumerate(cfg.digits)]
    for arm_name, res in results["arms"].items():
        main = runs[arm_name, "main"]
        m = res["runs"]["main"]
        sfx = f"_{arm_name}.png"
        names.append(_phase(cfg, main, pats, out, "phase_portrait" + sfx))
        names.append(_coupling(cfg, main, out, "coupling" + sfx))
        names.append(_occupancy(cfg, m, pname, P, out, "occupancy" + sfx, res["network"]["dwell"]))
        names.append(_replay_raster(cfg, m, pname, P, out, "replay_raster" + sfx))
        names.append(_transitions(cfg, m, pname, P, out, "transitions" + sfx))
        names.append(_overlap(cfg, m, out, "overlap" + sfx))
        names.append(_track(cfg, m, out, "attractor_track" + sfx))
        names.append(_asymmetry(cfg, res, out, "asymmetry" + sfx))
    return names


def _phase(cfg, main, pats, out, name):
    plt = pyplot()
    idx = region_index(main.net.coupling.regions)
    col = int(idx[cfg.regions[0]][int(pats.var(0).argmax())])
    ci = main.checkpoint_index
    segs = ((slice(0, ci[1] + 1), "first training segment (before learning)"),
            (slice(ci[-2], ci[-1] + 1), "last segment (after learning)"))
    label = main.net.coupling.node_labels[col]
    f = {k: v[:, 0] for k, v in main.fields.items()}
    if "p_mu" in f:
        fig = plt.figure(figsize=(10, 4.5))
        lims = [(float(f[k][:, col].min()), float(f[k][:, col].max())) for k in ("mu", "w", "p_mu")]
        for k, (sl, what) in enumerate(segs):
            ax = fig.add_subplot(1, 2, k + 1, projection="3d")
            ax.plot(f["mu"][sl, col], f["w"][sl, col], f["p_mu"][sl, col], lw=0.8,
                    color=("tab:blue", "tab:red")[k])
            ax.set(xlabel="μ", ylabel="w", zlabel="p_μ", xlim=lims[0], ylim=lims[1], zlim=lims[2])
            ax.set_title(f"{what}", fontsize=9)
        fig.suptitle(f"column {label} (seed 0) in (μ, w, p_μ): the input's digits drive the loops")
    else:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3), sharey=True)
        for ax, (sl, what) in zip(axes, segs):
            t = np.arange(sl.start, sl.stop)
            ax.plot(t[:60], f["sigma"][sl, col][:60], lw=0.8, marker=".", ms=3)
            ax.set(xlabel="step", title=what + " (first 60 steps)")
        axes[0].set_ylabel("σ")
        fig.suptitle(f"column {label} (seed 0)")
    return _save(fig, out, name)


def _block_labels(ax, cfg):
    n, R = cfg.n, len(cfg.regions)
    for k in range(1, R):
        ax.axhline(k * n - 0.5, color="k", lw=0.6)
        ax.axvline(k * n - 0.5, color="k", lw=0.6)
    ticks = [(k + 0.5) * n - 0.5 for k in range(R)]
    ax.set_xticks(ticks, [f"{r}" for r in cfg.regions])
    ax.set_yticks(ticks, [f"{r}" for r in cfg.regions])


def _coupling(cfg, main, out, name):
    plt = pyplot()
    net = main.net
    Ws = [net.coupling_matrix(s[0]).cpu().numpy() for s in (main.states[0], main.states[-1])]
    v = max(max(np.abs(W).max() for W in Ws), 1e-12)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.6), layout="constrained")
    for ax, W, what in zip(axes, Ws, ("initial (the graph's weights)", "after training")):
        im = ax.imshow(W, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
        _block_labels(ax, cfg)
        ax.set(title=f"W {what}, max |W| = {np.abs(W).max():.2g}", xlabel="source region",
               ylabel="target region")
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="W (one scale for both)")
    save(fig, out, name)
    return name


def _occupancy(cfg, m, pname, P, out, name, dwell):
    plt = pyplot()
    d = m["driven"][0]
    best = {r: m["attractors"][0]["regions"][r]["best_pattern"] for r in cfg.regions}
    rows = [np.asarray(d["presented_A"])]
    for r in cfg.regions:
        lab = np.asarray(d["labels"][r])
        mp = np.asarray(best[r] + [-1])
        rows.append(mp[np.where(lab < 0, len(best[r]), lab)])
    K = min(len(rows[0]), 30 * dwell)
    rows = [r_[-K:] for r_ in rows]                       # the last 30 elements: readable
    start = d["t_start"] + len(d["presented_A"]) - K
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(rows) + 1.4))
    _raster(ax, rows, pname, P, [f"input {cfg.regions[0]}"] + [f"region {r}" for r in cfg.regions],
            f"training step (the last {K}, from step {start})")
    ax.set_title("driven: each region's attractor, coloured by its best-matching pattern (seed 0)")
    return _save(fig, out, name)


def _replay_raster(cfg, m, pname, P, out, name):
    plt = pyplot()
    ras = m["replay"]["seeds"][0]["raster"]
    K = min(300, len(ras[cfg.regions[0]]["winner"]))
    rows = [np.asarray(ras[r]["winner"][:K]) for r in cfg.regions]
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(rows) + 1.4))
    _raster(ax, rows, pname, P, [f"region {r}" for r in cfg.regions],
            f"replay sample (the first {K} of {m['replay']['samples']}; one per "
            f"{m['replay']['dt_sample']:.3g} {m['replay']['unit']})")
    occ = [m["replay"]["seeds"][0]["fluctuations"]["regions"][r]["expressed_fraction"] for r in cfg.regions]
    ax.set_title(f"replay without input, fluctuation-driven (seed 0, replica 0): the pattern each "
                 f"region expresses (|corr| ≥ {cfg.match}); expressed: "
                 + ", ".join(f"{r} {o:.0%}" for r, o in zip(cfg.regions, occ)), fontsize=9)
    return _save(fig, out, name)


def _transitions(cfg, m, pname, P, out, name):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(cfg.regions), figsize=(3.6 * len(cfg.regions), 3.6), squeeze=False)
    cols = _pattern_cmap(P).colors
    ang = np.pi / 2 - 2 * np.pi * np.arange(P) / P
    xy = np.stack([np.cos(ang), np.sin(ang)], 1)
    for ax, r in zip(axes[0], cfg.regions):
        C = np.zeros((P, P))
        for s in m["replay"]["seeds"]:
            C += np.asarray(s["fluctuations"]["regions"][r]["pattern_transitions"])
        top = C.max()
        for i in range(P):
            ax.scatter(*xy[i], s=500, color=cols[i + 1], zorder=3)
            ax.text(*(1.28 * xy[i]), pname[i], ha="center", va="center", fontsize=8)
            for j in range(P):
                if i != j and C[i, j] > 0:
                    a, b = xy[i], xy[j]
                    off = 0.08 * np.array([-(b - a)[1], (b - a)[0]])      # forward and back apart
                    ax.annotate("", xy=b + off - 0.18 * (b - a), xytext=a + off + 0.18 * (b - a),
                                arrowprops=dict(arrowstyle="-|>", lw=0.5 + 6 * C[i, j] / top,
                                                color="k"))
        o = m["replay"]["seeds"][0]["fluctuations"]["regions"][r]["order"]
        ax.set_title(f"region {r}: {int(C.sum())} transitions"
                     + ("" if o["score"] is None else f"\nforward fraction (seed 0) {o['score']:.2f}"),
                     fontsize=9)
        if top == 0:
            ax.text(0, 0, "no transition between\ndifferent patterns", ha="center", va="center",
                    fontsize=8, color="0.3")
        ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal")
        ax.axis("off")
    fig.suptitle("replay: transitions between patterns, all seeds and replicas "
                 "(arrow width ∝ count; trained order clockwise)", fontsize=9)
    return _save(fig, out, name)


def _overlap(cfg, m, out, name):
    plt = pyplot()
    rep = m["replay"]["seeds"][0]["fluctuations"]
    reg = list(cfg.regions)
    R = len(reg)
    O, MI = np.full((R, R), np.nan), np.full((R, R), np.nan)
    for k, r in enumerate(reg):
        O[k, k] = 1.0 if rep["regions"][r]["occupied_fraction"] > 0 else np.nan
        MI[k, k] = np.nan if rep["entropy_bits"][r] is None else rep["entropy_bits"][r]
    for key, v in rep["pairs"].items():
        a, b = (reg.index(x) for x in key.split("-"))
        O[a, b] = O[b, a] = np.nan if v["co_occupancy"] is None else v["co_occupancy"]
        MI[a, b] = MI[b, a] = np.nan if v["mutual_information_bits"] is None else v["mutual_information_bits"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, M, what, vmax in ((axes[0], O, "co-occupancy O_rq", 1.0),
                              (axes[1], MI, "mutual information (bits; diagonal: entropy)",
                               max(1e-9, np.nanmax(MI)) if np.isfinite(MI).any() else 1.0)):
        cmap = pyplot().get_cmap("viridis").with_extremes(bad=GREY)   # n/a: grey, not a value's colour
        im = ax.imshow(np.ma.masked_invalid(M), cmap=cmap, vmin=0, vmax=vmax)
        ax.set_xticks(range(R), reg)
        ax.set_yticks(range(R), reg)
        for (i, j), val in np.ndenumerate(M):
            ax.text(j, i, "n/a" if np.isnan(val) else f"{val:.2f}", ha="center", va="center",
                    color="k" if np.isnan(val) or val >= 0.6 * vmax else "w", fontsize=8)
        ax.set_title(what, fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.8)
    if not np.isfinite(MI).any():
        axes[1].text(0.5, -0.25, "every MI is n/a: some label series is constant", ha="center",
                     transform=axes[1].transAxes, fontsize=8)
    ax = axes[2]
    drawn = False
    for key, v in rep["pairs"].items():
        mi = np.array([np.nan if x is None else x for x in v["mi_by_lag"]])
        if np.isfinite(mi).any():
            line, = ax.plot(v["lags"], mi, label=f"{key}", lw=1)
            drawn = True
            if v.get("band95"):
                ax.fill_between(v["lags"], 0, v["band95"], color=line.get_color(), alpha=0.15)
    if not drawn:
        ax.text(0.5, 0.5, "no pair with a defined MI\n(a region is never or always in one state)",
                ha="center", va="center", transform=ax.transAxes, fontsize=8)
    else:
        ax.legend(fontsize=8, title="shaded: 95 % of circular shifts", title_fontsize=7)
    ax.set(xlabel="lag ℓ (replay samples; > 0: second follows first)", ylabel="MI (bits)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("lagged mutual information on replay", fontsize=9)
    fig.suptitle("replay overlap between regions (seed 0, fluctuation-driven)", fontsize=9)
    return _save(fig, out, name)


def _track(cfg, m, out, name):
    plt = pyplot()
    reg = list(cfg.regions)
    fig, axes = plt.subplots(1, len(reg), figsize=(4 * len(reg) + 1, 3.6), squeeze=False,
                             layout="constrained")
    sc = None
    for ax, r in zip(axes[0], reg):
        tr = m["track"][r][0]
        top = 0
        for c, ids in enumerate(tr["ids"]):
            found = m["checkpoints"][c]["attractors"][0]
            cp = found["regions"][r]
            if found["n_converged"] < found["n_starts"]:
                ax.text(c, 0.02, f"{found['n_converged']}/{found['n_starts']}\nconverged", ha="center",
                        va="bottom", fontsize=6, color="0.35", transform=ax.get_xaxis_transform())
            if not len(ids):
                continue
            top = max(top, max(ids))
            sc = ax.scatter([c] * len(ids), ids, s=40,
                            c=[abs(x) for x in cp["best_corr"]], cmap="plasma", vmin=0, vmax=1)
        if not any(tr["ids"]):
            ax.text(0.5, 0.5, "no attractor besides the rest state\nat any checkpoint", ha="center",
                    va="center", transform=ax.transAxes, fontsize=8, color="0.3")
        ax.set_xticks(range(len(tr["ids"])), ["start"] + [str(k) for k in range(1, len(tr["ids"]))])
        ax.set_yticks(range(top + 1))
        ax.set(title=f"region {r}", xlabel="checkpoint (after segment)", ylabel="attractor id (± pair)")
    if sc is not None:
        fig.colorbar(sc, ax=list(axes[0]), shrink=0.8, label="|corr| with its best pattern")
    fig.suptitle("attractors through learning (seed 0; ± mirror pairs are one attractor)", fontsize=9)
    save(fig, out, name)
    return name


def _asymmetry(cfg, res, out, name):
    plt = pyplot()
    runs = res["runs"]
    first = runs["main"]["couplings"][0]["asymmetry"]
    keys = [("within", r) for r in cfg.regions] + [("between", k) for k in first["between"]]
    x = np.arange(len(keys))
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for k, (rname, r_) in enumerate(runs.items()):
        vals = np.array([[np.nan if c["asymmetry"][g][b] is None else c["asymmetry"][g][b]
                          for g, b in keys] for c in r_["couplings"]])
        ok = np.isfinite(vals).any(0)
        med, lo, hi = (np.full(len(keys), np.nan) for _ in range(3))
        med[ok] = np.nanmedian(vals[:, ok], 0)
        lo[ok], hi[ok] = np.nanmin(vals[:, ok], 0), np.nanmax(vals[:, ok], 0)
        w = 0.8 / len(runs)
        ax.bar(x + (k - (len(runs) - 1) / 2) * w, med, w, yerr=[med - lo, hi - med],
               label=f"{rname} ({r_['order']}, {r_['solver']})", capsize=2)
    for i, (g, b) in enumerate(keys):
        if first[g][b] is None:
            ax.text(i, 0.05, "no reciprocal\npair", ha="center", fontsize=7, color="0.3")
    ax.set_xticks(x, [b for _, b in keys])
    ax.set(ylabel="‖W − Wᵀ‖/‖W‖", title="coupling asymmetry within and between regions (reciprocal "
           "pairs; median, range over seeds)")
    ax.legend(fontsize=8)
    return _save(fig, out, name)
