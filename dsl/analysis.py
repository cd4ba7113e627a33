"""From rule files to a checked Rulebook: parse, resolve names, check types, units, dates,
sources and local commitments. Everything wrong is reported; nothing raises."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from dsl import ast, local_parameters
from dsl.diagnostics import Diagnostic, Related, has_errors, sort_key
from dsl.parser import parse
from dsl.reading import Unreadable, read_utf8
from dsl.rulebook import CheckedParameter, ParameterValue, Rulebook, Value
from dsl.schema import Entity, Schema
from dsl.tables import load_table
from dsl.typecheck import Annotations, Context, ExpressionChecker, ParameterSignature
from dsl.types import BOOL, INT, PERCENT, SCALAR_TYPES, Type, same_unit
from dsl.versions import resolve_rule

RULE_SUFFIX = ".regles"


def rule_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{RULE_SUFFIX}")))
        else:
            found.append(path)
    return found


def display_name(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass
class _Loaded:
    modules: list[tuple[Path, ast.Module]]
    sources: dict[str, str]


def _parse_all(files: list[Path], diagnostics: list[Diagnostic],
               texts: Mapping[Path, str] | None = None) -> _Loaded:  # fmt: skip
    loaded = _Loaded([], {})
    unsaved = {path.resolve(): text for path, text in (texts or {}).items()}
    for path in files:
        display = display_name(path)
        try:
            text = unsaved[path.resolve()] if path.resolve() in unsaved else read_utf8(path)
        except Unreadable as exc:
            span = ast.Span(display, exc.line, exc.column, exc.line, exc.column + 1)
            diagnostics.append(Diagnostic("E105", f"fichier illisible : {exc.reason}", span))
            continue
        loaded.sources[display] = text
        module, found = parse(text, display)
        diagnostics.extend(found)
        if module is not None:
            loaded.modules.append((path, module))
    return loaded


def constant(expr: ast.Expr, parameters: dict[str, CheckedParameter], day: dt.date) -> Value | None:
    """The value of an expression made of literals and undated-key parameters, on `day`."""
    match expr:
        case ast.Number(value=value) | ast.Percent(value=value) | ast.Money(value=value):
            return value
        case ast.String(value=text):
            return text
        case ast.Boolean(value=flag):
            return flag
        case ast.DateLiteral(value=date):
            return date
        case ast.Negate(operand=operand):
            inner = constant(operand, parameters, day)
            return -inner if isinstance(inner, Fraction) else None
        case ast.Name(name=name) if name in parameters and not parameters[name].keys:
            found = parameters[name].value_at(day)
            return found.value if found else None
    return None


class _Analyser:
    def __init__(self, schema: Schema, diagnostics: list[Diagnostic]) -> None:
        self.schema = schema
        self.diagnostics = diagnostics
        self.annotations = Annotations()
        self.expressions = ExpressionChecker(self.annotations, diagnostics)
        self.parameters: dict[str, CheckedParameter] = {}
        self.definitions: dict[str, dict[str, ast.Definition]] = {}
        self.rules: dict[str, ast.Rule] = {}
        self.rule_files: dict[str, str] = {}
        self.commitments: dict[str, ast.Commitment] = {}
        self.definition_types: dict[tuple[str, str], Type | None] = {}
        self.in_progress: set[tuple[str, str]] = set()
        self.extra_sources: dict[str, str] = {}
        self.local_rows: list[local_parameters.LocalRow] = []

    def error(self, code: str, message: str, span: ast.Span | None, hint: str | None = None,
              related: tuple[Related, ...] = ()) -> None:  # fmt: skip
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, related=related))

    # ------------------------------------------------------------------ declarations
    def collect(self, modules: list[tuple[Path, ast.Module]]) -> list[tuple[Path, ast.Parameter]]:
        first_seen: dict[str, ast.Span] = {}
        parameters: list[tuple[Path, ast.Parameter]] = []

        def unique(kind: str, name: str, span: ast.Span) -> bool:
            key = f"{kind}:{name}"
            if key in first_seen:
                self.error("E202", f"{kind} « {name} » déclaré(e) deux fois", span,
                           related=(Related(first_seen[key], "première déclaration"),))  # fmt: skip
                return False
            first_seen[key] = span
            return True

        for path, module in modules:
            for declaration in module.declarations:
                match declaration:
                    case ast.Parameter(name=name):
                        if unique("paramètre", name, declaration.span):
                            parameters.append((path, declaration))
                    case ast.Definition(name=name, entity=entity):
                        if unique(f"définition sur {entity}", name, declaration.span):
                            self.definitions.setdefault(entity, {})[name] = declaration
                    case ast.Rule(rule_id=rule_id):
                        if unique("règle", rule_id, declaration.span):
                            self.rules[rule_id] = resolve_rule(declaration, self.diagnostics)
                            self.rule_files[rule_id] = module.file
                    case ast.Commitment(commitment_id=commitment_id):
                        if unique("engagement", commitment_id, declaration.span):
                            self.commitments[commitment_id] = declaration
        return parameters

    def resolve_type(self, name: str, span: ast.Span) -> Type | None:
        if name in SCALAR_TYPES:
            return SCALAR_TYPES[name]
        if name in self.schema.enums:
            return self.schema.enums[name]
        known = [*SCALAR_TYPES, *self.schema.enums]
        self.expressions._unknown(name, span, known, "type")
        return None

    # ------------------------------------------------------------------ parameters
    def parameter(self, path: Path, decl: ast.Parameter) -> None:
        type_ = self.resolve_type(decl.type_name, decl.span)
        keys: list[tuple[str, Type]] = []
        for key in decl.keys:
            key_type = self.resolve_type(key.type_name, key.span)
            if key_type is not None:
                keys.append((key.name, key_type))
        if type_ is None or len(keys) != len(decl.keys):
            return
        checked = CheckedParameter(decl, type_, tuple(keys))
        if decl.steps and decl.keys:
            self.error(
                "E205", "un paramètre à clés prend ses valeurs dans une table", decl.steps[0].span
            )
        for step in decl.steps:
            if not step.sources:
                self.error("E401", f"valeur de « {decl.name} » sans source", step.span,
                           hint='ajoutez : source "texte, article" url "https://…"')  # fmt: skip
                continue
            value = self.literal_value(step.value, type_)
            if value is None:
                continue
            if step.end is not None and step.end < step.start:
                self.error("E405", "période à l'envers (la fin précède le début)", step.span)
            origin = f"{step.span.file}:{step.span.line}"
            checked.values.append(
                ParameterValue(step.start, step.end, (), value, step.sources, origin)
            )
        for table in decl.tables:
            values, display, text = load_table(table, path, checked.keys, type_, self.diagnostics)
            if display is not None and text is not None:
                self.extra_sources[display] = text
            checked.values.extend(values)
        local_rows = [row for row in self.local_rows if row.parameter == decl.name]
        if local_rows:
            local_parameters.apply(checked, local_rows, self.diagnostics)
        checked.values = self.deduplicate(decl, checked.values)
        for derivation in decl.derivations:
            self.derive(checked, derivation)
        if not checked.values:
            self.error("E406", f"le paramètre « {decl.name} » n'a aucune valeur", decl.span)
        if not decl.meta.sources and not decl.steps and not decl.tables:
            self.error("E401", f"paramètre « {decl.name} » sans source", decl.span)
        checked.index()
        self.parameters[decl.name] = checked

    def deduplicate(
        self, decl: ast.Parameter, values: list[ParameterValue]
    ) -> list[ParameterValue]:
        """Identical rows (an EPCI listed under several départements) count once; two
        different values for the same key and day are an error."""
        kept: dict[tuple[tuple[str, ...], dt.date], ParameterValue] = {}
        for value in values:
            slot = (value.key, value.start)
            previous = kept.get(slot)
            if previous is None:
                kept[slot] = value
            elif previous.value != value.value or previous.end != value.end:
                key = ", ".join(value.key) or "—"
                self.error(
                    "E408",
                    f"« {decl.name} » ({key}) a deux valeurs à partir du {value.start:%d/%m/%Y} : "
                    f"{previous.value} ({previous.origin}) et {value.value} ({value.origin})",
                    decl.span,
                )
        return list(kept.values())

    def derive(self, checked: CheckedParameter, derivation: ast.Derivation) -> None:
        names = [name for name, _ in checked.keys]
        if derivation.key not in names:
            self.error(
                "E205",
                f"« {derivation.key} » n'est pas une clé de « {checked.name} »",
                derivation.span,
            )
            return
        if not derivation.sources:
            self.error("E401", "dérivation sans source", derivation.span)
            return
        position = names.index(derivation.key)
        target = constant(derivation.target, self.parameters, dt.date.max)
        origin = constant(derivation.origin, self.parameters, dt.date.max)
        if isinstance(derivation.target, ast.Name):
            target = derivation.target.name
        if isinstance(derivation.origin, ast.Name):
            origin = derivation.origin.name
        factor = constant(derivation.factor, self.parameters, dt.date.max)
        if not isinstance(factor, Fraction):
            self.error(
                "E301",
                "le facteur d'une dérivation est un nombre ou un pourcentage",
                derivation.factor.span,
            )
            return
        derived = []
        for value in checked.values:
            if value.key[position] == str(origin) and isinstance(value.value, Fraction):
                key = (*value.key[:position], str(target), *value.key[position + 1 :])
                derived.append(
                    ParameterValue(
                        value.start,
                        value.end,
                        key,
                        value.value * factor,
                        derivation.sources + value.sources,
                        f"{derivation.span.file}:{derivation.span.line}",
                        derived_from=value.key,
                    )
                )
        checked.values.extend(derived)

    def literal_value(self, expr: ast.Expr, type_: Type) -> Value | None:
        value = constant(expr, {}, dt.date.max)
        literal_type = self.expressions.infer(
            expr, Context(self.schema, None, {}, lambda *_: None, {})
        )
        if value is None or literal_type is None:
            self.error(
                "E301",
                "une valeur de paramètre s'écrit littéralement (ex. 25 %, 8957 €)",
                expr.span,
            )
            return None
        if not same_unit(literal_type, type_):
            code = "E302" if literal_type.is_numeric and type_.is_numeric else "E301"
            self.error(code, f"valeur de type {literal_type} pour un paramètre de type {type_}", expr.span,
                       hint="un pourcentage s'écrit 25 %, un montant 8957 €")  # fmt: skip
            return None
        return value

    # ------------------------------------------------------------------ expressions
    def signatures(self) -> dict[str, ParameterSignature]:
        return {name: ParameterSignature(p.type, p.keys) for name, p in self.parameters.items()}

    def context(self, entity: Entity | None, extras: dict[str, Type] | None = None,
                locals_: dict[str, tuple[ast.Expr, Type | None]] | None = None) -> Context:  # fmt: skip
        return Context(self.schema, entity, self.signatures(), self.definition_type,
                       self.definitions, extras or {}, locals_ or {})  # fmt: skip

    def lets(self, version: ast.Version) -> dict[str, tuple[ast.Expr, Type | None]]:
        """The version's « soit » values with their types. A value is a constant of the
        version (a date, a rate, a parameter…), read the same way wherever it is used."""
        found: dict[str, tuple[ast.Expr, Type | None]] = {}
        entity = self.schema.entities.get(version.population.entity) if version.population else None
        for let in version.lets:
            taken = (
                "d'un paramètre" if let.name in self.parameters
                else "d'un champ" if entity is not None and let.name in entity.fields
                else "d'une définition" if entity is not None
                and let.name in self.definitions.get(entity.name, {})
                else "d'une autre valeur « soit » de la version" if let.name in found
                else None
            )  # fmt: skip
            if taken is not None:
                self.error("E202", f"« soit {let.name} » : ce nom est déjà celui {taken}",
                           let.span, hint="choisissez un autre nom")  # fmt: skip
                continue
            found[let.name] = (
                let.value,
                self.expressions.infer(let.value, self.context(None, None, found)),
            )
        return found

    def definition_type(self, entity_name: str, name: str, use: ast.Span) -> Type | None:
        slot = (entity_name, name)
        if slot in self.definition_types:
            return self.definition_types[slot]
        if slot in self.in_progress:
            self.error("E201", f"définition circulaire : « {name} » dépend d'elle-même", use)
            return None
        self.in_progress.add(slot)
        definition = self.definitions[entity_name][name]
        entity = self.schema.entities[entity_name]
        type_ = self.expressions.infer(definition.expr, self.context(entity))
        self.in_progress.discard(slot)
        self.definition_types[slot] = type_
        return type_

    def definition(self, definition: ast.Definition) -> None:
        if definition.entity not in self.schema.entities:
            self.expressions._unknown(
                definition.entity, definition.span, list(self.schema.entities), "population"
            )
            return
        self.definition_type(definition.entity, definition.name, definition.span)

    # ------------------------------------------------------------------ rules
    def rule(self, rule: ast.Rule, tested: set[str] | None) -> None:
        if not rule.meta.sources:
            self.error("E401", f"règle {rule.rule_id} sans source", rule.span,
                       hint='ajoutez : source "Code de la construction et de l\'habitation" article "L441-1" url "…"')  # fmt: skip
        versions = sorted(rule.versions, key=lambda version: version.start)
        for previous, current in itertools.pairwise(versions):
            if previous.end is None or previous.end >= current.start:
                self.error("E403", f"les versions de {rule.rule_id} se chevauchent", current.span,
                           related=(Related(previous.span, "version précédente"),),
                           hint="une version finit (« au JJ/MM/AAAA ») la veille du début de la suivante")  # fmt: skip
            elif previous.end + dt.timedelta(days=1) < current.start:
                self.error("W101", f"trou entre deux versions de {rule.rule_id} : du "
                           f"{previous.end + dt.timedelta(days=1):%d/%m/%Y} au "
                           f"{current.start - dt.timedelta(days=1):%d/%m/%Y}, aucune version ne s'applique",
                           current.span)  # fmt: skip
        for version in versions:
            self.version(rule, version)
        if rule.local_bounds is not None:
            context = self.context(None)
            for bound in (rule.local_bounds.lower, rule.local_bounds.upper):
                if bound is not None:
                    self.expressions.infer(bound, context)
        if tested is not None and rule.rule_id not in tested:
            self.error("W102", f"la règle {rule.rule_id} n'a pas de test", rule.span,
                       hint="ajoutez un cas dans un fichier *.tests.yaml à côté des règles")  # fmt: skip

    def version(self, rule: ast.Rule, version: ast.Version) -> None:
        if version.end is not None and version.end < version.start:
            self.error("E405", "version qui finit avant de commencer", version.span)
        if not version.meta.sources:
            self.error(
                "E401",
                f"version de {rule.rule_id} du {version.start:%d/%m/%Y} sans source",
                version.span,
            )
        for source in (*rule.meta.sources, *version.meta.sources):
            if source.url is None:
                self.error("W103", f"source « {source.title} » sans adresse", source.span,
                           hint='ajoutez url "https://www.legifrance.gouv.fr/…"')  # fmt: skip
        # One warning per condition written more than once, not one per copy: a file with
        # 20 000 identical lines gets one message with the count.
        copies: dict[ast.Expr, list[ast.RuleException]] = {}
        for exception in version.exceptions:
            copies.setdefault(exception.condition, []).append(exception)
        for written in copies.values():
            if len(written) > 1:
                self.error("W105", f"cette exception « sauf si » est écrite {len(written)} fois "
                           "dans cette version : les copies ne changent rien", written[1].span,
                           related=(Related(written[0].span, "première écriture"),),
                           hint="retirez les lignes en double")  # fmt: skip
        lets = self.lets(version)
        if version.applicability is not None:
            territory = self.schema.entities.get(self.schema.territory_entity)
            context = self.context(territory, dict(self.schema.territory_extras), lets)
            self.expressions.condition(
                version.applicability, context, "la condition « s'applique si »"
            )
        if version.population is None or version.requirement is None:
            missing = (
                "population (« parmi les … »)"
                if version.population is None
                else "exigence (« exiger … »)"
            )
            self.error("E404", f"version de {rule.rule_id} sans {missing}", version.span)
            return
        entity = self.schema.entities.get(version.population.entity)
        if entity is None:
            self.expressions._unknown(version.population.entity, version.population.span,
                                      list(self.schema.entities), "population")  # fmt: skip
            return
        context = self.context(entity, None, lets)
        if version.population.where is not None:
            self.expressions.condition(version.population.where, context, "la condition « où »")
        for grouping in version.groupings:
            for dimension in grouping.dimensions:
                if dimension not in entity.dimensions:
                    self.expressions._unknown(dimension, grouping.span, list(entity.dimensions),
                                              f"regroupement des {entity.label}")  # fmt: skip
            if grouping.whole and "epci" in grouping.dimensions:
                self.error("E510", "« sur l'ensemble des territoires » compte tous les EPCI ensemble : "
                           "le regroupement ne peut pas nommer « epci »", grouping.span,
                           hint="retirez « epci » ou « sur l'ensemble des territoires »")  # fmt: skip
            if grouping.whole and isinstance(version.requirement.target, ast.LocalObjective):
                self.error("E510", "un niveau « sur l'ensemble des territoires » n'a pas d'objectif de "
                           "CIA (une convention vaut pour un EPCI) : sa cible est celle de la loi",
                           grouping.span, hint="exigez une valeur de la loi, ou retirez ce niveau")  # fmt: skip
        requirement = version.requirement
        self.expressions.condition(requirement.condition, context, "ce qui est exigé")
        if isinstance(requirement.target, ast.LocalObjective) and rule.local_bounds is None:
            self.error("E502", f"{rule.rule_id} exige « l'objectif local » sans déclarer « objectif local »",
                       requirement.target.span)  # fmt: skip
        if requirement.target is not None and not isinstance(
            requirement.target, ast.LocalObjective
        ):
            # « l'objectif local » takes the kind of the requirement (a share or a number).
            target = self.expressions.infer(requirement.target, self.context(None, None, lets))
            wanted = PERCENT if requirement.kind == "share" else INT
            if target is not None and target.kind != wanted:
                code = "E302" if target.is_numeric else "E301"
                self.error(code, f"la cible d'une {'part' if wanted == PERCENT else 'quantité'} est un(e) "
                           f"{wanted}, pas un(e) {target}", requirement.target.span)  # fmt: skip
        for exception in version.exceptions:
            self.expressions.condition(exception.condition, context, "la condition « sauf si »")
        for also in version.also:
            self.expressions.condition(also.condition, context, f"l'indicateur « {also.label} »")

    # ------------------------------------------------------------------ commitments
    def commitment(self, commitment: ast.Commitment) -> None:
        name = commitment.commitment_id
        if commitment.territory is None:
            self.error("E503", f"engagement {name} : territoire (SIREN de l'EPCI) manquant", commitment.span,
                       hint='ajoutez : territoire "200046977"')  # fmt: skip
        if commitment.start is None:
            self.error("E503", f"engagement {name} : période manquante", commitment.span,
                       hint="ajoutez : du JJ/MM/AAAA au JJ/MM/AAAA")  # fmt: skip
        elif commitment.end is not None and commitment.end < commitment.start:
            self.error("E405", f"engagement {name} : période à l'envers (du {commitment.start:%d/%m/%Y} "
                       f"au {commitment.end:%d/%m/%Y})", commitment.span,
                       hint="« du » est le premier jour de l'engagement, « au » le dernier, inclus")  # fmt: skip
        if not commitment.signatories:
            self.error("E503", f"engagement {name} : signataires manquants", commitment.span)
        if not commitment.meta.sources:
            self.error(
                "E401", f"engagement {name} sans source (le document signé)", commitment.span
            )
        if not commitment.objectives and not commitment.qualitatives:
            self.error("W502", f"engagement {name} sans objectif : mixite n'y vérifie rien", commitment.span,
                       hint="ajoutez une ligne par objectif de la convention : objectif RÈGLE : 25 %")  # fmt: skip
        for qualitative in commitment.qualitatives:
            if qualitative.owed_by is None:
                self.error("W504", "engagement qualitatif sans « par » : qui le doit ?", qualitative.head,
                           hint='ajoutez sous lui : par "Bailleurs signataires"')  # fmt: skip
            if qualitative.done is not None and not qualitative.sources:
                self.error("W504", "engagement qualitatif déclaré fait sans référence", qualitative.head,
                           hint='ajoutez sous lui la pièce qui l\'atteste : source "Bilan 2025 de la CIL"')  # fmt: skip
        day = commitment.start or dt.date.max
        first: dict[tuple[str, frozenset[tuple[str, str]]], ast.Objective] = {}
        for objective in commitment.objectives:
            self.objective(objective, commitment, day)
            key = (objective.rule_id, frozenset((i.name, i.value) for i in objective.scope))
            if key in first:
                self.error("E504", f"deux objectifs de {objective.rule_id} pour {_scope_text(objective)} "
                           "dans le même engagement", objective.span,
                           related=(Related(first[key].span, "premier objectif pour ce périmètre"),))  # fmt: skip
            else:
                first[key] = objective

    def objective(self, objective: ast.Objective, commitment: ast.Commitment, day: dt.date) -> None:
        if not objective.sources:
            self.error("W503", f"objectif de {objective.rule_id} sans source (l'article de la convention)",
                       objective.span, hint='ajoutez sous l\'objectif : source "CIA …, article 4"')  # fmt: skip
        names: dict[str, ast.ScopeItem] = {}
        for item in objective.scope:
            if item.name in names:
                self.error("E504", f"« {item.name} » nommé deux fois dans le périmètre de l'objectif",
                           item.span, related=(Related(names[item.name].span, "première mention"),))  # fmt: skip
            names.setdefault(item.name, item)
        rule = self.rules.get(objective.rule_id)
        if rule is None:
            self.expressions._unknown(objective.rule_id, objective.span, list(self.rules), "règle")
            return
        if rule.local_bounds is None:
            self.error(
                "E502", f"la règle {objective.rule_id} n'admet pas d'objectif local", objective.span
            )
            return
        version = self.rules_version_at(rule, day)
        requirement = version.requirement if version else None
        rule_kind = requirement.kind if requirement else "share"
        reading = (requirement.bound if requirement else None) or "min"
        bound = objective.bound or reading
        if objective.bound is not None and objective.bound != reading:
            # A CIA may cap what the law sets a floor for (« au plus 40 % du premier quartile
            # dans les résidences fragiles ») : judged as written, with a warning naming the law's
            # reading, since it is as often a slip.
            law = (
                "un minimum (« d'au moins »)" if reading == "min" else "un maximum (« d'au plus »)"
            )
            written = (
                "un plafond (« au plus »)"
                if objective.bound == "max"
                else "un plancher (« au moins »)"
            )
            self.error("W506", f"objectif de {objective.rule_id} écrit comme {written}, alors que la "
                       f"règle lit sa cible comme {law} : jugé comme écrit", objective.span,
                       hint="si la convention reprend la lecture de la loi, retirez « au plus » / « au moins »")  # fmt: skip
        self._objective_years(objective, commitment)
        for _, expr in objective.values():
            self._objective_value(objective, expr, rule, rule_kind, bound == reading, day)
        entity = (
            self.schema.entities.get(version.population.entity)
            if version and version.population
            else None
        )
        scoped = tuple(sorted(item.name for item in objective.scope))
        whole = [g for g in (version.groupings if version else ()) if g.whole
                 and tuple(sorted(g.dimensions)) == scoped]  # fmt: skip
        if whole:
            self.error("E510", f"{objective.rule_id} compte ce périmètre sur l'ensemble des territoires "
                       "(le flux entier de chaque réservataire) : aucun objectif de CIA ne s'y applique",
                       objective.span, related=(Related(whole[0].span, "niveau compté sur l'ensemble des territoires"),))  # fmt: skip
        for item in objective.scope:
            if item.name == "epci":
                self.error("E506", "le périmètre d'un objectif ne nomme pas l'EPCI : c'est le territoire "
                           "de l'engagement", item.span,
                           hint="retirez « epci = … » ; un objectif sans « pour » vaut pour tout l'EPCI")  # fmt: skip
            elif entity is not None and item.name not in entity.dimensions:
                self.error("E506", f"« {item.name} » : les {entity.label} ne se comptent pas par ce périmètre",
                           item.span, hint="périmètres possibles : "
                           + ", ".join(d for d in entity.dimensions if d != "epci"))  # fmt: skip
            elif (
                entity is not None
                and (field := entity.fields.get(item.name)) is not None
                and field.values
                and item.value not in field.values
            ):
                self.error("E304", f"« {item.value} » n'est pas un(e) {item.name} : "
                           + ", ".join(field.values), item.span)  # fmt: skip

    def _objective_value(self, objective: ast.Objective, expr: ast.Expr, rule: ast.Rule,
                         rule_kind: str, as_the_law_reads: bool, day: dt.date) -> None:  # fmt: skip
        """One value of an objective: a share (a percentage), or a number of records (an
        integer, on a rule that requires a share as on one that requires a number)."""
        value_type = self.expressions.infer(expr, self.context(None))
        allowed = (INT,) if rule_kind == "count" else (PERCENT, INT)
        if value_type is not None and value_type.kind not in allowed:
            wanted = (
                "un entier (un nombre d'enregistrements)"
                if rule_kind == "count"
                else "un pourcentage (une part) ou un entier (un nombre d'enregistrements)"
            )
            self.error("E302", f"un objectif de {objective.rule_id} est {wanted}, pas un(e) {value_type}",
                       expr.span)  # fmt: skip
            return
        kind = "count" if value_type is not None and value_type.kind == INT else "share"
        value = constant(expr, self.parameters, day)
        impossible = (
            isinstance(value, Fraction | int)
            and not isinstance(value, bool)
            and (value < 0 or (kind == "share" and value > 1))
        )
        if impossible:
            assert isinstance(value, Fraction | int)
            shown = _percent(Fraction(value)) if kind == "share" else str(value)
            self.error("E505", f"objectif impossible : {shown} ("
                       + ("une part est entre 0 et 100 %" if kind == "share" else "un nombre n'est pas négatif")
                       + ")", expr.span)  # fmt: skip
            return
        if kind != rule_kind or not as_the_law_reads:
            return  # the law's bounds are of the rule's kind and reading
        bounds = rule.local_bounds
        assert bounds is not None
        for bound, label, lower in (
            (bounds.lower, "au moins", True),
            (bounds.upper, "au plus", False),
        ):
            if bound is None or not isinstance(value, Fraction):
                continue
            limit = constant(bound, self.parameters, day)
            if not isinstance(limit, Fraction):
                continue
            if not ((value < limit) if lower else (value > limit)):
                continue
            if objective.scope:
                # The law sets the rate for the EPCI's territory; the CIA may split the effort
                # between bailleurs (or réservataires, communes), one below and one above, as
                # long as the territory's objective holds: a warning that says so, not an error.
                scope = ", ".join(item.name for item in objective.scope)
                self.error(
                    "W501",
                    f"objectif de {_percent(value)} pour un(e) {scope}, {label} {_percent(limit)} "
                    f"exigé(s) par {objective.rule_id} pour le territoire : accepté, la loi fixant "
                    "le taux pour le territoire de l'EPCI et la CIA répartissant l'effort ; "
                    "l'objectif du territoire doit, lui, respecter la borne",
                    expr.span,
                    related=(Related(bound.span, "borne fixée par la règle"),),
                )
                continue
            self.error(
                "E501",
                f"objectif de {_percent(value)} hors des bornes de la loi : "
                f"{objective.rule_id} exige {label} {_percent(limit)}",
                expr.span,
                related=(Related(bound.span, "borne fixée par la règle"),),
            )

    def _objective_years(self, objective: ast.Objective, commitment: ast.Commitment) -> None:
        """A schedule in increasing years, a multi-year period the right way round, each year
        within the engagement's period."""
        first = commitment.start.year if commitment.start else None
        last = commitment.end.year if commitment.end else None

        def outside(year: int, span: ast.Span) -> None:
            if (first is not None and year < first) or (last is not None and year > last):
                period = f"{first} à {last}" if last is not None else f"{first} et après"
                self.error("E509", f"année {year} hors de la période de l'engagement {commitment.commitment_id} "
                           f"({period}) : cet objectif ne serait jamais jugé", span)  # fmt: skip

        previous: ast.YearlyValue | None = None
        for step in objective.schedule:
            if previous is not None and step.year <= previous.year:
                what = "répétée" if step.year == previous.year else "avant la précédente"
                self.error("E508", f"échéancier de {objective.rule_id} : année {step.year} {what} "
                           f"({previous.year})", step.span,
                           related=(Related(previous.span, "année précédente"),),
                           hint="écrivez les années dans l'ordre, une fois chacune : en 2023 : 20 %, en 2024 : 22 %")  # fmt: skip
            outside(step.year, step.span)
            previous = step
        years = objective.cumulative
        if years is not None:
            if years.last < years.first:
                self.error("E405", f"objectif de {objective.rule_id} : période à l'envers (de {years.first} "
                           f"à {years.last})", years.span,
                           hint="« de » est la première année, « à » la dernière, incluse")  # fmt: skip
            else:
                outside(years.first, years.span)
                if years.last != years.first:
                    outside(years.last, years.span)

    @staticmethod
    def rules_version_at(rule: ast.Rule, day: dt.date) -> ast.Version | None:
        for version in rule.versions:
            if version.start <= day and (version.end is None or day <= version.end):
                return version
        return rule.versions[-1] if rule.versions else None


def _scope_text(objective: ast.Objective) -> str:
    if not objective.scope:
        return "tout l'EPCI"
    return ", ".join(f'{item.name} = "{item.value}"' for item in objective.scope)


def _percent(value: Fraction) -> str:
    number = value * 100
    text = f"{float(number):.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + " %"


def load_rulebook(
    paths: Iterable[Path],
    schema: Schema,
    tested: set[str] | None = None,
    texts: Mapping[Path, str] | None = None,
) -> tuple[Rulebook | None, list[Diagnostic]]:
    """Check the rule files under `paths`. The rulebook is None when there is any error.

    `texts` gives the text of files as an editor holds them (unsaved): it is read instead of
    the file, and a file of `texts` not under `paths` is checked too."""
    diagnostics: list[Diagnostic] = []
    paths = list(paths)
    files = [path for path in rule_files(paths) if not local_parameters.is_local_file(path)]
    known = {path.resolve() for path in files}
    files += [path for path in texts or {} if path.resolve() not in known]
    loaded = _parse_all(files, diagnostics, texts)
    analyser = _Analyser(schema, diagnostics)
    # Local parameters files (*.parametres.csv) beside the rules: values the national rules lack.
    locals_ = local_parameters.local_files(paths)
    analyser.local_rows, local_texts = local_parameters.read_rows(
        locals_, {path: display_name(path) for path in locals_}, diagnostics
    )
    analyser.extra_sources.update(local_texts)
    parameters = analyser.collect(loaded.modules)
    for path, parameter in parameters:
        analyser.parameter(path, parameter)
    local_parameters.unknown_parameters(
        analyser.local_rows, {decl.name for _, decl in parameters}, diagnostics
    )
    for by_name in analyser.definitions.values():
        for definition in by_name.values():
            analyser.definition(definition)
    for rule in analyser.rules.values():
        analyser.rule(rule, tested)
    for commitment in analyser.commitments.values():
        analyser.commitment(commitment)
    # A clause inherited by several versions written by difference is checked in each: the
    # same finding at the same place is reported once.
    diagnostics[:] = list(dict.fromkeys(diagnostics))
    diagnostics.sort(key=sort_key)
    if has_errors(diagnostics) or (not loaded.modules and not files):
        return None, diagnostics
    rulebook = Rulebook(
        parameters=analyser.parameters,
        definitions=analyser.definitions,
        rules=analyser.rules,
        commitments=analyser.commitments,
        annotations=analyser.annotations,
        sources={**loaded.sources, **analyser.extra_sources},
        rule_files=analyser.rule_files,
    )
    return rulebook, diagnostics


__all__ = ["BOOL", "load_rulebook", "rule_files"]
