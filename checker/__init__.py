"""mixite's checker: everything that touches data (schema, import, evaluation, reports, CLI)."""

from __future__ import annotations

from functools import cache


@cache
def _installed_version() -> str:
    # importlib.metadata scans the installed distributions: tens of milliseconds that every
    # command would pay at start-up, so it is looked up only when the version is read.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mixite")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0+checkout"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'checker' has no attribute {name!r}")
