"""What runs the studies: ``cli`` (the ``columns`` command), ``runner`` (config, seed, device,
results.json), ``config`` (``ExperimentConfig`` and its declared checks), ``resume`` (units of work
kept across interrupts), ``files`` (atomic text and JSON), ``figures`` (the one figure helper),
``progress`` (bars), ``timing`` (median times), ``stats`` (median and range over seeds) and
``sweep/`` (an experiment over a grid × seeds on Dask). Importing this package imports nothing
heavy."""
