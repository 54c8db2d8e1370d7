"""Package data shipped with rigfit."""
