"""The solver contract (diffrax style): an object that owns its options, chunking, carry and
diagnostics; ``columns.simulate`` runs any of them through one record loop.

    solver = IVP(method="rk4")                      # options are keyword arguments: typed, frozen
                                                    # dataclass fields, their defaults the one
                                                    # source (solver.settings: all of them); unknown
                                                    # ones raise SolverError naming them
    carry = solver.start(network, grid, y0)         # the solver's own state (warm starts, RNG
                                                    # counters, diagnostics): tensors, numbers
    traj, carry = solver.advance(network, y, grid, k0, k1, carry)
        # states at grid[k0..k1] (K = k1 − k0 + 1 samples, traj[0] the sample at grid[k0]),
        # from y at grid[k0]; the solver may look at the rest of the grid (least action's
        # receding horizon looks ahead). Pure: the carry that comes in is not modified.
    solver.chunk(requested, n_intervals)            # output intervals per chunk of the loop
    solver.diagnostics(carry)                       # merged into the recording's config

A checkpoint holds (state, carry, samples so far), so a resumed run is bit-identical to an
uninterrupted one: the carry must hold everything the next chunk depends on.

Shapes: y (B, S); grid (T,); traj (K, B, S).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import torch

from graphs.errors import SolverError

options_dataclass = dataclasses.dataclass(frozen=True, init=False, repr=False, eq=False)
"""The decorator of every solver class: its options are frozen dataclass fields (their defaults
the one source), filled by ``Solver.__init__`` (which names an unknown option)."""


@options_dataclass
class Solver(abc.ABC):
    """Abstract base of the solvers (see the docstring of module ``columns.solvers.base``)."""

    name: ClassVar[str] = ""
    takes_delays: ClassVar[bool] = False
    """Whether the solver integrates conduction delays (``columns.solvers.delays``); simulate refuses a
    delayed network otherwise, naming the edge."""

    def __init__(self, **options):
        fields = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise SolverError(f"{type(self).__name__}: unknown option(s) {unknown}; its options "
                              f"are {sorted(fields)}")
        for key, f in fields.items():
            object.__setattr__(self, key, options.get(key, f.default))
        self.validate()

    @classmethod
    def defaults(cls) -> dict:
        """{option: default}.

        Returns:
            {option: default}.
        """
        return {f.name: f.default for f in dataclasses.fields(cls)}

    @property
    def settings(self) -> dict:
        """{option: value}, every option."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def _resolve(self, **values) -> None:
        """Set options that ``validate`` derives from others (e.g. least action's overlap)."""
        for key, v in values.items():
            object.__setattr__(self, key, v)

    def __repr__(self) -> str:
        defaults = self.defaults()
        set_ = ", ".join(f"{k}={v!r}" for k, v in self.settings.items()
                         if _differs(v, defaults[k]))
        return f"{type(self).__name__}({set_})"

    def validate(self) -> None:
        """Check the option values (raise ``SolverError`` naming the option).

        Raises:
            SolverError: an option out of range (named with its allowed values).
        """

    def check(self, network) -> None:
        """Check that the solver applies to ``network`` (raise ``SolverError``).

        Raises:
            SolverError: the solver does not apply (e.g. a map network under a continuous solver, or
                delays under a solver without them).
        """

    def chunk(self, requested: int, n_intervals: int) -> int:
        """Output intervals per chunk of the record loop (default: as requested).

        Returns:
            Intervals per chunk (≥ 1).
        """
        return requested

    def work(self, network, batch: int, chunk: int) -> int:
        """Elements one step of the solver computes on at once (batch × state size), which sets
        the engine's thread count (``columns.threads.engine``: one thread for small problems).

        Returns:
            The element count.
        """
        return batch * network.state_size

    def start(self, network, grid: torch.Tensor, y0: torch.Tensor) -> dict:
        """The initial carry.

        Returns:
            The carry, a dict (saved in checkpoints).
        """
        return {}

    @abc.abstractmethod
    def advance(self, network, y: torch.Tensor, grid: torch.Tensor, k0: int, k1: int,
                carry: dict) -> tuple[torch.Tensor, dict]:
        """States at grid[k0..k1] from y at grid[k0], and the new carry. Shapes: (K, B, S).

        Returns:
            (states (k1 − k0 + 1, B, S) at grid[k0..k1], the first being y; the new carry).
        """

    def diagnostics(self, carry: dict) -> dict:
        """Summary of a run from its final carry (for the recording's config).

        Returns:
            A dict of plain values.
        """
        return {}

    def describe(self) -> str:
        """The solver in one line, for progress bars and errors.

        Returns:
            The solver's name.
        """
        return self.name


def _differs(value, default) -> bool:
    """Whether an option differs from its default (a tensor option always shows)."""
    try:
        return bool(value != default)
    except (RuntimeError, TypeError, ValueError):
        return True


def run(solver: Solver, system, y0: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """The trajectory (T, B, S) of ``system`` over ``grid`` from ``y0`` (B, S) in one chunk, with
    no recording: for the analysis' own systems (a flow with frozen couplings, a pair of nearby
    trajectories), which ``simulate`` (networks only) does not take.

    Returns:
        The trajectory (T, B, S).
    """
    solver.check(system)
    traj, _ = solver.advance(system, y0, grid, 0, grid.numel() - 1,
                             solver.start(system, grid, y0))
    return traj
