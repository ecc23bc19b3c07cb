"""The main study (`columns run` = multiregion) at its --tiny preset: every reported number is
recomputed from the files it wrote (recording_*.nc, results.json), and the report's sentences
and figures cannot contradict them."""

import json
import math

import numpy as np
import pytest
import torch
import xarray as xr

import columns as C
import columns.analysis as A
import graphs
from experiments.multiregion import arms, config, inputs, study, training
from experiments.multiregion import report as R
from experiments.harness.cli import main
from test_interrupt import without_timings


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mr")
    assert main(["run", "--tiny", "--column_type=all", "--jobs=2", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_runs_trained_side_by_side_give_the_sequential_results(default_run, tmp_path):
    """--jobs=2 (worker processes, experiments.harness.workers) against --jobs=1: the same
    results.json (timings and the option aside) and byte-identical recordings."""
    out, res = default_run
    assert res["timings"]["training_processes"] == 2
    one = tmp_path / "one"
    assert main(["run", "--tiny", "--column_type=all", "--jobs=1", "--out", str(one)]) == 0
    seq = json.loads((one / "results.json").read_text())
    assert seq["timings"]["training_processes"] == 1
    drop = lambda r: without_timings({k: v for k, v in r.items() if k != "config"})  # noqa: E731
    assert drop(res) == drop(seq)
    assert {k: v for k, v in res["config"].items() if k != "jobs"} == \
        {k: v for k, v in seq["config"].items() if k != "jobs"}
    for arm in ("bm", "bm_lag", "fep"):
        name = f"recording_{arm}.nc"
        assert (out / name).read_bytes() == (one / name).read_bytes(), name
    assert res["timings"]["train_bm_main_s"] > 0            # the workers' computing time


def test_default_run_writes_every_arm_every_run_and_readable_figures(default_run, capsys):
    out, res = default_run
    assert res["experiment"] == "multiregion" and set(res["arms"]) == {"bm", "bm_lag", "fep"}
    assert set(res["arms"]["bm"]["runs"]) == {"main", "control", "baseline"}
    assert set(res["arms"]["bm_lag"]["runs"]) == set(res["arms"]["fep"]["runs"]) == {"main", "control"}
    assert set(res["headline"]) == {"bm", "bm_lag", "fep"} and res["headline"]["bm_lag"]["lagged"]
    bm = res["arms"]["bm"]["runs"]
    assert (bm["main"]["solver"], bm["baseline"]["solver"], bm["control"]["order"]) == \
        ("least_action", "gradient", "random")
    cfg = config.Config.tiny()
    for run in bm.values():
        assert len(run["attractors"]) == cfg.seeds == len(run["replay"]["seeds"]) == len(run["couplings"])
    import matplotlib.image as mpimg
    assert len(res["figures"]) == 24                        # 8 per arm
    for fig in res["figures"]:
        img = mpimg.imread(out / fig)
        assert img.shape[0] >= 250 and img.shape[1] >= 400, fig           # a real figure
        assert float(img[..., :3].std()) > 0.05, f"{fig} is blank"
        assert fig in (out / "report.md").read_text()


def test_report_numbers_are_the_results(default_run):
    out, res = default_run
    report = (out / "report.md").read_text()
    cfg = config.Config.tiny()
    for arm, a in res["arms"].items():
        m = a["runs"]["main"]
        for r in ("A", "B"):
            o = [s["fluctuations"]["regions"][r]["order"] for s in m["replay"]["seeds"]]
            assert R.spread([x["score"] for x in o]) in report
            assert R.order_finding(arm, "main", m, r) in report
        assert R.follow_finding(arm, "main", m, "A", "B", cfg.delay) in report
        counts = [c["attractors"][0]["regions"]["A"]["count_up_to_sign"] for c in m["checkpoints"]]
        assert f"attractors up to sign {counts}" in report
        assert len(m["checkpoints"]) == cfg.checkpoints + 1
    assert f"the initial state and {cfg.checkpoints} checkpoints" in report


def test_scores_agree_with_their_own_transition_counts_and_undefined_is_none(default_run):
    _, res = default_run
    for a in res["arms"].values():
        for run in a["runs"].values():
            for s in run["replay"]["seeds"]:
                for kind in ("deterministic", "fluctuations"):
                    f = s[kind]
                    for r, v in f["regions"].items():
                        T = np.asarray(v["pattern_transitions"])
                        P = T.shape[0]
                        fwd = sum(T[p, (p + 1) % P] for p in range(P))
                        tot = T.sum() - np.trace(T)
                        if tot == 0:
                            assert v["order"]["score"] is None
                        else:
                            assert v["order"]["score"] == pytest.approx(fwd / tot)
                            assert v["order"]["n_transitions"] == tot
                        assert 0 <= v["occupied_fraction"] <= 1
                    for key, p in f["pairs"].items():
                        x, y = key.split("-")
                        never = min(f["regions"][x]["occupied_fraction"], f["regions"][y]["occupied_fraction"]) == 0
                        assert (p["co_occupancy"] is None) == never
                        if p["co_occupancy"] is not None:
                            assert 0 <= p["co_occupancy"] <= 1


def test_recorded_couplings_reproduce_asymmetry_and_circulation(default_run):
    out, res = default_run
    cfg = config.Config.tiny()
    with xr.open_dataset(out / "recording_bm.nc") as ds:
        ds.load()
    Wc = torch.as_tensor(ds["W_checkpoints"].values)                 # (checkpoint, seed, coupling)
    assert Wc.shape[:2] == (cfg.checkpoints + 1, cfg.seeds)
    net = training.build(cfg, arms.ARMS["bm"], torch.device("cpu"))
    cp = net.coupling
    pats = inputs.patterns(cfg, torch.device("cpu"))
    idx = A.region_index(cp.regions)
    for b in range(cfg.seeds):
        W = torch.zeros(cp.n_nodes, cp.n_nodes, dtype=torch.float64)
        W[cp.tgt, cp.src] = Wc[-1, b]
        got = A.region_asymmetry(W, cp.regions, W != 0)
        c = res["arms"]["bm"]["runs"]["main"]["couplings"][b]
        for r in ("A", "B", "C"):
            assert got["within"][r] == pytest.approx(c["asymmetry"]["within"][r], rel=1e-9)
        assert A.circulation(W[idx["A"]][:, idx["A"]], pats) == pytest.approx(c["circulation"]["A"], rel=1e-9)
    assert torch.equal(Wc[0, 0], cp.weight0)                        # checkpoint 0 = the graph's weights


def test_driven_labels_follow_from_the_recording_and_the_attractors(default_run):
    out, res = default_run
    cfg = config.Config.tiny()
    rec = C.Recording.load(out / "recording_bm.nc")
    m = res["arms"]["bm"]["runs"]["main"]
    d = m["driven"][0]
    regions = np.asarray(rec.regions)
    for r in ("A", "B", "C"):
        reps = torch.tensor(m["attractors"][0]["regions"][r]["points"], dtype=torch.float64).reshape(-1, cfg.n)
        x = rec["mu"][d["t_start"]:, 0][:, torch.as_tensor(np.nonzero(regions == r)[0])]
        lab, _ = A.signed_labels(x, reps, cfg.threshold)
        assert lab.tolist() == d["labels"][r]
        assert d["regions"][r]["occupied_fraction"] == pytest.approx(float((lab >= 0).double().mean()))
    assert len(rec) == res["arms"]["bm"]["network"]["steps"] and rec["mu"].shape[1] == cfg.seeds


def test_a_mirror_pair_is_one_attractor_in_the_results(default_run):
    _, res = default_run
    for a in res["arms"].values():
        for s in a["runs"]["main"]["attractors"]:
            for v in s["regions"].values():
                assert v["count_up_to_sign"] == len(set(v["pair"])) <= v["count"]
                assert all(abs(c) <= 1 for c in v["best_corr"])


def test_single_arms_and_the_gradient_solver(tmp_path):
    out = tmp_path / "fep"
    assert main(["run", "--tiny", "--column_type=fep", "--control=false", "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["arms"]) == {"fep"} and set(res["arms"]["fep"]["runs"]) == {"main"}
    assert res["arms"]["fep"]["network"]["steps"] == 3 * config.Config.tiny().fep_cycles
    assert "(J + Jᵀ)/2" in (out / "report.md").read_text()
    out = tmp_path / "grad"
    assert main(["run", "--tiny", "--column_type=bm", "--solver=gradient", "--control=false",
                 "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["arms"]["bm"]["runs"]) == {"main"}
    assert res["arms"]["bm"]["runs"]["main"]["solver"] == "gradient"


@pytest.mark.parametrize("args, message", [
    (["--column_type=hopfield"], "--column_type must be one of"),
    (["--column_type=fep", "--solver=gradient"], "does not apply to column type 'fep'"),
    (["--n=10"], "--n must be 4, 16, 64 or (8k)²"),
    (["--window=2", "--overlap=2"], "--window must exceed --overlap"),
    (["--digits=1,12"], "--digits must be digits 0..9"),
    (["--patterns=stripes"], "--patterns must be one of"),
    (["--seeds=0"], "--seeds must be >= 1"),
    (["--replay_length=10"], "--replay_length (10 samples) must cover at least two cycles"),
    (["--threshold=nan"], "--threshold must be a finite number, got nan"),
    (["--noise=-1"], "--noise must be >= 0"),
])
def test_bad_config_is_named_before_training(tmp_path, capsys, args, message):
    assert main(["run", "--tiny", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()


def test_patterns_are_what_they_say():
    cfg = config.Config(patterns="decorrelated")
    X = inputs.patterns(cfg, torch.device("cpu"))
    Xc = X - X.mean(1, keepdim=True)
    G = Xc @ Xc.T
    assert torch.allclose(G, torch.eye(3, dtype=torch.float64) * 64, atol=1e-9)   # orthogonal, norm √n
    D = inputs.patterns(config.Config(patterns="digits"), torch.device("cpu"))
    assert torch.allclose(D.norm(dim=1), torch.full((3,), 8.0, dtype=torch.float64))
    assert float(torch.corrcoef(D)[0, 1]) > 0.2                                    # the digits correlate
    Rn = inputs.patterns(config.Config(patterns="random"), torch.device("cpu"))
    assert set(Rn.unique().tolist()) == {-1.0, 1.0} and torch.allclose(Rn.norm(dim=1), D.norm(dim=1))
    U = inputs.patterns(config.Config(n=256, patterns="digits"), torch.device("cpu"))              # 16×16: each pixel 2 × 2
    assert torch.equal(U.reshape(3, 8, 2, 8, 2)[:, :, 1, :, 0].reshape(3, 64), D)
    assert torch.allclose(U.norm(dim=1), torch.full((3,), 16.0, dtype=torch.float64))


def test_coupling_matrix_and_symmetrised():
    G = graphs.multiregion(n=4, seed=1)
    net = C.Network.from_graph(G, dtype=torch.float64)
    y = net.initial_state()
    W = net.coupling_matrix(y[0])
    cp = net.coupling
    assert torch.equal(W[cp.tgt, cp.src], cp.weight0) and int((W != 0).sum()) == cp.n_edges
    assert net.coupling_matrix(y).shape == (1, cp.n_nodes, cp.n_nodes)
    Ws = net.coupling_matrix(arms.symmetrised(net, y)[0])
    pair = (W != 0) & (W.T != 0)
    assert torch.allclose(Ws[pair], 0.5 * (W + W.T)[pair]) and math.isclose(
        float(Ws[(W != 0) & ~pair].abs().sum()), 0.5 * float(W[(W != 0) & ~pair].abs().sum()))


def test_a_failing_comparison_run_keeps_the_rest(tmp_path, monkeypatch):
    real = training.train

    def train(cfg, arm, order, solver, *a, **k):
        if order == "random":
            raise C.DivergenceError("diverged at t = 1.2", time=1.2)
        return real(cfg, arm, order, solver, *a, **k)
    monkeypatch.setattr(study, "train", train)              # the name the study calls
    out = tmp_path / "fail"
    assert main(["run", "--tiny", "--column_type=bm", "--baseline=false", "--out", str(out)]) == 1
    res = json.loads((out / "results.json").read_text())
    bm = res["arms"]["bm"]
    assert set(bm["runs"]) == {"main"} and "diverged" in bm["failed_runs"]["control"]
    assert "The control run failed" in (out / "report.md").read_text()


def test_headline_counts_distinct_matching_attractors_and_leads_the_report(default_run):
    from experiments.multiregion.headline import distinct_matches, sentences
    two = {"points": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.9, 0.1, 0.0]],
           "pattern_corr": [[0.9, 0.1], [0.1, 0.85], [0.95, 0.0]]}
    assert distinct_matches(two) == 2                 # the third repeats pattern 0
    near = {"points": [[1.0, 0.0, 0.0], [0.9, 0.3, 0.0]], "pattern_corr": [[0.9, 0.1], [0.1, 0.85]]}
    assert distinct_matches(near) == 1                # |cos| 0.95 > 0.5: not distinct
    weak = {"points": [[1.0, 0.0, 0.0]], "pattern_corr": [[0.7, 0.1]]}
    assert distinct_matches(weak) == 0                # |corr| < 0.8
    out, res = default_run
    report = (out / "report.md").read_text()
    assert report.index("## Headline") < report.index("## Findings")
    cfg = config.Config.tiny()
    for line in sentences(cfg, res["headline"]):
        assert line in report
    for arm, h in res["headline"].items():
        seeds = res["arms"][arm]["runs"]["main"]["replay"]["seeds"]
        ps = [s["fluctuations"]["regions"]["A"]["order"]["p"] for s in seeds]
        assert h["regions"]["A"]["seeds_p_lt_0.01"] == sum(1 for p in ps if p is not None and p < 0.01)
