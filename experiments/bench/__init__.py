"""The benchmarks (each a study run by ``columns run bench-…``, printing a table and writing JSON):
``engine`` (P1 the dynamics call vs the byte floor, P2/P2d a Stuart–Landau network vs neurolib,
P6 memory), ``fep`` (P3), ``maze`` (P4), ``solvers`` (P5), ``sweep`` (P8); ``common`` holds the
seeded couplings and the copy bandwidth they share."""
