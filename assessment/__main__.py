"""``python -m assessment`` runs the ``sovready`` command line."""

from .cli import main

main()
