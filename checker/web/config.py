"""What `mixite serve` hands to the application."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from checker.access.accounts import SessionPolicy


@dataclass(frozen=True)
class WebConfig:
    db_url: str
    rule_paths: tuple[Path, ...] = ()  # empty: the bundled national rules
    session: SessionPolicy = field(default_factory=SessionPolicy)
    max_upload_bytes: int = 100 * 1024 * 1024
    # How a slowed-down sign-in waits; tests replace it to observe the delay without waiting.
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep
