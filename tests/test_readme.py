"""The README's and the documentation pages' code runs as written (so it cannot rot): every
```python and ```py block starts with ``# example: NAME`` and is found by that name, not by its
position; every named block runs here, but the one named in ``NOT_RUN`` with its reason."""

import re
from pathlib import Path

from columns import energy

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = {"sweep": "starts a Dask cluster of one worker per core: tests/test_sweep.py runs the "
                    "same call on real clusters"}
RUN = {"quick-start", "solvers", "extension", "fep", "fep-graph", "canonical",
       "your-architecture", "delays"}


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
