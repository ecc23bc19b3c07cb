"""The maze environment of Isomura et al. (2022)."""

import numpy as np
import pytest
import torch

from experiments.canonical.maze.maze import COLS, GOAL, ROWS, START, Mazes, create_maze, shortest_path


def test_every_generated_maze_is_solvable_over_500_seeds():
    lengths = []
    for seed in range(500):
        m = create_maze(np.random.default_rng(seed))
        assert m.shape == (ROWS, COLS) and m[0].all() and m[-1].all() and m[:, 0].all()
        assert m[9, 98] == 0 and m[:9, 98].all() and m[10:, 98].all()      # the exit only
        assert m[2:17:2, 2:97:2].all()                                      # every post is a wall
        n = shortest_path(m)
        assert n is not None and n >= 49                                   # ≥ 48 steps right + exit
        lengths.append(n)
    assert len(set(lengths)) > 10


def test_views_pad_outside_as_walls_and_moves_respect_walls():
    maps = np.stack([create_maze(np.random.default_rng(s)) for s in range(3)])
    env = Mazes(maps)
    pos = env.start()
    v = env.views(pos).view(3, 11, 11)
    # the agent at (9, 1): view columns 0..3 lie outside the map (col −4..−1) -> walls
    assert bool((v[:, :, :4] == 1).all())
    assert torch.equal(v[:, :, 4:], torch.as_tensor(maps[:, 4:15, 0:7]))
    assert torch.equal(v[:, 5, 5], torch.zeros(3, dtype=torch.uint8))       # the agent's own cell
    # moving left from the start hits the border: no move
    assert torch.equal(env.move(pos, torch.full((3,), 2)), pos)
    # a move goes 2 squares exactly when the square between is free
    for a in range(4):
        new = env.move(pos, torch.full((3,), a))
        di, dj = [(-1, 0), (1, 0), (0, -1), (0, 1)][a]
        free = torch.as_tensor(maps[:, START[0] + di, START[1] + dj] == 0)
        assert torch.equal((new != pos).any(1), free)
    near = torch.tensor([[GOAL[0], GOAL[1] - 1]]).repeat(3, 1)             # the last agent cell
    out = env.move(near, torch.full((3,), 3))
    assert bool(Mazes.at_goal(out).all())                                  # through the exit
    assert torch.equal(Mazes.risk(pos, out), torch.zeros(3))
    assert torch.equal(Mazes.risk(out, pos), torch.ones(3))


def test_agents_are_batch_invariant_and_learn_their_decision_mapping():
    from experiments.canonical.maze.agent import MazeAgents, prior_E
    maps = np.stack([create_maze(np.random.default_rng(s)) for s in range(3)])
    E = torch.stack([prior_E(e) for e in (0.15, 0.25, 0.35)])
    many = MazeAgents(Mazes(maps), E, seeds=[5, 6, 7], T=450, dtype=torch.float64)
    one = MazeAgents(Mazes(maps[1:2]), E[1:2], seeds=[6], T=450, dtype=torch.float64)
    C0 = many.counts["C"].clone()
    r_many, r_one = many.trial(record_path=True), one.trial(record_path=True)
    assert torch.equal(r_many["path"][1], r_one["path"][0])
    assert torch.equal(many.counts["C"][1], one.counts["C"][0])
    # C† changed by the delayed-modulated Hebbian rule (three 200-step blocks), A and B† by Hebb
    assert (many.counts["C"] - C0).abs().amax() > 1.0
    assert float((many.counts["C"] >= 1).all()) == 1.0
    n = r_many["time"].to(torch.float64) - 1                                # steps taken
    tot_A = many.counts["A"][:, :, :, 0, 0].sum((1, 2)) - (2e7 + 2 * 9.9e8 + 2e7)
    assert torch.allclose(tot_A, n, rtol=1e-9)                              # one count per step


def test_agent_block_tables_equal_the_bayes_count_increments():
    import columns.canonical as K
    from experiments.canonical.maze.agent import MazeAgents
    g = torch.Generator().manual_seed(0)
    o = (torch.rand(1, 50, 7, generator=g, dtype=torch.float64) < 0.5).double()
    x = torch.rand(1, 50, 5, generator=g, dtype=torch.float64)
    tables = MazeAgents._tables(x[0].T.unsqueeze(0) @ o, x.sum(1), o.sum(1),
                                torch.tensor([50.0], dtype=torch.float64))[0]
    ref = K.counts_increment(o[0], x[0], torch.rand(50, 3, dtype=torch.float64),
                             torch.zeros(50, dtype=torch.float64), torch.rand(5, dtype=torch.float64))
    assert torch.allclose(tables, ref["A"], rtol=0, atol=1e-12)


def _open_mazes(n):
    """Mazes without wall segments (posts only): agents reach the goal within a few hundred steps."""
    maps = np.stack([create_maze(np.random.default_rng(s)) for s in range(n)])
    inner = maps[:, 1:-1, 1:-1]
    inner[...] = 0
    maps[:, 2:-2:2, 2:-2:2] = 1
    return maps


def test_compiled_and_lockstep_steppers_agree_in_float64_through_the_goal():
    pytest.importorskip("numba")
    from experiments.canonical.maze.agent import MazeAgents, prior_E
    maps = _open_mazes(5)
    E = torch.stack([prior_E(e) for e in (0.15, 0.25, 0.35, 0.4, 0.45)])
    a, b = (MazeAgents(Mazes(maps), E, seeds=[3, 1, 4, 1, 5], T=650, dtype=torch.float64,
                       backend=be) for be in ("numba", "torch"))
    reached = 0
    for _ in range(2):
        ra, rb = a.trial(record_path=True), b.trial(record_path=True)
        assert torch.equal(ra["time"], rb["time"]) and torch.equal(ra["path"], rb["path"])
        assert torch.equal(ra["decisions"], rb["decisions"])
        assert torch.equal(ra["decisions"].sum(1), (ra["time"] - 1).double())   # one draw a step
        reached += int((ra["time"] < 650).sum())
        for k in "ABC":
            assert torch.allclose(a.counts[k], b.counts[k], rtol=1e-13, atol=0), k
    assert reached >= 4                    # agents left the batch mid-block (compaction tested)
    # a path is a walk on agent cells: consecutive cells differ by at most one move
    path = ra["path"][0, :int(ra["time"][0])]
    r, c = path // 49, path % 49
    assert int(((r.diff().abs() + c.diff().abs()) <= 1).all()) == 1


def test_counter_uniform_steps_equals_per_step_draws():
    from columns.rng import counter_uniform, counter_uniform_steps
    seeds = torch.tensor([0, 7, 123456789])
    steps = torch.tensor([2, 3, 40000, 2**24])
    many = counter_uniform_steps(seeds, steps)
    for k, s in enumerate(steps.tolist()):
        assert torch.equal(many[:, k], counter_uniform(seeds, s, 1)[:, 0])
