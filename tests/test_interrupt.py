"""Interrupt and resume an experiment (``experiments.resume``): units of work survive Ctrl-C,
SIGTERM and failures; ``--resume`` continues to the uninterrupted run's results bit for bit.

The subprocess tests (real ``columns run --tiny`` processes sent real SIGINT and SIGTERM in the
middle of training) are slow and run in ``.ci/run``; the rest is in the default suite."""

import glob
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import columns as C
import graphs
from experiments.harness import resume
from experiments.harness.cli import main
from graphs.errors import ConfigError

F64 = torch.float64


def work(out, stop_after=None):
    """A three-unit computation drawing from the global RNG between and inside units; raises
    KeyboardInterrupt after unit ``stop_after``."""
    torch.manual_seed(5)
    values = []
    for i in range(3):
        values.append(resume.unit(f"part/{i}", lambda i=i: {"x": torch.randn(4) + i}))
        values.append(torch.rand(2))                     # between units: needs the RNG restored
        if stop_after == i:
            raise KeyboardInterrupt
    return values


def test_units_resume_to_the_same_values_and_rng(tmp_path):
    ref = work(tmp_path)                                  # no store: plain calls
    store = resume.Store(str(tmp_path / "a"), "demo", {"k": 1})
    with resume.active(store), pytest.raises(KeyboardInterrupt):
        work(tmp_path, stop_after=1)
    store.stopped(KeyboardInterrupt(), "again")
    partial = json.loads((tmp_path / "a" / resume.PARTIAL).read_text())
    assert partial["status"] == "interrupted" and partial["units_done"] == ["part/0", "part/1"]
    assert partial["unit_in_progress"] is None and partial["resume"] == "again"
    again = resume.Store(str(tmp_path / "a"), "demo", {"k": 1}, resume=True)
    with resume.active(again):
        got = work(tmp_path)
    assert again.loaded == ["part/0", "part/1"] and again.done == ["part/0", "part/1", "part/2"]
    for a, b in zip(ref, got):
        a, b = (a["x"], b["x"]) if isinstance(a, dict) else (a, b)
        assert torch.equal(a, b)
    again.finished()
    assert not (tmp_path / "a" / resume.FOLDER).exists()
    assert not (tmp_path / "a" / resume.PARTIAL).exists()


def test_store_refusals_name_the_problem(tmp_path):
    out = str(tmp_path / "r")
    with pytest.raises(ConfigError, match="holds no interrupted run"):
        resume.Store(out, "demo", {"k": 1}, resume=True)
    store = resume.Store(out, "demo", {"k": 1, "t": (1, 2)})
    with resume.active(store):
        resume.unit("a", lambda: 1)
    store.stopped(KeyboardInterrupt(), "cmd")
    with pytest.raises(ConfigError, match="holds an unfinished demo run.*--resume"):
        resume.Store(out, "demo", {"k": 1, "t": (1, 2)})
    with pytest.raises(ConfigError, match=r"--k=1 there, 2 here"):
        resume.Store(out, "demo", {"k": 2, "t": (1, 2)}, resume=True)
    with pytest.raises(ConfigError, match="experiment 'demo', not 'other'"):
        resume.Store(out, "other", {"k": 1, "t": (1, 2)}, resume=True)
    resume.Store(out, "demo", {"k": 1, "t": (1, 2)}, resume=True)   # tuples compare as lists
    with pytest.raises(ValueError, match="unit key"):
        store.path("../x", ".pt")


def test_a_stop_with_nothing_done_leaves_nothing_to_resume(tmp_path):
    store = resume.Store(str(tmp_path), "demo", {})
    assert store.stopped(ConfigError("bad value"), "cmd") is None
    assert not (tmp_path / resume.FOLDER).exists() and not (tmp_path / resume.PARTIAL).exists()
    resume.Store(str(tmp_path), "demo", {})               # a new run may start there


def test_an_experiments_own_partial_results_survive_a_stop_without_units(tmp_path):
    """canonical-maze writes results_partial.json itself every block of trials (it has no
    units): an interrupt must not delete it."""
    store = resume.Store(str(tmp_path), "canonical-maze", {})
    (tmp_path / resume.PARTIAL).write_text('{"trials_done": 30}')
    assert store.stopped(KeyboardInterrupt(), "cmd") is None
    assert (tmp_path / resume.PARTIAL).read_text() == '{"trials_done": 30}'
    assert not (tmp_path / resume.FOLDER).exists()


def test_simulate_saves_its_checkpoint_on_an_interrupt_and_resumes_bit_identically(tmp_path):
    G = graphs.modular(n_regions=2, n_per_region=3, p_intra=0.7, p_inter=0.3, seed=2)
    armed = {"on": True}

    def stimulus(t):
        if armed["on"] and float(t) > 0.6:
            raise KeyboardInterrupt                       # Ctrl-C in the middle of a chunk
        return 1.0 + 0.5 * torch.sin(torch.as_tensor(t))
    net = C.Network.from_graph(G, stimulus=stimulus, dtype=F64)
    t = torch.linspace(0, 1, 21, dtype=F64)
    y0 = net.initial_state(batch=2, noise=0.05, seed=4)
    armed["on"] = False
    ref = C.simulate(net, t, y0=y0, method="rk4", chunk=4)
    armed["on"] = True
    path = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        C.simulate(net, t, y0=y0, method="rk4", chunk=4, checkpoint=path, checkpoint_every=100)
    data = torch.load(path, weights_only=False)
    assert data["k"] == 12                                # the last finished chunk: t = 0.6
    armed["on"] = False
    got = C.simulate(net, t, y0=y0, method="rk4", chunk=4, checkpoint=path, resume=True)
    for f in ref.fields:
        assert torch.equal(ref.fields[f], got.fields[f]), f


def test_cli_resume_errors_exit_2(tmp_path, capsys):
    out = str(tmp_path / "x")
    assert main(["run", "two-region", "--tiny", "--out", out, "--resume"]) == 2
    assert "holds no interrupted run" in capsys.readouterr().err
    assert main(["run", "two-region", "--tiny", "--out", out, "--t_end=-1"]) == 2
    assert not os.path.exists(os.path.join(out, resume.FOLDER))   # nothing done: nothing kept


def test_a_failure_after_finished_units_is_kept_and_resumable(tmp_path, monkeypatch):
    """A failing figure (after training) keeps the trained units; --resume re-runs only what
    failed and gives the uninterrupted results."""
    from experiments import multiregion
    from experiments.multiregion import figures as multiregion_figures
    args = ["run", "multiregion", "--tiny", "--column_type=fep", "--control=false"]
    ref = tmp_path / "ref"
    assert main([*args, "--out", str(ref)]) == 0
    out = tmp_path / "failing"

    def broken(*a, **k):
        raise RuntimeError("figure failed")
    monkeypatch.setattr(multiregion_figures, "figures", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        main([*args, "--out", str(out)])
    partial = json.loads((out / resume.PARTIAL).read_text())
    assert partial["status"] == "failed" and "figure failed" in partial["error"]
    assert partial["units_done"] == ["train/fep/cyclic/step/segment-0",
                                     "train/fep/cyclic/step/segment-1"]
    monkeypatch.undo()
    assert main(["run", "multiregion", "--out", str(out), "--resume"]) == 0
    assert same_results(out / "results.json", ref / "results.json")
    assert (out / "recording_fep.nc").read_bytes() == (ref / "recording_fep.nc").read_bytes()
    assert not (out / resume.PARTIAL).exists() and not (out / resume.FOLDER).exists()
    del multiregion


def test_sequence_asymmetry_interrupted_after_two_seeds_resumes_to_the_same_results(tmp_path,
                                                                                   monkeypatch):
    """Ctrl-C (KeyboardInterrupt) inside the third training run: the two finished seeds are kept,
    --resume trains only the rest and gives the uninterrupted results.json."""
    from experiments.kim import sequence_asymmetry as sa
    ref, out = tmp_path / "ref", tmp_path / "cut"
    assert main(["run", "sequence-asymmetry", "--tiny", "--out", str(ref)]) == 0
    calls, train, resumed = [], sa.train, False

    def interrupted(*a, **k):
        calls.append(a[1:4])
        if len(calls) == 3 and not resumed:
            raise KeyboardInterrupt
        return train(*a, **k)
    monkeypatch.setattr(sa, "train", interrupted)
    assert main(["run", "sequence-asymmetry", "--tiny", "--out", str(out)]) == 130
    partial = json.loads((out / resume.PARTIAL).read_text())
    assert partial["status"] == "interrupted" and partial["units_done"] == [
        "least_action_cyclic/seed-0", "least_action_cyclic/seed-1"]
    calls.clear()
    resumed = True
    assert main(["run", "sequence-asymmetry", "--out", str(out), "--resume"]) == 0
    assert len(calls) == 4                          # 3 conditions × 2 seeds, 2 of them loaded
    assert same_results(out / "results.json", ref / "results.json")


def without_timings(x):
    """results.json without wall times (``timings`` and keys ending in ``_s``)."""
    if isinstance(x, dict):
        return {k: without_timings(v) for k, v in x.items()
                if k != "timings" and not k.endswith("_s")}
    if isinstance(x, list):
        return [without_timings(v) for v in x]
    return "nan" if isinstance(x, float) and math.isnan(x) else x


def same_results(a, b) -> bool:
    load = lambda p: without_timings(json.loads(open(p).read()))   # noqa: E731
    return load(a) == load(b)


# --- real processes, real signals (slow: .ci/run) -----------------------------------------------

def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def psutil_children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                kids.append(int(d))
    return kids


COLUMNS = [sys.executable, "-m", "experiments.harness.cli"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "run"
    subprocess.run([*COLUMNS, "run", "--tiny", "--out", str(out)], check=True,
                   capture_output=True, timeout=600)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sig, jobs",
                         [(signal.SIGINT, 2), (signal.SIGTERM, 2), (signal.SIGTERM, 1)],
                         ids=["SIGINT-workers", "SIGTERM-workers", "SIGTERM-one-process"])
def test_columns_run_interrupted_mid_training_resumes_to_the_same_files(sig, jobs, uninterrupted,
                                                                       tmp_path):
    """The signal goes to the main process only (as from ``kill``); with worker processes it
    stops them (each saves its unit in progress) and the resumed run trains side by side again."""
    out = tmp_path / "run"
    proc = subprocess.Popen([*COLUMNS, "run", "--tiny", f"--jobs={jobs}", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not glob.glob(str(out / resume.FOLDER / "*.sim.ckpt")) and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(0.3)                                   # into the next chunks of the segment
    kids = psutil_children(proc.pid)
    assert len(kids) >= jobs if jobs > 1 else True, kids
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "columns: interrupted" in err and "--resume" in err
    partial = json.loads((out / resume.PARTIAL).read_text())
    print(json.dumps({k: v for k, v in partial.items() if k != "config"}, indent=1))
    assert partial["status"] == "interrupted" and partial["unit_in_progress"].startswith("train/")
    assert not (out / "results.json").exists()
    deadline = time.time() + 5                        # the workers end with the main process
    while [k for k in kids if alive(k)] and time.time() < deadline:
        time.sleep(0.1)
    assert not [k for k in kids if alive(k)], "a worker outlived the interrupt"
    done = subprocess.run([*COLUMNS, "run", "--out", str(out), "--resume"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    drop_jobs = lambda p: {**json.loads(p.read_text()), "config": None}   # noqa: E731
    assert without_timings(drop_jobs(out / "results.json")) == \
        without_timings(drop_jobs(uninterrupted / "results.json"))
    for name in ("recording_bm.nc", "recording_fep.nc"):
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes(), name
    assert not (out / resume.FOLDER).exists() and not (out / resume.PARTIAL).exists()
