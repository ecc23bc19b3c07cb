"""The main study (`columns run` = multiregion) at its --tiny preset: every reported number is
recomputed from the files it wrote (recording.nc, results.json)."""

import json
import math

import numpy as np
import pytest
import torch
import xarray as xr

import columns as C
import columns.analysis as A
import graphs
from experiments.cli import main
from experiments import multiregion as M


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("mr")
    assert main(["run", "--tiny", "--out", str(out)]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_default_run_writes_everything(default_run):
    out, res = default_run
    assert res["experiment"] == "multiregion"
    assert set(res["runs"]) == {"main", "control", "baseline"}
    assert (res["runs"]["main"]["solver"], res["runs"]["baseline"]["solver"]) == ("least_action", "gradient")
    assert res["runs"]["control"]["order"] == "random" and res["runs"]["main"]["converged"]
    for fig in res["figures"]:
        assert (out / fig).stat().st_size > 1000
    report = (out / "report.md").read_text()
    m = res["runs"]["main"]
    assert f"{m['occupancy']['regions']['A']['occupied_fraction']:.1%}" in report
    assert f"{m['circulation']['A']:+.3g}" in report
    assert len(m["checkpoints"]) == res["config"]["checkpoints"] + 1
    for r in ("A", "B", "C"):
        counts = [c["regions"][r]["count"] for c in m["checkpoints"]]
        assert str(counts) in report
        assert len(m["track"][r]["ids"]) == len(counts)
        assert [len(i) for i in m["track"][r]["ids"]] == counts


def test_recorded_couplings_reproduce_asymmetry_and_circulation(default_run):
    out, res = default_run
    cfg = M.Config.tiny()
    with xr.open_dataset(out / "recording.nc") as ds:
        ds.load()
    Wc = torch.as_tensor(ds["W_checkpoints"].values)
    assert Wc.shape[0] == cfg.checkpoints + 1 and Wc.shape[1] == res["network"]["n_edges"]
    net = M.build(cfg, torch.device("cpu"))
    cp = net.coupling
    W = torch.zeros(cp.n_nodes, cp.n_nodes, dtype=torch.float64)
    W[cp.tgt, cp.src] = Wc[-1]
    mask = W != 0
    m = res["runs"]["main"]
    got = A.region_asymmetry(W, cp.regions, mask)
    for r in ("A", "B", "C"):
        assert got["within"][r] == pytest.approx(m["asymmetry"]["within"][r], rel=1e-9)
    pats = M.patterns(cfg, torch.device("cpu"))
    idx = A.region_index(cp.regions)
    assert M.circulation(W[idx["A"]][:, idx["A"]], pats) == pytest.approx(m["circulation"]["A"], rel=1e-9)
    assert torch.equal(Wc[0], cp.weight0)                          # checkpoint 0 = the graph's weights


def test_labels_follow_from_recording_and_attractors(default_run):
    out, res = default_run
    cfg = M.Config.tiny()
    rec = C.Recording.load(out / "recording.nc")
    m = res["runs"]["main"]
    occ = m["occupancy"]
    regions = np.asarray(rec.regions)
    for r in ("A", "B", "C"):
        att = torch.tensor(m["attractors"]["regions"][r]["points"], dtype=torch.float64)
        x = rec["mu"][occ["t_start"]:, 0][:, torch.as_tensor(np.nonzero(regions == r)[0])]
        lab = A.label_states(x, att, cfg.threshold)
        assert lab.tolist() == occ["labels"][r]
        assert occ["regions"][r]["occupied_fraction"] == pytest.approx(float((lab >= 0).double().mean()))
    a, b = (torch.tensor(occ["labels"][r]) for r in ("A", "B"))
    ka, kb = (m["attractors"]["regions"][r]["count"] for r in ("A", "B"))
    assert occ["pairs"]["A-B"]["mutual_information_bits"] == pytest.approx(A.mutual_information(a, b, ka, kb))
    assert occ["expected_lag"] == cfg.delay * cfg.dwell
    assert len(rec) == res["network"]["steps"]


def test_fep_columns_and_gradient_solver(tmp_path):
    out = tmp_path / "fep"
    assert main(["run", "multiregion", "--tiny", "--column_type=fep", "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["runs"]) == {"main", "control"} and res["runs"]["main"]["solver"] == "step"
    assert res["network"]["steps"] == 3 * Config_tiny().fep_cycles * Config_tiny().fep_dwell
    assert "(J + Jᵀ)/2" in (out / "report.md").read_text()
    out = tmp_path / "grad"
    assert main(["run", "--tiny", "--solver=gradient", "--control=false", "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["runs"]) == {"main"} and res["runs"]["main"]["solver"] == "gradient"


def Config_tiny():
    return M.Config.tiny()


@pytest.mark.parametrize("args, message", [
    (["--column_type=hopfield"], "--column_type must be one of"),
    (["--column_type=fep", "--solver=gradient"], "does not apply to column type 'fep'"),
    (["--n=10"], "--n must be 64, 16 or 4"),
    (["--window=2", "--overlap=2"], "--window must exceed --overlap"),
    (["--digits=1,12"], "--digits must be digits 0..9"),
])
def test_bad_config_is_named(tmp_path, capsys, args, message):
    assert main(["run", "--tiny", "--out", str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err


def test_coupling_matrix_and_symmetrised():
    G = graphs.multiregion(n=4, seed=1)
    net = C.Network.from_graph(G, dtype=torch.float64)
    y = net.initial_state()
    W = net.coupling_matrix(y[0])
    cp = net.coupling
    assert torch.equal(W[cp.tgt, cp.src], cp.weight0) and int((W != 0).sum()) == cp.n_edges
    assert net.coupling_matrix(y).shape == (1, cp.n_nodes, cp.n_nodes)
    Ws = net.coupling_matrix(M.symmetrised(net, y)[0])
    pair = (W != 0) & (W.T != 0)
    assert torch.allclose(Ws[pair], 0.5 * (W + W.T)[pair]) and math.isclose(
        float(Ws[(W != 0) & ~pair].abs().sum()), 0.5 * float(W[(W != 0) & ~pair].abs().sum()))


def test_a_failing_comparison_run_keeps_the_rest(tmp_path, monkeypatch):
    real = M.train

    def train(cfg, order, solver, *a, **k):
        if order == "random":
            raise C.DivergenceError("diverged at t = 1.2", time=1.2)
        return real(cfg, order, solver, *a, **k)
    monkeypatch.setattr(M, "train", train)
    out = tmp_path / "fail"
    assert main(["run", "--tiny", "--baseline=false", "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["runs"]) == {"main"} and "diverged" in res["failed_runs"]["control"]
    assert "The control run failed" in (out / "report.md").read_text()
