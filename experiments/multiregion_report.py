"""Figures and ``report.md`` of the multi-region study (``experiments.multiregion``).

Every number in the report is read from the results dict that is also written as results.json;
the sentences are chosen by comparing those numbers (nothing is hand-written per run).

Figures: phase_portrait.png (a column of region A in (μ, w, p_μ) before / after learning; the
σ trace for the FEP type), coupling.png (W with region blocks, initial and final),
occupancy.png (label raster), overlap.png (co-occupancy and MI between regions, lagged MI),
attractor_track.png (attractors per checkpoint), asymmetry.png (‖W − Wᵀ‖/‖W‖ per block, runs).
"""

from __future__ import annotations

import os

import numpy as np

from columns.analysis import region_index

from .multiregion import arm_of
from .runner import write_text


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, out: str, name: str) -> str:
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=110)
    _plt().close(fig)
    return name


def figures(cfg, runs: dict, results: dict, pats, out: str) -> list[str]:
    plt = _plt()
    main, res = runs["main"], results["runs"]["main"]
    net = main.net
    idx = region_index(net.coupling.regions, net.device)
    names = []
    # 1. phase portrait of the most driven column of region A
    rA = idx[cfg.regions[0]].cpu()
    col = int(rA[int(pats.var(0).argmax())])
    ci = main.checkpoint_index
    first, last = slice(0, ci[1] + 1), slice(ci[-2], ci[-1] + 1)
    label = net.coupling.node_labels[col]
    if "p_mu" in main.fields:
        fig = plt.figure(figsize=(6.5, 5))
        ax = fig.add_subplot(projection="3d")
        for sl, c, what in ((first, "tab:blue", "first segment"), (last, "tab:red", "last segment")):
            f = main.fields
            ax.plot(f["mu"][sl, col], f["w"][sl, col], f["p_mu"][sl, col], color=c, lw=1, label=what)
        ax.set(xlabel="μ", ylabel="w", zlabel="p_μ", title=f"column {label}: before / after learning")
        ax.legend(fontsize=8)
    else:
        fig, ax = plt.subplots(figsize=(7, 3))
        f = main.fields["sigma"]
        ax.plot(np.arange(first.stop), f[first, col], lw=0.8, label="first segment")
        ax.plot(np.arange(last.start, last.stop), f[last, col], lw=0.8, label="last segment")
        ax.set(xlabel="step", ylabel="σ", title=f"column {label}")
        ax.legend(fontsize=8)
    names.append(_save(fig, out, "phase_portrait.png"))
    # 2. couplings with region blocks, initial and final
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, s, what in ((axes[0], main.states[0], "initial"), (axes[1], main.states[-1], "final")):
        W = net.coupling_matrix(s[0]).cpu().numpy()
        v = max(np.abs(W).max(), 1e-12)
        im = ax.imshow(W, cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
        for k in range(1, len(idx)):
            b = k * cfg.n - 0.5
            ax.axhline(b, color="k", lw=0.6)
            ax.axvline(b, color="k", lw=0.6)
        ax.set(title=f"W {what} (target × source)", xlabel="source", ylabel="target")
        fig.colorbar(im, ax=ax, shrink=0.8)
    names.append(_save(fig, out, "coupling.png"))
    # 3. occupancy raster
    occ = res["occupancy"]
    rows = [np.asarray(occ["presented_A"])] + [np.asarray(occ["labels"][r]) for r in idx]
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(rows) + 1.2))
    ax.imshow(np.stack(rows).astype(float), aspect="auto", cmap="tab10", vmin=-1, vmax=8,
              interpolation="nearest")
    ax.set_yticks(range(len(rows)), [f"input {cfg.regions[0]}"] + [f"region {r}" for r in idx])
    ax.set(xlabel=f"step (from {occ['t_start']})", title="occupancy: nearest attractor (dark = none)")
    names.append(_save(fig, out, "occupancy.png"))
    # 4. overlap heat maps and lagged MI
    reg = list(idx)
    O, MI = np.eye(len(reg)), np.zeros((len(reg), len(reg)))
    for key, v in occ["pairs"].items():
        a, b = (reg.index(x) for x in key.split("-"))
        O[a, b] = O[b, a] = v["co_occupancy"]
        MI[a, b] = MI[b, a] = v["mutual_information_bits"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, M, what in ((axes[0], O, "co-occupancy O_rq"), (axes[1], MI, "mutual information (bits)")):
        im = ax.imshow(M, cmap="viridis")
        ax.set_xticks(range(len(reg)), reg)
        ax.set_yticks(range(len(reg)), reg)
        for (i, j), val in np.ndenumerate(M):
            ax.text(j, i, f"{val:.2f}", ha="center", va="center", color="w", fontsize=8)
        ax.set_title(what)
        fig.colorbar(im, ax=ax, shrink=0.8)
    for key, v in occ["pairs"].items():
        axes[2].plot(v["lags"], v["mi_by_lag"], label=key)
    axes[2].axvline(occ["expected_lag"], color="k", ls=":", lw=0.8)
    axes[2].set(xlabel="lag ℓ (steps; > 0: second follows first)", ylabel="MI (bits)",
                title="lagged mutual information")
    axes[2].legend(fontsize=8)
    names.append(_save(fig, out, "overlap.png"))
    # 5. attractor track
    fig, axes = plt.subplots(1, len(reg), figsize=(4 * len(reg), 3.2), squeeze=False)
    for ax, r in zip(axes[0], reg):
        tr = res["track"][r]
        for c, ids in enumerate(tr["ids"]):
            cp = res["checkpoints"][c]["regions"][r]
            basin = np.asarray(cp["basin"], dtype=float)
            if not len(ids):
                continue
            ax.scatter([c] * len(ids), ids, s=10 + 60 * basin / max(basin.max(), 1),
                       c=cp["best_abs_corr"] or "k", cmap="plasma", vmin=0, vmax=1)
        ax.set(title=f"region {r}", xlabel="checkpoint", ylabel="attractor id")
    fig.suptitle("attractors through learning (size: basin; colour: |corr| with its best digit)")
    names.append(_save(fig, out, "attractor_track.png"))
    # 6. asymmetry bars
    fig, ax = plt.subplots(figsize=(8, 3.5))
    keys = [("within", r) for r in reg] + [("between", k) for k in results["runs"]["main"]["asymmetry"]["between"]]
    x = np.arange(len(keys))
    runs_ = list(results["runs"])
    for k, name in enumerate(runs_):
        a = results["runs"][name]["asymmetry"]
        vals = [np.nan if a[g][b] is None else a[g][b] for g, b in keys]
        ax.bar(x + (k - (len(runs_) - 1) / 2) * 0.8 / len(runs_), vals,
               0.8 / len(runs_), label=f"{name} ({results['runs'][name]['order']}, "
                                        f"{results['runs'][name]['solver']})")
    ax.set_xticks(x, [b for _, b in keys])
    ax.set(ylabel="‖W − Wᵀ‖/‖W‖", title="coupling asymmetry within and between regions "
           "(reciprocal pairs)")
    ax.legend(fontsize=8)
    names.append(_save(fig, out, "asymmetry.png"))
    return names


def _fmt(x, nd=3) -> str:
    return "n/a" if x is None else f"{x:.{nd}g}"


def _attractor_sentence(r: str, a: dict, digits) -> str:
    n, st = a["count"], a["n_stable"]
    if n == 0:
        return f"Region {r}: no attractor was reached from the starts."
    matched = sorted({digits[b] for b, c in zip(a["best_pattern"], a["best_abs_corr"]) if c >= 0.5})
    best = max(a["best_abs_corr"]) if a["best_abs_corr"] else None
    s = (f"Region {r}: {n} attractor{'s' if n != 1 else ''} ({st} stable), "
         f"mean |cos| between them {_fmt(a['mean_abs_cos'])}; the best |correlation| with a digit is "
         f"{_fmt(best)}")
    s += (f", and {len(matched)} digit{'s' if len(matched) != 1 else ''} ({', '.join(map(str, matched))}) "
          f"{'have' if len(matched) != 1 else 'has'} an attractor with |corr| ≥ 0.5." if matched
          else "; no attractor correlates with a digit at |corr| ≥ 0.5.")
    return s


def write(cfg, results: dict, out: str) -> str:
    """Write report.md from ``results``; return its first paragraph (the CLI summary)."""
    runs = results["runs"]
    m = runs["main"]
    net = results["network"]
    reg = list(cfg.regions)
    lines = [f"# Multi-region attractor overlap under sequential learning ({cfg.column_type} columns)", ""]
    summary = (f"{len(reg)} regions × {cfg.n} columns, {net['n_edges']} couplings "
               f"({net['n_learnable']} learnable), {net['steps']} steps of digits "
               f"{'→'.join(map(str, cfg.digits))} (region {reg[0]} cyclic, {reg[1]} delayed by {cfg.delay}); "
               f"main run: {m['solver']}, {_fmt(m['wall_s'], 3)} s"
               f"{'' if m['converged'] else ' (some least-action windows did not converge)'}.")
    lines += [summary, ""]
    lines += ["## Attractors after learning", ""]
    lines += [arm_of(cfg).attractor_note, ""] if arm_of(cfg).attractor_note else []
    for r in reg:
        lines.append("- " + _attractor_sentence(r, m["attractors"]["regions"][r], cfg.digits))
    conv = m["attractors"]
    lines += ["", f"{conv['n_converged']} of {conv['n_starts']} relaxations converged "
              f"(max|μ̇| < 1e-9).", ""]
    lines += ["## Transitions during learning", ""]
    for r in reg:
        tr = m["track"][r]
        counts = [c["regions"][r]["count"] for c in m["checkpoints"]]
        births = sum(1 for c in tr["births"].values() if c > 0)
        deaths = len(tr["deaths"])
        moved = [x for v in tr["moved"].values() for x in v]
        lines.append(f"- Region {r}: attractor counts at the {len(counts)} checkpoints "
                     f"{counts}; {births} born and {deaths} lost after the start"
                     + (f"; largest move between checkpoints 1 − |cos| = {_fmt(max(moved))}" if moved else "")
                     + (". The attractor set changed during learning." if births or deaths
                        else ". The attractor set did not change identity during learning."))
    occ = m["occupancy"]
    lines += ["", f"## Occupancy (last {cfg.analysis_fraction:.0%} of training, cos ≥ {cfg.threshold})", ""]
    for r in reg:
        o = occ["regions"][r]
        dm = [d for d in o["dwell_median"] if d is not None]
        lines.append(f"- Region {r} is in an attractor {o['occupied_fraction']:.1%} of the time "
                     f"(median over time of the best cosine to an attractor: {o['best_cos_median']:.2f})"
                     + (f"; median dwell per attractor {', '.join(_fmt(d) for d in dm)} steps "
                        f"(element length {_dwell(cfg)})" if dm else "")
                     + ".")
    empty = [r for r in reg if occ["regions"][r]["occupied_fraction"] == 0]
    if empty:
        lines += ["", f"Region{'s' if len(empty) > 1 else ''} {', '.join(empty)} never came within "
                  f"cos {cfg.threshold} of {'their' if len(empty) > 1 else 'its'} prior-flow attractors "
                  "while driven, so every overlap measure involving "
                  f"{'them' if len(empty) > 1 else 'it'} is 0 by construction."]
    lines += ["", "## Overlap between regions", ""]
    for key, v in occ["pairs"].items():
        a, b = key.split("-")
        lines.append(f"- {a}–{b}: co-occupancy O = {_fmt(v['co_occupancy'])}, mutual information "
                     f"{_fmt(v['mutual_information_bits'])} bits at lag 0; the best lag is "
                     f"{v['best_lag']} steps ({b} {'follows' if v['best_lag'] > 0 else 'leads' if v['best_lag'] < 0 else 'is simultaneous with'} "
                     f"{a}) with {_fmt(v['mi_at_best_lag'])} bits.")
    ab = occ["pairs"].get(f"{reg[0]}-{reg[1]}")
    if ab is not None:
        hit = ab["best_lag"] == occ["expected_lag"]
        lines.append(f"- The input delay of {reg[1]} is {occ['expected_lag']} steps; the measured best lag "
                     f"{'equals it' if hit else 'differs from it'} ({ab['best_lag']}).")
    lines += ["", "## Asymmetry against the random-order control", "",
              f"‖W − Wᵀ‖/‖W‖ over the {m['asymmetry']['reciprocal_pairs']} reciprocal pairs of "
              "the graph (an edge without its reverse counts √2 whatever is learned, so it is left "
              "out; n/a: no pair), and the circulation of each input region (> 0: the couplings "
              "carry each digit to the next one in the training order).", ""]
    lines.append("| run | order | solver | " + " | ".join(f"within {r}" for r in reg) + " | "
                 + " | ".join(f"{k}" for k in m["asymmetry"]["between"]) + " | circulation "
                 + " / ".join(reg[:2]) + " |")
    lines.append("|" + "---|" * (3 + len(reg) + len(m["asymmetry"]["between"]) + 1))
    for name, r_ in runs.items():
        a = r_["asymmetry"]
        lines.append(f"| {name} | {r_['order']} | {r_['solver']} | "
                     + " | ".join(_fmt(a["within"][r]) for r in reg) + " | "
                     + " | ".join(_fmt(v) for v in a["between"].values()) + " | "
                     + " / ".join(f"{r_['circulation'][r]:+.3g}" for r in reg[:2]) + " |")
    if "control" in runs:
        c = runs["control"]
        d = {r: m["asymmetry"]["within"][r] - c["asymmetry"]["within"][r] for r in reg[:2]}
        dc = {r: m["circulation"][r] - c["circulation"][r] for r in reg[:2]}
        lines += ["", "Cyclic minus random order: within-region asymmetry "
                  + ", ".join(f"{r} {d[r]:+.3g}" for r in d) + "; circulation "
                  + ", ".join(f"{r} {dc[r]:+.3g}" for r in dc) + ". "
                  + ("The cyclic order leaves more asymmetric couplings in every input region."
                     if all(v > 0 for v in d.values()) else
                     "The cyclic order does not leave more asymmetric couplings in every input region.")]
    if "baseline" in runs:
        b = runs["baseline"]
        lines += ["", "## Least action against the gradient baseline", ""]
        rows = [("attractors per region", lambda x: ", ".join(str(x["attractors"]["regions"][r]["count"]) for r in reg)),
                ("occupied fraction per region", lambda x: ", ".join(f"{x['occupancy']['regions'][r]['occupied_fraction']:.2f}" for r in reg)),
                (f"MI {reg[0]}–{reg[1]} at the best lag (bits)", lambda x: _fmt(x["occupancy"]["pairs"][f"{reg[0]}-{reg[1]}"]["mi_at_best_lag"])),
                (f"best lag {reg[0]}–{reg[1]} (steps)", lambda x: str(x["occupancy"]["pairs"][f"{reg[0]}-{reg[1]}"]["best_lag"])),
                ("whole-network asymmetry", lambda x: _fmt(x["asymmetry"]["whole"])),
                (f"circulation {reg[0]}", lambda x: f"{x['circulation'][reg[0]]:+.3g}"),
                ("‖W‖ per region", lambda x: ", ".join(_fmt(x["coupling_norm"][r]) for r in reg)),
                ("training wall time (s)", lambda x: _fmt(x["wall_s"], 3))]
        lines += [f"| | {m['solver']} | gradient |", "|---|---|---|"]
        lines += [f"| {what} | {f(m)} | {f(b)} |" for what, f in rows]
    for name, why in results.get("failed_runs", {}).items():
        lines += ["", f"The {name} run failed and is left out: {why}"]
    lines += ["", "## Figures", ""]
    lines += [f"![{f}]({f})" for f in results.get("figures", [])]
    lines += ["", "## Timings (s)", "", ", ".join(f"{k} {v:.1f}" for k, v in results["timings"].items()), ""]
    text = "\n".join(lines)
    write_text(os.path.join(out, "report.md"), text)
    return summary


def _dwell(cfg) -> int:
    return arm_of(cfg).schedule(cfg)[1]
