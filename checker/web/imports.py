"""An import by upload, shared by the page and the API: permission, guard, then the very
import of `mixite import` (all or nothing)."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from checker.access import permissions
from checker.access.roles import Actor
from checker.errors import MixiteError
from checker.ingest.bundle import find_bundle
from checker.ingest.importer import ImportRefused, ImportResult, import_bundle
from checker.ingest.problems import Problem
from checker.web import import_guard, uploads
from checker.web.context import Denied, log, state, transaction


@dataclass
class ImportOutcome:
    result: ImportResult | None
    problems: list[Problem]
    names: list[str]


RULE_TESTS = (".tests.yaml", ".tests.yml")


def _rule_tests(saved: list[Path]) -> list[Path]:
    """Test cases of rules (`cia.tests.yaml`) sent with the bundle: they belong beside the
    rules, for `mixite rules test`; an import has no use for them and says it left them."""
    return [path for path in saved if path.name.lower().endswith(RULE_TESTS)]


def _tables(saved: list[Path]) -> list[Path]:
    """The files of the bundle proper. A rules file sent with them is the CIA territoire.yaml
    declares: it stays in the folder, where the import finds it beside territoire.yaml."""
    tests = _rule_tests(saved)
    rules = [path for path in saved if path.suffix.lower() == ".regles"]
    territory = [
        path for path in saved if path.suffix.lower() in (".yaml", ".yml") and path not in tests
    ]
    if rules and not territory:
        raise MixiteError(
            f"{rules[0].name} : un fichier de règles accompagne le territoire.yaml qui le déclare.",
            "Pour déposer une nouvelle version de la CIA seule : la page CIA.",
        )
    return [path for path in saved if path not in rules and path not in tests]


def _named_as_sent(error: MixiteError, scratch: Path) -> MixiteError:
    """The same error, its message and hint without the server's scratch folder."""

    def plain(text: str) -> str:
        return text.replace(f"{scratch}/", "").replace(str(scratch), "")

    error.message = plain(error.message)
    error.args = (error.message, *error.args[1:])
    if error.hint is not None:
        error.hint = plain(error.hint)
    return error


async def run_import(request: Request, actor: Actor, files: Sequence[UploadFile]) -> ImportOutcome:
    if not permissions.can(actor, "importer"):
        with transaction(request) as connection:
            log(request, connection, actor, "importer", "import d'un lot", "refuse")
        raise Denied("Votre compte ne permet pas d'importer des données.")
    with tempfile.TemporaryDirectory(prefix="mixite-import-") as scratch:
        saved = await uploads.save(files, Path(scratch))
        names = sorted(path.name for path in saved)
        paths = _tables(saved)

        def work() -> ImportOutcome:
            bundle = find_bundle(paths)
            with transaction(request) as connection:
                refused = import_guard.problems_for(connection, actor, bundle)
            if refused:
                return ImportOutcome(None, refused, names)
            # The import opens its own connection: ours is closed, so that SQLite's single
            # writer is free.
            try:
                imported = import_bundle(paths, state(request).config.db_url,
                                         epci=import_guard.territory_of(actor, bundle),
                                         cia_required=False)  # fmt: skip
                imported.notices.extend(
                    f"{path.name} : cas de test de règles, non importé (ils servent à "
                    "« mixite rules test », à côté des règles)."
                    for path in _rule_tests(saved)
                )
                return ImportOutcome(imported, [], names)
            except ImportRefused as error:
                return ImportOutcome(None, error.problems, names)

        try:
            outcome = await run_in_threadpool(work)
        except MixiteError as error:
            # The files were saved in a scratch folder of the server: the person who sent
            # them knows them by their own names, not by that folder.
            raise _named_as_sent(error, Path(scratch)) from None
    with transaction(request) as connection:
        what = f"lot {', '.join(names)}"
        if outcome.result is None:
            log(request, connection, actor, "importer",
                f"{what} : refusé, {len(outcome.problems)} problème(s)", "echec")  # fmt: skip
        elif outcome.result.batch_id is None:
            log(request, connection, actor, "importer", f"{what} : déjà importé, rien de changé")
        else:
            log(request, connection, actor, "importer",
                f"{what} : import n° {outcome.result.batch_id}")  # fmt: skip
    return outcome
