"""``columns sweep``: real Dask schedulers (in-process, and as subprocesses on 127.0.0.1), faults,
resume, bad input. The experiment is fep-sim1's tiny preset (a point is about a second)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from experiments.harness.cli import main
from experiments.harness.sweep import SweepError, dataset, load, sweep
from graphs.errors import ConfigError

GRID = {"beta": ["0.05", "0.1"], "rule": ["code", "bogus"]}


def same(a, b):
    assert dataset.same(a, b)


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    ds = sweep("fep-sim1", GRID, 2, out=str(out), tiny=True, scheduler="serial", progress=False,
               threads=1)
    return ds, out


def test_serial_sweep_dataset_report_and_a_failing_point(serial):
    ds, out = serial
    assert ds["status"].dims == ("beta", "rule", "seed") and ds.sizes == {"beta": 2, "rule": 2, "seed": 2}
    assert ds["beta"].values.tolist() == [0.05, 0.1] and ds["seed"].values.tolist() == [0, 1]
    st = ds["status"].values
    assert (st[:, 0] == "ok").all() and (st[:, 1] == "failed").all()
    assert all("rule must be one of" in e for e in ds["error"].values[:, 1].ravel())
    corr = ds["attractor_vs_pattern_corr.median"]
    assert np.isnan(corr.values[:, 1]).all() and np.isfinite(corr.values[:, 0]).all()
    with open(out / "beta=0.1__rule=code__seed=1" / "results.json") as f:   # the point's own file
        res = json.load(f)
    assert res["config"]["beta"] == 0.1 and res["seed"] == 5   # sweep seed 1 × the batch of 5
    assert corr.sel(beta=0.1, rule="code", seed=1) == res["attractor_vs_pattern_corr"]["median"]
    assert ds["asymmetry.values.0"].sel(beta=0.1, rule="code", seed=1) == res["asymmetry"]["values"][0]
    same(load(out / "sweep.nc"), ds)
    md = (out / "sweep.md").read_text()
    assert "4 ok, 4 failed" in md and "## Failed points" in md
    assert "- beta = 0.05, rule = bogus, seed 1: ParameterError: FEPRuns: rule must be one of" in md
    assert (out / "sweep_attractor_vs_pattern_corr.median.png").stat().st_size > 1000
    assert "rule must be one of" in (out / "beta=0.05__rule=bogus__seed=0" / "run.log").read_text()


def test_in_process_local_cluster_equals_serial(serial, tmp_path):
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        ds = sweep("fep-sim1", GRID, 2, out=str(tmp_path), tiny=True, client=client, progress=False)
    same(ds, serial[0])


def test_resume_skips_finished_points_and_gives_the_same_dataset(serial, tmp_path):
    first = sweep("fep-sim1", {"beta": ["0.05"]}, 1, out=str(tmp_path / "a"), tiny=True,
                  scheduler="serial", progress=False, threads=1)
    assert first["status"].values.ravel().tolist() == ["ok"]
    # a sweep interrupted after some points: their folders are complete, the others are absent
    # or half-written (no point.json); the same sweep again runs only the missing ones
    ds0 = sweep("fep-sim1", GRID, 2, out=str(tmp_path / "b"), tiny=True, scheduler="serial",
                progress=False, threads=1)
    done = tmp_path / "b" / "beta=0.05__rule=code__seed=0"
    stamp = os.stat(done / "results.json").st_mtime_ns
    half = tmp_path / "b" / "beta=0.1__rule=code__seed=1"
    os.remove(half / "point.json")
    ds1 = sweep("fep-sim1", GRID, 2, out=str(tmp_path / "b"), tiny=True, scheduler="serial",
                progress=False, threads=1)
    assert os.stat(done / "results.json").st_mtime_ns == stamp          # not re-run
    assert (half / "point.json").exists()
    same(ds1, ds0)
    same(ds1, serial[0])
    with pytest.raises(SweepError, match="holds a different sweep"):
        sweep("fep-sim1", {"beta": ["0.2"]}, 1, out=str(tmp_path / "b"), tiny=True, scheduler="serial")


@pytest.mark.parametrize("call, exc, fragment", [
    (lambda o: sweep("fep-sim9", {"beta": [1]}, out=o), ConfigError, "unknown experiment 'fep-sim9'"),
    (lambda o: sweep("fep-sim1", {"bta": [1]}, out=o), ConfigError, "unknown grid key 'bta'"),
    (lambda o: sweep("fep-sim1", {"bta": [1]}, out=o), ConfigError, "'beta'"),
    (lambda o: sweep("fep-sim1", {"beta": ["x"]}, out=o), ConfigError, "--beta expects float, got 'x'"),
    (lambda o: sweep("fep-sim1", {"epochs": [1.5]}, out=o), ConfigError, "--epochs expects int"),
    (lambda o: sweep("fep-sim1", {"beta": []}, out=o), ConfigError, "has no values"),
    (lambda o: sweep("fep-sim1", {}, 1, out=o), ConfigError, "empty grid"),
    (lambda o: sweep("fep-sim1", {"seed": [1, 2]}, out=o), ConfigError, "sweep's own dimension"),
    (lambda o: sweep("fep-sim1", {"beta": [1, 1.0]}, out=o), ConfigError, "repeats a value"),
    (lambda o: sweep("fep-sim1", {"beta": [1]}, 0, out=o), ConfigError, "seeds must be at least 1"),
    (lambda o: sweep("fep-sim1", {"beta": [1]}, [1, 1], out=o), ConfigError, "seeds repeat"),
    (lambda o: sweep("fep-sim1", {"beta": [1]}, fixed={"nope": 1}, out=o), ConfigError,
     "unknown config key 'nope'"),
    (lambda o: sweep("fep-sim1", {"beta": [1]}, scheduler="localhost", out=o), SweepError,
     "expects an address such as tcp://host:8786"),
])
def test_bad_input_is_named(call, exc, fragment, tmp_path):
    with pytest.raises(exc, match=None) as info:
        call(str(tmp_path))
    assert fragment in str(info.value)
    assert not list(tmp_path.glob("*=*"))               # nothing ran


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_an_error_within_the_timeout(tmp_path, capsys):
    t0 = time.perf_counter()
    rc = main(["sweep", "fep-sim1", "--tiny", "--grid", "beta=0.1", "--seeds", "2", "--out",
               str(tmp_path), "--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--timeout", "2"])
    assert rc == 2 and time.perf_counter() - t0 < 30
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in capsys.readouterr().err


def test_cli_grid_parsing_and_exit_codes(tmp_path, capsys):
    assert main(["sweep", "fep-sim1", "--tiny", "--grid", "beta", "--out", str(tmp_path)]) == 2
    assert "--grid expects key=v1,v2" in capsys.readouterr().err
    assert main(["sweep", "fep-sim1", "--tiny", "--grid", "beta=1", "--grid", "beta=2",
                 "--out", str(tmp_path)]) == 2
    assert "given twice" in capsys.readouterr().err
    assert main(["sweep", "fep-sim1", "--tiny", "--grid", "beta=0.1", "--seeds", "a",
                 "--out", str(tmp_path)]) == 2
    assert "--seeds expects a count" in capsys.readouterr().err


# --- a real cluster as processes: `dask scheduler` and two `dask worker` on 127.0.0.1 ----------

@pytest.fixture(scope="module")
def cluster():
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
           "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}
    bindir = os.path.dirname(sys.executable)
    dask = os.path.join(bindir, "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen([dask, "worker", addr, "--nthreads", "1", "--no-dashboard",
                                "--name", f"w{i}"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL) for i in range(2)]
    from dask.distributed import Client
    try:
        deadline = time.time() + 60
        while True:
            try:
                with Client(addr, timeout=2) as c:
                    c.wait_for_workers(2, timeout=60)
                break
            except (OSError, TimeoutError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield addr
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.mark.slow
def test_subprocess_cluster_through_the_cli_equals_serial(cluster, serial, tmp_path):
    rc = main(["sweep", "fep-sim1", "--tiny", "--grid", "beta=0.05,0.1", "--grid", "rule=code,bogus",
               "--seeds", "2", "--out", str(tmp_path), "--scheduler", cluster])
    assert rc == 0
    same(load(tmp_path / "sweep.nc"), serial[0])


def _sweep_killing(cluster, out, kills: int):
    """A one-point sweep through the CLI whose worker process is killed (SIGKILL) ``kills``
    times while it runs the point; returns (exit code, stdout, stderr, the pids killed)."""
    cmd = [sys.executable, "-m", "experiments.harness.cli", "sweep", "fep-sim1", "--grid", "beta=0.1",
           "--seeds=1", "--out", str(out), "--scheduler", cluster]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker, killed = out / "beta=0.1__seed=0" / "running.json", []
    deadline = time.time() + 240
    while proc.poll() is None and time.time() < deadline:
        try:
            with open(marker) as f:
                pid = json.load(f)["pid"]
        except (OSError, ValueError):
            pid = None
        if pid is not None and len(killed) < kills and pid not in killed:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.05)
    stdout, stderr = proc.communicate(timeout=60)
    return proc.returncode, stdout, stderr, killed


@pytest.mark.slow
def test_killed_worker_is_retried_once_then_recorded(cluster, tmp_path):
    rc, out, err, killed = _sweep_killing(cluster, tmp_path / "once", 1)
    assert rc == 0 and len(killed) == 1, err
    ds = load(tmp_path / "once" / "sweep.nc")
    assert ds["status"].values.ravel().tolist() == ["ok"] and "1 ok, 0 failed" in out
    rc, out, err, killed = _sweep_killing(cluster, tmp_path / "twice", 2)
    assert rc == 1 and len(set(killed)) == 2, err          # its only point failed: exit 1
    assert "every point of the sweep failed" in err
    ds = load(tmp_path / "twice" / "sweep.nc")
    assert ds["status"].values.ravel().tolist() == ["failed"] and "0 ok, 1 failed" in out
    assert "KilledWorker" in str(ds["error"].values.ravel()[0])
    assert "KilledWorker" in (tmp_path / "twice" / "sweep.md").read_text()


@pytest.mark.slow
def test_ctrl_c_keeps_finished_points_and_resume_completes(serial, tmp_path):
    """A real SIGINT to a CLI sweep on the embedded cluster, after some points finished: every
    finished folder is complete, sweep.nc agrees with them, and the same command finishes the
    sweep with the dataset of an uninterrupted one."""
    cmd = [sys.executable, "-m", "experiments.harness.cli", "sweep", "fep-sim1", "--tiny",
           "--grid", "beta=0.05,0.1", "--grid", "rule=code,bogus", "--seeds", "2", "--out",
           str(tmp_path), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 120
    while len(list(tmp_path.glob("*/point.json"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)                 # what Ctrl-C in a terminal does
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "the same command resumes the sweep" in err
    part = load(tmp_path / "sweep.nc")
    finished = {p.parent.name for p in tmp_path.glob("*/point.json")}
    assert 2 <= len(finished) < 8
    st = part["status"].values
    assert int((st != "pending").sum()) == len(finished)
    for name in finished:
        assert (tmp_path / name / "results.json").exists() or "bogus" in name
    assert main(cmd[3:]) == 0
    same(load(tmp_path / "sweep.nc"), serial[0])


def test_grid_points_order_folders_and_aliases():
    from experiments import multiregion
    from experiments.harness.sweep import points
    pts, coords = points(multiregion, {"n_per_region": ["4", "16"], "digits": ["1:2", "2:1"]}, 2)
    assert coords == {"n": [4, 16], "digits": ["1,2", "2,1"]}
    assert [p.name for p in pts[:3]] == ["n=4__digits=1_2__seed=0", "n=4__digits=1_2__seed=1",
                                         "n=4__digits=2_1__seed=0"]
    assert len(pts) == 8 and pts[-1].raw == (("n", "16"), ("digits", "2,1")) and pts[-1].seed == 1
    with pytest.raises(ConfigError, match="given twice"):
        points(multiregion, {"n_per_region": ["4"], "n": ["16"]}, 1)
