"""Worker processes for an experiment's units (experiments.harness.workers): how many are used,
and that what they save is what the main process then loads (the study's own test compares a
whole run trained side by side with the sequential one: tests/test_multiregion_study.py)."""

import multiprocessing

import pytest
import torch

from columns import threads
from experiments.harness import resume, workers


@pytest.fixture
def store(tmp_path):
    s = resume.Store(str(tmp_path), "demo", {"x": 1})
    with resume.active(s):
        yield s


def test_no_store_one_task_or_a_gpu_means_this_process(tmp_path):
    with resume.active(None):
        assert workers.jobs_for(4, 5) == 1                  # no active store: nothing to share
    s = resume.Store(str(tmp_path), "demo", {"x": 1})
    with resume.active(s):
        assert workers.jobs_for(4, 1) == 1
        assert workers.jobs_for(4, 5, "cuda") == 1
        assert workers.jobs_for(4, 5, "cuda:0") == 1


def test_requested_and_automatic_counts(store):
    assert workers.jobs_for(3, 5) == 3
    assert workers.jobs_for(8, 5) == 5                       # never more than the tasks
    try:
        threads.set_threads(1)
        assert workers.jobs_for(0, 5) == 1                   # --threads 1: one process
        threads.set_threads(2)
        assert workers.jobs_for(0, 5) == 2
        threads.set_threads(None)
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        assert workers.jobs_for(0, 5) == 1                   # no setting: torch's count
        torch.set_num_threads(before)
    finally:
        threads.set_threads(None)


def _inside_daemon(q):
    from experiments.harness import resume, workers
    s = resume.Store.attach(q.get(), "demo", {"x": 1})
    with resume.active(s):
        q.put(workers.jobs_for(2, 5))


def test_a_daemonic_process_computes_its_units_itself(store):
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    q.put(store.out)
    p = ctx.Process(target=_inside_daemon, args=(q,), daemon=True)
    p.start()
    p.join(60)
    assert q.get(timeout=5) == 1                             # daemons may not have children


def square_task(x: int, bar=None) -> None:
    """A task of two units (importable by the workers)."""
    resume.unit(f"sq/{x}", lambda: {"value": x * x, "draw": torch.rand(()).item()})
    if x < 0:
        raise ValueError("negative: left to the main process")
    bar.update(1)


def test_workers_save_units_that_load_here_with_this_process_rng(store):
    torch.manual_seed(5)
    expected = torch.rand(()).item()                         # the draw after seeding
    torch.manual_seed(5)

    class Bar:
        n = 0

        def update(self, k):
            self.n += k
    bar = Bar()
    workers.prefetch("test_workers:square_task", [(3,), (4,), (-1,)], 2, bar)
    assert bar.n == 2                                        # the failing task reported nothing
    assert sorted(store.on_disk(".pt")) == ["sq/-1", "sq/3", "sq/4"]
    v = resume.unit("sq/4", lambda: pytest.fail("recomputed"))
    assert v["value"] == 16
    assert v["draw"] == expected                             # drawn from this process's state
