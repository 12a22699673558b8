"""Figures, not verdicts: the benchmark, the storage capacity probe, mutation testing of the suite."""
