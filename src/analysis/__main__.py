"""``python -m analysis`` runs the ``workbench`` command."""

from analysis.cli import main

if __name__ == "__main__":
    main()
