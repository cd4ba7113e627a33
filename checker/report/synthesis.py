"""The synthesis every report opens with, computed once: one line per obligation and EPCI,
what holds, what is owed and by whom, in the population's unit (HTML, PDF, DOCX, XLSX,
Markdown and the terminal all render these lines)."""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.evaluate.results import Result
from checker.report import present
from checker.report.labels import STATUS_LABELS
from checker.report.names import Names
from dsl.rulebook import Rulebook

# Worst first: the status of a line judged through its scopes is the worst of theirs.
SEVERITY = ["non_conforme", "donnees_insuffisantes", "en_cours", "conforme", "non_applicable"]

# National reference figures (ANCOLS), shown beside the territory's own: share of attributions
# outside QPV going to first-quartile households, EPCI concerned, excluding rehoused households.
REFERENCE_FIGURES = {
    "L441-1.Q1-HORS-QPV": [
        ("2017", 0.165, "ANCOLS, bilan 2017-2019 des attributions (hors relogés)"),
        ("2018", 0.14, "ANCOLS, bilan 2017-2019 des attributions (hors relogés)"),
        ("2019", 0.155, "ANCOLS, bilan 2017-2019 : 42 000 attributions sur 272 000 hors QPV"),
    ],
}


@dataclass
class Owed:
    """A scope that misses its target, and by how much."""

    label: str  # by its name
    codes: str
    shortfall: int
    text: str  # « 42 attributions »


@dataclass
class ObligationLine:
    rule: str
    title: str
    epci: str
    status: str
    bound: str | None  # "min", "max", or None (each case)
    unit: tuple[str, str]
    whole: Result | None  # the EPCI-wide result, when the rule has one
    scopes: list[tuple[int, Result]] = field(default_factory=list)  # (index, narrower result)
    judged: int = 0  # narrower scopes judged (conforme or not)
    compliant: int = 0  # of which conforme
    owed_by: list[Owed] = field(default_factory=list)
    index: int | None = None  # of `whole` in the results

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def achieved(self) -> str:
        """« 20,5 % (386 / 1 886) », or « 11 réservataires conformes sur 15 »."""
        if self.status == "information":
            return f"{len(self.scopes)} chiffre(s) donné(s) pour information, sans verdict"
        if self.whole is not None:
            return present.achieved_text(self.whole)
        return f"{self.compliant} {self.scope_noun(self.compliant)} conforme{'s' if self.compliant > 1 else ''} sur {self.judged}"

    def scope_noun(self, number: int) -> str:
        keys = {key for _, r in self.scopes for key in r.scope} - {"epci"}
        noun = (
            ("réservataire", "réservataires")
            if "reservataire" in keys
            else ("bailleur", "bailleurs")
        )
        if not keys & {"reservataire", "bailleur"}:
            noun = ("périmètre", "périmètres")
        return noun[0] if number <= 1 else noun[1]

    @property
    def target(self) -> str:
        if self.whole is not None:
            return present.target_text(self.whole, self.bound)
        judged = [r for _, r in self.scopes if r.target is not None]
        if not judged:
            return "—"
        texts = {present.target_text(r, self.bound) for r in judged}
        return texts.pop() if len(texts) == 1 else "selon le périmètre"

    @property
    def shortfall_total(self) -> int | None:
        if self.whole is not None:
            return self.whole.shortfall
        values = [owed.shortfall for owed in self.owed_by]
        return sum(values) if values else (0 if self.judged else None)

    @property
    def gap(self) -> str:
        """« manque 86 attributions », « 19 dossiers de CALEOL en défaut », « cible atteinte »."""
        if self.status == "information":
            return "rien n'est dû à ce niveau"
        if self.whole is not None:
            return present.gap_phrase(self.whole, self.bound, self.unit)
        text = self.shortfall
        if text in ("—", "0"):
            return (
                "manque —"
                if text == "—"
                else ("plafond respecté" if self.bound == "max" else "cible atteinte")
            )
        return text if self.bound == "max" or self.scopes[0][1].kind == "each" else f"manque {text}"

    @property
    def shortfall(self) -> str:
        if self.whole is not None:
            return present.shortfall_text(self.whole, self.bound, self.unit)
        total = self.shortfall_total
        if total is None:
            return "—"
        if total == 0:
            return "0"
        probe = Result(self.rule, "", {}, self.status, None, None, None, None, total,
                       kind=self.scopes[0][1].kind)  # fmt: skip
        return present.shortfall_text(probe, self.bound, self.unit) + " (total des périmètres)"


def synthesis(results: list[Result], rulebook: Rulebook, names: Names) -> list[ObligationLine]:
    grouped: dict[tuple[str, str], list[tuple[int, Result]]] = {}
    for index, result in enumerate(results):
        grouped.setdefault((result.rule, result.scope.get("epci", "")), []).append((index, result))
    lines = []
    for (rule_id, epci), found in sorted(grouped.items()):
        rule = rulebook.rules.get(rule_id)
        whole = next(((i, r) for i, r in found if set(r.scope) == {"epci"}), None)
        narrower = [(i, r) for i, r in found if set(r.scope) != {"epci"}]
        sample = whole[1] if whole else found[0][1]
        # A figure « pour information » has no verdict: it neither judges the line nor is owed.
        verdicts = [r for _, r in found if not r.information]
        judged = [r for _, r in narrower
                  if r.status in ("conforme", "non_conforme") and not r.information]  # fmt: skip
        line = ObligationLine(
            rule=rule_id,
            title=(rule.meta.title if rule and rule.meta.title else rule_id),
            epci=epci,
            status=whole[1].status
            if whole
            else (
                min((r.status for r in verdicts), key=SEVERITY.index) if verdicts else "information"
            ),
            bound=present.bound_of(rulebook, sample),
            unit=present.unit_of(rulebook, sample),
            whole=whole[1] if whole else None,
            scopes=narrower,
            judged=len(judged),
            compliant=sum(r.status == "conforme" for r in judged),
            index=whole[0] if whole else None,
        )
        for _, result in narrower:
            if result.status == "non_conforme" and result.shortfall and not result.information:
                line.owed_by.append(Owed(
                    names.scope(result.scope), names.codes(result.scope), result.shortfall,
                    present.shortfall_text(result, line.bound, line.unit),
                ))  # fmt: skip
        line.owed_by.sort(key=lambda owed: (-owed.shortfall, owed.label))
        lines.append(line)
    return lines
