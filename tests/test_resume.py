"""Checkpoints and resume: an interrupted run continued from its checkpoint is bit-identical to
the uninterrupted run, for every solver; the solver contract's error cases."""

import os
import signal
import subprocess
import sys
import time

import networkx as nx
import pytest
import torch

import columns as C
import columns.analysis as A
import graphs
from columns.solvers import make_solver
from graphs.errors import RegistryError, SolverError

F64 = torch.float64


class Interrupt(Exception):
    """Stands for Ctrl-C in the middle of a run (raised from the stimulus)."""


def interrupting(fn, t_stop):
    """The stimulus ``fn`` that raises ``Interrupt`` once t passes ``t_stop`` while armed."""
    state = {"armed": True}

    def s(t):
        if state["armed"] and float(t) > t_stop:
            raise Interrupt
        return fn(t)
    return s, state


def bm_net():
    G = graphs.modular(n_regions=2, n_per_region=3, p_intra=0.7, p_inter=0.3, seed=2)
    return C.Network.from_graph(G, stimulus=lambda t: 1.0 + 0.5 * torch.sin(torch.as_tensor(t)),
                                dtype=F64)


def k6_net():
    return C.Network.from_graph(graphs.single_column(column_type="k6"),
                                stimulus=lambda t: 1.0 + 0.3 * torch.tanh(torch.as_tensor(t) - 1.0),
                                dtype=F64)


def fep_net():
    G = nx.complete_graph(6, create_using=nx.DiGraph)
    nx.set_node_attributes(G, "fep", "type")
    nx.set_edge_attributes(G, 0.0, "weight")
    nx.set_edge_attributes(G, True, "learnable")
    pats = torch.sign(torch.randn(3, 6, generator=torch.Generator().manual_seed(1), dtype=F64))
    return C.Network.from_graph(G, column_types={"fep": {"alpha": 0.05, "beta": 0.7}},
                                stimulus=lambda t: 3.0 * pats[int(float(t)) % 3], dtype=F64)


CASES = {
    "ivp-rk4": (bm_net, C.IVP(method="rk4"), torch.linspace(0, 1, 21), 4, 0.6, {}),
    "ivp-dopri5": (bm_net, C.IVP(method="dopri5"), torch.linspace(0, 1, 21), 4, 0.6, {}),
    "ivp-implicit-midpoint": (bm_net, C.IVP(method="implicit_midpoint", step_size=0.025),
                              torch.linspace(0, 1, 21), 3, 0.6, {}),
    "least_action-receding": (bm_net, C.LeastAction(window=4, overlap=2), torch.linspace(0, 1, 21),
                              64, 0.6, {}),
    "gradient": (bm_net, C.Gradient(method="rk4", step_size=0.05), torch.linspace(0, 2, 41), 4, 1.1,
                 {}),
    "riccati": (k6_net, C.Riccati(substeps=4), torch.linspace(0, 1.5, 16), 3, 0.8,
                {"mu": 0.0, "a": 0.0, "w": 0.5}),
    "step-stochastic-learning": (fep_net, C.Step(stochastic=True, seed=3),
                                 torch.arange(0, 60, dtype=F64), 7, 30.5, {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_resume_is_bit_identical(case, tmp_path):
    make, solver, t, chunk, t_stop, values = CASES[case]
    t = t.to(F64)
    ref_net = make()
    y0 = ref_net.initial_state(batch=2, values=values, noise=0.05, seed=4)
    if case == "riccati":                              # near the MAP estimate (a stable manifold)
        (fp,) = [f for f in A.find_fixed_points(ref_net, n_starts=8) if f.U_morse_index == 0][:1]
        y0 = fp.y.unsqueeze(0).expand(2, -1) + 0.02 * torch.randn(
            2, fp.y.numel(), generator=torch.Generator().manual_seed(5), dtype=F64)
    ref = C.simulate(ref_net, t, y0=y0, solver=solver, chunk=chunk)

    net = make()
    fn = net.stimulus.fn
    s, arm = interrupting(fn, t_stop)
    net.set_stimulus(s)
    path = tmp_path / "run.ckpt"
    with pytest.raises(Interrupt):
        C.simulate(net, t, y0=y0, solver=solver, chunk=chunk, checkpoint=path)
    assert path.exists()
    arm["armed"] = False
    rec = C.simulate(net, t, y0=y0, solver=solver, chunk=chunk, checkpoint=path, resume=path)
    for f in ref.fields:
        assert torch.equal(rec[f], ref[f]), f
    assert torch.equal(net.state, ref_net.state)
    for key in ("solver_windows", "solver_iterations_max", "solver_converged"):
        assert rec.config.get(key) == ref.config.get(key)


def test_resume_true_starts_afresh_without_a_checkpoint_and_refuses_another_run(tmp_path):
    net, t = bm_net(), torch.linspace(0, 1, 11, dtype=F64)
    path = tmp_path / "c.ckpt"
    a = C.simulate(net, t, method="rk4", chunk=3, checkpoint=path, resume=True, update_state=False)
    b = C.simulate(net, t, method="rk4", chunk=3, checkpoint=path, resume=True, update_state=False)
    assert torch.equal(a["mu"], b["mu"])                   # the second call resumed a finished run
    with pytest.raises(SolverError, match="different run: solver option 'method' differs"):
        C.simulate(net, t, method="euler", chunk=3, resume=path)
    with pytest.raises(SolverError, match="different run: grid differs"):
        C.simulate(net, torch.linspace(0, 2, 11, dtype=F64), method="rk4", chunk=3, resume=path)
    with pytest.raises(SolverError, match="no checkpoint at"):
        C.simulate(net, t, method="rk4", resume=tmp_path / "missing.ckpt")


KILLED_RUN = r"""
import sys, time, torch, networkx as nx
import columns as C
sys.path.insert(0, {tests!r})
from test_resume import fep_net
net = fep_net()
fn = net.stimulus.fn
def slow(t):
    time.sleep(0.01)
    return fn(t)
net.set_stimulus(slow)
C.simulate(net, torch.arange(0, 300, dtype=torch.float64), y0=net.initial_state(batch=2, noise=0.05,
           seed=4), solver=C.Step(seed=3), chunk=5, checkpoint={path!r})
"""


def test_a_run_killed_by_sigkill_resumes_from_its_last_checkpoint(tmp_path):
    path = str(tmp_path / "killed.ckpt")
    code = KILLED_RUN.format(tests=os.path.dirname(__file__), path=path)
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (os.path.exists(path) and os.path.getsize(path) > 0):
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.05)
        time.sleep(0.3)                                 # a few more chunks, then a hard kill
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    t = torch.arange(0, 300, dtype=F64)
    net = fep_net()
    y0 = net.initial_state(batch=2, noise=0.05, seed=4)
    rec = C.simulate(net, t, y0=y0, solver=C.Step(seed=3), chunk=5, resume=path)
    ref = C.simulate(fep_net(), t, y0=y0, solver=C.Step(seed=3), chunk=5)
    assert torch.equal(rec["sigma"], ref["sigma"]) and torch.equal(rec["W"], ref["W"])


def test_unknown_solver_options_are_named():
    with pytest.raises(SolverError, match=r"LeastAction: unknown option\(s\) \['windw'\]"):
        C.LeastAction(windw=4)
    with pytest.raises(SolverError, match=r"IVP: unknown option\(s\) \['window'\]"):
        C.simulate(bm_net(), [0.0, 1.0], solver="ivp", window=4)
    with pytest.raises(SolverError, match="pass them to its constructor"):
        make_solver(C.IVP(), {"method": "rk4"})
    with pytest.raises(SolverError, match="unknown ivp method 'rk45'"):
        C.IVP(method="rk45")
    assert repr(C.LeastAction(window=4)) == "LeastAction(window=4, overlap=2)"


def test_registering_twice_or_without_type_name_is_an_error():
    with pytest.raises(RegistryError, match="'bm' is already registered"):
        @C.register
        class AnotherBM(C.NetworkBMColumn):
            type_name = "bm"
    with pytest.raises(RegistryError, match="has no type_name"):
        @C.register
        class Nameless(C.HamiltonianColumn):
            positions = ("mu",)
    with pytest.raises(RegistryError, match="not a ColumnType subclass"):
        C.register(dict)

    @C.register
    class Once(C.NetworkBMColumn):
        type_name = "once-for-this-test"
    try:
        G = graphs.single_column(column_type="once-for-this-test")
        assert isinstance(C.Network.from_graph(G).columns["once-for-this-test"], Once)
    finally:
        C.unregister("once-for-this-test")
