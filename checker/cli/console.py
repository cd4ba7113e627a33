"""Shared terminal output: one console for results, one for messages and errors.

Rich is imported when something is first printed, not when a command module is imported:
`mixite --version` and the commands' start-up do not pay for it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress
    from rich.text import Text


class _LazyConsole:
    """A rich Console created on first use; attribute access goes to it."""

    def __init__(self, **settings: Any) -> None:
        self._settings = settings

    @cached_property
    def console(self) -> Console:
        from rich.console import Console

        # User text (file names, rule ids, values) is never read as emoji codes (`:100:`) nor
        # as markup (`[bold]`): styles go through `styled`, which escapes the values it inserts.
        return Console(highlight=False, soft_wrap=True, emoji=False, markup=False,
                       **self._settings)  # fmt: skip

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


def styled(template: str, **values: object) -> Text:
    """Markup written by mixite (`template`, with `{name}` fields) around user values, which
    are inserted as plain text: never read as markup or as emoji codes."""
    from rich.markup import escape
    from rich.text import Text

    safe = {name: escape(str(value)) for name, value in values.items()}
    return Text.from_markup(template.format(**safe), emoji=False)


out: Console = _LazyConsole()  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]


class RichProgress:
    """The importer's progress callback, as a rich bar on stderr for files of some size."""

    _MIN_ROWS = 20_000

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: int | None = None

    def start(self, label: str, total: int) -> None:
        if total < self._MIN_ROWS or not err.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

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
