"""Reading `territoire.yaml`: the EPCI, its communes, QPV, bailleurs and réservataires.

Validation errors point at the line of the YAML node they concern, found by composing the
document once more into nodes (which carry their marks).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from checker.db.models import RESERVATAIRE_TYPES, ZONES_PLAFONDS
from checker.ingest import values
from checker.ingest.problems import ProblemLog
from checker.ingest.rows import french_errors

_Path = tuple[str | int, ...]


def _as_text(raw: Any) -> Any:
    return str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw


def _siren(raw: Any) -> str:
    return values.parse_siren(str(raw))


def _choice(choices: tuple[str, ...]) -> Any:
    return BeforeValidator(lambda raw: values.parse_choice(str(raw), choices))


Siren = Annotated[str, BeforeValidator(_siren)]
Insee = Annotated[str, BeforeValidator(_as_text), Field(pattern=r"^(\d{5}|2[AB]\d{3})$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EpciSpec(_Strict):
    siren: Siren
    nom: str
    nom_arrete: str
    departement: Annotated[str, BeforeValidator(_as_text)]
    region: str
    tenu_plh: bool
    competent_habitat: bool
    cotation_adoptee_le: dt.date | None = None
    cia_signee_le: dt.date | None = None


class CommuneSpec(_Strict):
    insee: Insee
    nom: str
    zone_plafonds: Annotated[str, _choice(ZONES_PLAFONDS)]
    zone_abc: str | None = None


class QpvSpec(_Strict):
    code: Annotated[str, BeforeValidator(lambda raw: str(raw).strip().upper())]
    nom: str
    communes: list[Insee]
    valide_du: dt.date
    valide_au: dt.date | None = None


class BailleurSpec(_Strict):
    siren: Siren
    nom: str


class ReservataireSpec(_Strict):
    id: Annotated[str, BeforeValidator(_as_text)]
    type: Annotated[str, _choice(RESERVATAIRE_TYPES)]
    nom: str


class TerritorySpec(_Strict):
    epci: EpciSpec
    communes: list[CommuneSpec] = Field(min_length=1)
    qpv: list[QpvSpec] = []
    bailleurs: list[BailleurSpec] = Field(min_length=1)
    reservataires: list[ReservataireSpec] = []


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


def load_territory(path: Path, problems: ProblemLog) -> tuple[TerritorySpec | None, str]:
    """The territory of a bundle, or None when it has problems (logged). Also its SHA-256."""
    raw = path.read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    name = path.name
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problems.add(name, line, column, f"YAML illisible : {exc.problem}")
        return None, sha256
    if node is None or not isinstance(data, dict):
        problems.add(name, 1, 1, "le fichier doit décrire un territoire (clés epci, communes…)")
        return None, sha256
    lines: dict[_Path, tuple[int, int]] = {}
    _node_lines(node, (), lines)
    try:
        territory = TerritorySpec.model_validate(data)
    except ValidationError as error:
        for item, (_field, message) in zip(
            error.errors(include_url=False), french_errors(error), strict=True
        ):
            location = tuple(item["loc"])
            line, column = _locate(lines, location)
            dotted = ".".join(str(part) for part in location)
            if item["type"] == "extra_forbidden":
                message = "clé inconnue"
            elif item["type"] == "missing":
                message = "clé obligatoire absente"
            problems.add(name, line, column, f"{dotted} : {message}")
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
