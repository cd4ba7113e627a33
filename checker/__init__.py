"""mixite's checker: everything that touches data (schema, import, evaluation, reports, CLI)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mixite")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+checkout"
