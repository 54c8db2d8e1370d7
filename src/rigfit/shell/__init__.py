"""The imperative shell: probes, processes, network, files. Decisions live in ``rigfit.core``."""
