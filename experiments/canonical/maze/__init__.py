"""The maze task of Isomura, Shimazaki & Friston (2022) and its batched agents, used by the
``canonical-maze`` and ``bench-maze`` experiments: ``maze`` (the authors' generator, BFS, move
tables), ``agent`` (``MazeAgents``: agents batched over mazes, 200-step blocks), ``agent_steps``
and ``agent_kernel`` (the per-agent compiled loop; numba is optional: the ``maze`` extra, the
torch lockstep stepper otherwise).
"""
