"""The solvers (docs/theory.md §3), one contract (``columns.solvers.base``).

``IVP`` (torchdiffeq / implicit midpoint), ``LeastAction`` (receding horizon), ``Gradient``
(predictive coding), ``Riccati`` (stable-manifold feedback), ``Step`` (discrete-time maps),
``EulerMaruyama`` (an SDE over torchsde, for the replay's fluctuations). ``SOLVERS`` maps the
string shorthands of ``simulate(solver="…")`` to the classes. ``run`` integrates a system that is
not a network (the analysis' flows) with any solver; ``iterate`` and ``relax`` step a flow or a
map explicitly (free runs, relaxation to rest). Every integration of the library is here.
"""

from graphs.errors import SolverError

from .base import Solver, run
from .gradient import Gradient
from .ivp import IVP, implicit_midpoint
from .relaxation import iterate, relax
from .least_action import LeastAction, discrete_lagrangian, solve_window, stimulus_grid
from .riccati import Riccati
from .sde import EulerMaruyama
from .step import Step

SOLVERS = {cls.name: cls for cls in (IVP, LeastAction, Gradient, Riccati, Step)}


def make_solver(solver, options: dict | None = None) -> Solver:
    """A ``Solver`` from an instance (no options allowed) or a name in ``SOLVERS`` and its options.

    Returns:
        A ``Solver``.

    Raises:
        SolverError: an unknown name, an option the solver does not have or out of range, or
            options next to a solver object.
    """
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if isinstance(solver, Solver):
        if options:
            raise SolverError(f"options {sorted(options)} given next to the solver object "
                              f"{solver!r}: pass them to its constructor")
        return solver
    if isinstance(solver, type) and issubclass(solver, Solver):
        return solver(**options)
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver {solver!r}; available: {sorted(SOLVERS)}")
    return SOLVERS[solver](**options)


__all__ = ["Solver", "IVP", "LeastAction", "Gradient", "Riccati", "Step", "EulerMaruyama", "SOLVERS",
           "make_solver", "implicit_midpoint", "run", "iterate", "relax", "solve_window",
           "discrete_lagrangian", "stimulus_grid"]
