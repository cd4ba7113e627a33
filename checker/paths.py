"""Where the bundled rulebook and demo data live, in a checkout and in an installed wheel.

The wheel carries `rules/` and `fixtures/demo/` under `checker/_bundled/` (see pyproject.toml);
a checkout (or an editable install) reads them from the repository root, so that a rule author
edits the files the tool actually runs.
"""

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_CHECKOUT_ROOT = _PACKAGE_DIR.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def rules_dir() -> Path:
    """The rulebook shipped with mixite (`rules/`)."""
    return _first_existing(_BUNDLED / "rules", _CHECKOUT_ROOT / "rules")


def demo_bundle_dir() -> Path:
    """The demo territory's import bundle (`fixtures/demo/`)."""
    return _first_existing(_BUNDLED / "fixtures" / "demo", _CHECKOUT_ROOT / "fixtures" / "demo")


def migrations_dir() -> Path:
    return _PACKAGE_DIR / "migrations"
