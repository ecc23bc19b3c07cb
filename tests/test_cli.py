"""The CLI and the default run (tiny preset)."""

import json

import columns as C
from experiments.cli import main


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
