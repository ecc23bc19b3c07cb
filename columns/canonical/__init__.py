"""Canonical neural networks perform active inference (Isomura, Shimazaki & Friston 2022).

``params``: the network ↔ POMDP converters; ``cost``: L, F, rates, plasticity; ``reverse``:
reverse engineering (L from the rate equation, priors from thresholds); ``column``: the middle
neuron as the column type "canonical"; ``maze``, ``agent``: the maze task and its batched agents.
"""

from .column import CanonicalColumn, graph_from_network
from .cost import (cost, counts_increment, fixed_point, free_energy, output, plasticity,
                   rate_rhs)
from .params import (BayesPOMDP, CanonicalNetwork, random_bayes, random_problem, to_bayes,
                     to_network)
from .reverse import cost_from_rates, estimate_thresholds, priors_from_thresholds

__all__ = ["CanonicalColumn", "graph_from_network", "BayesPOMDP", "CanonicalNetwork", "to_network", "to_bayes", "random_bayes", "random_problem", "cost",
           "free_energy", "rate_rhs", "fixed_point", "output", "plasticity", "counts_increment",
           "cost_from_rates", "estimate_thresholds", "priors_from_thresholds"]
