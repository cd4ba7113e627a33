"""The `mixite` command line (Typer). User-facing text is French."""

from checker.cli.app import main

__all__ = ["main"]
