"""Spisak & Friston's FEP attractor networks reproduced: ``sim1`` (decorrelated attractors from
correlated bars), ``sim2`` (digits: retrieval, generalisation, attractors; the 380-run grid),
``sim3`` (a cyclic sequence: asymmetric couplings and replay), ``sim4`` (free activity: forgetting).
``runs.FEPRuns`` steps many FEP networks as one batch (a front end over the library's FEP map,
learning rule and product); ``retrieval`` is the digit task Sims 2 and 4 share."""
