"""The functional core: pure decisions on immutable values.

Nothing in this package does I/O, reads the environment or the clock, starts processes or touches the
network or Qt; ``tests/unit/core/test_boundary.py`` enforces it.

Values are frozen dataclasses, except those on the start-up path of ``rigfit deps check`` (hardware, GPU
names, requirements, versions, the torch index, normalisation and conflicts), which are ``typing.NamedTuple``:
creating a frozen dataclass costs ~0.5 ms and importing ``dataclasses`` ~7 ms (it imports ``inspect``),
against ~0.1 ms per NamedTuple, and the command is benchmarked against pip (``bench/deps``). Change those
with ``value._replace(...)``; ``+`` on them would concatenate tuples (``Screened.merged`` joins two).
"""
