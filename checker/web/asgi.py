"""The application for a production ASGI server: `uvicorn checker.web.asgi:app`.

Configured by the environment: MIXITE_DB (the database), MIXITE_REGLES (rule files or folders,
separated by the system's path separator; default: the bundled national rules).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from checker.db.engine import resolve_url
from checker.web.config import WebConfig

ENV_RULES = "MIXITE_REGLES"


def build() -> Any:
    from checker.web.app import create_app

    paths = tuple(Path(p) for p in os.environ.get(ENV_RULES, "").split(os.pathsep) if p)
    return create_app(WebConfig(resolve_url(None), paths))


def __getattr__(name: str) -> Any:
    # Built on first access, so that importing this module has no side effect.
    if name == "app":
        application = build()
        globals()["app"] = application
        return application
    raise AttributeError(name)
