"""The ``headline`` block of the main study's results.json: per arm, the numbers a script reads
without knowing the rest (median over seeds; p-value counts at ``ALPHA``).

    headline[arm] = {"lagged", "seeds",
        "regions": {R: {"replay_forward_fraction", "seeds_p_lt_0.01", "control_seeds_p_lt_0.01",
                        "distinct_attractors_matching_patterns", "replay_occupancy",
                        "lambda_fwd", "lambda_bwd"}},
        "follow": {"A->B": {"fraction", "null", "seeds_p_lt_0.01"}, "B->C": {…}}}

replay_forward_fraction: the share of changes of expressed pattern during the fluctuation-driven
replay that go to the next pattern of the trained order (``order`` score); seeds_p_lt_0.01: seeds
whose order score beats label shuffles at p < 0.01 (the control: the random-order run, same test;
None without a control); distinct_attractors_matching_patterns: the patterns matched at
|corr| ≥ ``MATCH`` by attractors that are pairwise |cos| ≤ ``DISTINCT`` (a pattern counted once);
replay_occupancy: the fraction of replay samples in an attractor; lambda_fwd / lambda_bwd: the
directional transfer of the learned couplings within the region; follow: the share of jointly
expressed samples in which the later region shows the pattern the trained delay predicts, its
circular-shift null and the seeds with p < 0.01.
"""

from __future__ import annotations

import numpy as np

ALPHA = 0.01
MATCH = 0.8
DISTINCT = 0.5


def _median(vals):
    v = [float(x) for x in vals if x is not None]
    return float(np.median(v)) if v else None


def _significant(ps) -> int:
    return sum(1 for p in ps if p is not None and p < ALPHA)


def distinct_matches(att_region: dict) -> int:
    """How many patterns are held by distinct attractors (module
    ``experiments.multiregion.headline``)."""
    pts = np.asarray(att_region["points"], dtype=float)
    corr = np.asarray(att_region["pattern_corr"], dtype=float)
    if not len(pts) or corr.size == 0:
        return 0
    unit = pts / np.maximum(np.linalg.norm(pts, axis=1, keepdims=True), 1e-300)
    chosen, patterns = [], set()
    for k in np.argsort(-np.abs(corr).max(1)):          # the best-matching attractors first
        p = int(np.abs(corr[k]).argmax())
        if abs(corr[k, p]) < MATCH or p in patterns:
            continue
        if all(abs(float(unit[k] @ unit[j])) <= DISTINCT for j in chosen):
            chosen.append(k)
            patterns.add(p)
    return len(patterns)


def arm_headline(arm, runs: dict, regions) -> dict:
    """The headline of one arm from its runs' results (``analysis.analyse``)."""
    main, control = runs.get("main"), runs.get("control")
    seeds = main["replay"]["seeds"]
    out = {"lagged": bool(arm.lagged), "seeds": len(seeds), "regions": {}, "follow": {}}
    for r in regions:
        order = [s["fluctuations"]["regions"][r]["order"] for s in seeds]
        ctrl = (None if control is None else
                _significant([s["fluctuations"]["regions"][r]["order"]["p"]
                              for s in control["replay"]["seeds"]]))
        tr = [c["transfer"][r] for c in main["couplings"]]
        out["regions"][r] = {
            "replay_forward_fraction": _median(o["score"] for o in order),
            "seeds_p_lt_0.01": _significant(o["p"] for o in order),
            "control_seeds_p_lt_0.01": ctrl,
            "distinct_attractors_matching_patterns": _median(
                distinct_matches(a["regions"][r]) for a in main["attractors"]),
            "replay_occupancy": _median(s["fluctuations"]["regions"][r]["occupied_fraction"]
                                        for s in seeds),
            "lambda_fwd": _median(t["forward"] for t in tr),
            "lambda_bwd": _median(t["backward"] for t in tr)}
    regs = list(regions)
    for a, b in zip(regs, regs[1:]):
        fol = [s["fluctuations"]["pairs"][f"{a}-{b}"]["follow"] for s in seeds]
        out["follow"][f"{a}->{b}"] = {"fraction": _median(f["score"] for f in fol),
                                      "null": _median(f["null_median"] for f in fol),
                                      "seeds_p_lt_0.01": _significant(f["p"] for f in fol)}
    return out


def headline(cfg, results: dict) -> dict:
    """{arm: its headline} for every arm with a main run."""
    from .arms import ARMS
    return {name: arm_headline(ARMS[name], a["runs"], cfg.regions)
            for name, a in results["arms"].items() if "main" in a.get("runs", {})}


def sentences(cfg, head: dict) -> list[str]:
    """The headline in sentences: what replays in order, where, for which column type, with its
    test; the attractors; the follow of the later regions."""
    out = []
    for arm, h in head.items():
        S = h["seeds"]
        rep = [r for r, v in h["regions"].items() if v["seeds_p_lt_0.01"] >= 2]
        kind = "with a presynaptic trace" if h["lagged"] else "without a lag"
        if rep:
            ctrl = ", ".join(f"{r} {h['regions'][r]['control_seeds_p_lt_0.01']}" for r in rep
                             if h["regions"][r]["control_seeds_p_lt_0.01"] is not None)
            out.append(f"{arm} columns ({kind}) replay the trained order in region"
                       f"{'s' if len(rep) > 1 else ''} {', '.join(rep)} (forward fraction "
                       + ", ".join(f"{h['regions'][r]['replay_forward_fraction']:.2f}" for r in rep)
                       + f"; p < 0.01 against label shuffles in ≥ 2 of {S} seeds"
                       + (f"; the random-order control in {ctrl} of {S}" if ctrl else "") + ").")
        else:
            out.append(f"{arm} columns ({kind}) do not replay the trained order: no region has "
                       f"p < 0.01 in 2 of {S} seeds (forward fractions "
                       + ", ".join(f"{r} {v['replay_forward_fraction']:.2f}"
                                   for r, v in h["regions"].items()
                                   if v["replay_forward_fraction"] is not None) + ").")
        att = ", ".join(f"{r} {v['distinct_attractors_matching_patterns']:g}"
                        for r, v in h["regions"].items()
                        if v["distinct_attractors_matching_patterns"] is not None)
        fol = "; ".join(f"{k}: {v['fraction']:.2f} vs null {v['null']:.2f}, p < 0.01 in "
                        f"{v['seeds_p_lt_0.01']} of {S}" for k, v in h["follow"].items()
                        if v["fraction"] is not None)
        out.append(f"  Patterns held by distinct attractors (median over seeds): {att}; "
                   f"the later region follows at the trained delay ({fol}).")
        out += [f"  {why}" for why in reasons(cfg, arm, h)]
    return out


def reasons(cfg, arm: str, h: dict) -> list[str]:
    """Why a region without input takes no part, where the model says why (derived, tested)."""
    silent = [r for r in cfg.regions[2:]
              if not h["regions"].get(r, {}).get("distinct_attractors_matching_patterns")]
    if arm.startswith("fep") and silent and float(cfg.fep_beta) == 1.0:
        many = len(silent) > 1
        return [f"Region{'s' if many else ''} {', '.join(silent)} receive{'' if many else 's'} "
                "no evidence, "
                "and under the FEP rule at the training β = 1 a column without evidence predicts "
                "its own next state exactly on average (E[σ_i(t+1)] = L(ν_i)), so its couplings "
                "only diffuse: it learns no attractor of its own, however strongly the region "
                "before drives it (at --fep_beta ≠ 1 the error is biased, L(βν) − L(ν), and the couplings drift instead)."]
    if arm.startswith("bm") and not any(v["distinct_attractors_matching_patterns"]
                                        for v in h["regions"].values()):
        return ["No region holds a pattern as its own attractor, so there is nothing to replay "
                "between: each column's own gain w in g = w μ absorbs much of the input, μ "
                "follows the presented pattern only partly, and the couplings learn the Hebbian "
                "average of φ(μ), dominated by one mixture of the patterns (docs/main-study.md, "
                "the BM regime map over α_W, m_W, γ_W, training length, input gain and dwell, "
                "with and without the lag: at most one pattern attractor per region, at gain 6, "
                "and no replay above chance)."]
    return []
