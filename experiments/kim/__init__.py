"""Kim's Bayesian mechanics: ``papers`` (the four papers' models K18, K21, K23, K24),
``k6_learning`` (the K6 column under a stimulus switch with every solver), ``two_region`` (a small
two-region network leaving its saddle) and ``sequence_asymmetry`` (BM couplings trained on cyclic
and random orders)."""
