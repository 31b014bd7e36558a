"""Benchmarks: `make bench` (or `python -m bench [NAME...]`). Results go to bench/results/."""
