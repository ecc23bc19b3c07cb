"""Analysis of the main study's trained batches (``experiments.multiregion.training``), per seed.

For every seed b of a run (``columns.analysis`` throughout):

1. attractors of each region's prior flow (within-region edges, p = 0, s = 0; the FEP arm on the
   symmetric part of J) from every pattern, the visited states and random starts (the rest state
   μ = 0, when it is one, is reported as such and not counted: it has no direction); ± mirror pairs
   merged into one attractor with a sign (``sign_pairs``): counts both ways; each representative's
   best pattern by |corr| (the sign kept). At every checkpoint for the main run (tracked).
2. replay at every checkpoint (the main run) or at the end: the whole network with the input
   removed from where training left it, (a) deterministic (one free run per seed), (b)
   fluctuation-driven (``replicas`` per seed; the prior-flow SDE at the model's precisions, or
   the stochastic map), all seeds × replicas as one batch. On (b): occupancy, dwell, the visited
   patterns' order score against label shuffles, co-occupancy, MI, lagged MI with its
   circular-shift band, and whether B shows A's pattern ``delay`` elements back ("follow")
   against circular shifts.
3. driven occupancy over the last ``analysis_fraction`` of training (the second table).
4. coupling asymmetry (reciprocal pairs), circulation of the input regions, and the directional
   transfer λ_fwd, λ_bwd (``columns.analysis.transfer``) within every region and feedforward
   (A → B at the trained delay, B → C at none).

Two label levels: the attractor (|cos| ≥ threshold to an attractor, ± pairs merged; carrying its
best pattern) for occupancy, dwell, co-occupancy and MI; and the expressed pattern (the pattern of
largest |corr| with the state when ≥ ``match``, sign kept: Spisak & Friston's "winning digit")
for the order and follow scores ("attractor_order" is the same score on attractor labels: n/a when
a region has a single attractor pair). The trained order's successor of pattern p is p + 1
(mod P); B's expected pattern while A shows p is p − delay (mod P).
"""

from __future__ import annotations

import torch

from columns import analysis


def _starts(cfg, run, b: int, pats: torch.Tensor) -> torch.Tensor:
    """Relaxation starts (K, N) for seed b: every pattern in every region, the visited states at
    the end of each element of the last cycle, and seeded random starts."""
    arm, net = run.arm, run.net
    idx = analysis.region_index(net.coupling.regions, net.device)
    N, P = net.n_nodes, pats.shape[0]
    pat = torch.zeros(P, N, dtype=torch.float64, device=net.device)
    for r in idx.values():
        pat[:, r] = arm.pattern_starts(pats)
    x = run.fields[arm.field][:, b]
    T, d = x.shape[0], run.dwell
    ends = x[[T - 1 - k * d for k in range(P) if T - 1 - k * d >= 0]].to(net.device)
    g = torch.Generator().manual_seed(cfg.seed + 17 + 101 * b)
    return torch.cat([pat, ends, arm.random_starts(cfg, N, pats, g).to(net.device)])


def free_network(cfg, run):
    """The network the attractor search and the replay run (the arm's, e.g. the FEP map at
    its evaluation β), made once per run."""
    if getattr(run, "free_net", None) is None:
        run.free_net = run.arm.free_network(run.net, cfg)
    return run.free_net


def attractors(cfg, run, state: torch.Tensor, b: int, pats: torch.Tensor) -> dict:
    """Per region: the attractors at ``state`` (S,), their ± representatives and best patterns."""
    net = free_network(cfg, run)
    y = run.arm.attractor_state(net, state)
    x0 = _starts(cfg, run, b, pats)
    res = analysis.find_attractors(net, y, x0, patterns={r: pats for r in cfg.regions},
                                   max_steps=cfg.relax_steps)
    out = {"n_converged": int(res["converged"].sum()), "n_starts": int(x0.shape[0]),
           "relax_steps": int(res["steps"]), "regions": {}}
    for r, a in res["regions"].items():
        pts = a["attractors"].cpu()
        rest = pts.norm(dim=1) < 1e-6 * pts.shape[1] ** 0.5 if len(pts) else torch.zeros(0, dtype=torch.bool)
        keep = ~rest                       # the rest state μ = 0 has no direction: not labelled
        pts = pts[keep]
        pid, sign = analysis.sign_pairs(pts)
        first = analysis.pair_leaders(pid)
        reps = pts[first]                                   # one per ± pair
        pc = a.get("pattern_corr")
        pc = pc[keep.to(pc.device)] if pc is not None else None
        rc = pc[first].cpu() if pc is not None and len(first) else torch.zeros(0, pats.shape[0])
        best = rc.abs().max(1) if len(rc) else None
        out["regions"][r] = {
            "count": int(len(pts)), "count_up_to_sign": int(len(reps)),
            "rest_state": bool(rest.any()),
            "n_stable": int(a["stable"][keep.to(a["stable"].device)].sum()),
            "basin": a["basin"][keep.to(a["basin"].device)].tolist(),
            "max_real_eig": a["max_real_eig"][keep].tolist(), "pair": pid.tolist(), "sign": sign.tolist(),
            "mean_abs_cos": _mean_abs_cos(reps),
            "pattern_corr": rc.tolist(),
            "best_pattern": best.indices.tolist() if best is not None else [],
            "best_corr": rc.gather(1, best.indices[:, None])[:, 0].tolist() if best is not None else [],
            "norm": reps.norm(dim=1).tolist(), "points": reps.tolist()}
    return out


def _mean_abs_cos(reps: torch.Tensor):
    if len(reps) < 2:
        return None
    c = analysis.cosines(reps, reps).abs()
    return float(c[~torch.eye(len(reps), dtype=torch.bool)].mean())


def _pattern_labels(lab: torch.Tensor, best: list) -> torch.Tensor:
    """Attractor labels → pattern labels (−1 stays −1)."""
    m = torch.as_tensor(best + [-1], dtype=torch.int64)
    return m[torch.where(lab < 0, len(best), lab)]


def _labels(cfg, x: torch.Tensor, att: dict, idx: dict, pats: torch.Tensor) -> dict:
    """Per region of x (T, N): signed attractor labels, their patterns, and the expressed pattern
    ("winner": the pattern of largest |corr| when it is ≥ ``match``, else −1)."""
    out = {}
    pc = pats.cpu() - pats.cpu().mean(1, keepdim=True)
    for r, i in idx.items():
        reps = torch.tensor(att["regions"][r]["points"], dtype=x.dtype).reshape(-1, len(i))
        lab, sign = analysis.signed_labels(x[:, i], reps, cfg.threshold)
        xc = x[:, i] - x[:, i].mean(1, keepdim=True)
        win, wsign = analysis.signed_labels(xc, pc, cfg.match)
        out[r] = {"label": lab, "sign": sign, "winner": win, "winner_sign": wsign,
                  "pattern": _pattern_labels(lab, att["regions"][r]["best_pattern"])}
    return out


def measures(cfg, labels: list[dict], att: dict, P: int, dwell: int, seed: int,
             with_lag_null: bool) -> dict:
    """Occupancy, dwell, order score, overlap and follow on label sets of several replicas
    (each {region: {"label", "winner", "pattern", …}} of one free run); series of the replicas
    are joined end to end for the overlap measures."""
    regions = list(labels[0])
    succ = (torch.arange(P) + 1) % P
    pred = (torch.arange(P) - cfg.delay) % P
    K = {r: att["regions"][r]["count_up_to_sign"] for r in regions}
    lab = {r: torch.cat([L[r]["label"] for L in labels]) for r in regions}
    win = {r: torch.cat([L[r]["winner"] for L in labels]) for r in regions}
    per = {}
    for r in regions:
        dw = [d for L in labels for d in analysis.dwell_times(L[r]["label"], K[r])]
        dwell_all = torch.cat(dw) if dw else torch.zeros(0)
        pv = [analysis.visits(L[r]["winner"]) for L in labels]
        pt = sum(analysis.transition_matrix(v, P, normalise=False)[:P, :P] for v in pv)
        per[r] = {"occupied_fraction": float((lab[r] >= 0).double().mean()),
                  "fraction_per_attractor": [float((lab[r] == k).double().mean()) for k in range(K[r])],
                  "dwell_median": float(dwell_all.double().median()) if dwell_all.numel() else None,
                  "n_visits": int(sum(analysis.visits(L[r]["label"]).numel() for L in labels)),
                  "transitions": analysis.transition_matrix(lab[r], K[r], normalise=False).tolist(),
                  "expressed_fraction": float((win[r] >= 0).double().mean()),
                  "pattern_transitions": pt.to(torch.int64).tolist(),
                  "order": analysis.shuffle_null(pv, succ, cfg.null_samples, seed),
                  "attractor_order": analysis.shuffle_null(
                      [analysis.visits(L[r]["pattern"]) for L in labels], succ, cfg.null_samples, seed)}
    pairs = {}
    max_lag = max(5, (P * dwell) // 2)
    lag_fn = analysis.lag_null if with_lag_null else _lag_only
    for i, a in enumerate(regions):
        for b in regions[i + 1:]:
            la, lb = lab[a], lab[b]
            lg = lag_fn(la, lb, K[a], K[b], min(max_lag, la.numel() - 1),
                        n=min(cfg.null_samples, 200), seed=seed + 1)
            fol = analysis.circular_null(win[a], win[b], pred, n=cfg.null_samples,
                                         min_shift=max_lag, seed=seed + 2)
            mis = [v for v in lg["mi_bits"] if v is not None]
            pairs[f"{a}-{b}"] = {
                "co_occupancy": analysis.co_occupancy(la, lb),
                "mutual_information_bits": analysis.mutual_information(la, lb, K[a], K[b]),
                "best_lag": lg["best_lag"], "mi_at_best_lag": max(mis) if mis else None,
                "lags": lg["lags"], "mi_by_lag": lg["mi_bits"], "band95": lg.get("band95"),
                "p_best_lag": lg.get("p_best"), "follow": fol}
    entropy = {r: analysis.mutual_information(lab[r], lab[r], K[r], K[r]) for r in regions}
    return {"regions": per, "pairs": pairs, "entropy_bits": entropy, "max_lag": max_lag}


def _lag_only(a, b, ka, kb, max_lag, n, seed):
    return analysis.lagged(a, b, ka, kb, max_lag)


def replay_all(cfg, run, c: int, att: list, pats, with_lag_null: bool) -> dict:
    """Replay of every seed at checkpoint c: deterministic and fluctuation-driven, one batch."""
    arm, net = run.arm, free_network(cfg, run)
    y = run.states[c]                                       # (S, state)
    x0 = run.fields[arm.field][run.checkpoint_index[c]]     # (S, N): where training left it
    steps, every, dt = arm.replay_grid(cfg)
    S, R = y.shape[0], cfg.replicas
    det = analysis.replay(net, y, x0, steps, every, stochastic=False, dt=dt)            # (K, S, N)
    sto = analysis.replay(net, y, x0.repeat_interleave(R, 0), steps, every, stochastic=True,
                          temperature=cfg.replay_temperature, dt=dt, seed=cfg.seed + 31 * c)
    idx = analysis.region_index(net.coupling.regions)
    P = pats.shape[0]
    dwell = run.dwell
    out = []
    for b in range(S):
        lab_det = _labels(cfg, det[:, b].cpu(), att[b], idx, pats)
        lab_sto = [_labels(cfg, sto[:, b * R + k].cpu(), att[b], idx, pats) for k in range(R)]
        out.append({"deterministic": measures(cfg, [lab_det], att[b], P, dwell, cfg.seed + b, False),
                    "fluctuations": measures(cfg, lab_sto, att[b], P, dwell, cfg.seed + b,
                                             with_lag_null),
                    "raster": {r: {k: v.tolist() for k, v in lab_sto[0][r].items()} for r in idx}
                    if b == 0 else None})
    return {"seeds": out, "samples": int(det.shape[0]), "dt_sample": every * dt,
            "unit": "map steps" if arm.name == "fep" else "time units"}


def driven(cfg, run, att: list, pats) -> list:
    """Occupancy while driven (the last ``analysis_fraction`` of training), per seed."""
    x = run.fields[run.arm.field]
    T = x.shape[0]
    t0 = int(round(T * (1 - cfg.analysis_fraction)))
    idx = analysis.region_index(run.net.coupling.regions)
    out = []
    for b in range(x.shape[1]):
        lab = _labels(cfg, x[t0:, b].cpu(), att[b], idx, pats)
        m = measures(cfg, [lab], att[b], pats.shape[0], run.dwell, cfg.seed + b, False)
        m["t_start"] = t0
        if b == 0:
            m["labels"] = {r: lab[r]["label"].tolist() for r in idx}
            m["presented_A"] = run.order_A[0].repeat_interleave(run.dwell)[t0:].tolist()
        out.append(m)
    return out


def coupling_measures(cfg, run, state: torch.Tensor, pats) -> dict:
    net = run.net
    W = net.coupling_matrix(state)
    idx = analysis.region_index(net.coupling.regions, net.device)
    mask = torch.zeros_like(W, dtype=torch.bool)
    mask[net.coupling.tgt, net.coupling.src] = True
    out = {"asymmetry": analysis.region_asymmetry(W, net.coupling.regions, mask)}
    out["asymmetry"]["whole"] = analysis.asymmetry(W, mask)
    out["asymmetry"]["reciprocal_pairs"] = int((mask & mask.T).sum()) // 2
    out["circulation"] = {r: analysis.circulation(W[idx[r]][:, idx[r]], pats) for r in cfg.regions[:2]}
    out["transfer"] = {r: analysis.transfer(W[idx[r]][:, idx[r]], pats) for r in cfg.regions}
    regs = list(cfg.regions)
    for a, b in zip(regs, regs[1:]):            # feedforward, at the trained delay (B after A;
        d = cfg.delay if a == regs[0] else 0    # later regions have no input: at no delay)
        out["transfer"][f"{a}->{b}"] = analysis.transfer(W[idx[b]][:, idx[a]], pats, pats, d)
    out["coupling_norm"] = {r: float(W[idx[r]][:, idx[r]].norm()) for r in cfg.regions}
    return out


def analyse(cfg, run, pats, track: bool) -> dict:
    """Everything above for one run (S seeds); the main run at every checkpoint."""
    cps = list(range(len(run.states))) if track else [len(run.states) - 1]
    S = run.states[0].shape[0]
    found = {c: [attractors(cfg, run, run.states[c][b], b, pats) for b in range(S)] for c in cps}
    final = found[cps[-1]]
    replays = {c: replay_all(cfg, run, c, found[c], pats, with_lag_null=(c == cps[-1])) for c in cps}
    out = {"solver": run.solver, "order": run.order, "wall_s": run.wall_s,
           "converged": run.converged, "solver_windows": run.windows,
           "solver_iterations_max": run.iterations_max,
           "attractors": final, "replay": replays[cps[-1]],
           "driven": driven(cfg, run, final, pats),
           "couplings": [coupling_measures(cfg, run, run.states[-1][b], pats) for b in range(S)]}
    if track:
        out["checkpoints"] = [{"attractors": found[c],
                               "replay_order": [s["fluctuations"]["regions"] for s in replays[c]["seeds"]]}
                              for c in cps]
        out["track"] = {r: [_jsonable_track(analysis.track_attractors(
            [torch.tensor(found[c][b]["regions"][r]["points"], dtype=torch.float64).reshape(
                -1, cfg.n) for c in cps], cfg.threshold)) for b in range(S)]
            for r in cfg.regions}
    return out


def _jsonable_track(t: dict) -> dict:
    return {"ids": t["ids"], "births": {str(k): v for k, v in t["births"].items()},
            "deaths": {str(k): v for k, v in t["deaths"].items()},
            "moved": {str(k): v for k, v in t["moved"].items()}}
