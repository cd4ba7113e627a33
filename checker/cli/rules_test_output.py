"""`mixite rules test`: the command's work and output, without Typer.

Called by the Typer command (`checker.cli.rules_commands`) and by the quick path
(`checker.cli.quick`), which reads the plain form of the command line before Typer is
imported: an author runs the tests after every edit, and Typer with its argument conversion is
a tenth of a second of each run.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker.cli.console import out, styled
from checker.errors import MixiteError

if TYPE_CHECKING:
    from checker.rulebook_loader import LoadedRules
    from dsl.rulebook import Rulebook


def run_tests(paths: Sequence[Path] | None, regle: str | None, moteur: str | None,
              processus: int | None) -> int:  # fmt: skip
    """Runs the rule tests and prints one line per case; the exit code (1: a case failed).

    Called once by the command's process, which ends with it (never by a long-lived one): the
    cyclic collector is set for a short run that holds everything it loads until the end.
    """
    # Python's cyclic collector walks the objects already there at each older-generation
    # collection: the modules, then the checked rulebook and the test files, hundreds of
    # thousands of objects that live until the process ends, walked again and again while
    # they load and while the cases run (about 6 % of the command's instructions). Off while
    # they load, then frozen (never walked again; forked workers then share their pages).
    gc.disable()
    try:
        rulebook, loaded, documents = _load(paths, moteur)
    finally:
        gc.freeze()
        gc.enable()
    from checker.ingest.gc_tuning import fewer_collections
    from checker.rule_tests import ENGINES, run_rule_tests

    if regle is not None:
        tested = sorted({document["regle"] for _, document in documents})
        if regle not in tested:
            import difflib

            close = difflib.get_close_matches(regle, tested, n=1)
            known = "Règle sans test" if regle in rulebook.rules else "Règle inconnue"
            raise MixiteError(
                f"{known} : {regle}.",
                f"Vouliez-vous dire {close[0]} ?"
                if close
                else "Règles testées : " + ", ".join(tested),
            )
    engines = (moteur,) if moteur else ENGINES
    with fewer_collections():  # the cases create few reference cycles: fewer young collections
        outcomes = run_rule_tests(rulebook, loaded.paths, regle, engines, processus, documents)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    for outcome in outcomes:
        mark = "[green]réussi[/]" if outcome.ok else "[bold red]ÉCHEC[/] "
        out.print(styled(mark + " {rule} — {name}", rule=outcome.rule, name=outcome.name))
        for failure in outcome.failures:
            out.print(f"         {failure}", markup=False)
    if not outcomes:
        raise MixiteError("Aucun test de règle trouvé (fichiers *.tests.yaml).")
    out.print(f"{len(outcomes) - len(failed)} réussi(s), {len(failed)} en échec.")
    return 1 if failed else 0


def _load(
    paths: Sequence[Path] | None, moteur: str | None
) -> tuple[Rulebook, LoadedRules, list[tuple[str, dict[str, Any]]]]:
    """The rulebook and the test files (the modules that run them imported)."""
    from checker.rule_tests import ENGINES, load_documents
    from checker.rulebook_loader import require_rules

    if moteur is not None and moteur not in ENGINES:
        raise MixiteError(f"Moteur inconnu : « {moteur} ».", "Moteurs : sql, reference")
    rulebook, loaded = require_rules(list(paths) if paths is not None else None)
    return rulebook, loaded, load_documents(loaded.paths)
