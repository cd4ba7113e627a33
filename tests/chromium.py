"""The Debian Chromium the HTML, PDF and web tests drive: required in CI, skipped elsewhere."""

from __future__ import annotations

import os
import shutil

import pytest


def require_chromium() -> str:
    """The browser's path; in CI its absence fails the test (.ci/run installs it)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium est requis en CI (paquet Debian « chromium »)")
        pytest.skip("Chromium absent de cette machine")
    return found
