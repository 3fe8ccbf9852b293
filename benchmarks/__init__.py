"""Benchmarks of the replay engine against the floor and peer implementations (not shipped)."""
