"""The `mixite` command line (Typer). User-facing text is French."""

from __future__ import annotations

import sys


def main() -> None:
    """Console script: a plain `mixite quartile` is answered before Typer is imported
    (`checker.cli.quick`); everything else goes through the Typer application."""
    from checker.cli.quick import quick_main

    if quick_main(sys.argv[1:]):
        return
    from checker.cli.app import main as typer_main

    typer_main()


__all__ = ["main"]
