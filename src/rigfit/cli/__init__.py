"""The command line: parses options, calls the core and the shell, renders results."""
