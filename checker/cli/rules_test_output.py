"""`mixite rules test`: the command's work and output, without Typer.

Called by the Typer command (`checker.cli.rules_commands`) and by the quick path
(`checker.cli.quick`), which reads the plain form of the command line before Typer is
imported: an author runs the tests after every edit, and Typer with its argument conversion is
a tenth of a second of each run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from checker.cli.console import out, styled
from checker.errors import MixiteError


def run_tests(paths: Sequence[Path] | None, regle: str | None, moteur: str | None,
              processus: int | None) -> int:  # fmt: skip
    """Runs the rule tests and prints one line per case; the exit code (1: a case failed)."""
    from checker.rule_tests import ENGINES, load_documents, run_rule_tests
    from checker.rulebook_loader import require_rules

    if moteur is not None and moteur not in ENGINES:
        raise MixiteError(f"Moteur inconnu : « {moteur} ».", "Moteurs : sql, reference")
    rulebook, loaded = require_rules(list(paths) if paths is not None else None)
    documents = load_documents(loaded.paths)
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
