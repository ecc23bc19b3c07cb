"""columns.analysis: pure functions over networks and recordings (docs/theory.md §6).

U(q; s); fixed points (multi-start Newton on ∇U, dedup, p* = −M F(q*)); the Jacobian by
autograd; spectra and classification; Hamiltonian-structure residuals; H along a trajectory,
its drift, and dH/dt = (∂H/∂s) ṡ; the largest Lyapunov exponent; fixed points tracked along a
parameter (stimulus level or learning checkpoints); occupancy of attractors (labels, dwell times,
transitions) and overlap between regions (co-occupancy, joint labels, mutual information, lag,
coupling asymmetry and circulation); replay (the free run without input, deterministic or fluctuation-driven) and
sequence scores against shuffled and circularly shifted nulls.
"""

from .attractors import dedup, find_attractors, track_attractors
from .flow import ExpectationFlow, expectation_flow
from .energy import energy_drift, hamiltonian_along, power, stimulus_rate
from .fixed_points import (FixedPoint, describe, find_fixed_points, newton, positions_to_state,
                           require_converged, energy_of_positions, track_fixed_points)
from .lyapunov import largest_lyapunov
from .occupancy import cosines, dwell_times, label_states, runs, transition_matrix
from .overlap import (asymmetry, circulation, co_occupancy, joint_distribution, lagged, mutual_information,
                      region_asymmetry, region_index, transfer)
from .free_run import replay
from .sequence import (circular_null, follow_score, lag_null, order_score, pair_leaders,
                       representatives, shuffle_null, sign_pairs, signed_labels, visits)
from .spectra import (classify, eigenvalues, hamiltonian_residuals, jacobian, pairing_residual,
                      symplectic_matrix)

__all__ = [
    "energy_of_positions", "positions_to_state", "newton", "describe", "find_fixed_points",
    "track_fixed_points", "require_converged", "FixedPoint", "jacobian", "eigenvalues",
    "classify", "pairing_residual", "hamiltonian_residuals", "symplectic_matrix",
    "hamiltonian_along", "energy_drift", "power", "stimulus_rate", "largest_lyapunov",
    "expectation_flow", "ExpectationFlow", "dedup", "find_attractors", "track_attractors",
    "cosines", "label_states", "runs", "dwell_times", "transition_matrix", "co_occupancy",
    "joint_distribution", "mutual_information", "lagged", "asymmetry", "circulation", "region_asymmetry", "region_index", "transfer",
    "replay", "sign_pairs", "pair_leaders", "representatives", "signed_labels", "visits", "order_score",
    "shuffle_null", "follow_score", "circular_null", "lag_null",
]
