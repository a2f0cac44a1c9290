"""Benchmarks run by `make bench` (scripts/bench.sh); never part of `make test`."""
