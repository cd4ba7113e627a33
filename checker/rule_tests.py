"""Rule tests: small hand-written data sets beside the rules (`*.tests.yaml`) with the
expected result per scope, run on a fresh SQLite database by both engines (SQL and the
reference interpreter), which must agree with each other and with the expectation."""

from __future__ import annotations

import atexit
import csv
import datetime as dt
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, create_engine

from checker.db.engine import engine_on, ensure_schema, make_engine, reuse_engine
from checker.errors import MixiteError
from checker.evaluate.reference import ReferenceEvaluator
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest import columns
from checker.ingest.pseudonym import KEY_ENV, key_setting
from checker.report.json_report import results_block
from checker.rulebook_loader import rule_test_files
from dsl.rulebook import Rulebook

DEFAULT_TERRITORY: dict[str, Any] = {
    "epci": {
        "siren": "910000009",
        "nom": "Communauté de test",
        "siren_arrete": "248000531",  # CA Amiens Métropole: its published thresholds
        "departement": "80",
        "region": "Hauts-de-France",
        "tenu_plh": True,
        "competent_habitat": True,
    },
    "communes": [
        {"insee": "80901", "nom": "Aval", "zone_plafonds": "autres_regions"},
        {"insee": "80902", "nom": "Amont", "zone_plafonds": "autres_regions"},
    ],
    "qpv": [
        {"code": "QN08001M", "nom": "Les Tilleuls", "communes": ["80901"],
         "valide_du": dt.date(2024, 1, 1), "valide_au": None},
        {"code": "QP080099", "nom": "Le Moulin", "communes": ["80902"],
         "valide_du": dt.date(2015, 1, 1), "valide_au": dt.date(2023, 12, 31)},
    ],
    "bailleurs": [
        {"siren": "910000017", "nom": "Bailleur A"},
        {"siren": "910000025", "nom": "Bailleur B"},
    ],
    "reservataires": [
        {"id": "ETAT", "type": "etat", "nom": "Préfet"},
        {"id": "AL", "type": "action_logement", "nom": "Action Logement Services"},
    ],
}  # fmt: skip
ATTRIBUTION_DEFAULTS = {
    "contingent": "non_reserve",
    "mutation": "non",
    "dalo": "non",
    "criteres_prioritaires": "",
    "relogement": "",
    "travailleur_essentiel": "non",
    "nb_titulaires": "1",
    "nb_personnes_14_plus": "0",
    "nb_moins_14": "0",
    "rfr_n2": "10000",
}
# libyaml's loader and dumper when PyYAML was built with it: the same documents, ten times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
LOGEMENT_DEFAULTS = {"qpv_code": "", "financement": "PLUS", "commune_insee": "80901"}
# One row per application examined: give date_commission, bailleur_siren and rpls_id.
CALEOL_DEFAULTS = {
    "decision": "attribution_rang",
    "designation_dalo": "non",
    "motif_moins_de_trois": "",
}
# Expectation keys a test may give, in French, and the result field each one checks.
EXPECTATION_KEYS = {
    "statut": "status",
    "numerateur": "numerator",
    "denominateur": "denominator",
    "taux": "rate",
    "cible": "target",
    "manque": "shortfall",
    "inconnus": "unknown",
    "version": "version",
    "source_de_la_cible": "target_source",
    "reference_de_la_cible": "target_reference",
    "pour_information": "information",
}


# What a case may contain; any other key is a misspelling, which would otherwise be ignored
# (a case with « atendu » checks nothing, data with « nb_enfants » is not the data meant).
CASE_KEYS = ("nom", "description", "annee", "au", "territoire", "defauts", "logements",
             "attributions", "caleol", "reservations", "baux", "residences", "occupation",
             "relogements", "attendu")  # fmt: skip
# The columns of each file, required then optional (`checker.ingest.columns`: the names only,
# without the importer's validation models, which cost a tenth of a second to build).
_LOGEMENT_FIELDS = (*columns.LOGEMENTS_REQUIRED, *columns.LOGEMENTS_OPTIONAL)
_ATTRIBUTION_FIELDS = (*columns.ATTRIBUTIONS_REQUIRED, *columns.ATTRIBUTIONS_OPTIONAL)
_CALEOL_FIELDS = (*columns.CALEOL_REQUIRED, *columns.CALEOL_OPTIONAL)
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "defauts": _ATTRIBUTION_FIELDS,
    "attributions": _ATTRIBUTION_FIELDS,
    "logements": _LOGEMENT_FIELDS,
    "caleol": _CALEOL_FIELDS,
    "reservations": (*columns.RESERVATIONS_REQUIRED, *columns.RESERVATIONS_OPTIONAL),
    "baux": (*columns.BAUX_REQUIRED, *columns.BAUX_OPTIONAL),
    "residences": (*columns.RESIDENCES_REQUIRED, *columns.RESIDENCES_OPTIONAL),
    "occupation": (*columns.OCCUPATION_REQUIRED, *columns.OCCUPATION_OPTIONAL),
    "relogements": (*columns.RELOGEMENTS_REQUIRED, *columns.RELOGEMENTS_OPTIONAL),
}
_ROW_LABELS = {
    "defauts": "les valeurs par défaut des attributions",
    "attributions": "une attribution",
    "logements": "un logement",
    "caleol": "un examen de CALEOL",
    "reservations": "une convention de réservation",
    "baux": "un bail",
    "residences": "une résidence",
    "occupation": "une enquête d'occupation",
    "relogements": "un relogement",
}


def _unknown(where: str, key: str, known: Sequence[str], what: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f" ; vouliez-vous dire « {close[0]} » ?" if close else ""
    return (
        f"{where} : clé inconnue « {key} » dans {what}{hint} (clés possibles : {', '.join(known)})"
    )


def _keys(node: Any) -> list[tuple[str, Any]]:
    """(key, key node) of a YAML mapping node; merge keys (`<<`) are expanded by the loader."""
    if not isinstance(node, yaml.MappingNode):
        return []
    return [
        (str(k.value), k)
        for k, _ in node.value
        if isinstance(k, yaml.ScalarNode) and k.value != "<<"
    ]


def _value(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def case_key_problems(file: str, text: str) -> list[str]:
    """Misspelt keys in a test file's cases, each located (file:line:column)."""
    try:
        root = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return []  # already reported by the loader
    return _key_problems(file, root)


def _key_problems(file: str, root: Any) -> list[str]:
    """`case_key_problems` on the file's composed YAML (its node tree, before construction:
    constructing expands merge keys in place)."""
    problems: list[str] = []
    order: dict[str, tuple[int, int]] = {}

    def where(node: Any) -> str:
        order[f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"] = (
            node.start_mark.line, node.start_mark.column)  # fmt: skip
        return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def rows(holder: Any, key: str, context: str) -> None:
        value = _value(holder, key)
        items = [value] if key == "defauts" else (
            value.value if isinstance(value, yaml.SequenceNode) else [])  # fmt: skip
        for item in items:
            for name, key_node in _keys(item):
                if name not in ROW_FIELDS[key]:
                    problems.append(_unknown(where(key_node), name, ROW_FIELDS[key],
                                             f"{_ROW_LABELS[key]}{context}"))  # fmt: skip

    rows(root, "defauts", "")
    cases = _value(root, "cas")
    for case in cases.value if isinstance(cases, yaml.SequenceNode) else []:
        for name, key_node in _keys(case):
            if name not in CASE_KEYS:
                problems.append(_unknown(where(key_node), name, CASE_KEYS, "un cas"))
        for key in ROW_FIELDS:
            rows(case, key, "")
        # Expectation keys may name any result field: a wrong one fails the case when run
        # (« n'est pas un champ de résultat »).
    return sorted(problems, key=lambda problem: order[problem.split(" : ", 1)[0]])


@dataclass
class CaseOutcome:
    file: str
    rule: str
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class RuleTestError(MixiteError):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _write_csv(path: Path, columns: Sequence[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_text(row.get(column)) for column in columns])


def _bundle(case: dict[str, Any], document: dict[str, Any], target: Path) -> Path:
    target.mkdir()
    territory = _territory(case, document)
    (target / "territoire.yaml").write_text(
        yaml.dump(territory, Dumper=_YAML_DUMPER, allow_unicode=True), encoding="utf-8"
    )
    logements = [{**LOGEMENT_DEFAULTS, **row} for row in case.get("logements", [])]
    defaults = {**ATTRIBUTION_DEFAULTS, **document.get("defauts", {}), **case.get("defauts", {})}
    attributions = []
    for number, row in enumerate(case.get("attributions", []), start=1):
        merged = {**defaults, **row}
        merged.setdefault("numero_unique", f"TEST{number:06d}")
        merged.setdefault("date_decision", merged.get("date_bail") or dt.date(2000, 1, 1))
        attributions.append(merged)
    _write_csv(target / "logements.csv", _LOGEMENT_FIELDS, logements)
    _write_csv(target / "attributions.csv", _ATTRIBUTION_FIELDS, attributions)
    if case.get("caleol"):
        examens = []
        for number, row in enumerate(case["caleol"], start=1):
            merged = {**CALEOL_DEFAULTS, **row}
            merged.setdefault("numero_unique", f"CAND{number:06d}")
            examens.append(merged)
        _write_csv(target / "caleol.csv", _CALEOL_FIELDS, examens)
    # Reservation conventions, leases, residences, OPS surveys and rehousing are written as the
    # case gives them, whole.
    for key in ("reservations", "baux", "residences", "occupation", "relogements"):
        if case.get(key):
            _write_csv(target / f"{key}.csv", ROW_FIELDS[key], case[key])
    return target


def _numeric(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(expected: dict[str, Any], results: list[dict[str, Any]], rule: str) -> list[str]:
    failures: list[str] = []
    scope = {str(k): str(v) for k, v in (expected.get("perimetre") or {}).items()}
    found = [r for r in results if r["rule"] == rule and r["scope"] == scope]
    if not found:
        scopes = [r["scope"] for r in results if r["rule"] == rule]
        return [f"aucun résultat pour le périmètre {scope} (périmètres obtenus : {scopes})"]
    result = found[0]
    for key, wanted in expected.items():
        if key == "perimetre":
            continue
        field_name = EXPECTATION_KEYS.get(key, key)
        if field_name not in result and field_name not in ("target_reference", "information"):
            # (target_reference is in a result only when a convention sets the target,
            # information only for a level « pour information »)
            failures.append(f"{scope} : « {key} » n'est pas un champ de résultat")
            continue
        got = result.get(field_name, False if field_name == "information" else None)
        if (
            _numeric(wanted)
            and _numeric(got)
            and (isinstance(wanted, float) or isinstance(got, float))
        ):
            # A target is reported as a float (a share, or a count: 130.0) and written 130.
            same = abs(wanted - got) < 1e-6
        else:
            same = _text(wanted) == _text(got)
        if not same:
            failures.append(f"{scope} : {key} attendu {wanted!r}, obtenu {got!r}")
    return failures


@cache
def _scratch_root() -> str | None:
    """Where cases write their bundle and database: memory-backed when the system has it.

    Each case commits an import; on a disk each commit waits for the disk (fsync), in
    /dev/shm it does not, and the data are thrown away after the case anyway.
    """
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


@cache
def _scratch_folder() -> Path:
    """The folder of the schema template and of each process's case database, removed at exit.

    Created by the parent before worker processes fork; they do not run `atexit` handlers, so
    their databases live here too, to be removed with it.
    """
    folder = Path(tempfile.mkdtemp(prefix="mixite-tests-schema-", dir=_scratch_root()))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _case_database(content: bytes | None) -> tuple[str, Engine, Path]:
    """This process's scratch SQLite database for a new case, and its one engine: a copy of the
    empty schema, or `content` (a case's imported database, from the cache).

    Each case starts from a database of its own, as it always did; but the file and its URL
    stay the same from case to case, so one engine (`reuse_engine`) serves every case of the
    process, and the statements the importer and the evaluator send are compiled once, not once
    per case (most of the time the cases took).
    """
    # A folder per process: the importer locks the database's folder (`import_lock`).
    path = _scratch_folder() / f"processus-{os.getpid()}" / "cas.db"
    path.parent.mkdir(exist_ok=True)
    url = f"sqlite:///{path}"
    engine = reuse_engine(url)
    engine.dispose()  # no connection keeps the previous case's file open
    for leftover in (path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal")):
        leftover.unlink(missing_ok=True)
    if content is None:
        shutil.copyfile(_empty_sqlite_template(), path)
    else:
        path.write_bytes(content)
    return url, engine, path


# Per process and thread: the in-memory database the cases read from the cache run on, with
# its one engine (see `_memory_engine`).
_MEMORY: dict[tuple[int, int], tuple[sqlite3.Connection, Engine]] = {}


def _memory_engine(content: bytes) -> Engine | None:
    """This process's in-memory database, now holding `content` (a case's imported database,
    from the cache), and its one engine; None where SQLite cannot load a database from bytes
    (the case then runs on the scratch file).

    One connection serves every case of the process, its database replaced case after case
    (`deserialize`): SQLite keeps the statements it prepared with the connection, and the
    cases of a rule send the same statements, which a new connection per case prepared again
    (with the connection's own set-up, most of the time a case took once its statements were
    built: 0.43 s instead of 0.20 s of CPU for the national cases). Each case still starts
    from exactly the database its import made. Keyed by process and thread: a forked worker
    or another thread never shares a connection.
    """
    owner = (os.getpid(), threading.get_ident())
    held = _MEMORY.get(owner)
    if held is None:
        connection = sqlite3.connect(":memory:")
        if not hasattr(connection, "deserialize"):  # SQLite built without it
            connection.close()
            return None
        held = _MEMORY[owner] = (connection, engine_on(connection))
    try:
        held[0].deserialize(content)
    except sqlite3.Error:
        return None
    return held[1]


def _release(engine: Engine) -> None:
    """After a case: a scratch file's engine closes its connection (the next case's copy
    replaces the file); the in-memory database's stays open for the next case."""
    if not any(engine is kept for _, kept in _MEMORY.values()):
        engine.dispose()


def _territory(case: dict[str, Any], document: dict[str, Any]) -> Any:
    return case.get("territoire") or document.get("territoire") or DEFAULT_TERRITORY


# What a case's bundle is written from (`_bundle`), besides this module's defaults.
_BUNDLE_KEYS = ("territoire", "defauts", "logements", "attributions", "caleol", "reservations",
                "baux", "residences", "occupation", "relogements")  # fmt: skip


def _scratch_case(case: dict[str, Any], document: dict[str, Any]) -> tuple[Engine, list[str]]:
    """The case's data imported into this process's scratch database (its engine: the
    in-memory database for a case read from the cache, see `_memory_engine`), and the
    messages of the import's refusal (the first five), if refused.

    The outcome comes from the cache of imported cases when it has it (see
    `checker.rule_test_cache`): the case's bundle is then not even written. The cache is keyed
    by what the bundle is written from, as the test file gives it (the case's data, its file's
    defaults and territory); the writing itself is mixite's code, which the key covers too.
    Cases whose territory declares a CIA are not cached (its check reads the rules).
    """
    from checker import rule_test_cache

    territory = _territory(case, document)
    inputs = (document.get("territoire"), document.get("defauts"),
              tuple(case.get(key) for key in _BUNDLE_KEYS))  # fmt: skip
    cia = isinstance(territory, dict) and "cia" in territory
    key = None if cia else rule_test_cache.case_key(repr(inputs))
    cached = rule_test_cache.read(key) if key is not None else None
    if cached is not None:
        content = cached.database  # None: refused, nothing will be evaluated
        engine = _memory_engine(content) if content is not None else None
        return engine or _case_database(content)[1], cached.refusals
    url, engine, database = _case_database(None)
    with tempfile.TemporaryDirectory(prefix="mixite-test-", dir=_scratch_root()) as scratch:
        refusals = _import_bundle(_bundle(case, document, Path(scratch) / "lot"), url)
    if key is not None:
        rule_test_cache.write(key, None if refusals else database, refusals)
    return engine, refusals


def _import_bundle(bundle: Path, url: str) -> list[str]:
    """Import a case's bundle; the messages of its refusal (the first five), if refused."""
    # The importer (and what it imports) is loaded only when a case is not in the cache.
    from checker.ingest.importer import ImportRefused, import_bundle

    try:
        with key_setting(KEY_ENV, "cle-de-test-des-regles-0123456789"):
            import_bundle([bundle], url)
    except ImportRefused as refused:
        return [f"données du cas refusées : {p.render()}" for p in refused.problems[:5]]
    return []


@cache
def _empty_sqlite_template() -> Path:
    """A SQLite file holding mixite's empty schema, built once per process.

    Building the schema runs every migration (about 0.4 s); each case starts from a copy of
    this file instead, which takes a millisecond. The file is kept in the cache of imported
    cases too (keyed by mixite's code, migrations included), so the next run does not build it.
    """
    from checker import rule_test_cache

    template = _scratch_folder() / "schema.db"
    cached = rule_test_cache.read_schema()
    if cached is not None:
        template.write_bytes(cached)
        return template
    engine = make_engine(f"sqlite:///{template}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    rule_test_cache.write_schema(template)
    return template


ENGINES = ("sql", "reference")


def run_case(
    rulebook: Rulebook,
    document: dict[str, Any],
    case: dict[str, Any],
    file: str,
    database_url: str | None = None,
    engines: Sequence[str] = ENGINES,
) -> CaseOutcome:
    """Run one case on a fresh database: a temporary SQLite file, or `database_url` (empty).

    `engines` names the evaluators run: both by default, which must then agree; the results
    compared with the expectation are the SQL engine's when it runs.
    """
    rule = str(document.get("regle", ""))
    outcome = CaseOutcome(file, rule, str(case.get("nom", "sans nom")))
    if rule not in rulebook.rules:
        outcome.failures.append(f"règle inconnue : {rule!r}")
        return outcome
    year = case.get("annee")
    if not isinstance(year, int):
        outcome.failures.append("« annee » manquante ou invalide")
        return outcome
    to_date = case.get("au")
    period = Period.year(year, to_date if isinstance(to_date, dt.date) else None)
    engine: Engine | None = None
    if database_url is None:
        engine, refusals = _scratch_case(case, document)
    else:
        with tempfile.TemporaryDirectory(prefix="mixite-test-", dir=_scratch_root()) as scratch:
            refusals = _import_bundle(_bundle(case, document, Path(scratch) / "lot"), database_url)
    if refusals:
        outcome.failures.extend(refusals)
        return outcome
    if engine is None:
        assert database_url is not None
        engine = create_engine(database_url)
    found: dict[str, list[dict[str, Any]]] = {}
    try:
        with engine.connect() as connection:
            evaluator: Evaluator | None = None
            if "sql" in engines:
                evaluator = Evaluator(connection, rulebook, period, Options())
                found["sql"] = results_block(evaluator.evaluate_rule_results(rule))
            if "reference" in engines:
                reference = ReferenceEvaluator(connection, rulebook, period, Options(),
                                               beside=evaluator)  # fmt: skip
                found["reference"] = results_block(reference.evaluate_rule_results(rule))
    finally:
        _release(engine)
    if len(found) == 2 and found["sql"] != found["reference"]:
        outcome.failures.append("le moteur SQL et l'interpréteur de référence divergent")
    judged = found.get("sql", found.get("reference", []))
    for expected in case.get("attendu", []):
        outcome.failures.extend(_compare(expected, judged, rule))
    if not case.get("attendu"):
        outcome.failures.append("aucun résultat attendu (« attendu ») : le cas ne vérifie rien")
    return outcome


def load_documents(paths: Sequence[Path]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in rule_test_files(paths):
        text = path.read_text(encoding="utf-8")
        # Composed once, for both the key check and the document (YAML parsed twice was a
        # tenth of the time of a run's loading).
        loader = _YAML_LOADER(text)
        try:
            root = loader.get_single_node()
            problems = _key_problems(path.as_posix(), root)
            document = loader.construct_document(root) if root is not None else None
        except yaml.YAMLError as exc:
            raise RuleTestError(f"{path} : YAML illisible ({exc}).") from exc
        finally:
            loader.dispose()
        if not isinstance(document, dict) or "regle" not in document or "cas" not in document:
            raise RuleTestError(f"{path} : un fichier de tests contient « regle » et « cas ».")
        if problems:
            shown = "\n".join(problems[:20])
            more = f"\n… et {len(problems) - 20} autre(s)" if len(problems) > 20 else ""
            raise RuleTestError(shown + more)
        documents.append((path.as_posix(), document))
    return documents


# Set in the parent before the worker processes fork, so that they inherit the checked
# rulebook instead of receiving it pickled with every case.
_FORKED_RULEBOOK: Rulebook | None = None
# Below this many cases, starting processes costs more than it saves.
_PARALLEL_MIN_CASES = 8


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _run_forked(
    tasks: list[tuple[str, dict[str, Any], dict[str, Any], tuple[str, ...]]],
) -> list[CaseOutcome]:
    assert _FORKED_RULEBOOK is not None
    return [run_case(_FORKED_RULEBOOK, d, c, f, engines=e) for f, d, c, e in tasks]


def run_rule_tests(
    rulebook: Rulebook,
    paths: Sequence[Path],
    rule: str | None = None,
    engines: Sequence[str] = ENGINES,
    jobs: int | None = None,
    documents: list[tuple[str, dict[str, Any]]] | None = None,
) -> list[CaseOutcome]:
    """Run the cases of the test files under `paths` (only those of `rule` when given);
    `documents`: those files already read by `load_documents`.

    Cases are independent (each on a database of its own). With several processors and the
    cases of several rules, they run in `jobs` worker processes (by default one per
    processor), each taking whole test files: the cases of one rule send the same statements,
    which a process compiles once (see `_case_database`). One rule's cases run in this process:
    split between processes, each would compile the same statements again.
    Outcomes come in the order of the files.
    """
    global _FORKED_RULEBOOK
    if documents is None:
        documents = load_documents(paths)
    if rule is not None:
        documents = [(file, document) for file, document in documents if document["regle"] == rule]
    groups = [
        [(file, document, case, tuple(engines)) for case in document["cas"]]
        for file, document in documents
    ]
    jobs = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
    parallel = (
        jobs > 1
        and len(groups) > 1
        and sum(len(group) for group in groups) >= _PARALLEL_MIN_CASES
        and _can_fork()
    )
    from checker import rule_test_cache

    rule_test_cache.prune()
    if not parallel:
        return [run_case(rulebook, d, c, f, engines=e) for group in groups for f, d, c, e in group]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _empty_sqlite_template()  # built once here, inherited by the workers
    _FORKED_RULEBOOK = rulebook
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            return [outcome for done in pool.map(_run_forked, groups) for outcome in done]
    finally:
        _FORKED_RULEBOOK = None
