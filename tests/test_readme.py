"""The README's and the documentation pages' code runs as written (so it cannot rot): every
```python and ```py block starts with ``# example: NAME`` and is found by that name, not by its
position; every named block runs here, but the one named in ``NOT_RUN`` with its reason."""

import re
from pathlib import Path

import torch

from columns import energy

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted(p for p in (ROOT / "docs").rglob("*.md") if "tutorials" not in p.parts)]
NOT_RUN = {"sweep": "starts a Dask cluster of one worker per core: tests/test_sweep.py runs the "
                    "same call on real clusters"}
RUN = {"quick-start", "solvers", "extension", "fep", "fep-graph", "canonical",
       "your-architecture", "delays", "graphs", "columns", "learning", "analysis", "recordings",
       "checkpoint", "performance"}


def blocks() -> dict[str, str]:
    """{name: code} of every python/py block of the README and the docs pages."""
    found = {}
    for page in PAGES:
        for code in re.findall(r"```(?:python|py)\n(.*?)```", page.read_text(), flags=re.S):
            m = re.match(r"# example: ([\w-]+)\n", code)
            assert m, f"{page.name}: a code block without '# example: NAME': {code[:80]!r}"
            assert m.group(1) not in found, f"two code blocks named {m.group(1)!r}"
            found[m.group(1)] = code
    return found


def example(name: str) -> str:
    return blocks()[name]


def test_every_code_block_is_named_and_run():
    assert set(blocks()) == RUN | set(NOT_RUN)


def test_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = example("quick-start")
    exec(compile(code, "README quick start", "exec"), {})
    assert (tmp_path / "quickstart.nc").exists() and (tmp_path / "quickstart.png").exists()


def test_extension_example_runs():
    import networkx as nx
    import torch
    import columns as C
    ns = {}
    exec(compile(example("extension"), "README extension", "exec"), ns)
    G = nx.DiGraph()
    G.add_edge(0, 1, weight=0.3, learnable=True)
    G.add_edge(1, 0, weight=-0.2, learnable=True)
    for v in G:
        G.nodes[v]["type"] = "cubic"
    net = C.Network.from_graph(G, stimulus=1.0, dtype=torch.float64)
    y = net.initial_state(noise=0.3, seed=0)
    assert torch.allclose(net(torch.tensor(0.0), y), energy.rhs_autograd(net, torch.tensor(0.0), y))


def test_solvers_example_runs():
    ns = {}
    exec(compile(example("solvers"), "docs solvers", "exec"), ns)
    kinds = sorted(fp.classification["kind"] for fp in ns["fps"])
    assert kinds == ["saddle", "saddle", "saddle-centre"]
    mapq = [fp.q for fp in ns["fps"] if fp.U_morse_index == 0 and fp.q[0] > 0][0]
    assert abs(float(ns["path"]["mu"][300, 0, 0]) - float(mapq[0])) < 1e-2     # MAP(s=1) is 0.18 away
    assert abs(float(ns["pc"]["mu"][-1, 0, 0]) - float(mapq[0])) < 1e-3


def test_fep_example_runs():
    ns = {}
    exec(compile(example("fep"), "docs FEP", "exec"), ns)
    assert float(ns["r"].median()) < 0.0 < 0.7 < float(ns["P"].corrcoef()[0, 1])


def test_fep_graph_example_runs():
    ns = {}
    exec(compile(example("fep-graph"), "docs FEP graph", "exec"), ns)
    J, cp = ns["J"], ns["net"].coupling
    assert float((J - J.T).norm() / J.norm()) > 0.9                   # random order gives ~0.3
    assert bool((J[cp.tgt, cp.src] != 0).all())                        # every edge of the graph learned


def test_canonical_example_runs():
    import torch
    import columns.canonical as K
    ns = {}
    exec(compile(example("canonical"), "docs canonical", "exec"), ns)
    assert abs(float(ns["gap"])) < 1e-9
    x = torch.full((4,), 0.5, dtype=torch.float64)
    for t in range(5):
        x = K.fixed_point(ns["net"], ns["o"][t], x)
    assert torch.allclose(ns["x_graph"], x, atol=1e-12)
    assert all(((t >= 2) & (t <= 2000)).all() for t in ns["times"])


def test_user_guide_example_runs():
    import torch
    ns = {}
    exec(compile(example("your-architecture"), "docs user guide", "exec"), ns)
    V1, net, W = ns["V1"], ns["net"], ns["W"]
    assert len(V1["attractors"]) >= 1 and bool(V1["stable"].all())
    assert float(V1["pattern_corr"].abs().max()) > 0.5                # V1 learned its inputs
    assert ns["labels"].shape == (ns["times"].numel(),)
    a, m = net.layout.edge_W                                           # all couplings learn
    assert torch.equal(W[net.coupling.tgt, net.coupling.src], net.state[0, a:a + m])


def test_delays_example_runs():
    code = example("delays")
    ns = {}
    exec(compile(code, "README delays", "exec"), ns)
    rec = ns["rec"]
    assert rec.config["delays"]["max_lag_steps"] > 0 and len(rec) == 501


def test_links_between_the_pages_resolve():
    """Every relative link and image of the README and the docs pages names a file that exists."""
    broken = []
    for page in [README, *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (page.parent / target.split("#")[0]).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def run_example(name: str, tmp_path, monkeypatch) -> dict:
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(example(name), f"docs {name}", "exec"), ns)
    return ns


def test_graphs_example_runs(tmp_path, monkeypatch):
    ns = run_example("graphs", tmp_path, monkeypatch)
    assert ns["cp"].n_edges == 3 and sorted(ns["cp"].delay.tolist()) == [0.0, 3.0, 3.0]
    assert ns["net"].n_nodes == 12 and ns["H"].number_of_edges() == 2
    assert "('a' -> 'b')" in ns["message"] and "weight" in ns["message"]


def test_columns_example_runs(tmp_path, monkeypatch):
    ns = run_example("columns", tmp_path, monkeypatch)
    assert ns["net"].columns["bm"].m_z.tolist() == [8.0, 8.0, 8.0, 4.0, 4.0, 4.0]
    assert float(ns["col"].mu) == 0.3 and float(ns["col"].params["m_mu"]) == 2.0


def test_learning_example_runs(tmp_path, monkeypatch):
    ns = run_example("learning", tmp_path, monkeypatch)
    assert float((ns["W1"] - ns["W0"]).abs().max()) > 0.1            # the couplings learned
    assert ns["edges"]["W"].shape == (1, ns["net"].learn_idx.numel())


def test_analysis_example_runs(tmp_path, monkeypatch):
    ns = run_example("analysis", tmp_path, monkeypatch)
    assert len(ns["reps"]) == 3 and float(ns["found"]["pattern_corr"].abs().amax(1).min()) > 0.99
    assert ns["seq"][:6].tolist() == [0, 1, 2, 0, 1, 2]
    assert ns["res"]["score"] == 1.0 and ns["res"]["p"] < 0.01


def test_recordings_example_runs(tmp_path, monkeypatch):
    ns = run_example("recordings", tmp_path, monkeypatch)
    assert ns["ds"]["mu"].dims == ("time", "batch", "node")
    assert torch.equal(ns["back"]["mu"], ns["rec"]["mu"])
    assert ns["by_region"].sizes["region"] == 2


def test_checkpoint_example_resumes_to_the_same_run(tmp_path, monkeypatch):
    ns = run_example("checkpoint", tmp_path, monkeypatch)
    assert ns["saved"] and torch.equal(ns["resumed"]["mu"], ns["whole"]["mu"])


def test_performance_example_runs(tmp_path, monkeypatch):
    import columns as C
    try:
        ns = run_example("performance", tmp_path, monkeypatch)
    finally:
        C.set_threads(None)
    assert ns["net"].edges.backend == "fused"
