"""Benchmarks, judges and metrics."""
