"""Mistakes and faults on the newer surfaces, one table per class: sweep options and sweep files,
output paths, loaders and generators, delays, replay, and the messages a user reads. Each case
asserts the project error class and a fragment of its message; each fault case asserts that
nothing finished was deleted."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
import zipfile

import networkx as nx
import numpy as np
import pytest
import torch

import columns as C
import graphs
from columns import ConfigError, GraphError, OutputError, SolverError, StateError
from columns.analysis import replay
from experiments.harness import lock, runner
from experiments.harness.cli import main
from experiments.harness.sweep import SweepError, dataset, load, sweep

CUDA = torch.cuda.is_available()


# --- sweeps: options named before anything runs ---------------------------------------------

def _sweep(out, **kw):
    args = {"grid": {"beta": ["0.1"]}, "seeds": 1, "tiny": True, "scheduler": "serial",
            "progress": False, "threads": 1}
    args.update(kw)
    return sweep("fep-sim1", args.pop("grid"), args.pop("seeds"), out=out, **args)


SWEEP_OPTIONS = [
    ({"scheduler": None, "workers": 0}, ConfigError, "--workers must be a whole number"),
    ({"scheduler": None, "workers": -1}, ConfigError, "--workers must be a whole number"),
    ({"scheduler": None, "workers": 1.5}, ConfigError, "--workers must be a whole number"),
    ({"scheduler": None, "workers": True}, ConfigError, "--workers must be a whole number"),
    ({"scheduler": None, "workers": "2"}, ConfigError, "--workers must be a whole number"),
    ({"scheduler": "serial", "workers": 2}, ConfigError, "sizes the embedded cluster"),
    ({"scheduler": "tcp://127.0.0.1:8786", "workers": 2}, ConfigError, "sizes the embedded cluster"),
    ({"scheduler": None, "workers": 10**6}, ConfigError, "starts one process per worker"),
    ({"scheduler": None, "timeout": 0}, ConfigError, "--timeout must be a finite number of seconds > 0"),
    ({"scheduler": None, "timeout": -3}, ConfigError, "--timeout must be a finite number"),
    ({"scheduler": None, "timeout": float("nan")}, ConfigError, "--timeout must be a finite number"),
    ({"scheduler": None, "timeout": float("inf")}, ConfigError, "--timeout must be a finite number"),
    ({"scheduler": None, "timeout": "10"}, ConfigError, "--timeout must be a finite number"),
    ({"scheduler": "tcp://"}, SweepError, "--scheduler expects an address"),
    ({"scheduler": "tcp://host:99999"}, SweepError, "port 1–65535"),
    ({"scheduler": "tcp://host:0"}, SweepError, "--scheduler expects an address"),
    ({"scheduler": "http://host:8786"}, SweepError, "schemes tcp, tls"),
    ({"scheduler": "tcp://a b:8786"}, SweepError, "--scheduler expects an address"),
    ({"scheduler": "tcp://host:87a6"}, SweepError, "--scheduler expects an address"),
    ({"scheduler": "127.0.0.1:8786"}, SweepError, "--scheduler expects an address"),
    ({"scheduler": 8786}, SweepError, "--scheduler expects an address"),
    ({"scheduler": "Serial"}, SweepError, "or serial"),
    ({"device": "mps"}, ConfigError, "--device 'mps': the experiments run on cpu or cuda"),
    ({"device": "banana"}, ConfigError, "--device 'banana'"),
    ({"device": "cuda:x"}, ConfigError, "--device 'cuda:x'"),
    ({"fixed": {"seed": "3"}}, ConfigError, "seed is the sweep's own dimension"),
    ({"fixed": {"seed": 0}}, ConfigError, "set by --seeds"),
    ({"metrics": "corr_patterns"}, ConfigError, "metrics must be a list of variable names"),
    ({"metrics": [1, 2]}, ConfigError, "metrics must be a list"),
    ({"seeds": -2}, ConfigError, "seeds must be at least 1"),
    ({"seeds": [0, -1]}, ConfigError, "seeds must be non-negative integers"),
    ({"seeds": "1,x"}, ConfigError, "--seeds expects a count"),
    ({"grid": {"beta": ["nan"]}}, ConfigError, "--beta must be a finite number"),
    ({"grid": {"beta": ["-1"]}}, ConfigError, "--beta must be > 0"),
    ({"grid": {"epochs": ["0"]}}, ConfigError, "--epochs must be > 0"),
    ({"grid": {"beta": "0.1"}}, ConfigError, "expected a list of values"),
    ({"grid": {"device": ["meta"]}}, ConfigError, "--device 'meta'"),
]
if not CUDA:
    SWEEP_OPTIONS += [({"device": "cuda"}, ConfigError, "CUDA is not available on this machine"),
                      ({"device": "cuda:1"}, ConfigError, "CUDA is not available")]


@pytest.mark.parametrize("kw, exc, fragment", SWEEP_OPTIONS, ids=lambda v: str(v)[:40])
def test_sweep_options_are_named_before_anything_runs(kw, exc, fragment, tmp_path):
    out = tmp_path / "s"
    t0 = time.perf_counter()
    with pytest.raises(exc) as info:
        _sweep(str(out), **kw)
    assert fragment in str(info.value)
    assert not out.exists()                           # nothing created, nothing ran
    assert time.perf_counter() - t0 < 20              # no hang


@pytest.mark.parametrize("argv, fragment", [
    (["--workers", "0"], "--workers must be a whole number"),
    (["--workers", "-1"], "--workers must be a whole number"),
    (["--timeout", "0"], "--timeout must be a finite number"),
    (["--timeout", "nan"], "--timeout must be a finite number"),
    (["--scheduler", "tcp://:8786"], "--scheduler expects an address"),
    (["--device", "mps"], "--device 'mps'"),
    (["--seed=4"], "seed is the sweep's own dimension"),
    (["--set", "seed=4"], "seed is the sweep's own dimension"),
    (["--threads", "0"], "--threads must be a positive integer or auto"),
])
def test_sweep_cli_mistakes_exit_2_without_creating_the_folder(argv, fragment, tmp_path, capsys):
    out = tmp_path / "s"
    rc = main(["sweep", "fep-sim1", "--tiny", "--grid", "beta=0.1", "--out", str(out), *argv])
    assert rc == 2 and fragment in capsys.readouterr().err
    assert not out.exists()


# --- sweeps: files a resumed sweep reads ----------------------------------------------------

@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished two-seed serial sweep (its folder is copied by each fault case)."""
    out = tmp_path_factory.mktemp("finished") / "s"
    ds = _sweep(str(out), seeds=2)
    return out, ds


def _copy(src, dst):
    import shutil
    shutil.copytree(src, dst)
    return dst


POINT = "beta=0.1__seed=1"
RECORD_FAULTS = {
    "truncated": lambda p: p.write_text(p.read_text()[:25]),
    "garbled": lambda p: p.write_bytes(os.urandom(64)),
    "empty": lambda p: p.write_text(""),
    "a list": lambda p: p.write_text("[1, 2]"),
    "no status": lambda p: p.write_text(json.dumps({"name": POINT, "seed": 1, "error": ""})),
    "unknown status": lambda p: p.write_text(json.dumps({"name": POINT, "seed": 1, "status": "done",
                                                         "error": ""})),
    "error not a string": lambda p: p.write_text(json.dumps({"name": POINT, "seed": 1,
                                                             "status": "ok", "error": None})),
    "another point's": lambda p: p.write_text(json.dumps({"name": "beta=0.1__seed=0", "seed": 0,
                                                          "status": "ok", "error": ""})),
    "another seed": lambda p: p.write_text(json.dumps({"name": POINT, "seed": 0, "status": "ok",
                                                       "error": ""})),
}


@pytest.mark.parametrize("fault", list(RECORD_FAULTS))
def test_a_point_record_that_cannot_be_read_is_kept_aside_and_the_point_reruns(fault, finished,
                                                                               tmp_path):
    out = _copy(finished[0], tmp_path / "s")
    other = out / "beta=0.1__seed=0" / "results.json"
    stamp = other.stat().st_mtime_ns
    RECORD_FAULTS[fault](out / POINT / "point.json")
    with pytest.warns(RuntimeWarning, match=f"the record of point {POINT} could not be read"):
        ds = _sweep(str(out), seeds=2)
    assert (out / POINT / "point.json.unreadable").exists()           # kept, not deleted
    assert json.loads((out / POINT / "point.json").read_text())["status"] == "ok"
    assert other.stat().st_mtime_ns == stamp                          # the finished one untouched
    assert dataset.same(ds, finished[1])


RESULT_FAULTS = {
    "truncated": lambda p: p.write_text(p.read_text()[:40]),
    "garbled": lambda p: p.write_bytes(b"\x00\xff" * 40),
    "a list": lambda p: p.write_text("[]"),
    "missing": lambda p: p.unlink(),
}


@pytest.mark.parametrize("fault", list(RESULT_FAULTS))
def test_an_ok_point_whose_results_cannot_be_read_reruns(fault, finished, tmp_path):
    out = _copy(finished[0], tmp_path / "s")
    RESULT_FAULTS[fault](out / POINT / "results.json")
    with pytest.warns(RuntimeWarning, match="recorded ok but its results.json cannot be read"):
        ds = _sweep(str(out), seeds=2)
    if fault != "missing":
        assert (out / POINT / "results.json.unreadable").exists()
    assert (out / POINT / "point.json.unreadable").exists()
    assert dataset.same(ds, finished[1])
    # a second fault of the same kind keeps the first set-aside file too
    RESULT_FAULTS[fault](out / POINT / "results.json")
    with pytest.warns(RuntimeWarning):
        _sweep(str(out), seeds=2)
    assert (out / POINT / "point.json.unreadable.1").exists()


def test_sweep_seeds_are_independent_replicates(finished):
    """Sweep seed s runs the experiment's seeds s·B … s·B + B − 1 (B = 5 in fep-sim1's tiny
    preset): no internal seed is shared between sweep seeds."""
    ds = finished[1]
    used = [[int(ds[f"seeds.{k}"].sel(beta=0.1, seed=s)) for k in range(5)] for s in (0, 1)]
    assert used == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    rec = json.loads((finished[0] / POINT / "point.json").read_text())
    assert rec["seed"] == 1 and rec["run_seed"] == 5
    assert "never overlap" in ds.attrs["run_seed_rule"]


def test_sweep_md_names_the_metrics_it_leaves_out(finished):
    md = (finished[0] / "sweep.md").read_text()
    assert "corr_attractors.median" in md.split("## Median")[1]        # the headline is shown
    assert "Not shown:" in md and "--metrics=" in md


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d, None),                                                 # the folder itself
    (lambda d: d / "sweep.nc", None),
    (lambda d: d / "nope", "no sweep dataset at"),
    (lambda d: _write(d / "bad.nc", b"CDF\x02garbage"), "cannot be read as a sweep dataset"),
    (lambda d: _write(d / "text.nc", b"hello"), "cannot be read as a sweep dataset"),
    (lambda d: _foreign_nc(d / "foreign.nc"), "not a sweep's"),
    (lambda d: None, "load takes a sweep's folder or its sweep.nc, got NoneType"),
])
def test_load_takes_the_folder_and_names_what_it_cannot_read(make, fragment, finished, tmp_path):
    d = _copy(finished[0], tmp_path / "s")
    if fragment is None:
        assert dataset.same(load(make(d)), finished[1])
    else:
        with pytest.raises(SweepError, match=fragment):
            load(make(d))


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _foreign_nc(path):
    import xarray as xr
    xr.Dataset({"x": ("t", np.arange(3.0))}).to_netcdf(path, engine="scipy")
    return path


def test_a_sweep_whose_points_all_fail_exits_1(tmp_path, capsys):
    rc = main(["sweep", "fep-sim1", "--tiny", "--grid", "rule=bogus", "--seeds", "2",
               "--scheduler", "serial", "--out", str(tmp_path / "s")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "every point of the sweep failed" in err and "sweep.md" in err


# --- output paths ---------------------------------------------------------------------------

@pytest.mark.parametrize("where, fragment", [
    (lambda t: _write(t / "f", b"x") / "out", "is a file"),
    (lambda t: _write(t / "f", b"x"), "is a file; give a folder"),
    (lambda t: "/sys/columns-test/out", "cannot be created"),
])
def test_run_out_that_cannot_be_written_is_named(where, fragment, tmp_path):
    out = str(where(tmp_path))
    with pytest.raises(OutputError, match=fragment) as info:
        runner.run("fep-sim1", out, tiny=True)
    assert ".tmp" not in str(info.value) and out in str(info.value)


@pytest.mark.parametrize("where, fragment", [
    (lambda t: _write(t / "f", b"x") / "s", "is a file"),
    (lambda t: "/sys/columns-test/s", "cannot be created"),
])
def test_sweep_out_that_cannot_be_written_is_named(where, fragment, tmp_path):
    with pytest.raises(OutputError, match=fragment):
        _sweep(str(where(tmp_path)))


def _net():
    return C.Network.from_graph(graphs.ring(3, weight=0.2), dtype=torch.float64)


@pytest.mark.parametrize("where, fragment", [
    (lambda t: t, "checkpoint .* is a folder; give a file path"),
    (lambda t: _write(t / "f", b"x") / "ck.pt", "cannot be created: .* is a file"),
    (lambda t: 3, "checkpoint must be a path"),
])
def test_simulate_checkpoint_that_cannot_be_written_is_named(where, fragment, tmp_path):
    with pytest.raises(OutputError, match=fragment):
        C.simulate(_net(), [0.0, 0.5, 1.0], method="rk4", checkpoint=where(tmp_path))


def test_atomic_write_names_the_target_not_the_temporary_file(tmp_path):
    with pytest.raises(OutputError) as info:
        C.atomic_write(tmp_path, lambda tmp: None)
    assert str(tmp_path) in str(info.value) and "tmp" not in os.path.basename(str(info.value))
    with pytest.raises(OutputError, match="writing .*f/x.json failed"):
        C.atomic_write(_write(tmp_path / "f", b"x") / "x.json", lambda tmp: None)
    with pytest.raises(OutputError, match=r"writing /sys/columns-test/a.json failed"):
        C.atomic_write("/sys/columns-test/a.json", lambda tmp: None)
    with pytest.raises(OutputError, match="an empty path"):
        C.atomic_write("", lambda tmp: None)


@pytest.mark.parametrize("text", ["[1, 2]", '{"a": 1}', '{"experiment": "fep-sim1", "config": 3, '
                                  '"torch": "x"}', "{"])
def test_a_run_description_that_is_not_one_is_refused_keeping_the_folder(text, tmp_path):
    ck = tmp_path / "checkpoint"
    ck.mkdir()
    (ck / "run.json").write_text(text)
    (ck / "seg.pt").write_bytes(b"work")
    with pytest.raises(ConfigError, match="run.json is not readable .* saved work is kept"):
        runner.run("fep-sim1", str(tmp_path), tiny=True, resume=True)
    assert (ck / "seg.pt").read_bytes() == b"work" and (ck / "run.json").read_text() == text


# --- loaders and generators -----------------------------------------------------------------

def _zip(tmp_path, **files):
    path = tmp_path / "conn.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(f"{name}.txt", data)
    return path


W2 = "0 1\n1 0\n"
LOADER_CASES = {
    "complex weights": (lambda t: graphs.from_numpy(np.array([[0, 1j], [1, 0]])), "is complex"),
    "text weights": (lambda t: graphs.from_numpy([["a", "b"], ["c", "d"]]), "is not a numeric matrix"),
    "ragged weights": (lambda t: graphs.from_numpy([[0, 1], [1]]), "is not a numeric matrix"),
    "regions of the wrong length": (lambda t: graphs.from_numpy(np.ones((3, 3)) - np.eye(3), regions=["A", "B"]), "2 regions for a 3x3 matrix"),
    "duplicate labels": (lambda t: graphs.from_numpy(np.ones((3, 3)) - np.eye(3), labels=["a", "b", "a"]), r"label 'a' is given twice \(columns 0 and 2\)"),
    "diagonal weights": (lambda t: graphs.from_numpy(np.ones((2, 2))), "nonzero diagonal entries .* allow_self_loops=True"),
    "complex lengths": (lambda t: graphs.from_numpy(np.ones((2, 2)) - np.eye(2), lengths=np.ones((2, 2)) * 1j), "length matrix is complex"),
    "tvb: text tract lengths": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, tract_lengths="a b\nc d\n")), "tract_lengths.txt is not a numeric matrix"),
    "tvb: tract lengths of another shape": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, tract_lengths="1 2 3\n4 5 6\n7 8 9\n")), r"tract_lengths.txt has shape \(3, 3\), weights.txt \(2, 2\)"),
    "tvb: NaN tract length": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, tract_lengths="0 nan\n1 0\n")), "tract_lengths.txt has a non-finite entry"),
    "tvb: negative tract length": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, tract_lengths="0 -1\n1 0\n")), "negative or non-finite entry"),
    "tvb: non-UTF-8 centres": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, centres=b"r\xe91 0 0 0\nr2 0 0 0\n")), r"centres.txt is not UTF-8 text \(byte 0xe9"),
    "tvb: centres of another count": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, centres="a 0 0 0\n")), "centres.txt names 1 regions, weights.txt has 2"),
    "tvb: duplicate centres": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, centres="a 0 0 0\na 1 1 1\n")), "label 'a' is given twice"),
    "tvb: all-zero weights": (lambda t: graphs.from_tvb_zip(_zip(t, weights="0 0\n0 0\n")), "weights.txt has no nonzero entry"),
    "tvb: diagonal weights": (lambda t: graphs.from_tvb_zip(_zip(t, weights="1 1\n1 0\n")), "nonzero diagonal"),
    "tvb: text weights": (lambda t: graphs.from_tvb_zip(_zip(t, weights="x y\n1 0\n")), "weights.txt is not a numeric matrix"),
    "tvb: non-square weights": (lambda t: graphs.from_tvb_zip(_zip(t, weights="0 1 1\n1 0 1\n")), r"square \(N, N\) matrix, got shape \(2, 3\)"),
    "tvb: NaN weight": (lambda t: graphs.from_tvb_zip(_zip(t, weights="0 nan\n1 0\n")), "weights.txt has a non-finite entry"),
    "tvb: empty weights": (lambda t: graphs.from_tvb_zip(_zip(t, weights="")), "weights.txt is empty"),
    "tvb: negative speed": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, tract_lengths=W2), speed=-1), "speed must be a finite number > 0"),
    "tvb: NaN speed": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2, tract_lengths=W2), speed=float("nan")), "speed must be a finite number > 0"),
    "tvb: speed without lengths": (lambda t: graphs.from_tvb_zip(_zip(t, weights=W2), speed=2.0), "no tract_lengths.txt"),
    "tvb: not a zip": (lambda t: graphs.from_tvb_zip(_write(t / "x.zip", b"PK\x03\x04junk")), "not a readable TVB connectivity zip"),
    "graphml: parallel edges": (lambda t: graphs.from_graphml(_graphml(t)), r"1 node pairs have parallel edges \(the first 'a' -> 'b', 2 edges\)"),
    "demo: zero columns": (lambda t: graphs.demo_connectome(0), "n_per_hemisphere must be a positive integer"),
    "demo: fractional columns": (lambda t: graphs.demo_connectome(2.5), "n_per_hemisphere must be a positive integer"),
    "demo: string columns": (lambda t: graphs.demo_connectome("4"), "n_per_hemisphere must be a positive integer"),
    "demo: density above 1": (lambda t: graphs.demo_connectome(4, density=2), "density must be a probability"),
    "demo: NaN density": (lambda t: graphs.demo_connectome(4, density=float("nan")), "density must be a probability"),
    "demo: text density": (lambda t: graphs.demo_connectome(4, density="half"), "density must be a probability"),
    "demo: zero length scale": (lambda t: graphs.demo_connectome(4, length_scale=0), r"length_scale \(mm\) must be a finite number > 0"),
    "demo: text length scale": (lambda t: graphs.demo_connectome(4, length_scale="x"), r"length_scale \(mm\) must be"),
    "demo: infinite length scale": (lambda t: graphs.demo_connectome(4, length_scale=float("inf")), r"length_scale \(mm\) must be"),
    "demo: negative seed": (lambda t: graphs.demo_connectome(4, seed=-1), "seed must be an integer >= 0"),
    "demo: fractional seed": (lambda t: graphs.demo_connectome(4, seed=0.5), "seed must be an integer >= 0"),
    "demo: column type not a name": (lambda t: graphs.demo_connectome(4, column_type=3), "column_type must be a column type's name"),
    "demo: huge": (lambda t: graphs.demo_connectome(10**7), "demo_connectome with 20000000 columns draws 6 dense"),
    "random_directed: huge": (lambda t: graphs.random_directed(10**7), "GiB, more than 50% of the"),
    "random_directed: NaN p": (lambda t: graphs.random_directed(4, p=float("nan")), "p must be a probability"),
    "random_directed: negative scale": (lambda t: graphs.random_directed(4, weight_scale=-1), "weight_scale must be a finite number >= 0"),
    "random_directed: text seed": (lambda t: graphs.random_directed(4, seed="a"), "seed must be an integer >= 0"),
    "modular: NaN weight scale": (lambda t: graphs.modular(w_intra=float("nan")), "w_intra must be a finite number"),
    "modular: huge": (lambda t: graphs.modular(1000, 10**4), "modular with 10000000 columns"),
    "multiregion: infinite scale": (lambda t: graphs.multiregion(n=4, w_within=float("inf")), "w_within must be a finite number"),
    "multiregion: negative topographic": (lambda t: graphs.multiregion(n=4, topographic=-1), "topographic must be a finite number >= 0"),
    "multiregion: negative seed": (lambda t: graphs.multiregion(n=4, seed=-3), "seed must be an integer >= 0"),
    "multiregion: huge": (lambda t: graphs.multiregion(n=10**7), "multiregion with 30000000 columns"),
    "ring: NaN weight": (lambda t: graphs.ring(3, weight=float("nan")), "weight must be a finite number"),
}


def _graphml(tmp_path):
    G = nx.MultiDiGraph()
    G.add_node("a", type="bm", region="0")
    G.add_node("b", type="bm", region="0")
    G.add_edge("a", "b", weight=1.0)
    G.add_edge("a", "b", weight=2.0)
    path = tmp_path / "g.graphml"
    nx.write_graphml(G, path)
    return path


@pytest.mark.parametrize("case", list(LOADER_CASES))
def test_loader_and_generator_mistakes_are_named(case, tmp_path):
    call, fragment = LOADER_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no ComplexWarning: refused, not cast
        with pytest.raises(GraphError, match=fragment):
            call(tmp_path)


def test_the_loaders_still_load_what_is_right(tmp_path):
    G = graphs.from_tvb_zip(_zip(tmp_path, weights="0 2\n1 0\n", centres="L1 0 0 0\nR1 1 1 1\n",
                                 tract_lengths="0 10\n12 0\n"), speed=2.0)
    assert sorted(G.nodes) == ["L1", "R1"] and G.edges["R1", "L1"]["weight"] == 2.0
    assert G.edges["R1", "L1"]["length"] == 10.0 and G.graph["speed"] == 2.0
    G = graphs.from_tvb_zip(_zip(tmp_path, weights="1 2\n1 0\n"), allow_self_loops=True)
    assert G.has_edge(0, 0)


# --- delays ---------------------------------------------------------------------------------

def _delayed(delay, n=2, learnable=False):
    G = nx.DiGraph()
    for k in range(n):
        G.add_node(f"c{k}", type="bm", region="0")
    for k in range(n):
        G.add_edge(f"c{k}", f"c{(k + 1) % n}", weight=0.3, delay=delay, learnable=learnable)
    return C.Network.from_graph(G, dtype=torch.float64)


@pytest.mark.parametrize("delay, fragment", [
    (1e30, "more than the 2147483648 a delay may span"),
    (1e12, "more than the 2147483648"),
    (1e8, "the delay buffer .* GiB, more than 50% of the"),
])
def test_extreme_delays_are_named_before_allocating(delay, fragment):
    t = torch.arange(3, dtype=torch.float64) * 0.1
    net = _delayed(delay)
    with pytest.raises(SolverError, match=fragment):
        C.simulate(net, t, method="euler", step_size=0.1, y0=net.initial_state(batch=64))


def test_extreme_delays_in_least_action_are_named():
    t = torch.arange(5, dtype=torch.float64) * 0.1
    net = _delayed(1e8)
    with pytest.raises(SolverError, match="the path before the window .* GiB"):
        C.simulate(net, t, solver="least_action", solver_options={"window": 2},
                   y0=net.initial_state(batch=64))


def test_history_from_another_network_is_refused():
    t = torch.arange(11, dtype=torch.float64) * 0.1
    rec3 = C.simulate(_delayed(0.3, n=3), t, method="euler", step_size=0.1)
    with pytest.raises(SolverError, match=r"the recording is of another network \(3 columns, this one 2"):
        C.simulate(_delayed(0.3, n=2), t + 1.0, method="euler", step_size=0.1, history=rec3)
    net = _delayed(0.3, n=2)
    rec = C.simulate(net, t, method="euler", step_size=0.1)
    other = _delayed(0.3, n=2, learnable=True)
    with pytest.raises(SolverError, match="learnable edges"):
        C.simulate(other, t + 1.0, method="euler", step_size=0.1, history=rec)


def _const_history(t):
    return torch.full((2, 8), 0.1, dtype=torch.float64)[0]


def test_resume_fingerprints_the_history_by_content(tmp_path):
    """A function history resumes (its name, not its address, is in the fingerprint); a
    different history array is refused, naming the option, however large the array."""
    net = _delayed(0.3, n=2)
    y0 = net.initial_state()
    t = torch.arange(11, dtype=torch.float64) * 0.1
    ck = tmp_path / "ck.pt"
    full = C.simulate(net, t, method="euler", step_size=0.1, y0=y0, history=_const_history)
    C.simulate(net, t, method="euler", step_size=0.1, y0=y0, history=_const_history, checkpoint=ck,
               chunk=5)
    # a new process would make a new function object: the same name resumes
    again = C.simulate(net, t, method="euler", step_size=0.1, y0=y0, history=_const_history,
                       resume=ck, chunk=5)
    assert torch.equal(again["mu"], full["mu"])
    H = torch.zeros(5000, net.state_size, dtype=torch.float64)
    C.simulate(net, t, method="euler", step_size=0.1, y0=y0, history=H, checkpoint=ck, chunk=5)
    H2 = H.clone()
    H2[2500, 0] = 1e-3                                   # a change a summary repr would hide
    with pytest.raises(SolverError, match="option 'history' differs"):
        C.simulate(net, t, method="euler", step_size=0.1, y0=y0, history=H2, resume=ck, chunk=5)


# --- replay ---------------------------------------------------------------------------------

def _replay_net():
    return C.Network.from_graph(graphs.ring(3, weight=0.2, learnable=True), dtype=torch.float64)


def _x0(**kw):
    return torch.zeros(2, 3, dtype=torch.float64, **kw)


def _nan_x0():
    x = _x0()
    x[1, 2] = float("nan")
    return x


REPLAY_CASES = {
    "NaN start": (lambda n, y: replay(n, y, _nan_x0(), 5), StateError, "x0 has non-finite entries .* row 1"),
    "start of the wrong width": (lambda n, y: replay(n, y, torch.zeros(2, 4, dtype=torch.float64), 5), StateError, r"x0 must be the starts, a tensor \(B, 3\)"),
    "start not a tensor": (lambda n, y: replay(n, y, [[0.0, 0.0, 0.0]], 5), StateError, "got list"),
    "1-D start": (lambda n, y: replay(n, y, torch.zeros(3, dtype=torch.float64), 5), StateError, r"got shape \(3,\)"),
    "NaN reference state": (lambda n, y: replay(n, y * float("nan"), _x0(), 5), StateError, "y_ref has non-finite entries"),
    "reference of the wrong size": (lambda n, y: replay(n, y[:-1], _x0(), 5), StateError, "y_ref must be reference states"),
    "infinite temperature": (lambda n, y: replay(n, y, _x0(), 5, stochastic=True, temperature=float("inf")), ConfigError, "temperature must be a finite number >= 0"),
    "NaN temperature": (lambda n, y: replay(n, y, _x0(), 5, stochastic=True, temperature=float("nan")), ConfigError, "temperature must be a finite number"),
    "negative temperature": (lambda n, y: replay(n, y, _x0(), 5, temperature=-1), ConfigError, "temperature must be"),
    "zero dt": (lambda n, y: replay(n, y, _x0(), 5, dt=0), ConfigError, "dt must be a finite number > 0"),
    "NaN dt": (lambda n, y: replay(n, y, _x0(), 5, dt=float("nan")), ConfigError, "dt must be"),
    "zero steps": (lambda n, y: replay(n, y, _x0(), 0), ConfigError, "steps must be an integer >= 1"),
    "fractional steps": (lambda n, y: replay(n, y, _x0(), 2.5), ConfigError, "steps must be an integer"),
    "zero every": (lambda n, y: replay(n, y, _x0(), 5, every=0), ConfigError, "every must be an integer >= 1"),
    "negative seed": (lambda n, y: replay(n, y, _x0(), 5, seed=-1), ConfigError, "seed must be an integer >= 0"),
    "start on another device": (lambda n, y: replay(n, y, torch.zeros(1, 3, device="meta"), 5), C.DeviceError, "x0 is on meta, the network on cpu"),
    "starts not a multiple of references": (lambda n, y: replay(n, y.repeat(2, 1), torch.zeros(3, 3, dtype=torch.float64), 5), ConfigError, "not a multiple"),
}


@pytest.mark.parametrize("case", list(REPLAY_CASES))
def test_replay_mistakes_are_named_not_reported_as_divergence(case):
    net = _replay_net()
    y = net.initial_state()[0]
    call, exc, fragment = REPLAY_CASES[case]
    with pytest.raises(exc, match=fragment):
        call(net, y)


# --- messages: a live run's folder ----------------------------------------------------------

HOLDER = """
import sys, time
from experiments.harness import lock
with lock.held(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_live_runs_folder_is_refused_naming_the_process_and_freed_when_it_dies(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"is in use by a run that is still going "
                                              f"\\(process {proc.pid} on "):
            runner.run("fep-sim1", str(out), tiny=True)
        with pytest.raises(ConfigError, match=f"process {proc.pid}"):
            runner.run("fep-sim1", str(out), tiny=True, resume=True)
        assert sorted(os.listdir(out)) == [lock.NAME]             # nothing written by either
        with pytest.raises(ConfigError, match="in use by a sweep"):
            with lock.held(str(out), "sweep"):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    res = runner.run("fep-sim1", str(out), tiny=True)             # the dead holder's lock is gone
    assert res["experiment"] == "fep-sim1" and (out / "results.json").exists()


def test_a_second_sweep_into_a_live_sweeps_folder_is_refused(tmp_path):
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"process {proc.pid}"):
            _sweep(str(out))
        assert not [p for p in os.listdir(out) if p != lock.NAME]
    finally:
        proc.kill()
        proc.wait(10)


def test_a_resume_with_other_options_names_every_option_that_differs(tmp_path):
    from experiments.harness import resume
    out = str(tmp_path)
    resume.Store(out, "demo", {"a": 1, "b": 2, "c": 3})
    with pytest.raises(ConfigError) as info:
        resume.Store(out, "demo", {"a": 1, "b": 5, "c": 4}, resume=True)
    msg = str(info.value)
    assert "--b=2 there, 5 here" in msg and "--c=3 there, 4 here" in msg and "2 differ" in msg


@pytest.mark.parametrize("text", ["{", "\x00\xff\x00", "[1]", '{"experiment": "fep-sim2"}'])
def test_a_sweep_json_that_is_not_this_sweeps_is_refused_keeping_every_point(text, finished,
                                                                            tmp_path):
    out = _copy(finished[0], tmp_path / "s")
    (out / "sweep.json").write_text(text)
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    with pytest.raises(SweepError, match="use another --out"):
        _sweep(str(out), seeds=2)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before


def test_bench_gpu_refuses_without_cuda_and_leaves_no_folder(tmp_path, capsys):
    if CUDA:
        pytest.skip("this machine has CUDA: bench-gpu would run")
    out = tmp_path / "bg"
    assert main(["run", "bench-gpu", "--tiny", "--out", str(out)]) == 2
    assert "bench-gpu needs a CUDA device" in capsys.readouterr().err
    assert not out.exists()
