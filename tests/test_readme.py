"""The README's quick start and extension example run as written (so they cannot rot)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = python_blocks()[0]
    exec(compile(code, "README quick start", "exec"), {})
    assert (tmp_path / "quickstart.nc").exists() and (tmp_path / "quickstart.png").exists()


def test_extension_example_runs():
    import networkx as nx
    import torch
    import columns as C
    ns = {}
    exec(compile(python_blocks()[1], "README extension", "exec"), ns)
    G = nx.DiGraph()
    G.add_edge(0, 1, weight=0.3, learnable=True)
    G.add_edge(1, 0, weight=-0.2, learnable=True)
    for v in G:
        G.nodes[v]["type"] = "cubic"
    net = C.Network.from_graph(G, stimulus=1.0, dtype=torch.float64)
    y = net.initial_state(noise=0.3, seed=0)
    assert torch.allclose(net(torch.tensor(0.0), y), net.rhs_autograd(torch.tensor(0.0), y))
