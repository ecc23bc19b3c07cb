"""The CLI and the default run (tiny preset)."""

import json

import pytest

import columns as C
from experiments.harness.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "two-region" in out and "bench-engine" in out and "multiregion" in out
    assert "(default)" in [line for line in out.splitlines() if line.startswith("multiregion")][0]


def test_two_region_tiny(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "two-region", "--tiny", "--out", str(out), "--seed", "3", "--t_end=4"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["experiment"] == "two-region" and res["seed"] == 3 and res["config"]["t_end"] == 4.0
    assert res["status"] in ("complete", "diverged")
    assert (out / "phase_portrait.png").stat().st_size > 1000
    rec = C.Recording.load(out / "recording.nc")
    assert len(rec) == res["samples"] and abs(float(rec.t[-1]) - res["t_last"]) < 1e-12


def test_bad_key_exits_2(tmp_path, capsys):
    assert main(["run", "--tiny", "--out", str(tmp_path), "--nonsense=1"]) == 2
    assert "unknown config key 'nonsense'" in capsys.readouterr().err


def test_config_alias_names_the_same_key():
    from experiments import multiregion
    from experiments.harness.runner import make_config
    cfg = make_config(multiregion, tiny=True, overrides={"n_per_region": "16"})
    assert cfg.n == 16 and make_config(multiregion, overrides={"n": "16"}).n == 16


def test_help_config_gives_every_key_its_type_default_and_meaning(capsys):
    import dataclasses

    from experiments import EXPERIMENTS
    from experiments.harness.runner import load
    for name in EXPERIMENTS:
        assert main(["run", name, "--help-config"]) == 0
        text = capsys.readouterr().out
        lines = text.splitlines()[1:]
        fields = dataclasses.fields(load(name).Config)
        assert len(lines) == len(fields), name
        for f, line in zip(fields, lines):
            assert line.strip().startswith(f"--{f.name}=") and "(undocumented)" not in line, line
            assert line.split("): ", 1)[1].strip(), line              # a meaning after the type


def test_threads_and_the_final_line(tmp_path, capsys):
    from experiments.harness.cli import threads
    assert threads("auto") == "auto" and threads("3") == 3
    assert main(["run", "two-region", "--tiny", "--threads=0", "--out", str(tmp_path)]) == 2
    assert "--threads must be a positive integer or auto" in capsys.readouterr().err
    out = tmp_path / "tr"
    assert main(["run", "two-region", "--tiny", "--threads=1", "--t_end=2", "--out", str(out)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "1 thread)" in last and last.endswith(str(out / "phase_portrait.png"))
    assert main(["run", "two-region", "--tiny", "--t_end=2", "--out", str(tmp_path / "a")]) == 0
    assert "auto: " in capsys.readouterr().out.strip().splitlines()[-1]


@pytest.mark.parametrize("args, fragment", [
    (["--t_end=nan"], "--t_end must be a finite number, got nan"),
    (["--t_end=-1"], "--t_end must be > 0, got -1.0"),
    (["--dt_record=0"], "--dt_record must be > 0, got 0.0"),
    (["--device", "banana"], "--device 'banana': the experiments run on cpu or cuda"),
    (["--seed", "-1"], "--seed must be an integer >= 0, got -1"),
    (["--t_end=abc"], "--t_end expects float, got 'abc'"),
])
def test_user_mistakes_exit_2_with_the_key_named(args, fragment, tmp_path, capsys):
    assert main(["run", "two-region", "--tiny", "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("columns: error: ") and fragment in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()                   # nothing half-made


def test_out_on_an_existing_file_is_named(tmp_path, capsys):
    f = tmp_path / "a_file"
    f.write_text("keep me")
    assert main(["run", "two-region", "--tiny", "--out", str(f)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err and f.read_text() == "keep me"
    assert main(["sweep", "fep-sim1", "--tiny", "--seeds", "2", "--out", str(f)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_interrupted_run_exits_130_without_a_traceback(sig, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "experiments.harness.cli", "run", "fep-sim4",
                             "--out", str(out), "--threads=1"],          # ~45 s uninterrupted
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not out.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(3.0)                    # inside the integration (past numba's first compile)
    os.kill(proc.pid, getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-3000:]
    assert "columns: interrupted" in err and "Traceback" not in err


def test_help_and_list_answer_without_importing_torch_numba_or_dask():
    """``columns --help``, ``columns run --help``, ``columns list`` and ``--help-config`` import
    no heavy library (they answered in 1.5 s on an idle machine and 14–18 s on a loaded one
    when they did)."""
    import subprocess
    import sys
    code = ("import sys\nfrom experiments.harness.cli import main\n"
            "for argv in (['--help'], ['run', '--help'], ['sweep', '--help'], ['list'],\n"
            "             ['run', '--help-config'], ['run', 'bench-engine', '--help-config']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('torch', 'numba', 'dask', 'networkx', 'numpy') "
            "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "multiregion" in out.stdout and "usage: columns" in out.stdout
    assert "--n=64  (int)" in out.stdout and "--p2_seconds=" in out.stdout


def test_help_config_from_the_source_equals_the_imported_class():
    """The text read from the source (no import) is the one built from the imported Config,
    for every experiment (none falls back to importing)."""
    from experiments import EXPERIMENTS
    from experiments.harness.cli import help_config
    from experiments.harness.config_help import static_help
    from experiments.harness.runner import load
    for name, (module, _) in EXPERIMENTS.items():
        assert static_help(module) == help_config(load(name)), name


def test_a_misspelt_experiment_is_named_with_the_closest_names(capsys):
    assert main(["run", "multiregon"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'multiregon'; did you mean 'multiregion'" in err
    assert main(["sweep", "fepsim2", "--grid", "fep_beta=1"]) == 2
    assert "did you mean 'fep-sim2'" in capsys.readouterr().err
    assert main(["run", "zzz"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "'columns list' names all" in err


def test_run_help_names_the_experiment_argument_and_key_value_options(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "NAME" in out and "columns list" in out and "--key=value" in out
