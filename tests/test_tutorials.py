"""The tutorials (docs/tutorials/*.md) run as written, step after step in one namespace, and
say what they claim: every python block is a numbered step, and each tutorial's numbers are
checked here against what its text says."""

import math
import re
from pathlib import Path

import pytest
import torch

import columns as C

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"


def run(name: str, tmp_path, monkeypatch) -> dict:
    text = (TUTORIALS / f"{name}.md").read_text()
    steps = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert steps and "```py\n" not in text
    for k, code in enumerate(steps, 1):
        assert code.startswith(f"# step {k}\n"), f"{name}: block {k} is not '# step {k}'"
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for k, code in enumerate(steps, 1):
        exec(compile(code, f"{name} step {k}", "exec"), ns)
    return ns


def test_the_notebooks_are_the_pages():
    """docs/tutorials/notebooks/*.ipynb are what make_notebooks.py writes from the pages (so the
    steps the tests run are the notebooks' code cells); rerun it after editing a page."""
    import importlib.util
    import json
    spec = importlib.util.spec_from_file_location("make_notebooks", TUTORIALS / "make_notebooks.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    want = make.expected()
    have = {p.name: p.read_text() for p in (TUTORIALS / "notebooks").glob("*.ipynb")}
    assert sorted(have) == sorted(want)
    stale = [name for name in want if have[name] != want[name]]
    assert not stale, f"run python docs/tutorials/make_notebooks.py: {stale} differ from their pages"
    for name, text in have.items():
        nb = json.loads(text)
        code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
        assert code and all(c.startswith(f"# step {k}") for k, c in enumerate(code, 1)), name


def test_every_tutorial_is_tested():
    assert {p.stem for p in TUTORIALS.glob("*.md")} == {
        "your-architecture", "spisak-friston-sim1", "connectome-delays", "sweep-xarray"}


def test_your_architecture(tmp_path, monkeypatch):
    ns = run("your-architecture", tmp_path, monkeypatch)
    V1, net, labels = ns["V1"], ns["net"], ns["labels"]
    assert len(V1["attractors"]) >= 1 and bool(V1["stable"].all())
    assert float(V1["pattern_corr"].abs().max()) > 0.5                 # V1 learned its inputs
    assert labels.shape == (ns["times"].numel(),)
    assert set(ns["asym"]["within"]) == {"V1", "V2"} and ns["asym"]["within"]["V1"] > 0
    ns = run("your-architecture", tmp_path, monkeypatch)                # run again: re-registers
    assert "leaky_tutorial" in C.known_types()


def test_spisak_friston_sim1_decorrelates_the_bars(tmp_path, monkeypatch):
    ns = run("spisak-friston-sim1", tmp_path, monkeypatch)
    assert abs(float(torch.corrcoef(ns["P"])[0, 1]) - 0.77) < 0.01
    r = ns["r"]
    assert r.numel() == 10 and float(r.median()) < 0.0                   # the paper: −0.19


def test_connectome_delays_slow_the_rhythm_as_predicted(tmp_path, monkeypatch):
    ns = run("connectome-delays", tmp_path, monkeypatch)
    m, p = ns["measured"], ns["predicted"]
    assert abs(m[math.inf] - p[math.inf]) < 0.2                         # ≈ the mean frequency
    assert m[5.0] < m[math.inf] - 0.5                                   # delays slow it
    assert abs(m[5.0] - p[5.0]) / p[5.0] < 0.05                         # phase reduction


def test_registering_a_name_twice_names_unregister():
    class Again(C.HamiltonianColumn):
        type_name = "bm"
    with pytest.raises(C.RegistryError, match=r"columns.unregister\('bm'\)"):
        C.register(Again)


@pytest.mark.slow
def test_sweep_on_dask_and_its_dataset(tmp_path, monkeypatch):
    """A real LocalCluster of two worker processes (about 10 s, hence slow: CI runs it)."""
    ns = run("sweep-xarray", tmp_path, monkeypatch)
    ds, table = ns["ds"], ns["table"]
    assert dict(ds.sizes) == {"beta": 3, "seed": 3} and (ds["status"] == "ok").all()
    assert table.loc[0.05, "median"] == 1.0                       # one attractor: too hot
    assert -0.3 < table.loc[0.1, "median"] < -0.1                  # decorrelated, as the text says
    assert table.loc[0.1, "median"] < table.loc[0.2, "median"] < 0.0
    assert ns["same"](ns["again"], ds) and ns["same"](ns["resumed"], ds)
    assert (tmp_path / "sweep_beta.png").exists()
