"""Reading `territoire.yaml`: the EPCI, its communes, QPV, bailleurs and réservataires.

Validation errors point at the line of the YAML node they concern: the document is composed
into nodes (which carry their marks), then constructed from them. Every scalar stays text and
goes through the same French parsers as the CSV cells (`checker.ingest.values`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from checker.db.codes import RESERVATAIRE_TYPES, ZONES_ABC, ZONES_PLAFONDS
from checker.ingest import values
from checker.ingest.problems import ProblemLog
from checker.ingest.rows import french_errors
from checker.ingest.tabular import byte_place, encoding_label, file_size, wrong_encoding

T = TypeVar("T")
_Path = tuple[str | int, ...]

# The file is read with PyYAML's BaseLoader: every scalar stays the text the user typed (no
# YAML 1.1 guessing that turns `01053` into the octal 555, `01` into 1, or `oui` into a
# string but `yes` into a boolean), and the same French parsers as the CSV files read it.
_ABSENT = frozenset({"", "null", "~"})
_YAML_HINT = "structure YAML invalide : vérifiez l'indentation, les deux-points et les guillemets"
# A territory is a few hundred lines; these bounds stop a wrong or hostile file quickly: a file
# of several megabytes, or aliases (*nom) that repeat an anchored part until the document holds
# billions of nodes (the "billion laughs"), which would take minutes and gigabytes to check.
MAX_TERRITORY_BYTES = 1 << 20
MAX_NODES = 100_000
# PyYAML's problems, in French: (start of its English text, French text, use the mark of the
# context: where a quote or bracket opens rather than the end of the file where it is missed).
_YAML_PROBLEMS = (
    ("mapping values are not allowed", "deux-points inattendu : une valeur qui contient « : » "
     "s'écrit entre guillemets, ou l'indentation de cette ligne est décalée", False),
    ("expected <block end>", "indentation incohérente avec les lignes précédentes", False),
    ("found unexpected end of stream", "guillemet ouvert ici et jamais refermé", True),
    ("expected ',' or ']'", "crochet « [ » ouvert ici et jamais refermé", True),
    ("expected ',' or '}'", "accolade « { » ouverte ici et jamais refermée", True),
    ("found character '\\t'", "tabulation : indentez avec des espaces", False),
    ("found character", "caractère interdit en début de valeur : mettez la valeur entre "
     "guillemets", False),
    ("found undefined alias", "alias (*nom) sans ancre (&nom) définie avant lui", False),
    ("found duplicate anchor", "ancre (&nom) définie deux fois", False),
    ("found unknown escape character", "séquence « \\ » inconnue dans une valeur entre "
     "guillemets doubles (utilisez des guillemets simples)", False),
    ("could not find expected ':'", "deux-points « : » attendu après la clé", True),
    ("but found another document", "un seul document attendu (« --- » en trop)", False),
)  # fmt: skip


def _text_of(raw: Any) -> str:
    if not isinstance(raw, str):
        raise ValueError("une valeur simple est attendue ici, pas une liste ni des clés")
    return raw.strip()


def _required(parser: Callable[[str], T]) -> Any:
    def parse(raw: Any) -> T:
        text = _text_of(raw)
        if text.lower() in _ABSENT:
            raise ValueError("valeur obligatoire manquante")
        return parser(text)

    return BeforeValidator(parse)


def _optional(parser: Callable[[str], T]) -> Any:
    def parse(raw: Any) -> T | None:
        if raw is None:
            return None
        text = _text_of(raw)
        return None if text.lower() in _ABSENT else parser(text)

    return BeforeValidator(parse)


def _list(raw: Any) -> Any:
    """An empty or null list (`qpv:` alone, `qpv: ~`) is an empty list."""
    if isinstance(raw, str) and raw.strip().lower() in _ABSENT:
        return []
    return raw


def _choice(choices: tuple[str, ...]) -> Any:
    return _required(lambda raw: values.parse_choice(raw, choices))


def _same(text: str) -> str:
    return text


def _zone_abc(raw: str) -> str:
    """A zone of the A/B/C zoning, whatever its spelling: "A bis", "Abis", "a bis"."""
    key = raw.replace(" ", "").replace("\u00a0", "").upper()
    for zone in ZONES_ABC:
        if key == zone.upper():
            return zone
    raise ValueError(f"« {raw} » n'est pas une zone admise (valeurs admises : A bis, A, B1, B2, C)")


Text = Annotated[str, _required(_same)]
OptText = Annotated[str | None, _optional(_same)]
Siren = Annotated[str, _required(values.parse_siren)]
Insee = Annotated[str, _required(values.parse_insee)]
Bool = Annotated[bool, _required(values.parse_bool)]
OptBool = Annotated[bool | None, _optional(values.parse_bool)]
Date = Annotated[dt.date, _required(values.parse_date)]
OptDate = Annotated[dt.date | None, _optional(values.parse_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EpciSpec(_Strict):
    siren: Siren
    nom: Text
    # The SIREN under which the yearly quartile arrêtés list the EPCI: its own by default; a
    # fictitious territory (demo, tests) borrows a real one. Names change between arrêtés,
    # SIRENs do not, so the thresholds are looked up by this.
    siren_arrete: Annotated[str | None, _optional(values.parse_siren)] = None
    nom_arrete: OptText = None  # display only (kept for older territory files)
    departement: Annotated[str, _required(values.parse_departement)]
    region: Text
    # Optional: a territory file may not know them; the Q1/QPV rules then read whether the
    # year's quartile arrêté lists the EPCI (see rules/national/q1_hors_qpv.regles).
    tenu_plh: OptBool = None
    competent_habitat: OptBool = None
    cotation_adoptee_le: OptDate = None
    cia_signee_le: OptDate = None


class CommuneSpec(_Strict):
    insee: Insee
    nom: Text
    zone_plafonds: Annotated[str, _choice(ZONES_PLAFONDS)]
    zone_abc: Annotated[str | None, _optional(_zone_abc)] = None


class QpvSpec(_Strict):
    code: Annotated[str, _required(str.upper), Field(max_length=12)]  # qpv.code String(12)
    nom: Text
    communes: Annotated[list[Insee], BeforeValidator(_list)]
    valide_du: Date
    valide_au: OptDate = None


class BailleurSpec(_Strict):
    siren: Siren
    nom: Text


class ReservataireSpec(_Strict):
    id: Annotated[Text, Field(max_length=40)]  # reservataire.id String(40)
    type: Annotated[str, _choice(RESERVATAIRE_TYPES)]
    nom: Text


class TerritorySpec(_Strict):
    epci: EpciSpec
    communes: Annotated[list[CommuneSpec], BeforeValidator(_list), Field(min_length=1)]
    qpv: Annotated[list[QpvSpec], BeforeValidator(_list)] = []
    bailleurs: Annotated[list[BailleurSpec], BeforeValidator(_list), Field(min_length=1)]
    reservataires: Annotated[list[ReservataireSpec], BeforeValidator(_list)] = []
    # The territory's CIA files (names relative to territoire.yaml), stored with it at import
    # (checker.territory_cia) and applied by `mixite check` without --rules.
    cia: Annotated[list[str], BeforeValidator(_list)] = []


def decode(raw: bytes) -> tuple[str, str]:
    """The text of the file and its encoding for people (UTF-8, else Windows-1252)."""
    try:
        return raw.decode("utf-8-sig"), encoding_label("utf-8", raw.startswith(b"\xef\xbb\xbf"))
    except UnicodeDecodeError:
        return raw.decode("cp1252"), encoding_label("cp1252")


def human_path(location: _Path) -> str:
    """`communes n° 7, insee` for pydantic's ("communes", 6, "insee"): people count from 1."""
    text = ""
    previous: str | int | None = None
    for part in location:
        if isinstance(part, int):
            text += f" n° {part + 1}"
        elif previous is None:
            text = part
        else:
            text += ("." if isinstance(previous, str) else ", ") + part
        previous = part
    return text


def _node_lines(node: yaml.Node, path: _Path, lines: dict[_Path, tuple[int, int]]) -> None:
    lines[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _node_lines(value_node, (*path, str(key_node.value)), lines)
            lines[(*path, str(key_node.value), "<cle>")] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*path, index), lines)


def _locate(lines: dict[_Path, tuple[int, int]], path: _Path) -> tuple[int, int]:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return (1, 1)


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.BaseLoader(text)
    try:
        node = loader.get_single_node()
        return node, (None if node is None else loader.construct_document(node))
    finally:
        loader.dispose()


def _duplicate_keys(node: yaml.Node, path: _Path, found: list[tuple[yaml.Node, str]]) -> None:
    """Keys given twice in a mapping: YAML keeps the last one silently, we refuse them."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                where = human_path(path)
                found.append(
                    (
                        key_node,
                        f"{where + ' : ' if where else ''}la clé « {key} » est donnée deux fois",
                    )
                )
            seen.add(key)
            _duplicate_keys(value_node, (*path, key), found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _duplicate_keys(item, (*path, index), found)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> tuple[int | None, int | None, str]:
    """(line, column, French message) of a PyYAML error, never its English text."""
    problem = exc.problem or ""
    french, at_context = next(
        ((text, context) for start, text, context in _YAML_PROBLEMS if problem.startswith(start)),
        ("", False),
    )
    mark = (exc.context_mark if at_context else None) or exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
    return line, column, f"{_YAML_HINT}" + (f" ({french})" if french else "")


def _reader_problem(exc: yaml.reader.ReaderError, text: str) -> tuple[int, int, str]:
    """A character YAML does not allow (NUL, other control characters), located."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    character = exc.character if isinstance(exc.character, str) else chr(exc.character)
    code = f"U+{ord(character):04X}"
    return line, column, f"caractère de contrôle {code} interdit dans un fichier YAML"


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> tuple[int, yaml.Node | None]:
    """The number of nodes the document holds once aliases are expanded, stopping past
    MAX_NODES; also the first node whose expansion passes the bound (a cycle counts as
    unbounded). Sizes are remembered per node, so shared (aliased) parts are counted once."""
    known = sizes.get(id(node))
    if known is not None:
        return known, None if known <= MAX_NODES else node
    sizes[id(node)] = MAX_NODES + 1  # while it is counted: an alias back to it is a cycle
    total = 1
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            children += (key_node, value_node)
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    for child in children:
        size, culprit = _expanded_size(child, sizes)
        if culprit is not None:
            return size, culprit
        total += size
        if total > MAX_NODES:
            return total, node
    sizes[id(node)] = total
    return total, None


def _read_text(path: Path, problems: ProblemLog) -> tuple[str | None, str]:
    """The file's text, or None when it is refused before parsing (size, encoding)."""
    name = path.name
    size = path.stat().st_size
    if size > MAX_TERRITORY_BYTES:
        problems.add(name, None, None, f"fichier trop volumineux ({file_size(size)} ; "
                     f"{file_size(MAX_TERRITORY_BYTES)} au plus).")  # fmt: skip
        return None, ""
    raw = path.read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    other = wrong_encoding(raw)
    if other:
        problems.add(name, None, None, f"le fichier est encodé en {other}, que mixite ne lit "
                     "pas : enregistrez-le en UTF-8.")  # fmt: skip
        return None, sha256
    try:
        text, _ = decode(raw)
    except UnicodeDecodeError as exc:  # not UTF-8, and a byte Windows-1252 does not define
        line, column = byte_place(raw, exc.start, 0)
        problems.add(name, line, column, f"octet 0x{raw[exc.start]:02X} : le fichier n'est ni "
                     "en UTF-8 ni en Windows-1252 : enregistrez-le en UTF-8.")  # fmt: skip
        return None, sha256
    return text, sha256


def load_territory(path: Path, problems: ProblemLog) -> tuple[TerritorySpec | None, str]:
    """The territory of a bundle, or None when it has problems (logged). Also its SHA-256."""
    name = path.name
    text, sha256 = _read_text(path, problems)
    if text is None:
        return None, sha256
    try:
        node, data = _compose(text)
    except yaml.MarkedYAMLError as exc:
        problems.add(name, *_yaml_problem(exc))
        return None, sha256
    except yaml.reader.ReaderError as exc:
        problems.add(name, *_reader_problem(exc, text))
        return None, sha256
    except yaml.YAMLError:  # no line to show
        problems.add(name, None, None, _YAML_HINT)
        return None, sha256
    except RecursionError:
        problems.add(name, None, None, "structure YAML imbriquée trop profondément")
        return None, sha256
    if node is not None:
        _, culprit = _expanded_size(node, {})
        if culprit is not None:
            problems.add(
                name,
                culprit.start_mark.line + 1,
                culprit.start_mark.column + 1,
                f"les alias YAML (*nom) répètent ici le document au-delà de "
                f"{MAX_NODES:,} éléments (ou en boucle) : fichier refusé".replace(",", "\u202f"),
            )
            return None, sha256
    if node is None or not isinstance(data, dict):
        problems.add(name, 1, 1, "le fichier doit décrire un territoire (clés epci, communes…)")
        return None, sha256
    duplicates: list[tuple[yaml.Node, str]] = []
    _duplicate_keys(node, (), duplicates)
    for key_node, message in duplicates:
        problems.add(name, key_node.start_mark.line + 1, key_node.start_mark.column + 1, message)
    lines: dict[_Path, tuple[int, int]] = {}
    _node_lines(node, (), lines)
    try:
        territory = TerritorySpec.model_validate(data)
    except ValidationError as error:
        for item, (_field, message) in zip(
            error.errors(include_url=False), french_errors(error), strict=True
        ):
            location = tuple(item["loc"])
            if item["type"] == "extra_forbidden":  # point at the key, not at its value
                line, column = _locate(lines, (*location, "<cle>"))
            else:
                line, column = _locate(lines, location)
            if item["type"] == "missing":
                message = "clé obligatoire absente"
            problems.add(name, line, column, f"{human_path(location)} : {message}")
        return None, sha256
    _check_cross_references(territory, lines, name, problems)
    return (None if problems else territory), sha256


def _check_cross_references(
    territory: TerritorySpec,
    lines: dict[_Path, tuple[int, int]],
    name: str,
    problems: ProblemLog,
) -> None:
    def duplicates(section: str, keys: list[str]) -> None:
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                line, column = _locate(lines, (section, index))
                problems.add(name, line, column, f"{section} : « {key} » est déclaré deux fois")
            seen.add(key)

    duplicates("communes", [commune.insee for commune in territory.communes])
    duplicates("qpv", [qpv.code for qpv in territory.qpv])
    duplicates("bailleurs", [bailleur.siren for bailleur in territory.bailleurs])
    duplicates("reservataires", [reservataire.id for reservataire in territory.reservataires])
    insee_codes = {commune.insee for commune in territory.communes}
    for index, qpv in enumerate(territory.qpv):
        for position, insee in enumerate(qpv.communes):
            if insee not in insee_codes:
                line, column = _locate(lines, ("qpv", index, "communes", position))
                problems.add(
                    name,
                    line,
                    column,
                    f"le QPV {qpv.code} cite la commune {insee}, absente de la liste des communes",
                )
        if qpv.valide_au is not None and qpv.valide_au < qpv.valide_du:
            line, column = _locate(lines, ("qpv", index, "valide_au"))
            problems.add(name, line, column, f"le QPV {qpv.code} finit avant d'avoir commencé")
