"""The functional core: pure decisions on immutable values.

Nothing in this package does I/O, reads the environment or the clock, starts processes or touches the
network or Qt; ``tests/unit/core/test_boundary.py`` enforces it.
"""
