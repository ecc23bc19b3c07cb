"""Isomura, Shimazaki & Friston's canonical neural networks: ``maze_study`` (the maze agents: 3
priors × 20 mazes × 100 trials, prior estimation and prediction), ``equivalence`` (network cost =
POMDP free energy, as a report) and ``maze/`` (the maze task and its batched agents)."""
