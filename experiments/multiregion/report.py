"""``report.md`` of the main study (``experiments.multiregion``).

Every number is read from the results dict that is also written as results.json; a finding is
stated only with the test behind it (the count of seeds whose p-value is below ``ALPHA``), and an
undefined quantity is "n/a" with its reason. Over seeds: median [min, max].
"""

from __future__ import annotations

import os

import numpy as np

from .arms import ARMS
from .headline import sentences
from ..harness.runner import write_text

ALPHA = 0.01


def fmt(x, nd: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{nd}g}"


def spread(vals, nd: int = 3) -> str:
    """median [min, max] of the defined values, with how many are n/a (integers as integers)."""
    v = [x for x in vals if x is not None]
    if not v:
        return "n/a"
    f = (lambda x: f"{x:g}") if all(float(x).is_integer() and abs(x) >= 1 for x in v) else \
        (lambda x: f"{x:.{nd}g}")
    s = f(float(np.median(v))) + (f" [{f(min(v))}, {f(max(v))}]" if len(v) > 1 else "")
    return s + (f" ({len(vals) - len(v)} n/a)" if len(v) < len(vals) else "")


def _seeds(run, *path):
    """The value at ``path`` of every seed's replay (fluctuation-driven)."""
    out = []
    for s in run["replay"]["seeds"]:
        x = s["fluctuations"]
        for k in path:
            x = None if x is None else x[k]
        out.append(x)
    return out


def significant(ps) -> int:
    return sum(1 for p in ps if p is not None and p < ALPHA)


def order_finding(arm: str, name: str, run, region: str, key: str = "order") -> str:
    o = _seeds(run, "regions", region, key)
    S = len(o)
    scores = [x["score"] for x in o]
    k = significant([x["p"] for x in o])
    none = sum(1 for x in scores if x is None)
    head = f"{arm} {name}, region {region}: "
    if none == S:
        return head + ("no replay transition between two different patterns in any seed, so the "
                       "order score is n/a.")
    rev = significant([x.get("p_reverse") for x in o])
    verdict = "follows the trained order" if k == S else (
        f"follows the trained order in {k} of {S} seeds" if k else
        ("runs the trained order backwards" + (f" in {rev} of {S} seeds" if rev < S else "")
         if rev else "does not follow the trained order"))
    return (head + f"replay {verdict} (forward fraction of {spread([x['n_transitions'] for x in o])} "
            f"transitions between expressed patterns {spread(scores)}, chance ≈ "
            f"{spread([x['null_median'] for x in o])} under label shuffles; p < {ALPHA} in {k} of {S} seeds"
            + (f", fewer forward than the shuffles at p < {ALPHA} in {rev}" if rev else "")
            + (f"; {none} seed{'s' if none > 1 else ''} without a transition" if none else "") + ").")


def follow_finding(arm: str, name: str, run, a: str, b: str, delay: int) -> str:
    f = _seeds(run, "pairs", f"{a}-{b}", "follow")
    S = len(f)
    scores = [x["score"] for x in f]
    k = significant([x["p"] for x in f])
    if all(x is None for x in scores):
        return (f"{arm} {name}: {a} and {b} are never both in a pattern's attractor on replay, so "
                "whether B follows A is n/a.")
    return (f"{arm} {name}: on replay, {b} shows the pattern {delay} element{'s' if delay != 1 else ''} "
            f"before {a}'s (the trained delay) a fraction {spread(scores)} of the jointly occupied "
            f"samples (circular-shift null {spread([x['null_median'] for x in f])}); p < {ALPHA} in "
            f"{k} of {S} seeds.")


def _rows(cfg, arms: dict) -> tuple[list[str], list[str]]:
    reg = list(cfg.regions)
    a, b = reg[0], reg[1]
    cols, heads = [], []
    for arm, res in arms.items():
        for name, run in res.get("runs", {}).items():
            cols.append(run)
            heads.append(f"{arm} {name} ({run['order']}, {run['solver']})")
    rows = []

    def row(what, f):
        rows.append(f"| {what} | " + " | ".join(f(r) for r in cols) + " |")
    for r in (a, b):
        row(f"replay forward fraction (expressed patterns), {r}",
            lambda x, r=r: spread([o["score"] for o in _seeds(x, "regions", r, "order")]))
        row(f"seeds with p < {ALPHA} (shuffled labels): forward / backward, {r}",
            lambda x, r=r: f"{significant([o['p'] for o in _seeds(x, 'regions', r, 'order')])} / "
                           f"{significant([o.get('p_reverse') for o in _seeds(x, 'regions', r, 'order')])} of {len(x['replay']['seeds'])}")
        row(f"replay forward fraction (attractor to attractor), {r}",
            lambda x, r=r: spread([o["score"] for o in _seeds(x, "regions", r, "attractor_order")]))
    row(f"replay: {b} shows {a}'s pattern {cfg.delay} back (fraction)",
        lambda x: spread([o["score"] for o in _seeds(x, "pairs", f"{a}-{b}", "follow")]))
    row(f"seeds with p < {ALPHA} (circular shifts)",
        lambda x: f"{significant([o['p'] for o in _seeds(x, 'pairs', f'{a}-{b}', 'follow')])} of {len(x['replay']['seeds'])}")
    for r in reg:
        row(f"replay occupancy {r}", lambda x, r=r: spread(_seeds(x, "regions", r, "occupied_fraction"), 2))
    for r in reg:
        row(f"driven occupancy {r}",
            lambda x, r=r: spread([d["regions"][r]["occupied_fraction"] for d in x["driven"]], 2))
    row(f"replay MI {a}–{b} (bits)", lambda x: spread(_seeds(x, "pairs", f"{a}-{b}", "mutual_information_bits")))
    row("attractors per region (± pairs merged)", lambda x: " / ".join(
        spread([s["regions"][r]["count_up_to_sign"] for s in x["attractors"]]) for r in reg))
    row("attractors per region (each sign)", lambda x: " / ".join(
        spread([s["regions"][r]["count"] for s in x["attractors"]]) for r in reg))
    row(f"patterns matched by an attractor of {a} (|corr| ≥ 0.5)", lambda x: spread(
        [len({p for p, c in zip(s["regions"][a]["best_pattern"], s["regions"][a]["best_corr"]) if abs(c) >= 0.5})
         for s in x["attractors"]]))
    for r in (a, b):
        row(f"circulation {r}", lambda x, r=r: spread([c["circulation"][r] for c in x["couplings"]]))
        row(f"asymmetry within {r}", lambda x, r=r: spread([c["asymmetry"]["within"][r] for c in x["couplings"]]))
    row("training wall time (s)", lambda x: fmt(x["wall_s"], 3))
    return heads, rows


def write(cfg, results: dict, out: str) -> str:
    """Write report.md from ``results``; return its first paragraph (the CLI summary)."""
    arms = results["arms"]
    reg = list(cfg.regions)
    a, b = reg[0], reg[1]
    S = cfg.seeds
    net0 = next(iter(arms.values()))["network"]
    lines = [f"# Multi-region attractor replay under sequential learning ({', '.join(arms)} columns)", ""]
    seq = "→".join(map(str, cfg.digits))
    summary = (f"{len(reg)} regions × {cfg.n} columns, {net0['n_edges']} couplings (all learnable), "
               f"{cfg.patterns} patterns {seq} (region {a} in cyclic order, {b} the same sequence "
               f"{cfg.delay} element{'s' if cfg.delay != 1 else ''} later, {', '.join(reg[2:]) or 'no other region'} "
               f"without input), {S} seed{'s' * (S != 1)} trained as one batch; column types "
               + ", ".join(f"{k} ({v['network']['steps']} steps, {v['network']['dwell']} per element)"
                           for k, v in arms.items()) + ".")
    if results.get("headline"):
        lines += ["## Headline", ""] + sentences(cfg, results["headline"]) + [""]
    lines += [summary, "",
              "Replay: after training (and at every checkpoint of the main run) each network runs with "
              "the input removed from where training left it, deterministically and driven by the "
              "model's own fluctuations "
              f"({cfg.replicas} replicas per seed; bm: dμ = f(μ) dt + {cfg.replay_temperature:g} · "
              "m_μ^(−1/2) dW; fep: the stochastic map without learning). States are labelled by their "
              f"nearest attractor (|cos| ≥ {cfg.threshold}; a ± mirror pair is one attractor; "
              "occupancy, dwell, co-occupancy, MI) and by the pattern they express (the pattern of "
              f"largest |corr| when ≥ {cfg.match}, as Spisak & Friston label a free run by its "
              "winning digit; the order and follow scores). Forward fraction: the share of changes "
              "of expressed pattern that go to the next pattern of the trained order (chance 1/2 "
              "for three patterns).", ""]
    lines += ["## Findings", ""]
    for arm, res in arms.items():
        for name, run in res.get("runs", {}).items():
            for r in (a, b):
                lines.append("- " + order_finding(arm, name, run, r))
            lines.append("- " + follow_finding(arm, name, run, a, b, cfg.delay))
        runs = res.get("runs", {})
        if "control" in runs:
            m, c = runs["main"], runs["control"]
            k = sum(1 for x, y in zip(m["couplings"], c["couplings"])
                    if all(x["circulation"][r] > y["circulation"][r] for r in (a, b)))
            lines.append(f"- {arm}: the cyclic order leaves a larger circulation (couplings carrying "
                         f"each pattern to the next) than the random-order control in both input "
                         f"regions in {k} of {S} seeds (main {spread([x['circulation'][a] for x in m['couplings']])}, "
                         f"control {spread([x['circulation'][a] for x in c['couplings']])} in {a}).")
        m = runs["main"]
        k = [len({p for p, cc in zip(s["regions"][a]["best_pattern"], s["regions"][a]["best_corr"])
                  if abs(cc) >= 0.5}) for s in m["attractors"]]
        P = len(cfg.digits)
        lines.append(f"- {arm}: region {a}'s attractors match {spread(k)} of the {P} patterns at "
                     f"|corr| ≥ 0.5 (" + ("the patterns are stored as separate attractors" if min(k) == P
                                          else "the rule merges patterns into fewer attractors") + ").")
    heads, rows = _rows(cfg, arms)
    lines += ["", f"## Findings table (median [range] over {S} seed{'s' * (S != 1)})", "",
              "| | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)] + rows
    for arm, res in arms.items():
        lines += _arm_section(cfg, arm, res)
    lines += ["", "## Figures", ""]
    for f in results.get("figures", []):
        lines += [f"![{f}]({f})", ""]
    lines += ["## Timings (s)", "", ", ".join(f"{k} {v:.1f}" for k, v in results["timings"].items()), ""]
    write_text(os.path.join(out, "report.md"), "\n".join(lines))
    return summary


def _arm_section(cfg, arm: str, res: dict) -> list[str]:
    reg = list(cfg.regions)
    m = res["runs"]["main"]
    lines = ["", f"## {arm}: attractors, replay and driven occupancy (main run)", ""]
    note = ARMS[arm].attractor_note
    lines += [note + " Replay runs the learned couplings.", ""] if note else []
    a0 = m["attractors"][0]
    for r in reg:
        x = a0["regions"][r]
        corr = ", ".join(f"{c:+.2f} (pattern {cfg.digits[p]})" for p, c in zip(x["best_pattern"], x["best_corr"]))
        lines.append(f"- Seed 0, region {r}: {x['count']} attractor{'s' if x['count'] != 1 else ''} "
                     + ("besides the rest state μ = 0 " if x.get("rest_state") else "")
                     + f"({x['count_up_to_sign']} up to sign, {x['n_stable']} stable), best correlation "
                     f"with a pattern {corr or 'n/a (none found)'}; mean |cos| between them "
                     f"{fmt(x['mean_abs_cos']) if x['mean_abs_cos'] is not None else 'n/a (fewer than two)'}.")
    lines += ["", "Replay (fluctuation-driven) and driven occupancy per region, median [range] over seeds:", "",
              "| region | replay occupied | replay dwell (samples) | replay visits | driven occupied |",
              "|---|---|---|---|---|"]
    for r in reg:
        lines.append(f"| {r} | {spread(_seeds(m, 'regions', r, 'occupied_fraction'), 2)} | "
                     f"{spread(_seeds(m, 'regions', r, 'dwell_median'))} | "
                     f"{spread(_seeds(m, 'regions', r, 'n_visits'))} | "
                     f"{spread([d['regions'][r]['occupied_fraction'] for d in m['driven']], 2)} |")
    lines += ["", "| pair | replay co-occupancy | replay MI (bits) | best lag (samples) | p (best lag, shifts) "
              "| deterministic replay co-occupancy |", "|---|---|---|---|---|---|"]
    for key in m["replay"]["seeds"][0]["fluctuations"]["pairs"]:
        det = [s["deterministic"]["pairs"][key]["co_occupancy"] for s in m["replay"]["seeds"]]
        lines.append(f"| {key} | {spread(_seeds(m, 'pairs', key, 'co_occupancy'))} | "
                     f"{spread(_seeds(m, 'pairs', key, 'mutual_information_bits'))} | "
                     f"{spread(_seeds(m, 'pairs', key, 'best_lag'))} | "
                     f"{spread(_seeds(m, 'pairs', key, 'p_best_lag'))} | {spread(det)} |")
    lines += ["", "n/a: co-occupancy when a region is never in an attractor (0/0); MI when a label "
              "series is constant.", ""]
    if "checkpoints" in m:
        conv = [f"{c['attractors'][0]['n_converged']}/{c['attractors'][0]['n_starts']}" for c in m["checkpoints"]]
        lines += [f"Through learning (seed 0; the initial state and {cfg.checkpoints} checkpoints; "
                  f"attractor relaxations converged {', '.join(conv)}, at most {cfg.relax_steps} "
                  "steps each):", ""]
        for r in reg:
            counts = [c["attractors"][0]["regions"][r]["count_up_to_sign"] for c in m["checkpoints"]]
            tr = m["track"][r][0]
            born = sorted(int(k) for k, c in tr["births"].items() if c > 0)
            moved = [x for v in tr["moved"].values() for x in v]
            fwd = [c["replay_order"][0][r]["order"]["score"] for c in m["checkpoints"]]
            lines.append(f"- Region {r}: attractors up to sign {counts}"
                         + (f"; {len(born)} born and {len(tr['deaths'])} lost after the start (one that "
                            f"moves to |cos| < {cfg.threshold} of itself between checkpoints counts as "
                            "lost and born)"
                            if born or tr["deaths"] else "; the same attractors throughout")
                         + (f"; largest move between checkpoints 1 − |cos| = {fmt(max(moved))}" if moved else "")
                         + f"; replay forward fraction {[fmt(x, 2) for x in fwd]}.")
    lines += ["", "Asymmetry ‖W − Wᵀ‖/‖W‖ over reciprocal pairs (an edge without its reverse would "
              "count √2 whatever is learned) and circulation, median [range] over seeds:", "",
              "| run | " + " | ".join(f"within {r}" for r in reg) + " | "
              + " | ".join(m["couplings"][0]["asymmetry"]["between"]) + " | circulation "
              + " / ".join(reg[:2]) + " |",
              "|" + "---|" * (2 + len(reg) + len(m["couplings"][0]["asymmetry"]["between"]))]
    for name, r_ in res["runs"].items():
        cs = r_["couplings"]
        lines.append(f"| {name} ({r_['order']}, {r_['solver']}) | "
                     + " | ".join(spread([c["asymmetry"]["within"][r] for c in cs]) for r in reg) + " | "
                     + " | ".join(spread([c["asymmetry"]["between"][k] for c in cs])
                                  for k in cs[0]["asymmetry"]["between"]) + " | "
                     + " / ".join(spread([c["circulation"][r] for c in cs]) for r in reg[:2]) + " |")
    for name, why in res.get("failed_runs", {}).items():
        lines += ["", f"The {name} run failed and is left out: {why}"]
    return lines
