"""What changed in the rules between two dates (or two states of a rules folder): rule by rule,
the versions, clauses, parameter values and deadlines, each with its sources, in French.

The comparison is between the rulebook as in force on `before` and as in force on `after`
(the same rulebook for `mixite rules diff --du --au`, two states of the folder for
`--depuis REV`). A change takes effect in the interval: a version or parameter value that
starts in (before, after], a deadline written in the rules that falls in [before, after) (a
deadline is the last day allowed: it has passed the next day).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from checker import frenchfmt
from dsl import ast
from dsl.formatter import expression_text
from dsl.rulebook import CheckedParameter, ParameterValue, Rulebook

EXAMPLES = 3  # keyed parameters: how many keys are shown as examples


@dataclass(frozen=True)
class Change:
    what: str  # one French sentence
    sources: tuple[ast.Source, ...] = ()
    details: tuple[str, ...] = ()  # further lines (examples, the clause's text)


@dataclass
class RuleChanges:
    rule_id: str
    title: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class Changes:
    before: dt.date
    after: dt.date
    label_before: str  # "le 31/12/2023" or "la révision abc123"
    label_after: str
    rules: list[RuleChanges]
    parameters: list[Change]  # parameter values, each with the rules that read it

    @property
    def empty(self) -> bool:
        return not self.rules and not self.parameters


def _day(day: dt.date) -> str:
    return frenchfmt.date(day)


def _period(version: ast.Version) -> str:
    text = f"du {_day(version.start)}"
    return text + (f" au {_day(version.end)}" if version.end else "")


# ------------------------------------------------------------------------ walking a version


def _clauses(version: ast.Version) -> Iterator[tuple[str, ast.Expr]]:
    """Every expression of a version with the clause it stands in, as the rule writes it."""
    for let in version.lets:
        yield f"soit {let.name} = {expression_text(let.value)}", let.value
    if version.applicability is not None:
        yield f"s'applique si {expression_text(version.applicability)}", version.applicability
    if version.population is not None and version.population.where is not None:
        where = version.population.where
        yield f"parmi les {version.population.entity} où {expression_text(where)}", where
    requirement = version.requirement
    if requirement is not None:
        yield _requirement_text(requirement), requirement.condition
        if requirement.target is not None:
            yield _requirement_text(requirement), requirement.target
    for exception in version.exceptions:
        yield f"sauf si {expression_text(exception.condition)}", exception.condition
    for also in version.also:
        yield f'aussi "{also.label}" : {expression_text(also.condition)}', also.condition


def _requirement_text(requirement: ast.Requirement) -> str:
    condition = expression_text(requirement.condition)
    if requirement.kind == "each":
        return f"exiger pour chacune : {condition}"
    what = "une part" if requirement.kind == "share" else "un nombre"
    bound = "d'au moins" if requirement.bound == "min" else "d'au plus"
    target = expression_text(requirement.target) if requirement.target is not None else ""
    return f"exiger {what} {bound} {target} vérifiant {condition}"


def _walk(node: object, rulebook: Rulebook, seen: set[int]) -> Iterator[object]:
    """Nodes below `node`, following the definitions it names (each once)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node
    resolution = rulebook.annotations.resolutions.get(id(node))
    if resolution is not None and resolution.kind == "definition" and resolution.entity:
        definition = rulebook.definitions[resolution.entity][resolution.name]
        yield from _walk(definition.expr, rulebook, seen)
    for child in ast.children(node):
        yield from _walk(child, rulebook, seen)


def parameters_read(version: ast.Version, rulebook: Rulebook) -> set[str]:
    found = set()
    for node in _walk(version, rulebook, set()):
        resolution = rulebook.annotations.resolutions.get(id(node))
        if resolution is not None and resolution.kind == "parameter":
            found.add(resolution.name)
    return found


# ------------------------------------------------------------------------ versions


def _version_changes(old: ast.Version, new: ast.Version) -> list[str]:
    """The clauses that differ between two whole versions, in French."""
    lines: list[str] = []
    old_clauses = dict.fromkeys(text for text, _ in _clauses(old))
    new_clauses = dict.fromkeys(text for text, _ in _clauses(new))
    for text in new_clauses:
        if text not in old_clauses:
            lines.append(f"ajouté : {text}")
    for text in old_clauses:
        if text not in new_clauses:
            lines.append(f"retiré : {text}")
    old_groups = [_grouping(g) for g in old.groupings]
    new_groups = [_grouping(g) for g in new.groupings]
    lines += [f"ajouté : par {group}" for group in new_groups if group not in old_groups]
    lines += [f"retiré : par {group}" for group in old_groups if group not in new_groups]
    if (
        old.population is not None
        and new.population is not None
        and old.population.entity != new.population.entity
    ):
        lines.append(f"population : {old.population.entity} → {new.population.entity}")
    return lines


def _whole(version: ast.Version) -> ast.Version:
    """A version as compared: written in full or by difference, the same once resolved."""
    return dataclasses.replace(version, amends=False, removals=())


def _uncertain(old: Iterable[str], new: Iterable[str]) -> list[str]:
    before, after = list(old), list(new)
    return [f"point incertain ajouté : {text}" for text in after if text not in before] + [
        f"point incertain levé : {text}" for text in before if text not in after
    ]


def _rule_changes(rule_id: str, old_book: Rulebook, new_book: Rulebook, before: dt.date,
                  after: dt.date, same_book: bool) -> RuleChanges | None:  # fmt: skip
    new_rule = new_book.rules.get(rule_id)
    old_rule = old_book.rules.get(rule_id)
    either = new_rule or old_rule
    title = (either.meta.title or "") if either is not None else ""
    found = RuleChanges(rule_id, title)
    old = old_book.version_at(rule_id, before) if old_rule else None
    new = new_book.version_at(rule_id, after) if new_rule else None
    if old_rule is None and new_rule is not None:
        found.changes.append(Change("règle ajoutée au recueil", new_rule.meta.sources))
    if new_rule is None and old_rule is not None:
        found.changes.append(Change("règle retirée du recueil", old_rule.meta.sources))
    if old_rule is not None and new_rule is not None:
        for line in _uncertain(old_rule.meta.uncertain, new_rule.meta.uncertain):
            found.changes.append(Change(line))
    if new is not None and new_rule is not None:
        # Versions that began and ended within the interval: in force for a while only.
        for version in new_rule.versions:
            ended = version.end is not None and version.end < after
            if before < version.start <= after and ended and version is not new:
                found.changes.append(Change(f"version en vigueur {_period(version)} seulement "
                                            "(remplacée depuis)", version.meta.sources))  # fmt: skip
    if old is None and new is not None:
        found.changes.append(Change(f"entre en vigueur : version {_period(new)}", new.meta.sources,
                                    tuple(text for text, _ in _clauses(new))))  # fmt: skip
    elif old is not None and new is None:
        found.changes.append(Change(f"n'est plus en vigueur (dernière version {_period(old)})",
                                    old.meta.sources))  # fmt: skip
    elif old is not None and new is not None:
        same_version = (same_book and old is new) or _whole(old) == _whole(new)
        if not same_version:
            clauses = _version_changes(old, new)
            what = f"nouvelle version {_period(new)} (remplace celle {_period(old)})"
            if (old.start, old.end) == (new.start, new.end):
                what = f"version {_period(new)} modifiée"
            if not clauses and old.meta.sources != new.meta.sources:
                clauses = ["le texte de la règle est inchangé ; sa base légale change"]
            found.changes.append(Change(what, new.meta.sources, tuple(clauses)))
            found.changes.extend(
                Change(line) for line in _uncertain(old.meta.uncertain, new.meta.uncertain)
            )
    if new is not None:
        found.changes.extend(_deadlines(new, new_book, before, after))
    return found if found.changes else None


def _deadlines(version: ast.Version, rulebook: Rulebook, before: dt.date,
               after: dt.date) -> list[Change]:  # fmt: skip
    """Dates written in the version (or the definitions it reads) that fall in [before, after)."""
    where: dict[dt.date, list[str]] = {}
    for text, expr in _clauses(version):
        for node in _walk(expr, rulebook, set()):
            if isinstance(node, ast.DateLiteral) and before <= node.value < after:
                clauses = where.setdefault(node.value, [])
                if text not in clauses:
                    clauses.append(text)
    return [
        Change(
            f"échéance du {_day(day)} atteinte (écrite dans la version {_period(version)})",
            version.meta.sources,
            tuple(where[day]),
        )
        for day in sorted(where)
    ]


# ------------------------------------------------------------------------ parameters


def _value_text(parameter: CheckedParameter, value: ParameterValue | None) -> str:
    return "aucune valeur" if value is None else frenchfmt.value(value.value, parameter.type)


def _parameter_change(name: str, old_book: Rulebook, new_book: Rulebook, before: dt.date,
                      after: dt.date) -> Change | None:  # fmt: skip
    new = new_book.parameters.get(name)
    old = old_book.parameters.get(name)
    if new is None:
        return None
    label = f"paramètre {name}" + (f" ({new.decl.meta.title})" if new.decl.meta.title else "")
    keys = sorted(set(new.all_keys()) | (set(old.all_keys()) if old else set()))
    changed: list[tuple[tuple[str, ...], ParameterValue | None, ParameterValue | None]] = []
    for key in keys:
        key_values = dict(zip([k for k, _ in new.keys], key, strict=True)) if new.keys else None
        before_value = old.value_at(before, key_values) if old else None
        after_value = new.value_at(after, key_values)
        if _same_value(before_value, after_value):
            continue
        changed.append((key, before_value, after_value))
    if not changed:
        return None
    sources: dict[ast.Source, None] = {}
    for _, _, value in changed:
        if value is not None:
            sources.update(dict.fromkeys(value.sources))
    if not new.keys:
        _, was, now = changed[0]
        since = f" depuis le {_day(now.start)}" if now is not None else ""
        what = f"{label} : {_value_text(new, was)} → {_value_text(new, now)}{since}"
        return Change(what, tuple(sources))
    first = sum(1 for _, was, _ in changed if was is None)
    gone = sum(1 for _, _, now in changed if now is None)
    key_names = ", ".join(k for k, _ in new.keys)
    parts = [f"{len(changed)} valeur(s) changée(s) (clés : {key_names})"]
    if first:
        parts.append(f"dont {first} sans valeur auparavant")
    if gone:
        parts.append(f"dont {gone} sans valeur désormais")
    starts = sorted({now.start for _, _, now in changed if now is not None})
    if starts:
        parts.append("en vigueur " + ", ".join(f"le {_day(day)}" for day in starts[:3]))
    examples = tuple(
        f"{' / '.join(key)} : {_value_text(new, was)} → {_value_text(new, now)}"
        for key, was, now in changed[:EXAMPLES]
    )
    if len(changed) > EXAMPLES:
        examples += (f"… et {len(changed) - EXAMPLES} autre(s) : mixite param {name} --date …",)
    return Change(f"{label} : " + " ; ".join(parts), tuple(sources), examples)


def _same_value(a: ParameterValue | None, b: ParameterValue | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.value == b.value


# ------------------------------------------------------------------------ entry point


def changes_between(old_book: Rulebook, before: dt.date, new_book: Rulebook, after: dt.date,
                    label_before: str | None = None, label_after: str | None = None) -> Changes:  # fmt: skip
    same_book = old_book is new_book
    rules = []
    for rule_id in sorted(set(old_book.rules) | set(new_book.rules)):
        found = _rule_changes(rule_id, old_book, new_book, before, after, same_book)
        if found is not None:
            rules.append(found)
    readers: dict[str, list[str]] = {}
    for rule_id in sorted(new_book.rules):
        version = new_book.version_at(rule_id, after)
        for name in parameters_read(version, new_book) if version is not None else ():
            readers.setdefault(name, []).append(rule_id)
    parameters = []
    for name in sorted(new_book.parameters):
        change = _parameter_change(name, old_book, new_book, before, after)
        if change is None:
            continue
        read_by = ", ".join(readers.get(name, [])) or "aucune règle en vigueur (mixite quartile, …)"
        parameters.append(
            Change(change.what, change.sources, (f"lu par : {read_by}", *change.details))
        )
    return Changes(before, after, label_before or f"le {_day(before)}",
                   label_after or f"le {_day(after)}", rules, parameters)  # fmt: skip


# ------------------------------------------------------------------------ rendering


def _source_text(source: ast.Source) -> str:
    parts = [source.title]
    if source.article:
        parts.append(f"article {source.article}")
    return ", ".join(parts)


def _wrapped(line: str, width: int) -> list[str]:
    """A line cut at `width`, continuation lines two spaces deeper; addresses kept whole."""
    indent = line[: len(line) - len(line.lstrip())]
    deeper = indent + "  "
    return textwrap.wrap(line, width, subsequent_indent=deeper, break_long_words=False,
                         break_on_hyphens=False) or [line]  # fmt: skip


def as_text(changes: Changes, width: int | None = None) -> str:
    """The changes as plain text; lines cut at `width` columns when given (a terminal)."""
    lines = [f"Ce qui change dans les règles entre {changes.label_before} et {changes.label_after}"]
    if changes.empty:
        lines += ["", "Aucun changement."]
    for rule in changes.rules:
        lines += ["", f"{rule.rule_id} — {rule.title}"]
        for change in rule.changes:
            lines += _change_lines(change)
    if changes.parameters:
        lines += ["", "Paramètres"]
        for change in changes.parameters:
            lines += _change_lines(change)
    if width is not None:
        lines = [part for line in lines for part in _wrapped(line, width)]
    return "\n".join(lines) + "\n"


MAX_SOURCES = 3


def _shown_sources(sources: tuple[ast.Source, ...]) -> tuple[list[ast.Source], int]:
    """One source per title (a table cites the same text once per row, with its own
    address), at most MAX_SOURCES of them; and how many titles are left out."""
    by_title: dict[str, ast.Source] = {}
    for source in sources:
        by_title.setdefault(_source_text(source), source)
    shown = list(by_title.values())
    return shown[:MAX_SOURCES], max(len(shown) - MAX_SOURCES, 0)


def _change_lines(change: Change) -> list[str]:
    lines = [f"  • {change.what}"]
    lines += [f"      {detail}" for detail in change.details]
    shown, left = _shown_sources(change.sources)
    for source in shown:
        url = f" — {source.url}" if source.url else ""
        lines.append(f"      source : {_source_text(source)}{url}")
    if left:
        lines.append(f"      … et {left} autre(s) source(s)")
    return lines


def _md(text: str) -> str:
    return text.replace("*", r"\*").replace("_", r"\_").replace("<", "&lt;")


def as_markdown(changes: Changes, heading_level: int = 2) -> str:
    """The changes as Markdown (the documentation's yearly pages)."""
    hashes = "#" * heading_level
    lines: list[str] = []
    if changes.empty:
        return "Aucun changement des règles encodées.\n"
    for rule in changes.rules:
        lines += [f"{hashes} {rule.rule_id}", "", f"*{_md(rule.title)}*", ""]
        for change in rule.changes:
            lines += _change_markdown(change)
        lines.append("")
    if changes.parameters:
        lines += [f"{hashes} Paramètres", ""]
        for change in changes.parameters:
            lines += _change_markdown(change)
        lines.append("")
    return "\n".join(lines)


def _change_markdown(change: Change) -> list[str]:
    lines = [f"- {_md(change.what)}"]
    lines += [f"    - `{detail}`" if _looks_like_rule(detail) else f"    - {_md(detail)}"
              for detail in change.details]  # fmt: skip
    shown, left = _shown_sources(change.sources)
    for source in shown:
        text = _md(_source_text(source))
        lines.append(
            f"    - Source : [{text}]({source.url})" if source.url else f"    - Source : {text}"
        )
    if left:
        lines.append(f"    - … et {left} autre(s) source(s)")
    return lines


def _looks_like_rule(detail: str) -> bool:
    words = (
        "s'applique si",
        "parmi les",
        "exiger",
        "sauf si",
        "aussi",
        "soit",
        "ajouté :",
        "retiré :",
    )
    return detail.startswith(words) and "`" not in detail


__all__ = ["Change", "Changes", "RuleChanges", "as_markdown", "as_text", "changes_between"]


def _grouping(grouping: ast.Grouping) -> str:
    """A level as written after « par »: a whole flow and « pour information » are part of it."""
    whole = " sur l'ensemble des territoires" if grouping.whole else ""
    information = " pour information" if grouping.information else ""
    return f"{', '.join(grouping.dimensions)}{whole}{information}"
