"""Reading one tabular file (CSV or XLSX) of a bundle into rows of text cells with their lines.

The header is matched to the data contract's column names case- and accent-insensitively,
through documented aliases; unknown columns are reported once and kept out of the database.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from checker.errors import MixiteError
from checker.ingest.values import strip_accents

_CHUNK = 1 << 20
# Files larger than this are refused before reading: far above a territory's yearly exports
# (a million attributions is about 200 MB), low enough that a wrong file (a disk image, a
# database dump) is stopped with a message instead of filling the memory.
MAX_TABLE_BYTES = 2 << 30
# csv's own limit on one cell (131 072 characters): only a quote left open or a binary file
# reaches it in an export.
CSV_FIELD_LIMIT = csv.field_size_limit()
_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_CP1252_HOLES = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")  # bytes cp1252 leaves undefined
_SAVE_AS = "Enregistrez-le en « CSV UTF-8 » ou « CSV (séparateur : point-virgule) » depuis Excel."


class UnreadableFile(MixiteError):
    """A file refused whole: encoding, structure or a missing required column."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.line = line
        self.column = column


def normalise_header(name: str) -> str:
    key = strip_accents(name.replace("\ufeff", "")).lower()
    return re.sub(r"[^a-z0-9]+", "_", key).strip("_")


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    encoding: str  # the codec that reads the file
    lines: int
    bom: bool = False

    @property
    def encoding_label(self) -> str:
        """The encoding as a user knows it: UTF-8, UTF-8 (BOM) or Windows-1252."""
        return encoding_label(self.encoding, self.bom)


def encoding_label(codec: str, bom: bool = False) -> str:
    if codec.startswith("utf-8"):
        return "UTF-8 (BOM)" if bom else "UTF-8"
    return {"cp1252": "Windows-1252", "xlsx": "XLSX (Excel)"}.get(codec, codec)


def wrong_encoding(head: bytes) -> str | None:
    """The encoding of a file mixite does not read (UTF-16, UTF-32), told by its first bytes."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 4 >= len(sample):
        # A NUL every second or fourth byte: UTF-16 or UTF-32 text written without its mark.
        return "UTF-16 ou UTF-32"
    return None


def byte_place(data: bytes, offset: int, lines_before: int) -> tuple[int, int]:
    """(line, column) of a byte of a chunk, counted from 1; the column counts characters."""
    start = data.rfind(b"\n", 0, offset) + 1
    line = lines_before + data.count(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, column


def file_size(size: int) -> str:
    """A size in bytes as people say it: 2 Go, 131,5 Mo, 12 ko."""
    for unit, scale in (("Go", 2**30), ("Mo", 2**20), ("ko", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f}".replace(".0", "").replace(".", ",") + f" {unit}"
    return f"{size} octets"


def check_size(path: Path, limit: int) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFile(f"lecture impossible ({exc.strerror}).") from exc
    if size > limit:
        raise UnreadableFile(
            f"fichier trop volumineux ({file_size(size)} ; {file_size(limit)} au plus).",
            "Vérifiez qu'il s'agit bien de l'export attendu, ou découpez-le par année.",
        )


def _refuse_binary_bytes(chunk: bytes, lines_before: int) -> None:
    """A NUL byte: no text export holds one, and PostgreSQL refuses it in a text column."""
    position = chunk.find(b"\0")
    if position >= 0:
        line, column = byte_place(chunk, position, lines_before)
        raise UnreadableFile(
            "caractère NUL (octet 0) : le fichier n'est pas un export texte, ou il est abîmé. "
            "Fichier refusé.",
            _SAVE_AS,
            line=line,
            column=column,
        )


def _check_cp1252(path: Path) -> None:
    """A file that is not UTF-8 must be Windows-1252, which leaves five bytes undefined."""
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            found = [position for hole in _CP1252_HOLES if (position := chunk.find(hole)) >= 0]
            if found:
                position = min(found)
                line, column = byte_place(chunk, position, lines)
                raise UnreadableFile(
                    f"octet 0x{chunk[position]:02X} : le fichier n'est ni en UTF-8 ni en "
                    "Windows-1252 (fichier binaire ou autre encodage). Fichier refusé.",
                    _SAVE_AS,
                    line=line,
                    column=column,
                )
            lines += chunk.count(b"\n")


def file_sha256(path: Path) -> str:
    """SHA-256 of any file, text or not (a workbook is a ZIP archive, NUL bytes and all)."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def digest_and_encoding(path: Path) -> FileDigest:
    """SHA-256 of the file and its text encoding (UTF-8, with or without BOM, else Windows-1252).

    A file that is not valid UTF-8 anywhere is read as Windows-1252, the encoding Excel uses on
    French Windows machines when it saves "CSV (séparateur : point-virgule)". UTF-16/UTF-32
    files, NUL bytes and bytes Windows-1252 does not define are refused (`UnreadableFile`).
    """
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    bom = False
    lines = 0
    with path.open("rb") as handle:
        first = True
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            if first and (other := wrong_encoding(chunk)):
                raise UnreadableFile(
                    f"le fichier est encodé en {other}, que mixite ne lit pas. Fichier refusé.",
                    _SAVE_AS,
                )
            _refuse_binary_bytes(chunk, lines)
            lines += chunk.count(b"\n")
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
                bom = True
            first = False
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if not utf8:
        _check_cp1252(path)
    return FileDigest(sha.hexdigest(), "utf-8-sig" if utf8 else "cp1252", lines, bom and utf8)


@dataclass
class Table:
    """The rows of one file, cells keyed by canonical column name."""

    name: str
    columns: dict[str, int]  # canonical name -> 0-based position in the row
    ignored_columns: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (line number as the user sees it, cells)
    sha256: str
    encoding: str
    approximate_rows: int
    path: Path
    kind: str = "csv"
    separator: str = ";"
    encoding_label: str = ""  # for people: UTF-8, UTF-8 (BOM), Windows-1252, XLSX (Excel)
    # The header's number of fields, which every row of a CSV file must have; None for XLSX,
    # whose rows end at their last filled cell.
    width: int | None = None


def _match_header(
    file_name: str,
    header: list[str],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    aliases: dict[str, str],
) -> tuple[dict[str, int], list[str]]:
    known = set(required) | set(optional)
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for position, raw in enumerate(header):
        key = normalise_header(raw)
        canonical = key if key in known else aliases.get(key)
        if canonical is None:
            if raw.strip():
                ignored.append(raw.strip())
            continue
        if canonical in columns:
            raise UnreadableFile(
                f"la colonne « {canonical} » apparaît deux fois.", line=1, column=position + 1
            )
        columns[canonical] = position
    missing = [name for name in required if name not in columns]
    if missing:
        listed = ", ".join(f"« {name} »" for name in missing)
        raise UnreadableFile(
            f"colonne(s) obligatoire(s) absente(s) : {listed}. Fichier refusé.",
            "Vérifiez la ligne d'en-tête ; les noms attendus sont ceux du format d'import "
            "(majuscules et accents indifférents).",
        )
    return columns, ignored


def _sniff_separator(first_line: str) -> str:
    counts = {separator: first_line.count(separator) for separator in (";", ",", "\t")}
    return max(counts, key=lambda separator: counts[separator])


def csv_rows(path: Path, encoding: str, separator: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) for each data row; a row that csv cannot read (a
    cell over its limit: a quote never closed, a binary file) raises `UnreadableFile`."""
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=separator)
        try:
            next(reader, None)  # header
        except csv.Error as exc:
            raise _unreadable_row(exc, 1) from None
        while True:
            # A row quoted over several lines is located where it starts, where its opening
            # quote is, not where csv stops reading it.
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _unreadable_row(exc, start) from None
            # A blank line, or one of empty cells only (";;;;"); the first cell, usually
            # filled, spares scanning the whole row.
            if not (cells and (cells[0] or any(cells))):
                continue
            yield start, cells


def _unreadable_row(error: csv.Error, line: int) -> UnreadableFile:
    if "field limit" in str(error):
        limit = f"{CSV_FIELD_LIMIT:,}".replace(",", "\u202f")
        return UnreadableFile(
            f"une cellule commençant sur cette ligne dépasse {limit} caractères : un guillemet "
            "ouvert n'y est sans doute jamais refermé (ou le fichier n'est pas un export texte). "
            "Fichier refusé.",
            'Cherchez un guillemet (") isolé sur cette ligne.',
            line=line,
        )
    return UnreadableFile("ligne illisible par le lecteur CSV. Fichier refusé.", line=line)


def read_csv(
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    aliases: dict[str, str] | None = None,
) -> Table:
    check_size(path, MAX_TABLE_BYTES)
    digest = digest_and_encoding(path)
    try:
        with path.open(encoding=digest.encoding, newline="") as handle:
            first_line = handle.readline(CSV_FIELD_LIMIT)
    except OSError as exc:
        raise UnreadableFile(f"lecture impossible ({exc.strerror}).") from exc
    if not first_line.strip():
        raise UnreadableFile("le fichier est vide (pas de ligne d'en-tête).")
    separator = _sniff_separator(first_line)
    try:
        header = next(csv.reader([first_line.rstrip("\r\n")], delimiter=separator))
    except csv.Error as exc:
        raise _unreadable_row(exc, 1) from None
    columns, ignored = _match_header(path.name, header, required, optional, aliases or {})
    return Table(
        name=path.name,
        columns=columns,
        ignored_columns=ignored,
        rows=csv_rows(path, digest.encoding, separator),
        sha256=digest.sha256,
        encoding=digest.encoding,
        approximate_rows=max(digest.lines - 1, 0),
        path=path,
        separator=separator,
        encoding_label=digest.encoding_label,
        width=len(header),
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # A decimal comma: Excel's 1.5 is exact, but "1.500" in a text cell is ambiguous.
        return str(value).replace(".", ",")
    return str(value)


def _percent_cell_text(cell: Any) -> str:
    """A cell of a percentage column: Excel stores "30 %" as 0.3 in a cell formatted as a
    percentage, which would otherwise read as 0,3 %. Converted through the decimal text of
    the float, so that 0.305 gives exactly 30,5."""
    value = cell.value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and "%" in (getattr(cell, "number_format", None) or ""):
        scaled = Decimal(repr(value)).scaleb(2).normalize()
        return f"{scaled:f}".replace(".", ",") + " %"
    return _cell_text(value)


# What openpyxl raises on a file that is not a sound workbook: not a ZIP archive, a member
# missing, XML cut or malformed.
_BROKEN_WORKBOOK: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    SyntaxError,  # XML parse errors, ElementTree's and lxml's
    OSError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    zlib.error,  # a compressed member damaged
    struct.error,
    NotImplementedError,  # an unknown compression method
    RuntimeError,  # an encrypted member
)


def _broken_workbook() -> UnreadableFile:
    # Not openpyxl's own text: it is English and speaks of ZIP members and XML.
    return UnreadableFile(
        "classeur Excel illisible : ce n'est pas un fichier XLSX intact (fichier abîmé, ou "
        "d'un autre format renommé en .xlsx). Fichier refusé.",
        "Rouvrez-le dans Excel et enregistrez-le à nouveau au format « Classeur Excel (.xlsx) ».",
    )


def read_xlsx(
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    aliases: dict[str, str] | None = None,
    percent: tuple[str, ...] = (),
) -> Table:
    # Imported lazily: openpyxl takes a noticeable time to import and most bundles are CSV.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_size(path, MAX_TABLE_BYTES)
    digest = FileDigest(file_sha256(path), "xlsx", 0)
    broken: tuple[type[Exception], ...] = (InvalidFileException, *_BROKEN_WORKBOOK)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except broken as exc:
        raise _broken_workbook() from exc
    sheet_names = {normalise_header(name): name for name in workbook.sheetnames}
    sheet = workbook[sheet_names.get(normalise_header(path.stem), workbook.sheetnames[0])]
    rows = sheet.iter_rows(values_only=True)
    try:
        header_cells = next(rows, None)
    except _BROKEN_WORKBOOK as exc:
        raise _broken_workbook() from exc
    if header_cells is None:
        raise UnreadableFile("la feuille est vide (pas de ligne d'en-tête).")
    header = [_cell_text(cell) for cell in header_cells]
    columns, ignored = _match_header(path.name, header, required, optional, aliases or {})

    percent_positions = {columns[name] for name in percent if name in columns}

    def iterate() -> Iterator[tuple[int, list[str]]]:
        for line, cells in enumerate(rows, start=2):
            texts = [_cell_text(cell) for cell in cells]
            if any(text.strip() for text in texts):
                yield line, texts
        workbook.close()

    def iterate_with_formats() -> Iterator[tuple[int, list[str]]]:
        # Cell objects carry the number format; only files with a percentage column pay it.
        for line, cells in enumerate(sheet.iter_rows(min_row=2), start=2):
            texts = [
                _percent_cell_text(cell)
                if position in percent_positions
                else _cell_text(cell.value)
                for position, cell in enumerate(cells)
            ]
            if any(text.strip() for text in texts):
                yield line, texts
        workbook.close()

    def guarded(inner: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        try:
            yield from inner
        except _BROKEN_WORKBOOK as exc:  # the sheet's XML breaks off after the header
            raise _broken_workbook() from exc

    return Table(
        name=path.name,
        columns=columns,
        ignored_columns=ignored,
        rows=guarded(iterate_with_formats() if percent_positions else iterate()),
        sha256=digest.sha256,
        encoding="xlsx",
        approximate_rows=max((sheet.max_row or 1) - 1, 0),
        path=path,
        kind="xlsx",
        encoding_label=encoding_label("xlsx"),
    )


def read_table(
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    aliases: dict[str, str] | None = None,
    percent: tuple[str, ...] = (),
) -> Table:
    """`percent`: columns holding percentages, which Excel may store as fractions."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(path, required, optional, aliases, percent)
    return read_csv(path, required, optional, aliases)
