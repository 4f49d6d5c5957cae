"""Performance measurements of rectifier_zoo (not timed tests): ``python -m benchmarks``.

Each module answers one question and prints one JSON object; every figure is a
ratio against a baseline measured in the same process (median of repeats), since
the machines these run on are shared and noisy.
"""
