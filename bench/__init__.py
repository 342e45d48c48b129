"""Benchmarks and evaluation runs: `make bench` (python -m bench) and `make eval` (python -m bench.eval)."""
