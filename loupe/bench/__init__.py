"""Benchmarks run on purpose (``loupe bench ...``); each prints its figures, JSON last."""
