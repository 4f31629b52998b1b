"""``python -m loupe`` runs the ``loupe`` command."""

from loupe.cli import main

main()
