"""Canonical neural networks perform active inference (Isomura, Shimazaki & Friston 2022).

``params``: the network ↔ POMDP converters; ``cost``: L, F, rates, plasticity; ``reverse``:
reverse engineering (L from the rate equation, priors from thresholds); ``graph``: the middle layer
as a graph of "canonical" columns (the column type itself is ``columns.types.canonical``). The maze
task and its batched agents live with their experiments (``experiments.maze``).
"""

from ..types.canonical import CanonicalColumn
from .graph import graph_from_network
from .objectives import (cost, counts_increment, fixed_point, free_energy, output, plasticity,
                   rate_rhs)
from .params import (BayesPOMDP, CanonicalNetwork, random_bayes, random_problem, to_bayes,
                     to_network)
from .reverse import cost_from_rates, estimate_thresholds, priors_from_thresholds

__all__ = ["CanonicalColumn", "graph_from_network", "BayesPOMDP", "CanonicalNetwork", "to_network", "to_bayes", "random_bayes", "random_problem", "cost",
           "free_energy", "rate_rhs", "fixed_point", "output", "plasticity", "counts_increment",
           "cost_from_rates", "estimate_thresholds", "priors_from_thresholds"]
