"""The maze environment of Isomura et al. (2022)."""

import numpy as np
import torch

from columns.canonical.maze import COLS, GOAL, ROWS, START, Mazes, create_maze, shortest_path


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
