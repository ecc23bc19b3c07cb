"""The engine's thread count: the count a user sets is the count that runs, for torch and numba
alike, for the whole run; small problems run on one thread; ``auto`` follows the cores that other
processes (real CPU-bound subprocesses here) leave free."""

import subprocess
import sys
import time

import pytest
import torch

import columns as C
import graphs
from columns import threads
from columns.coupling import kernels

FRESH = """
import torch
torch.set_num_threads(1)                      # the user's choice, before numba's pool exists
import numba
import columns as C, graphs
G = graphs.modular(n_regions=2, n_per_region=4, p_intra=0.6, p_inter=0.2, seed=0)
net = C.Network.from_graph(G, stimulus=1.0, dtype=torch.float64)
y = net.initial_state(batch=2, noise=0.1, seed=0)
with torch.no_grad():
    net(torch.tensor(0.0, dtype=torch.float64), y)          # a fused-kernel call
C.simulate(net, torch.linspace(0, 1, 11, dtype=torch.float64), method="rk4")
print(torch.get_num_threads(), numba.get_num_threads(), numba.threading_layer())
"""


@pytest.mark.skipif(threads.cores() < 2, reason="one core: nothing to reset")
def test_the_count_set_before_numba_starts_is_the_count_after_kernels_and_simulate():
    out = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    torch_n, numba_n, layer = out.stdout.split()
    assert (int(torch_n), int(numba_n)) == (1, 1), out.stdout


def test_set_threads_fixes_torch_and_numba_through_a_run():
    before = torch.get_num_threads()
    G = graphs.random_directed(300, p=0.1, learnable=True, seed=1)
    net = C.Network.from_graph(G, stimulus=1.0, dtype=torch.float64)
    y = net.initial_state(batch=64, noise=0.1, seed=0)          # large: no one-thread cap
    try:
        assert threads.set_threads(1) == 1
        torch.set_num_threads(2)                    # overruled at the next dynamics call
        with torch.no_grad():
            net(torch.tensor(0.0, dtype=torch.float64), y)
        assert torch.get_num_threads() == 1
        C.simulate(net, torch.linspace(0, 0.1, 3, dtype=torch.float64), y0=y, method="rk4")
        assert torch.get_num_threads() == 1
        if kernels.AVAILABLE:
            import numba
            assert numba.get_num_threads() == 1
        with pytest.raises(ValueError, match="threads must be an integer >= 1 or 'auto'"):
            threads.set_threads(0)
    finally:
        threads.set_threads(None)
        torch.set_num_threads(before)


def test_small_problems_run_on_one_thread_and_the_count_comes_back():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        seen = []
        with threads.engine(threads.SMALL_WORK - 1):
            seen.append(torch.get_num_threads())
            with threads.engine(10 * threads.SMALL_WORK):      # nested: the inner problem rules
                seen.append(torch.get_num_threads())
        with threads.engine(threads.SMALL_WORK):
            seen.append(torch.get_num_threads())
        assert seen == [1, 2, 2] and torch.get_num_threads() == 2
        threads.set_threads(2)
        with threads.engine(10 * threads.SMALL_WORK):
            threads.set_threads(1)                 # e.g. auto saw a competitor during the run
        assert torch.get_num_threads() == 1        # the setting now, not the count at entry
    finally:
        threads.set_threads(None)
        torch.set_num_threads(before)


@pytest.mark.skipif(not 2 <= threads.cores() <= 8, reason="needs 2 to 8 cores")
def test_auto_gives_up_the_cores_a_competitor_takes_during_the_run():
    before = torch.get_num_threads()
    procs = []
    try:
        threads.set_threads("auto")
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(threads.cores() - 1)]
        procs += busy
        deadline = time.monotonic() + 20
        while threads._free != 1 and time.monotonic() < deadline:      # the watcher's reading
            time.sleep(0.2)
        assert threads._free == 1
        with threads.engine(10 * threads.SMALL_WORK):
            assert torch.get_num_threads() == 1
        assert threads.others_busy(0.5) > threads.cores() - 1.5
    finally:
        for p in procs:
            p.kill()
            p.wait()
        threads.set_threads(None)
        torch.set_num_threads(before)
