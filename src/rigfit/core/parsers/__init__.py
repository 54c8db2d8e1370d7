"""Pure parsers of probe outputs: text (or a dict the shell built) in, frozen values out.

Each ``parse_*`` raises only ``HardwareError`` on input it cannot understand; the shell turns that into a
warning. They are tested on captured real outputs in ``tests/data/probes/`` and fuzzed.
"""
