"""The desktop wizard (``rigfit gui``): a Qt front end over the same core and shell as the CLI.

``qt`` is the only module that imports PySide6; ``services`` is the only one that calls the core and shell;
``views`` holds what the pages show; ``worker`` runs long work off the GUI thread; ``pages`` lay things out.
"""
