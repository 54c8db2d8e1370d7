"""The shipped catalog: JSON files in the ``rigfit.catalog/1`` format, read by ``rigfit.shell.catalog_source``."""
