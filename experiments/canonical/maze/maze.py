"""The maze of Isomura et al. (2022), batched over mazes (the authors' code semantics, 0-indexed).

A maze is (19, 99) squares, 1 = wall: border walls, an exit in the middle of the right wall
(row 9, col 98); a post at every (even, even) interior square; from each post, in row-major order,
one wall segment into a uniformly random free neighbour (up, down, left, right). Agent cells are the
(odd, odd) squares; a move (0 up, 1 down, 2 left, 3 right) jumps 2 squares if the square between is
free, else the agent stays; the column is clipped to 98, so stepping right through the exit puts the
agent on the goal (9, 98). Start (9, 1).

Observation: the 11 × 11 block of squares centred on the agent, outside the map = wall (121 bits,
row-major). Risk of a move: 0 if the column increased, 1 if it decreased, 0.5 otherwise.

Shapes: maps (M, 19, 99) uint8; pos (M, 2) int64 (row, col); views (M, 121).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

ROWS, COLS, VIEW = 19, 99, 11
START = (9, 1)
GOAL = (9, 98)
MOVES = torch.tensor([[-1, 0], [1, 0], [0, -1], [0, 1]])            # up, down, left, right


def create_maze(rng: np.random.Generator, rows: int = ROWS, cols: int = COLS) -> np.ndarray:
    """One maze (rows, cols) uint8 from a seeded generator (the authors' construction)."""
    m = np.zeros((rows, cols), dtype=np.uint8)
    m[[0, rows - 1], :] = 1
    m[:, [0, cols - 1]] = 1
    m[(rows - 1) // 2, cols - 1] = 0
    m[2:rows - 2:2, 2:cols - 2:2] = 1
    for i in range(2, rows - 2, 2):
        for j in range(2, cols - 2, 2):
            while True:
                di, dj = ((-1, 0), (1, 0), (0, -1), (0, 1))[rng.integers(4)]
                if m[i + di, j + dj] == 0:
                    m[i + di, j + dj] = 1
                    break
    return m


def shortest_path(m: np.ndarray, start=START, goal=GOAL) -> int | None:
    """Fewest moves from start to goal (BFS over agent cells), None if unreachable."""
    rows, cols = m.shape
    dist = {start: 0}
    queue = deque([start])
    while queue:
        i, j = queue.popleft()
        if (i, j) == goal:
            return dist[(i, j)]
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            if m[i + di, j + dj] == 0:
                nxt = (i + 2 * di, min(j + 2 * dj, cols - 1))
                if nxt not in dist:
                    dist[nxt] = dist[(i, j)] + 1
                    queue.append(nxt)
    return None


class Mazes:
    """M mazes on a device: views, moves and risk for all agents at once. Final class."""

    def __init__(self, maps, device=None):
        maps = torch.as_tensor(np.asarray(maps), dtype=torch.uint8)
        if maps.dim() != 3 or maps.shape[1:] != (ROWS, COLS):
            raise ValueError(f"Mazes: maps must be (M, {ROWS}, {COLS}), got {tuple(maps.shape)}")
        self.device = torch.device(device or "cpu")
        self.maps = maps.to(self.device)
        r = VIEW // 2
        self.padded = torch.nn.functional.pad(self.maps, (r, r, r, r), value=1)   # walls outside
        off = torch.arange(VIEW, device=self.device)
        self._di = off.view(-1, 1).expand(VIEW, VIEW).reshape(-1)          # (121,)
        self._dj = off.view(1, -1).expand(VIEW, VIEW).reshape(-1)
        self._m = torch.arange(maps.shape[0], device=self.device)
        self.moves = MOVES.to(self.device)

    @property
    def n(self) -> int:
        return self.maps.shape[0]

    def start(self) -> torch.Tensor:
        return torch.tensor(START, device=self.device).repeat(self.n, 1)

    def views(self, pos: torch.Tensor) -> torch.Tensor:
        """(M, 121) uint8 11 × 11 blocks centred on pos (row-major)."""
        i = pos[:, :1] + self._di                                          # padded coordinates
        j = pos[:, 1:] + self._dj
        return self.padded[self._m.view(-1, 1), i, j]

    def move(self, pos: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """New positions after ``action`` (M, ...) in 0..3 (−1: no move); pos (M, ..., 2)."""
        step = self.moves[action.clamp(min=0)] * (action >= 0).unsqueeze(-1)
        between = pos + step
        m = self._m.view((-1,) + (1,) * (action.dim() - 1))
        free = self.maps[m, between[..., 0], between[..., 1].clamp(max=COLS - 1)] == 0
        new = pos + 2 * step * free.unsqueeze(-1)
        new[..., 1] = new[..., 1].clamp(max=COLS - 1)
        return new

    def cell_index(self, pos: torch.Tensor) -> torch.Tensor:
        """Index of an agent cell (odd, odd) in ``cells()`` order; the goal is the last. (M, ...)"""
        idx = (pos[..., 0] // 2) * (COLS // 2) + pos[..., 1] // 2
        return torch.where(self.at_goal(pos), (ROWS // 2) * (COLS // 2), idx)

    def cells(self) -> torch.Tensor:
        """Every agent cell (row-major) and then the goal: (P, 2) with P = 9 · 49 + 1."""
        r = torch.arange(1, ROWS - 1, 2, device=self.device)
        c = torch.arange(1, COLS - 1, 2, device=self.device)
        grid = torch.stack(torch.meshgrid(r, c, indexing="ij"), -1).reshape(-1, 2)
        return torch.cat([grid, torch.tensor([GOAL], device=self.device)])

    def all_views(self) -> torch.Tensor:
        """Views at every agent cell and the goal: (M, P, 121) uint8."""
        cells = self.cells()
        return torch.stack([self.views(c.expand(self.n, 2)) for c in cells], 1)

    def transitions(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every move from every cell as tables: next cell index and risk, (M, P, 5) each, with
        action 4 = stay (the first step, when no action has been taken yet; risk 0.5)."""
        cells = self.cells()
        pos = cells.view(1, -1, 1, 2).expand(self.n, -1, 5, 2)                 # (M, P, 5, 2)
        act = torch.tensor([0, 1, 2, 3, -1], device=self.device).expand(self.n, len(cells), 5)
        new = self.move(pos, act)
        return self.cell_index(new), self.risk(pos, new).to(torch.float64)

    @staticmethod
    def risk(old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """0 if the column increased, 1 if it decreased, 0.5 otherwise. (M, ...)"""
        dc = new[..., 1] - old[..., 1]
        return torch.where(dc > 0, 0.0, torch.where(dc < 0, 1.0, 0.5))

    @staticmethod
    def at_goal(pos: torch.Tensor) -> torch.Tensor:
        return (pos[..., 0] == GOAL[0]) & (pos[..., 1] == GOAL[1])
