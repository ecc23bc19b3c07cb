"""Faults on resume with real damaged files: a truncated, garbled, empty or foreign unit file, a
missing or garbled run.json, a saved config that no longer validates, a truncated in-progress
simulate checkpoint, a comparison run that fails. Each asserts that every finished unit is still
on disk afterwards and, where the run can continue, that the resumed result equals the
uninterrupted one."""

import json
import os
import shutil

import pytest
import torch

from experiments.harness import resume
from experiments.harness.cli import main

ARGS = ["run", "multiregion", "--tiny", "--column_type=fep", "--control=false"]
UNITS = ["train__fep__cyclic__step__segment-0.pt", "train__fep__cyclic__step__segment-1.pt"]


def without_timings(d):
    if isinstance(d, dict):
        return {k: without_timings(v) for k, v in d.items()
                if k not in ("timings", "wall_s", "versions") and not k.endswith("_s")}
    if isinstance(d, list):
        return [without_timings(v) for v in d]
    return d


def results(folder):
    return without_timings(json.loads((folder / "results.json").read_text()))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    assert main([*ARGS, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """A run whose figures failed after both training units finished: its folder, kept."""
    from experiments.multiregion import figures
    out = tmp_path_factory.mktemp("stopped") / "run"
    original = figures.figures

    def broken(*a, **k):
        raise RuntimeError("figure failed")
    figures.figures = broken
    try:
        with pytest.raises(RuntimeError, match="figure failed"):
            main([*ARGS, "--out", str(out)])
    finally:
        figures.figures = original
    assert sorted(f for f in os.listdir(out / resume.FOLDER) if f.endswith(".pt")) == UNITS
    return out


@pytest.fixture
def run_copy(stopped, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(stopped, out)
    return out


def unit_files(out):
    return sorted(f for f in os.listdir(out / resume.FOLDER) if f.endswith(".pt"))


DAMAGE = {
    "truncated": lambda b: b[: len(b) // 2],
    "garbled": lambda b: b[:64] + bytes(x ^ 0x5A for x in b[64:200]) + b[200:],
    "empty": lambda b: b"",
    "text": lambda b: b"not a checkpoint\n",
}


@pytest.mark.parametrize("how", sorted(DAMAGE) + ["foreign"])
def test_an_unreadable_unit_is_named_kept_aside_and_recomputed(run_copy, reference, how):
    path = run_copy / resume.FOLDER / UNITS[0]
    if how == "foreign":
        torch.save([1, 2, 3], path)                              # a readable file of another kind
    else:
        path.write_bytes(DAMAGE[how](path.read_bytes()))
    with pytest.warns(RuntimeWarning, match=r"unit 'train/fep/cyclic/step/segment-0' could not "
                                            r"be read .* kept as .*\.unreadable and recomputed"):
        assert main(["run", "multiregion", "--out", str(run_copy), "--resume"]) == 0
    assert results(run_copy) == results(reference)
    assert not (run_copy / resume.FOLDER).exists()             # finished: the folder goes


@pytest.mark.parametrize("damage", ["missing", "garbled"])
def test_a_lost_run_description_refuses_and_keeps_every_unit(run_copy, capsys, damage):
    desc = run_copy / resume.FOLDER / "run.json"
    if damage == "missing":
        desc.unlink()
    else:
        desc.write_text('{"experiment": "multiregion", "conf')
    for extra in ([], ["--resume"]):
        assert main([*ARGS, "--out", str(run_copy), *extra]) == 2
        err = capsys.readouterr().err
        assert ("no run.json" in err or "holds no interrupted run" in err
                or "is not readable" in err), err
        assert unit_files(run_copy) == UNITS                   # nothing removed


def test_a_saved_config_that_no_longer_validates_is_named_and_kept(run_copy, capsys):
    desc = run_copy / resume.FOLDER / "run.json"
    run = json.loads(desc.read_text())
    run["config"]["n"] = 5
    desc.write_text(json.dumps(run))
    assert main(["run", "multiregion", "--out", str(run_copy), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "no longer makes a valid multiregion config" in err and "--n must be" in err
    assert unit_files(run_copy) == UNITS


def test_a_truncated_in_progress_checkpoint_restarts_its_unit(run_copy, reference):
    folder = run_copy / resume.FOLDER
    (folder / UNITS[1]).unlink()                                # segment 1 was in progress …
    (folder / UNITS[1].replace(".pt", ".sim.ckpt")).write_bytes(b"\x80\x02truncat")
    with pytest.warns(RuntimeWarning, match="the checkpoint of unit .*segment-1.* the unit restarts"):
        assert main(["run", "multiregion", "--out", str(run_copy), "--resume"]) == 0
    assert results(run_copy) == results(reference)


def test_a_failed_comparison_run_fails_the_run_and_resumes(tmp_path, capsys, monkeypatch):
    """results.json is written and names what is missing, the exit is 1, the finished units
    stay; --resume recomputes only the failed run."""
    from experiments.multiregion import study
    out = tmp_path / "run"
    args = ["run", "multiregion", "--tiny", "--column_type=fep"]
    real = study.train

    def failing(cfg, arm, order, *a, **k):
        if order == "random":
            raise RuntimeError("control diverged")
        return real(cfg, arm, order, *a, **k)
    monkeypatch.setattr(study, "train", failing)
    assert main([*args, "--out", str(out)]) == 1
    assert "fep control: RuntimeError: control diverged" in capsys.readouterr().err
    assert json.loads((out / "results.json").read_text())["incomplete"]
    kept = unit_files(out)
    assert len(kept) == 2 and all("cyclic" in f for f in kept)
    monkeypatch.undo()
    assert main(["run", "multiregion", "--out", str(out), "--resume"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert "incomplete" not in res and "control" in res["arms"]["fep"]["runs"]
    ref = tmp_path / "ref"
    assert main([*args, "--out", str(ref)]) == 0
    assert results(out) == results(ref)
