"""Versions written by difference: « reprend la version précédente », then only what changes.

`resolve_rule` turns every such version into a whole one, so that everything after the
analysis (type checking, both engines, reports, the catalogue) sees complete versions. A
clause written in the new version replaces the inherited one of its kind (s'applique, parmi,
exiger; a `soit`, `aussi`, `par` or `sauf si` with the name, label, dimensions or condition of
an inherited one) or joins the inherited list; « retirer … » drops an inherited clause. A version's sources, notes and
points of uncertainty are its own: they are never inherited (each version states the text
that makes it law).

Inherited clauses are copies (new nodes, same spans): the type checker records its findings
by node identity, and a clause inherited by two versions may be read in two contexts (a `soit`
value that differs from one version to the next).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import TypeVar

from dsl import ast
from dsl.diagnostics import Diagnostic, Related
from dsl.formatter import expression_text

_Clause = TypeVar("_Clause")
_WHOLE = " sur l'ensemble des territoires"


def _grouping_text(key: object) -> str:
    """A grouping's key (dimensions, whole flow) as written."""
    dimensions, whole = key if isinstance(key, tuple) else ((), False)
    return f"le regroupement « par {_text(dimensions)}{_WHOLE if whole else ''} »"


def _text(key: object) -> str:
    """A clause's key as written: an expression, a list of dimensions, a name."""
    if isinstance(key, ast.Expr):
        return expression_text(key)
    if isinstance(key, tuple):
        return ", ".join(str(item) for item in key)
    return str(key)


def _copied(node: _Clause) -> _Clause:
    return copy.deepcopy(node)


class _Resolver:
    def __init__(self, rule: ast.Rule, diagnostics: list[Diagnostic]) -> None:
        self.rule = rule
        self.diagnostics = diagnostics

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None,
              related: tuple[Related, ...] = ()) -> None:  # fmt: skip
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, related=related))

    def unchanged(self, what: str, span: ast.Span, inherited: ast.Span) -> None:
        self.error(
            "W104",
            f"{what} : identique à la version précédente, cette ligne ne change rien",
            span,
            hint="retirez-la : une version qui reprend la précédente n'écrit que ce qui change",
            related=(Related(inherited, "déjà dans la version précédente"),),
        )

    def absent(self, what: str, span: ast.Span, base: ast.Version,
               candidates: Sequence[ast.Node] = ()) -> None:  # fmt: skip
        related = tuple(
            Related(node.span, "présent dans la version précédente") for node in candidates
        )
        self.error(
            "E409",
            f"« retirer » : {what} n'existe pas dans la version précédente "
            f"(du {base.start:%d/%m/%Y})",
            span,
            hint="écrivez la clause retirée exactement comme dans la version précédente",
            related=related or (Related(base.span, "version précédente"),),
        )

    # ------------------------------------------------------------------ one version
    def amend(self, base: ast.Version, diff: ast.Version) -> ast.Version:
        removed = {kind: [r for r in diff.removals if r.kind == kind]
                   for kind in ("applicability", "grouping", "exception", "also", "let")}  # fmt: skip
        applicability = self.single(
            "la condition « s'applique si »", base.applicability, diff.applicability,
            lambda node: node.span, removed["applicability"], base,
        )  # fmt: skip
        population = self.single(
            "la population « parmi les … »", base.population, diff.population,
            lambda node: node.span, [], base,
        )  # fmt: skip
        requirement = self.single(
            "l'exigence", base.requirement, diff.requirement, lambda node: node.span, [], base
        )
        groupings = self.listed(
            base.groupings, diff.groupings, removed["grouping"], base,
            key=lambda g: (g.dimensions, g.whole),
            removal_key=lambda r: (r.dimensions, r.whole),
            describe=_grouping_text,
        )  # fmt: skip
        exceptions = self.listed(
            base.exceptions, diff.exceptions, removed["exception"], base,
            key=lambda e: e.condition,
            removal_key=lambda r: r.condition,
            describe=lambda key: f"l'exception « sauf si {_text(key)} »",
        )  # fmt: skip
        also = self.listed(
            base.also, diff.also, removed["also"], base,
            key=lambda a: a.label,
            removal_key=lambda r: r.label,
            describe=lambda key: f"l'indicateur « aussi \"{key}\" »",
        )  # fmt: skip
        lets = self.listed(
            base.lets, diff.lets, removed["let"], base,
            key=lambda let: let.name,
            removal_key=lambda r: r.label,
            describe=lambda key: f"la valeur « soit {key} »",
        )  # fmt: skip
        return dataclasses.replace(
            diff,
            applicability=applicability,
            population=population,
            groupings=groupings,
            requirement=requirement,
            exceptions=exceptions,
            also=also,
            lets=lets,
            removals=(),
        )

    def single(self, what: str, inherited: _Clause | None, written: _Clause | None,
               span_of: Callable[[_Clause], ast.Span], removals: list[ast.Removal],
               base: ast.Version) -> _Clause | None:  # fmt: skip
        """A clause a version has at most once: the one written, else the inherited one."""
        for removal in removals:
            if inherited is None:
                self.absent(what, removal.span, base)
            if written is not None:
                break  # « retirer » then a new one: a replacement
            return None
        if written is not None:
            if inherited is not None and written == inherited and not removals:
                self.unchanged(what, span_of(written), span_of(inherited))
            return written
        return _copied(inherited) if inherited is not None else None

    def listed(self, inherited: tuple[_Clause, ...], written: tuple[_Clause, ...],
               removals: list[ast.Removal], base: ast.Version, *,
               key: Callable[[_Clause], object], removal_key: Callable[[ast.Removal], object],
               describe: Callable[[object], str]) -> tuple[_Clause, ...]:  # fmt: skip
        """Clauses a version may have several of: the inherited ones, less those removed, then
        those written; one written with the key of an inherited one (the same condition, label
        or name) replaces it in place."""
        kept = list(inherited)
        for removal in removals:
            wanted = removal_key(removal)
            position = next((i for i, clause in enumerate(kept) if key(clause) == wanted), None)
            if position is None:
                candidates = [c for c in inherited if isinstance(c, ast.Node)]
                self.absent(describe(wanted), removal.span, base, candidates)
                continue
            del kept[position]
        result = [_copied(clause) for clause in kept]
        for clause in written:
            position = next((i for i, old in enumerate(result) if key(old) == key(clause)), None)
            if position is None:
                result.append(clause)
                continue
            old = result[position]
            assert isinstance(clause, ast.Node) and isinstance(old, ast.Node)
            if clause == old:
                self.unchanged(describe(key(clause)), clause.span, old.span)
            result[position] = clause
        return tuple(result)

    # ------------------------------------------------------------------ the rule
    def resolve(self) -> ast.Rule:
        if not any(version.amends or version.removals for version in self.rule.versions):
            return self.rule
        resolved: dict[int, ast.Version] = {}
        previous: ast.Version | None = None
        for version in sorted(self.rule.versions, key=lambda v: v.start):
            current = version
            if version.removals and not version.amends:
                self.error(
                    "E409",
                    "« retirer » ne s'emploie que dans une version qui reprend la précédente",
                    version.removals[0].span,
                    hint="ajoutez « reprend la version précédente » sous « version du … »",
                )
                current = dataclasses.replace(version, removals=())
            elif version.amends and previous is None:
                self.error(
                    "E409",
                    f"la version du {version.start:%d/%m/%Y} reprend « la version précédente », "
                    f"mais c'est la première de {self.rule.rule_id}",
                    version.span,
                    hint="la première version d'une règle s'écrit en entier",
                )
                current = dataclasses.replace(version, removals=())
            elif version.amends and previous is not None:
                current = self.amend(previous, version)
            resolved[id(version)] = current
            previous = current
        return dataclasses.replace(
            self.rule, versions=tuple(resolved[id(v)] for v in self.rule.versions)
        )


def resolve_rule(rule: ast.Rule, diagnostics: list[Diagnostic]) -> ast.Rule:
    """The rule with every version whole: versions written by difference resolved against the
    one before them (by start date). Problems go to `diagnostics`."""
    return _Resolver(rule, diagnostics).resolve()


def _listed_difference(previous: tuple[_Clause, ...], current: tuple[_Clause, ...],
                       key: Callable[[_Clause], object],
                       removal: Callable[[_Clause], ast.Removal]) -> tuple[list[ast.Removal], list[_Clause]]:  # fmt: skip
    removals = [removal(old) for old in previous if all(key(old) != key(new) for new in current)]
    added = [new for new in current if new not in previous]
    return removals, added


def as_difference(previous: ast.Version, current: ast.Version) -> ast.Version:
    """`current` written by difference with `previous` (both whole), when that resolves back
    to `current` exactly (same clauses, same order); else `current` unchanged. A tool for
    rewriting a rulebook: its output is checked by resolving it again."""
    removals: list[ast.Removal] = []
    applicability = (
        None if current.applicability == previous.applicability else current.applicability
    )
    if current.applicability is None and previous.applicability is not None:
        removals.append(ast.Removal("applicability"))
    removed, groupings = _listed_difference(previous.groupings, current.groupings,
                                            lambda g: (g.dimensions, g.whole),
                                            lambda g: ast.Removal("grouping", dimensions=g.dimensions,
                                                                  whole=g.whole))  # fmt: skip
    removals += removed
    removed, exceptions = _listed_difference(previous.exceptions, current.exceptions,
                                             lambda e: e.condition,
                                             lambda e: ast.Removal("exception", condition=e.condition))  # fmt: skip
    removals += removed
    removed, also = _listed_difference(previous.also, current.also, lambda a: a.label,
                                       lambda a: ast.Removal("also", label=a.label))  # fmt: skip
    removals += removed
    removed, lets = _listed_difference(previous.lets, current.lets, lambda let: let.name,
                                       lambda let: ast.Removal("let", label=let.name))  # fmt: skip
    removals += removed
    candidate = dataclasses.replace(
        current,
        amends=True,
        applicability=applicability,
        population=None if current.population == previous.population else current.population,
        groupings=tuple(groupings),
        requirement=None if current.requirement == previous.requirement else current.requirement,
        exceptions=tuple(exceptions),
        also=tuple(also),
        lets=tuple(lets),
        removals=tuple(removals),
    )
    problems: list[Diagnostic] = []
    resolved = _Resolver(ast.Rule("", ast.Metadata(), None, ()), problems).amend(
        previous, candidate
    )
    if problems or resolved != dataclasses.replace(current, amends=True):
        return current
    return candidate


def rewrite_by_difference(rule: ast.Rule) -> ast.Rule:
    """Every version after the first written by difference where it can be (see
    `as_difference`); versions already written so are left as they are."""
    resolved = resolve_rule(rule, [])
    ordered = sorted(zip(rule.versions, resolved.versions, strict=True), key=lambda p: p[0].start)
    rewritten: dict[int, ast.Version] = {}
    previous: ast.Version | None = None
    for written, whole in ordered:
        if previous is not None and not written.amends:
            rewritten[id(written)] = as_difference(previous, whole)
        previous = whole
    return dataclasses.replace(rule, versions=tuple(rewritten.get(id(v), v) for v in rule.versions))


__all__ = ["as_difference", "resolve_rule", "rewrite_by_difference"]
