"""Benchmarks: scripts run as `python bench/<name>.py`, printing figures and ratios."""
