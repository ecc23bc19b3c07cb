"""Every experiment option is checked before anything runs (``experiments.harness.config``):
each field of every experiment's Config is declared (a check or a reason it needs none), and a
table of mistakes gets ``columns run`` exit 2 with the key named, nothing created."""

import dataclasses
import importlib
import typing

import pytest

from experiments import EXPERIMENTS
from experiments.harness.cli import main


def configs():
    return {name: importlib.import_module(mod).Config for name, (mod, _) in EXPERIMENTS.items()}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_option_is_declared_and_the_presets_pass(name):
    C = configs()[name]
    C(), C.tiny()
    declared = (set(C.POSITIVE) | set(C.AT_LEAST_ONE) | set(C.NONNEGATIVE) | set(C.FRACTION)
                | set(C.CHOICES) | set(C.NONEMPTY) | set(C.UNIQUE) | set(C.UNCHECKED))
    hints = typing.get_type_hints(C)
    free = [f.name for f in dataclasses.fields(C)
            if f.name not in declared | {"seed", "device"} and hints[f.name] is not bool]
    assert not free, f"{name}: options without a declared check: {free}"
    assert set(C.UNCHECKED) <= {f.name for f in dataclasses.fields(C)}


MISTAKES = [
    ("multiregion", "--device=meta", "--device 'meta': the experiments run on cpu or cuda"),
    ("multiregion", "--device=mps", "--device 'mps'"),
    ("multiregion", "--digits=1,1,2", "--digits repeats an entry ([1])"),
    ("multiregion", "--regions=A,B,A", "--regions repeats an entry"),
    ("multiregion", "--p_within=1.5", "--p_within must be in [0, 1]"),
    ("multiregion", "--p_feedforward=-0.1", "--p_feedforward must be in [0, 1]"),
    ("multiregion", "--window=0", "--window must be >= 1"),
    ("multiregion", "--gtol=0", "--gtol must be > 0"),
    ("multiregion", "--w_alpha=-1", "--w_alpha must be >= 0"),
    ("multiregion", "--patterns=noise", "--patterns must be one of"),
    ("multiregion", "--seeds=0", "--seeds must be >= 1"),
    ("multiregion", "--gain=nan", "--gain must be a finite number"),
    ("two-region", "--method=rk5", "--method must be one of"),
    ("two-region", "--p_inter=2", "--p_inter must be in [0, 1]"),
    ("two-region", "--m_W=0", "--m_W must be > 0"),
    ("kim-papers", "--k23_method=leapfrog", "--k23_method must be one of"),
    ("kim-papers", "--k18_orbits=0", "--k18_orbits must be >= 1"),
    ("kim-papers", "--k24_t_end=-2", "--k24_t_end must be > 0"),
    ("kim-papers", "--k23_step=0", "--k23_step must be > 0"),
    ("k6-learning", "--t_switch=50", "--t_switch (50) must come before --t_end"),
    ("k6-learning", "--overlap=12", "--overlap (12) must be shorter than --window"),
    ("fep-sim2", "--dtype=float16", "--dtype must be one of"),
    ("fep-sim2", "--beta=-1", "--beta must be >= 0"),
    ("canonical-maze", "--dtype=half", "--dtype must be one of"),
    ("canonical-maze", "--backend=cupy", "--backend must be one of"),
    ("bench-engine", "--p1_dtypes=float64,bfloat16", "--p1_dtypes must be one of"),
    ("bench-engine", "--p1_sizes=1000,1000", "--p1_sizes repeats an entry"),
    ("bench-engine", "--p1_sizes=0", "--p1_sizes must be > 0"),
    ("bench-engine", "--p2_batch=0", "--p2_batch must be >= 1"),
    ("bench-fep", "--dtype=int8", "--dtype must be one of"),
    ("bench-solvers", "--stream_optimizers=adam", "--stream_optimizers must be one of"),
    ("bench-sweep", "--workers=-1", "--workers must be >= 0"),
]


@pytest.mark.parametrize("name,arg,message", MISTAKES)
def test_a_mistaken_option_exits_2_naming_it(tmp_path, capsys, name, arg, message):
    out = tmp_path / "out"
    assert main(["run", name, "--tiny", "--out", str(out), arg]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()                              # nothing created
