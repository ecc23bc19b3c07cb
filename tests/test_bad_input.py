"""Bad input: each case raises a specific error class whose message names what is wrong."""

import networkx as nx
import numpy as np
import pytest
import torch

import columns as C
import graphs
from columns import analysis as A
from columns import (AnalysisError, ConfigError, DeviceError, FieldError, GraphError, ParameterError,
                     RecordingError, SolverError, StateError, StimulusError)


def edge_graph(**attrs):
    G = nx.DiGraph()
    G.add_edge("a", "b", **attrs)
    return G


def net3(**kw):
    return C.Network.from_graph(graphs.ring(3, weight=0.2), dtype=torch.float64, **kw)


def nan_later(t):
    return torch.tensor([1.0, 1.0, float("nan") if float(t) > 0.5 else 1.0], dtype=torch.float64)


CASES = {
    "undirected graph": (lambda: graphs.compile(nx.path_graph(3)), GraphError, "expected a networkx.DiGraph.*to_directed"),
    "multigraph": (lambda: graphs.compile(nx.MultiDiGraph([(0, 1)])), GraphError, "MultiDiGraph"),
    "empty graph": (lambda: graphs.compile(nx.DiGraph()), GraphError, "empty"),
    "missing weight": (lambda: graphs.compile(edge_graph()), GraphError, r"edge \('a' -> 'b'\) has no 'weight'"),
    "non-numeric weight": (lambda: graphs.compile(edge_graph(weight="strong")), GraphError, "'weight' must be a number"),
    "NaN weight": (lambda: graphs.compile(edge_graph(weight=float("nan"))), GraphError, "'weight' is not finite"),
    "non-bool learnable": (lambda: graphs.compile(edge_graph(weight=1.0, learnable="yes")), GraphError, "'learnable' must be a bool"),
    "negative delay": (lambda: graphs.compile(edge_graph(weight=1.0, delay=-2)), GraphError, "'delay' must be a finite number >= 0"),
    "self-loop not allowed": (lambda: graphs.compile(nx.DiGraph([(0, 0, {"weight": 1.0})])), GraphError, "self-loop"),
    "duplicate labels after str()": (lambda: graphs.compile(nx.DiGraph([(1, "1", {"weight": 1.0})])), GraphError, "both become '1'"),
    "non-numeric node attribute": (lambda: graphs.compile(_node_attr("m_z", "big")), GraphError, "'m_z' must be a number"),
    "unknown column type": (lambda: C.Network.from_graph(graphs.single_column("pyramidal")), GraphError, "unknown column type 'pyramidal'"),
    "negative precision (node attribute)": (lambda: C.Network.from_graph(_node_attr("m_z", -1.0)), ParameterError, "'m_z' must be > 0"),
    "negative precision (column parameter)": (lambda: C.K6Column(2, m_mu=[1.0, -0.5]), ParameterError, "'m_mu' must be > 0.*column 1"),
    "unknown node parameter": (lambda: C.Network.from_graph(_node_attr("m_q", 1.0)), ParameterError, "'m_q', which is not a parameter"),
    "parameter of wrong shape": (lambda: C.K6Column(3, gamma_mu=[1.0, 2.0]), ParameterError, r"shape \(3,\)"),
    "delayed network, adaptive method": (lambda: C.simulate(C.Network.from_graph(edge_graph(weight=1.0, delay=2.0)), T3), SolverError, r"edge \('a' -> 'b'\) has delay 2, and ivp method 'dopri5' is adaptive"),
    "delayed network, least action's dense polish": (lambda: C.simulate(C.Network.from_graph(edge_graph(weight=1.0, delay=2.0)), T3, solver="least_action", optimizer="newton"), SolverError, "optimizer 'newton' polishes with a block-tridiagonal Hessian"),
    "history shorter than the delay": (lambda: C.simulate(C.Network.from_graph(edge_graph(weight=1.0, delay=2.0)), T3, method="euler", step_size=0.5, history=np.zeros((2, 8))), SolverError, "history holds 2 steps .* needs 4 steps"),
    "output times off the step grid": (lambda: C.simulate(C.Network.from_graph(edge_graph(weight=1.0, delay=2.0)), T3, method="euler", step_size=0.3), SolverError, "every output time must lie on t0"),
    "delayed trace learning": (lambda: C.simulate(C.Network.from_graph(_typed(edge_graph(weight=0.1, learnable=True, delay=1.0), "fep_trace")), T3, method="euler", step_size=0.5), SolverError, "learns by a trace rule .* no delayed form"),
    "length without a speed": (lambda: C.Network.from_graph(edge_graph(weight=1.0, length=20.0)), GraphError, "has a 'length' but no conduction speed"),
    "zero conduction speed": (lambda: C.Network.from_graph(edge_graph(weight=1.0, length=20.0), speed=0), GraphError, "conduction speed must be a number > 0"),
    "NaN tract length": (lambda: graphs.compile(edge_graph(weight=1.0, length=float("nan")), speed=1.0), GraphError, "'length' must be a finite number >= 0, got nan"),
    "negative length matrix": (lambda: graphs.from_numpy(np.ones((2, 2)), lengths=-np.ones((2, 2))), GraphError, r"length matrix has a negative entry at \[0, 0\]"),
    "stimulus with too many columns": (lambda: net3(stimulus=C.Stimulus.sampled([0.0, 1.0], np.ones((2, 4)))), StimulusError, "4 columns, the network has 3"),
    "stimulus of wrong time length": (lambda: C.Stimulus.sampled([0.0, 1.0, 2.0], np.ones((2, 3))), StimulusError, "T = 3 samples"),
    "NaN in sampled stimulus": (lambda: C.Stimulus.sampled([0.0, 1.0], [[1.0, float("nan"), 0.0], [0, 0, 0]]), StimulusError, r"non-finite entry at index \[0, 1\]"),
    "callable stimulus of wrong shape": (lambda: C.simulate(net3(stimulus=lambda t: torch.ones(5, dtype=torch.float64)), [0.0, 1.0]), StimulusError, r"broadcasts to \(B, N\) = \(1, 3\)"),
    "stimulus NaN during the run": (lambda: C.simulate(net3(stimulus=nan_later), torch.linspace(0, 1, 11), method="rk4"), StimulusError, "non-finite value at t ="),
    "state on another device": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.zeros(12, device="meta", dtype=torch.float64)), DeviceError, "y0 is on meta"),
    "state of wrong shape": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.zeros(2, 11, dtype=torch.float64)), StateError, "S = 12"),
    "state with NaN": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.full((12,), float("nan"), dtype=torch.float64)), StateError, "non-finite"),
    "state of wrong dtype": (lambda: C.simulate(net3(), [0.0, 1.0], y0=torch.zeros(12)), StateError, "dtype torch.float32"),
    "unknown solver": (lambda: C.simulate(net3(), [0.0, 1.0], solver="leapfrog"), SolverError, "unknown solver 'leapfrog'"),
    "unknown method": (lambda: C.simulate(net3(), [0.0, 1.0], method="rk45"), SolverError, "unknown ivp method 'rk45'"),
    "non-increasing time grid": (lambda: C.simulate(net3(), [0.0, 1.0, 0.5]), SolverError, "strictly increasing"),
    "unknown recorded field": (lambda: C.simulate(net3(), [0.0, 1.0], record=["nu"]), StateError, r"cannot record \['nu'\]"),
    "non-square matrix": (lambda: graphs.from_numpy(np.ones((2, 3))), GraphError, "square"),
    "unknown config key": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("two-region", "/tmp/x", overrides={"n_colums": "3"}), ConfigError, "unknown config key 'n_colums'"),
    "unknown experiment": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("nope", "/tmp/x"), ConfigError, "unknown experiment 'nope'"),
    "experiment size 0": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("fep-sim1", "/tmp/x", overrides={"seeds": "0"}), ConfigError, "--seeds must be > 0, got 0"),
    "experiment density 0": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("fep-sim2", "/tmp/x", overrides={"density": "0"}), ConfigError, "--density must be > 0"),
    "experiment NaN value": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("fep-sim1", "/tmp/x", overrides={"beta": "nan"}), ConfigError, "--beta must be a finite number, got nan"),
    "experiment negative seed": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("fep-sim1", "/tmp/x", seed=-2), ConfigError, "--seed must be an integer >= 0, got -2"),
    "experiment bad device": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("fep-sim1", "/tmp/x", device="banana"), ConfigError, "--device 'banana': the experiments run on cpu or cuda"),
    # solver options: checked, never truncated or ignored
    "misspelt solver option": (lambda: C.simulate(net3(), T3, solver="least_action", solver_options={"windw": 2}), SolverError, r"unknown option\(s\) \['windw'\]"),
    "fractional window": (lambda: C.simulate(net3(), T3, solver="least_action", window=2.7), SolverError, "'window' must be an integer >= 2 or None, got 2.7"),
    "window as a word": (lambda: C.simulate(net3(), T3, solver="least_action", window="ten"), SolverError, "'window' must be an integer >= 2 or None, got 'ten'"),
    "negative overlap": (lambda: C.simulate(net3(), T3, solver="least_action", window=4, overlap=-1), SolverError, "'overlap' must be an integer >= 0"),
    "max_iter 0": (lambda: C.simulate(net3(), T3, solver="least_action", max_iter=0), SolverError, "'max_iter' must be an integer >= 1"),
    "negative gtol": (lambda: C.simulate(net3(), T3, solver="least_action", gtol=-1e-8), SolverError, "'gtol' must be a finite number > 0"),
    "history 0": (lambda: C.simulate(net3(), T3, solver="least_action", history=0), SolverError, "'history' must be an integer >= 1"),
    "negative kappa": (lambda: C.simulate(net3(), T3, solver="gradient", kappa=-1), SolverError, "gradient: option 'kappa' must be a finite number > 0, got -1"),
    "zero kappa": (lambda: C.simulate(net3(), T3, solver="gradient", kappa=0), SolverError, "'kappa' must be a finite number > 0, got 0"),
    "NaN kappa": (lambda: C.simulate(net3(), T3, solver="gradient", kappa=float("nan")), SolverError, "'kappa' must be a finite number"),
    "negative rtol": (lambda: C.simulate(net3(), T3, rtol=-1), SolverError, "ivp: option 'rtol' must be a finite number > 0, got -1"),
    "negative atol": (lambda: C.simulate(net3(), T3, atol=-1e-9), SolverError, "'atol' must be a finite number >= 0"),
    "zero step size": (lambda: C.simulate(net3(), T3, method="rk4", step_size=0), SolverError, "'step_size' must be a finite number > 0 or None, got 0"),
    "negative step size": (lambda: C.simulate(net3(), T3, method="euler", step_size=-0.1), SolverError, "'step_size' must be a finite number > 0 or None, got -0.1"),
    "ivp options not a dict": (lambda: C.simulate(net3(), T3, method="rk4", options=[1]), SolverError, "'options' must be a dict or None"),
    "unroll 0": (lambda: C.simulate(net3(), T3, method="rk4", unroll=0), SolverError, "'unroll' must be an integer >= 1"),
    "riccati substeps 0": (lambda: C.simulate(net3(), T3, solver="riccati", substeps=0), SolverError, "riccati: option 'substeps' must be an integer >= 1, got 0"),
    "riccati substeps float": (lambda: C.simulate(net3(), T3, solver="riccati", substeps=2.5), SolverError, "'substeps' must be an integer >= 1, got 2.5"),
    "step substeps 0": (lambda: C.Step(substeps=0), SolverError, "step: option 'substeps' must be an integer >= 1"),
    "step first_step negative": (lambda: C.Step(first_step=-3), SolverError, "'first_step' must be an integer >= 0"),
    # simulate's own arguments
    "solver_options a list": (lambda: C.simulate(net3(), T3, solver_options=[1, 2]), SolverError, r"solver_options must be a dict.*\[1, 2\]"),
    "simulate of None": (lambda: C.simulate(None, T3), StateError, "network must be a columns Network, got NoneType"),
    "time grid a word": (lambda: C.simulate(net3(), "abc"), SolverError, "t must be a 1-D grid of numbers.*'abc'"),
    "chunk a word": (lambda: C.simulate(net3(), T3, chunk="a"), SolverError, "chunk must be an integer >= 1, got 'a'"),
    "chunk 0": (lambda: C.simulate(net3(), T3, chunk=0), SolverError, "chunk must be an integer >= 1, got 0"),
    "checkpoint_every 0": (lambda: C.simulate(net3(), T3, checkpoint_every=0), SolverError, "checkpoint_every must be an integer >= 1"),
    "negative max_norm": (lambda: C.simulate(net3(), T3, max_norm=-1), SolverError, "max_norm must be a number > 0.*got -1"),
    "NaN max_norm": (lambda: C.simulate(net3(), T3, max_norm=float("nan")), SolverError, "max_norm must be a number > 0"),
    # stimuli returning what is not a number
    "stimulus returns a str": (lambda: C.simulate(net3(stimulus=lambda t: "a"), T3), StimulusError, "stimulus returned str 'a' at t = 0.0"),
    "stimulus returns None": (lambda: C.simulate(net3(stimulus=lambda t: None), T3), StimulusError, "stimulus returned NoneType None"),
    "stimulus returns a dict": (lambda: C.simulate(net3(stimulus=lambda t: {"s": 1}), T3), StimulusError, "stimulus returned dict"),
    # networks and states
    "integer dtype": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), dtype=torch.int64), ParameterError, "dtype must be one of.*torch.int64"),
    "float16 network": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), dtype=torch.float16), ParameterError, "float16/bfloat16 lose the state"),
    "dtype a string": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), dtype="float64"), ParameterError, "dtype must be one of.*'float64'"),
    "initial_state batch 0": (lambda: net3().initial_state(batch=0), StateError, "batch must be an integer >= 1, got 0"),
    "initial_state batch float": (lambda: net3().initial_state(batch=1.5), StateError, "batch must be an integer >= 1, got 1.5"),
    "initial_state NaN noise": (lambda: net3().initial_state(noise=float("nan")), StateError, "noise must be a finite number >= 0"),
    "initial_state negative noise": (lambda: net3().initial_state(noise=-1.0), StateError, "noise must be a finite number >= 0.*-1.0"),
    "column_types typo": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), column_types={"bmm": C.NetworkBMColumn}), GraphError, r"column_types names \['bmm'\], which no node"),
    "column_types not a dict": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), column_types=[C.NetworkBMColumn]), GraphError, "column_types must be a dict"),
    "column type not a class of ours": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), column_types={"bm": dict}), GraphError, "is the class dict, not a ColumnType"),
    "column type spec a number": (lambda: C.Network.from_graph(graphs.ring(3, weight=0.2), column_types={"bm": 3}), GraphError, r"column_types\['bm'\] must be a ColumnType class.*got 3"),
    # analysis: labels, thresholds and lags
    "labels above the range": (lambda: A.transition_matrix(torch.tensor([0, 1, 5]), 2), AnalysisError, r"must lie in -1..1 .*got \[5\]"),
    "labels below -1": (lambda: A.dwell_times(torch.tensor([0, -3]), 2), AnalysisError, r"got \[-3\]"),
    "float labels": (lambda: A.dwell_times(torch.tensor([0.0, 1.0]), 2), AnalysisError, "1-D integer sequence"),
    "2-D labels": (lambda: A.transition_matrix(torch.zeros(2, 3, dtype=torch.long), 2), AnalysisError, r"shape \(2, 3\)"),
    "joint labels out of range": (lambda: A.joint_distribution(torch.tensor([0, 2]), torch.tensor([0, 0]), 2, 1), AnalysisError, "joint_distribution: a must lie in -1..1"),
    "MI labels out of range": (lambda: A.mutual_information(torch.tensor([0, 1]), torch.tensor([0, 4]), 2, 2), AnalysisError, "mutual_information: b must lie in -1..1"),
    "MI negative label count": (lambda: A.mutual_information(torch.tensor([0, 1]), torch.tensor([0, 1]), -1, 2), AnalysisError, "number of labels must be an integer >= 0"),
    "NaN threshold": (lambda: A.label_states(torch.ones(3, 2), torch.ones(1, 2), threshold=float("nan")), AnalysisError, "threshold must be a finite cosine in \\[-1, 1\\], got nan"),
    "threshold above 1": (lambda: A.label_states(torch.ones(3, 2), torch.ones(1, 2), threshold=1.5), AnalysisError, "got 1.5"),
    "label_states shapes": (lambda: A.label_states(torch.ones(3, 2), torch.ones(1, 3)), AnalysisError, r"need x \(T, n\) and attractors \(K, n\)"),
    "lag longer than the series": (lambda: A.lagged(torch.tensor([0, 1, 0]), torch.tensor([1, 0, 1]), 2, 2, 5), AnalysisError, "max_lag must be in 0..2 .*got 5"),
    "lag not an integer": (lambda: A.lagged(torch.tensor([0, 1, 0]), torch.tensor([1, 0, 1]), 2, 2, 1.5), AnalysisError, "got 1.5"),
    "lagged series of different length": (lambda: A.lagged(torch.tensor([0, 1, 0]), torch.tensor([1, 0]), 2, 2, 1), AnalysisError, "differ in shape"),
    # graphs from arrays and files
    "compile_arrays float indices": (lambda: graphs.compile_arrays(3, [0.5, 1.0], [1, 2], [0.1, 0.2]), GraphError, "src must hold integer node indices.*would be truncated"),
    "compile_arrays extra learnable": (lambda: graphs.compile_arrays(3, [0, 1], [1, 2], [0.1, 0.2], learnable=[True, False, True]), GraphError, r"bool array of shape \(2,\).*shape \(3,\)"),
    "compile_arrays learnable ints": (lambda: graphs.compile_arrays(3, [0, 1], [1, 2], [0.1, 0.2], learnable=[1, 0]), GraphError, "learnable must be a bool"),
    "compile_arrays n 0": (lambda: graphs.compile_arrays(0, [], [], []), GraphError, "n must be an integer >= 1"),
    "compile_arrays index out of range": (lambda: graphs.compile_arrays(2, [0, 2], [1, 0], [0.1, 0.2]), GraphError, r"edge indices must lie in \[0, 2\)"),
    "graphml not xml": (lambda: graphs.from_graphml(_file("bad.graphml", b"<graphml><unclosed")), GraphError, "bad.graphml: not a readable GraphML file"),
    "tvb zip not a zip": (lambda: graphs.from_tvb_zip(_file("conn.zip", b"not a zip")), GraphError, "conn.zip: not a readable TVB connectivity zip .BadZipFile"),
    "tvb zip missing": (lambda: graphs.from_tvb_zip("/nonexistent/conn.zip"), GraphError, "/nonexistent/conn.zip: not a readable TVB connectivity zip"),
    # column views
    "view assignment of the wrong shape": (lambda: setattr(_net_b2().column("0"), "mu", [1.0, 2.0, 3.0]), StateError, r"column '0': mu takes a scalar or \(2,\).*shape \(3,\)"),
    "view assignment NaN": (lambda: setattr(net3().column("0"), "mu", float("nan")), StateError, "mu must be finite"),
    # recordings
    "recording field that is not there": (lambda: C.simulate(net3(), T3)["zzz"], FieldError, r"no field 'zzz'; fields: \['mu'"),
    "load a missing file": (lambda: C.Recording.load("/nonexistent/rec.nc"), RecordingError, "no such file '/nonexistent/rec.nc'"),
    # generators
    "ring of 0 columns": (lambda: graphs.ring(0), GraphError, "n must be a positive integer, got 0"),
    "edge probability 2": (lambda: graphs.random_directed(5, p=2.0), GraphError, r"p must be a probability in \[0, 1\], got 2.0"),
    "modular with 0 regions": (lambda: graphs.modular(n_regions=0), GraphError, "n_regions must be a positive integer"),
    "multiregion repeated region": (lambda: graphs.multiregion(regions=("A", "A")), GraphError, "regions must be distinct names"),
    "matrix with NaN": (lambda: graphs.from_numpy(np.array([[0.0, np.nan], [1.0, 0.0]])), GraphError, r"non-finite entry at \[0, 1\]"),
    "column label not there": (lambda: net3().column("zz"), C.LabelError, r"no column labelled 'zz'; labels: \['0', '1', '2'\]"),
    # time grids and sampled stimuli
    "time grid of one point": (lambda: C.simulate(net3(), [0.0]), SolverError, "at least 2 times"),
    "NaN in the time grid": (lambda: C.simulate(net3(), [0.0, float("nan")]), SolverError, "t must be finite"),
    "stimulus times repeated": (lambda: C.Stimulus.sampled([0.0, 0.0], np.ones((2, 3))), StimulusError, "strictly increasing"),
    # every experiment's config: sizes, rates and fractions in range
    "k6-learning negative overlap": (lambda: _run("k6-learning", overlap="-1"), ConfigError, "--overlap must be >= 0, got -1.0"),
    "k6-learning zero dt": (lambda: _run("k6-learning", dt="0"), ConfigError, "--dt must be > 0, got 0.0"),
    "sequence-asymmetry 0 columns": (lambda: _run("sequence-asymmetry", n_columns="0"), ConfigError, "--n_columns must be > 0, got 0"),
    "sequence-asymmetry negative learning rate": (lambda: _run("sequence-asymmetry", alpha_W="-0.1"), ConfigError, "--alpha_W must be >= 0"),
    "fep-sim3 zero alpha": (lambda: _run("fep-sim3", alpha="0"), ConfigError, "--alpha must be > 0, got 0.0"),
    "fep-sim4 zero steps": (lambda: _run("fep-sim4", steps="0"), ConfigError, "--steps must be > 0, got 0"),
    "canonical-maze error rate above 1": (lambda: _run("canonical-maze", e_right="0.2,1.5"), ConfigError, r"--e_right must be in \[0, 1\] in each entry, got \(0.2, 1.5\)"),
    "canonical-equivalence 0 draws": (lambda: _run("canonical-equivalence", draws="0"), ConfigError, "--draws must be > 0"),
    "bench-solvers a size of 0": (lambda: _run("bench-solvers", sizes="100,0"), ConfigError, r"--sizes must be > 0 in each entry, got \(100, 0\)"),
    "bench-fep 0 repeats": (lambda: _run("bench-fep", repeats="0"), ConfigError, "--repeats must be > 0"),
    "bench-maze 0 mazes": (lambda: _run("bench-maze", mazes="0"), ConfigError, "--mazes must be > 0"),
    "multiregion one region": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("multiregion", _folder(), overrides={"regions": "A"}), ConfigError, "--regions needs at least two regions"),
    "integer key given 2.5": (lambda: _run("multiregion", n="2.5"), ConfigError, "--n expects int, got '2.5'"),
    "bool key given a word": (lambda: _run("k6-learning", check_bvp="maybe"), ConfigError, "--check_bvp expects a bool, got 'maybe'"),
    # --resume
    "resume where no run is": (lambda: __import__("experiments.harness.runner", fromlist=["run"]).run("two-region", _folder(), resume=True), ConfigError, "--resume: .* holds no interrupted run"),
    "resume with another config": (lambda: _stored("demo", {"k": 1}, "demo", {"k": 2}), ConfigError, "--k=1 there, 2 here"),
    "resume another experiment": (lambda: _stored("demo", {"k": 1}, "other", {"k": 1}), ConfigError, "experiment 'demo', not 'other'"),
    "start over an unfinished run": (lambda: _stored("demo", {"k": 1}, "demo", {"k": 1}, resume=False), ConfigError, "holds an unfinished demo run.*--resume"),
}

T3 = [0.0, 0.5, 1.0]


def _typed(G, column_type):
    for v in G:
        G.nodes[v]["type"] = column_type
    return G


def _folder():
    import tempfile
    return tempfile.mkdtemp()


def _run(name, **overrides):
    """Build the experiment's config only (a bad value stops the run before anything is written)."""
    from experiments.harness.runner import load, make_config
    return make_config(load(name), overrides=overrides)


def _stored(name, config, name2, config2, resume=True):
    """A run of ``name`` left unfinished in a folder, then a second run started there."""
    from experiments.harness import resume as resume_
    out = _folder()
    resume_.Store(out, name, config)
    return resume_.Store(out, name2, config2, resume=resume)


def _file(name, content: bytes):
    path = f"{_folder()}/{name}"
    with open(path, "wb") as f:
        f.write(content)
    return path


def _net_b2():
    net = net3()
    net.state = net.initial_state(batch=2)
    return net


def _node_attr(key, value):
    G = graphs.single_column("bm")
    G.nodes[0][key] = value
    return G


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case):
    fn, exc, pattern = CASES[case]
    with pytest.raises(exc, match=pattern):
        fn()


def test_at_least_120_distinct_cases():
    assert len(CASES) >= 120


def test_errors_share_one_base():
    for _, exc, _ in CASES.values():
        assert issubclass(exc, C.ColumnsError)


def test_written_files_have_the_mode_of_a_plain_write(tmp_path):
    """results.json, report-like text, recordings and figures: 0666 less the umask, as open()."""
    import os

    from columns import atomic_write
    from experiments.harness.runner import write_json
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    want = plain.stat().st_mode & 0o777
    write_json(tmp_path / "results.json", {"a": 1})
    rec = C.simulate(net3(), [0.0, 0.5, 1.0])
    rec.save(tmp_path / "rec.nc")
    atomic_write(tmp_path / "fig.png", lambda tmp: open(tmp, "wb").write(b"png"))
    for name in ("results.json", "rec.nc", "fig.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == want, name
    old = os.umask(0o077)
    try:
        write_json(tmp_path / "private.json", {})
        assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_a_failed_write_keeps_the_old_file_and_names_the_target(tmp_path):
    from columns import atomic_write
    target = tmp_path / "results.json"
    target.write_text("old")

    def broken(tmp):
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError, match=f"writing {target} failed: No space left on device"):
        atomic_write(target, broken)
    assert target.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_recording_load_names_the_file_for_garbage_truncated_and_foreign(tmp_path):
    garbage = tmp_path / "garbage.nc"
    garbage.write_bytes(b"not a netcdf file" * 50)
    with pytest.raises(RecordingError, match="garbage.nc' is not a readable NetCDF file"):
        C.Recording.load(garbage)
    good = tmp_path / "good.nc"
    C.simulate(net3(), T3).save(good)
    half = tmp_path / "half.nc"
    half.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(RecordingError, match="half.nc'"):
        C.Recording.load(half)
    foreign = tmp_path / "foreign.nc"
    import xarray as xr
    xr.Dataset({"x": ("i", np.arange(3.0))}).to_netcdf(foreign)
    with pytest.raises(RecordingError, match=r"foreign.nc' is NetCDF but not a Recording \(no \['time'"):
        C.Recording.load(foreign)
    assert len(C.Recording.load(good)) == 3


def test_an_error_in_user_code_passes_through_as_itself():
    def stim(t):
        raise RuntimeError("my stimulus broke")
    with pytest.raises(RuntimeError, match="my stimulus broke") as info:
        C.simulate(net3(stimulus=stim), T3)
    assert not isinstance(info.value, C.DivergenceError)

    def late(t):                      # raises inside the solver's chunk, not at the first check
        if float(t) > 0.4:
            raise RuntimeError("my stimulus broke later")
        return torch.ones(3, dtype=torch.float64)
    for method in ("rk4", "dopri5"):
        with pytest.raises(RuntimeError, match="my stimulus broke later") as info:
            C.simulate(net3(stimulus=late), torch.linspace(0, 1, 11, dtype=torch.float64),
                       method=method)
        assert not isinstance(info.value, C.DivergenceError)


class _BrokenBM(C.NetworkBMColumn):
    """A user's column type whose right-hand side raises."""

    def rhs(self, part, nu, s):
        raise RuntimeError("my column broke")


def test_an_error_in_a_user_column_passes_through_as_itself():
    net = C.Network.from_graph(graphs.ring(3, weight=0.2), column_types={"bm": _BrokenBM},
                               dtype=torch.float64)
    with pytest.raises(RuntimeError, match="my column broke") as info:
        C.simulate(net, T3, method="rk4")
    assert not isinstance(info.value, C.DivergenceError)
