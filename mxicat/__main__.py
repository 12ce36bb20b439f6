"""``python -m mxicat`` runs the CLI."""

from mxicat.cli import main

main()
