"""Located problems found in an import bundle, reported in French as `fichier:ligne:colonne`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int | None
    column: int | None
    message: str

    def render(self) -> str:
        location = self.file
        if self.line is not None:
            location += f":{self.line}"
            if self.column is not None:
                location += f":{self.column}"
        return f"{location}: {self.message}"


@dataclass
class ProblemLog:
    """Collects every problem of an import; the import is refused when it holds any."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, line: int | None, column: int | None, message: str) -> None:
        self.problems.append(Problem(file, line, column, message))

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)
