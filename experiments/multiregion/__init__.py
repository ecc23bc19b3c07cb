"""The main study: multi-region attractor replay under sequential learning (``columns run``).

    config     the options (``Config``; ``columns run --help-config`` lists them)
    inputs     the patterns and each region's schedule
    arms       what differs between the column types (bm, fep)
    training   S seeds as one batch, in resumable segments; the recording file
    analysis   attractors, replay, occupancy, overlap, sequence scores, couplings per seed
    report     report.md; figures: the figures
    study      ``main``: train every arm, analyse every run, then the files
"""

from .config import ALIASES, Config
from .study import main

__all__ = ["ALIASES", "Config", "main"]
