"""Benchmarks, run by hand (`make bench`): they print figures and write docs/performance.md.
Tests never assert durations; these measure them."""
