"""``python -m langgap`` runs the CLI."""

from langgap.cli import main

if __name__ == "__main__":
    main()
