"""Benchmarks: each figure is a ratio against a baseline measured beside it."""
