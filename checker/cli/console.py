"""Shared terminal output: one console for results, one for messages and errors."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class RichProgress:
    """The importer's progress callback, as a rich bar on stderr for files of some size."""

    _MIN_ROWS = 20_000

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: int | None = None

    def start(self, label: str, total: int) -> None:
        if total < self._MIN_ROWS or not err.is_terminal:
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(f"Lecture de {label}", total=total)

    def advance(self, rows: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, rows)  # type: ignore[arg-type]

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._task = None
