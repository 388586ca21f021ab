"""Benchmarks (`make bench`): speed and memory targets are checked here, never in tests."""
