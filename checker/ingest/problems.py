"""Located problems found in an import bundle, reported in French as `fichier:ligne:colonne`."""

from __future__ import annotations

from collections import Counter
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


# A shift shared by at least this share of a file's rows has one cause, told once.
_MOST = 0.5


@dataclass
class MisshapenRows:
    """Rows of a CSV file with more or fewer fields than its header, reported at the end of
    the file: one message when most rows share the same shift (a decimal comma in a
    comma-separated file, a separator inside unquoted text), one per row otherwise."""

    file: str
    width: int | None
    separator: str
    rows: list[tuple[int, int, int]] = field(default_factory=list)  # line, fields, line breaks

    def add(self, line: int, fields: int, breaks: int) -> None:
        self.rows.append((line, fields, breaks))

    def report(self, total_rows: int, log: ProblemLog) -> None:
        if not self.rows or self.width is None:
            return
        width = self.width
        shifts = Counter(fields - width for _, fields, _ in self.rows)
        shift, count = shifts.most_common(1)[0]
        grouped = count >= 2 and count >= _MOST * total_rows
        if grouped:
            first = next(line for line, fields, _ in self.rows if fields - width == shift)
            log.add(self.file, first, None, self._grouped_message(shift, count, total_rows))
        for line, fields, breaks in self.rows:
            if grouped and fields - width == shift:
                continue
            log.add(self.file, line, None, _row_message(line, fields, width, breaks))

    def _grouped_message(self, shift: int, count: int, total: int) -> str:
        more = "de plus" if shift > 0 else "de moins"
        text = (
            f"{count} ligne(s) sur {total} ont {abs(shift)} champ(s) {more} que l'en-tête "
            f"({self.width}), à partir de celle-ci : leurs valeurs sont décalées, elles sont "
            "refusées. "
        )
        if shift > 0 and self.separator == ",":
            return text + (
                "Cause probable : des nombres à virgule décimale (1194,97) dans un fichier "
                "séparé par des virgules. Enregistrez le fichier avec le séparateur « ; », "
                "ou mettez ces nombres entre guillemets."
            )
        name = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}.get(
            self.separator, self.separator
        )
        return text + (
            f"Cause probable : un séparateur ({name}) à l'intérieur d'une valeur non entourée "
            "de guillemets, ou un en-tête d'une autre version de l'export."
        )


def _row_message(line: int, fields: int, width: int, breaks: int) -> str:
    message = (
        f"la ligne a {fields} champ(s), l'en-tête en a {width} : valeurs décalées, ligne refusée"
    )
    if breaks:
        message += (
            f" (elle court jusqu'à la ligne {line + breaks} : un guillemet ouvert sur cette "
            "ligne n'est sans doute pas refermé)"
        )
    return message
