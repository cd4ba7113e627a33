"""The canonical formatter of the rule language (what `mixite rules fmt` writes).

`format_text(text, file)` parses and formats; `format_module(module, source)` formats a parsed
module, `source` being the text it was parsed from (comments and clause order are read from
it; pass "" for a module built by program). The output is idempotent and parses to the same
AST (spans aside).

Style, modelled on `rules/national/*.regles`:

- declarations separated by one blank line; clauses indented two spaces, a version two spaces
  under its rule with its clauses at four, a blank line before each version; the sources of a
  value step, derivation, exception or objective two spaces under it;
- keywords lower case with their accents (`paramètre`, `définition`, `règle`, `clés`, `dérivé`,
  `vérifiant`, `renseignée`, `s'applique`, `d'au`, `où` for a population's condition, `ou` for
  the boolean or), a straight apostrophe, `parmi les`, `pour chacune`;
- dates `JJ/MM/AAAA`; numbers as written (decimal comma); `25 %` and `8957 €` with a space;
  operators with spaces, written `<=`, `>=`, `!=`, `*`; strings between straight quotes, a
  backslash doubled only where it must be;
- parentheses only where precedence needs them (si/alors/sinon < ou < et < non < comparison
  < + - < * / < unary minus; + - * / associate to the left, so `a - (b - c)` keeps them), and
  around an `et` inside an `ou`, for the reader: `a ou (b et c)`;
- a line longer than 100 columns is cut after `ou`, `et` or `+` (greedily: as much as fits on
  each line), continuation lines four spaces deeper than the clause. A definition that does not
  fit on its `définition … =` line puts its expression on the next line, indented two spaces;
- `source "…" article "…" url "…"` on one line if it fits, else `url "…"` on the next line,
  two spaces deeper.

Clause order. Clauses keep the order in which they are written: positions come from the spans
and, for the clauses the AST keeps without a span (titre, incertain, note, territoire,
signataires, an engagement's period), from the source text. Where the order is unknown (a
module built by program, a source that does not match) or would change the meaning (a bare
`source` written after a value step, derivation, exception or objective would become its
source), the clauses of that block take the canonical order: titre, source, incertain, note,
then the clauses proper: clés, du…, table, dérivé (parameter); objectif local (rule);
retirer, soit, s'applique, parmi, par, exiger, sauf si, aussi (version, where « reprend la
version précédente » comes first of all); territoire, signataires, du, objectif (engagement).
What the AST merges comes out merged: several `clés` or `signataires` clauses become one, at
the place of the first; a clause the parser drops (a second `titre`, `parmi`, `exiger`…)
disappears. `objectif local` with both bounds is written
`d'au moins X et d'au plus Y`; a share's or count's target may be `l'objectif local`.

Comments. The grammar ignores them, so they are read back from the source with their lines and
each one is written, on its own line and at the indentation of what follows, just before the
declaration or clause it belongs to: the one whose line it ends (a comment at the end of a line
moves to its own line above that clause), the one whose text it interrupts (a comment inside a
multi-line expression moves above the clause), else the next one. Comments after the last
declaration stay at the end. Between declarations, blank lines around comments are kept
(several become one); inside a declaration they are not.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from dsl import ast
from dsl.diagnostics import Diagnostic, has_errors
from dsl.parser import parse

WIDTH = 100
Pos = tuple[int, int]  # (line, column), 1-based, as in spans

# ------------------------------------------------------------------------ expressions

# Precedence levels, loosest first; an operand printed where a tighter level is needed gets
# parentheses.
_IF, _OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _ATOM = range(9)


class _Break:
    """Where a long line may be cut: a space, or a new line."""


_BREAK = _Break()
_Chunk = str | _Break


def _level(expr: ast.Expr) -> int:
    if isinstance(expr, ast.If):
        return _IF
    if isinstance(expr, ast.Or):
        return _OR
    if isinstance(expr, ast.And):
        return _AND
    if isinstance(expr, ast.Not):
        return _NOT
    if isinstance(expr, ast.Compare | ast.IsSet | ast.Member | ast.Contains | ast.ContainsAny):
        return _CMP
    if isinstance(expr, ast.Arithmetic):
        return _SUM if expr.op in ("+", "-") else _PRODUCT
    if isinstance(expr, ast.Negate):
        return _UNARY
    return _ATOM


def _expr(expr: ast.Expr, needed: int = _IF) -> list[_Chunk]:
    chunks = _bare(expr)
    return ["(", *chunks, ")"] if _level(expr) < needed else chunks


# After an objective's « : », these words are keywords (« au moins », « d'au plus », « en
# 2024 : »), so a value whose text starts with a parameter or definition of that name would be
# read as them: such a value is written between parentheses, where they are names again.
_OBJECTIVE_KEYWORD_START = re.compile(r"(au|en)\b", re.IGNORECASE)


def _objective_value(expr: ast.Expr) -> list[_Chunk]:
    chunks = _expr(expr)
    first = chunks[0] if chunks else ""
    if isinstance(first, str) and _OBJECTIVE_KEYWORD_START.match(first):
        return ["(", *chunks, ")"]
    return chunks


def _or_operand(expr: ast.Expr, needed: int) -> list[_Chunk]:
    """An « et » inside an « ou » keeps its parentheses: not needed by precedence, but a
    reader checking a rule against the article should not have to know the precedence."""
    chunks = _expr(expr, needed)
    return ["(", *chunks, ")"] if isinstance(expr, ast.And) and chunks[0] != "(" else chunks


def _joined(parts: Sequence[list[_Chunk]], separator: str = ", ") -> list[_Chunk]:
    chunks: list[_Chunk] = []
    for index, part in enumerate(parts):
        if index:
            chunks.append(separator)
        chunks.extend(part)
    return chunks


def _bare(expr: ast.Expr) -> list[_Chunk]:
    if isinstance(expr, ast.Number):
        return [_number(expr.value, expr.text)]
    if isinstance(expr, ast.Percent):
        return [f"{_number(expr.value * 100, expr.text)} %"]
    if isinstance(expr, ast.Money):
        return [f"{_number(expr.value, expr.text)} €"]
    if isinstance(expr, ast.String):
        return [quote(expr.value)]
    if isinstance(expr, ast.DateLiteral):
        return [date_text(expr.value)]
    if isinstance(expr, ast.Boolean):
        return ["vrai" if expr.value else "faux"]
    if isinstance(expr, ast.Name):
        return [expr.name]
    if isinstance(expr, ast.Attribute):
        return [f"{expr.owner}.{expr.name}"]
    if isinstance(expr, ast.LocalObjective):
        return ["l'objectif local"]
    if isinstance(expr, ast.Call):
        # Loops, not comprehensions, here and below: one frame less per level of nesting, so
        # that whatever the parser accepts formats without reaching Python's recursion limit.
        chunks: list[_Chunk] = [f"{expr.function}("]
        for index, arg in enumerate(expr.args):
            chunks += [", ", *_expr(arg)] if index else _expr(arg)
        return [*chunks, ")"]
    if isinstance(expr, ast.Lookup):
        chunks = [f"{expr.parameter}["]
        for index, key in enumerate(expr.keys):
            chunks += [", " if index else "", f"{key.name}: ", *_expr(key.value)]
        return [*chunks, "]"]
    if isinstance(expr, ast.Negate):
        operand = _expr(expr.operand, _UNARY)
        return ["- " if isinstance(expr.operand, ast.Negate) else "-", *operand]
    if isinstance(expr, ast.Arithmetic):
        level = _level(expr)
        left, right = _expr(expr.left, level), _expr(expr.right, level + 1)
        middle: list[_Chunk] = [" +", _BREAK] if expr.op == "+" else [f" {expr.op} "]
        return [*left, *middle, *right]
    if isinstance(expr, ast.Compare):
        return [*_expr(expr.left, _SUM), f" {expr.op} ", *_expr(expr.right, _SUM)]
    if isinstance(expr, ast.And):
        return [*_expr(expr.left, _AND), " et", _BREAK, *_expr(expr.right, _NOT)]
    if isinstance(expr, ast.Or):
        return [*_or_operand(expr.left, _OR), " ou", _BREAK, *_or_operand(expr.right, _AND)]
    if isinstance(expr, ast.Not):
        return ["non ", *_expr(expr.operand, _NOT)]
    if isinstance(expr, ast.If):
        condition, then = _expr(expr.condition, _OR), _expr(expr.then, _OR)
        return ["si ", *condition, " alors ", *then, " sinon ", *_expr(expr.otherwise, _IF)]
    if isinstance(expr, ast.IsSet):
        verb = " n'est pas renseignée" if expr.negated else " est renseignée"
        return [*_expr(expr.operand, _SUM), verb]
    if isinstance(expr, ast.Member):
        chunks = [*_expr(expr.operand, _SUM), " dans ("]
        for index, option in enumerate(expr.options):
            chunks += [", ", *_expr(option, _ATOM)] if index else _expr(option, _ATOM)
        return [*chunks, ")"]
    if isinstance(expr, ast.Contains):
        return [*_expr(expr.operand, _SUM), f" contient {quote(expr.item)}"]
    if isinstance(expr, ast.ContainsAny):
        choices = [
            quote(choice.first)
            + ("" if choice.last == choice.first else f" à {quote(choice.last)}")
            for choice in expr.choices
        ]
        return [*_expr(expr.operand, _SUM), f" contient l'un de ({', '.join(choices)})"]
    raise TypeError(f"expression inconnue du formateur : {type(expr).__name__}")


def expression_text(expr: ast.Expr) -> str:
    """An expression as the formatter writes it, on one line."""
    return "".join(" " if isinstance(chunk, _Break) else chunk for chunk in _expr(expr))


def _number(value: Fraction, text: str) -> str:
    """The number as written (the AST keeps its text); computed for a module built by program."""
    if re.fullmatch(r"\d+(,\d+)?", text) and Fraction(text.replace(",", ".")) == value:
        return text
    if value < 0:
        raise ValueError(f"nombre négatif {value} : écrivez-le avec un moins unaire")
    whole, rest = divmod(value, 1)
    digits = ""
    while rest and len(digits) < 30:
        digit, rest = divmod(rest * 10, 1)
        digits += str(digit)
    if rest:
        raise ValueError(f"le nombre {value} n'a pas d'écriture décimale finie")
    return f"{whole},{digits}" if digits else str(whole)


def date_text(value: dt.date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def quote(value: str) -> str:
    """A string literal whose value (as the parser reads it) is `value`. A backslash is doubled
    only where the parser would otherwise read it differently: in a run of several, before a
    quote, at the end."""
    if "\n" in value:
        raise ValueError("un texte entre guillemets ne peut pas contenir de retour à la ligne")
    out: list[str] = []
    for run, char in re.findall(r"(\\*)([^\\]|$)", value):
        if char == '"':
            out.append(run * 2 + '\\"')
        elif len(run) > 1 or (run and not char):
            out.append(run * 2 + char)
        else:
            out.append(run + char)
    return '"' + "".join(out) + '"'


def _removed(removal: ast.Removal) -> list[_Chunk]:
    """What follows « retirer »: the clause removed, as the previous version writes it."""
    if removal.kind == "applicability":
        return ["s'applique si"]
    if removal.kind == "grouping":
        whole = " sur l'ensemble des territoires" if removal.whole else ""
        return [f"par {', '.join(removal.dimensions)}{whole}"]
    if removal.kind == "exception" and removal.condition is not None:
        return ["sauf si ", *_expr(removal.condition)]
    if removal.kind == "also" and removal.label is not None:
        return [f"aussi {quote(removal.label)}"]
    if removal.kind == "let" and removal.label is not None:
        return [f"soit {removal.label}"]
    raise ValueError(f"« retirer » sans clause : {removal.kind}")


def _fill(indent: int, chunks: Sequence[_Chunk]) -> list[str]:
    """Lay chunks out from column `indent`, cutting at breaks only where a line would be too
    long; continuation lines four spaces deeper."""
    units = [""]
    for chunk in chunks:
        if isinstance(chunk, _Break):
            units.append("")
        else:
            units[-1] += chunk
    lines = [" " * indent + units[0]]
    for unit in units[1:]:
        if len(lines[-1]) + 1 + len(unit) <= WIDTH:
            lines[-1] += " " + unit
        else:
            lines.append(" " * (indent + 4) + unit)
    return lines


# ------------------------------------------------------------------------ source text


@dataclass(frozen=True)
class _Comment:
    text: str
    pos: Pos
    own_line: bool  # nothing but spaces before it on its line
    blank_before: bool  # the line above is blank
    blank_after: bool  # the line below is blank


@dataclass(frozen=True)
class _Hit:
    """A clause without a span in the AST (titre "…", note "…", du 01/01/2024…), found in the
    source text."""

    kind: str
    values: tuple[str, ...]
    start: Pos
    end: Pos


_TOKEN = re.compile(
    r'(?P<ws>\s+)|(?P<comment>#[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*")'
    r"|(?P<date>\d{2}/\d{2}/\d{4}|\d{4}-\d{2}-\d{2})|(?P<word>[^\W\d]\w*)|(?P<other>.)",
    re.DOTALL,
)
_ONE_STRING = {
    "titre": "title",
    "incertain": "uncertain",
    "note": "note",
    "territoire": "territory",
}


def _unquote(literal: str) -> str:
    return literal[1:-1].replace('\\"', '"').replace("\\\\", "\\")


def _date_of(text: str) -> str:
    """Any accepted date spelling, as JJ/MM/AAAA (to compare with the AST's)."""
    if "-" in text:
        year, month, day = text.split("-")
        return f"{day}/{month}/{year}"
    return text


class _SourceText:
    """What the formatter needs from the text the module was parsed from."""

    def __init__(self, text: str) -> None:
        lines = text.split("\n")
        self.blank = [not text_line.strip() for text_line in lines]
        starts = [0]
        for text_line in lines[:-1]:
            starts.append(starts[-1] + len(text_line) + 1)
        self.comments: list[_Comment] = []
        tokens: list[tuple[str, str, Pos, Pos]] = []
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup or "other"
            if kind == "ws":
                continue
            line = bisect.bisect_right(starts, match.start())
            column = match.start() - starts[line - 1] + 1
            if kind == "comment":
                own_line = not text[starts[line - 1] : match.start()].strip()
                self.comments.append(
                    _Comment(
                        match.group().rstrip(),
                        (line, column),
                        own_line,
                        own_line and line >= 2 and self.blank[line - 2],
                        own_line and line < len(lines) and self.blank[line],
                    )
                )
                continue
            end = (line, column + len(match.group()))
            tokens.append((kind, match.group(), (line, column), end))
        self.hits = _hits(tokens)


def _hits(tokens: list[tuple[str, str, Pos, Pos]]) -> list[_Hit]:
    hits = []
    for index, (kind, word, start, _) in enumerate(tokens):
        if kind != "word":
            continue
        following = tokens[index + 1 : index + 2]
        keyword = word.lower()
        if keyword in _ONE_STRING and following and following[0][0] == "string":
            hits.append(
                _Hit(_ONE_STRING[keyword], (_unquote(following[0][1]),), start, following[0][3])
            )
        elif keyword == "signataires" and following and following[0][0] == "string":
            values, last = [], index + 1
            end = following[0][3]
            while last < len(tokens) and tokens[last][0] == "string":
                values.append(_unquote(tokens[last][1]))
                end = tokens[last][3]
                if tokens[last + 1 : last + 2] and tokens[last + 1][1] == ",":
                    last += 2
                else:
                    break
            hits.append(_Hit("signatories", tuple(values), start, end))
        elif keyword == "reprend" and following and following[0][1].lower() == "la":
            last = min(index + 3, len(tokens) - 1)
            hits.append(_Hit("amends", (), start, tokens[last][3]))
        elif keyword == "du" and following and following[0][0] == "date":
            values, last = [_date_of(following[0][1])], index + 1
            after = tokens[last + 1 : last + 3]
            if len(after) == 2 and after[0][1].lower() == "au" and after[1][0] == "date":
                values.append(_date_of(after[1][1]))
                last += 2
            hits.append(_Hit("period", tuple(values), start, tokens[last][3]))
    return hits


# ------------------------------------------------------------------------ layout blocks


@dataclass
class _Block:
    """A declaration or a clause: its own lines, then the blocks under it."""

    lines: list[str]
    indent: int
    rank: tuple[int, int]  # its place in the canonical order among its siblings
    start: Pos | None = None
    end: Pos | None = None
    head_end: Pos | None = None  # end of its own text (a comment before it is inside it)
    children: list[_Block] = field(default_factory=list)
    blank_before: bool = False
    bare_source: bool = False  # a metadata `source` clause
    takes_sources: bool = False  # a `source` just after it would become its own
    comments: list[_Comment] = field(default_factory=list)


def _start(span: ast.Span) -> Pos | None:
    return (span.line, span.column) if span.line > 0 else None


def _end(span: ast.Span) -> Pos | None:
    return (span.end_line, span.end_column) if span.line > 0 else None


def _spanned(
    lines: list[str],
    indent: int,
    rank: tuple[int, int],
    span: ast.Span,
    *,
    bare_source: bool = False,
    takes_sources: bool = False,
) -> _Block:
    block = _Block(lines, indent, rank, _start(span), _end(span), _end(span))
    block.bare_source, block.takes_sources = bare_source, takes_sources
    return block


def _ordered(blocks: list[_Block]) -> list[_Block]:
    """As written when every position is known and the order keeps the meaning, else canonical."""
    if all(block.start is not None for block in blocks):
        written = sorted(blocks, key=lambda block: (block.start or (0, 0), block.rank))
        taker = False
        for block in written:
            if block.bare_source and taker:
                break
            if not block.bare_source:
                taker = block.takes_sources
        else:
            return written
    return sorted(blocks, key=lambda block: block.rank)


class _Layout:
    def __init__(self, source: _SourceText) -> None:
        self.source = source

    def _found(self, kind: str, region: tuple[Pos, Pos] | None) -> list[_Hit]:
        if region is None:
            return []
        return [h for h in self.source.hits if h.kind == kind and region[0] <= h.start < region[1]]

    def _hit_block(
        self, lines: list[str], indent: int, rank: tuple[int, int], hit: _Hit | None
    ) -> _Block:
        if hit is None:
            return _Block(lines, indent, rank)
        return _Block(lines, indent, rank, hit.start, hit.end, hit.end)

    def sources(self, sources: Sequence[ast.Source], indent: int, kind: int = 1) -> list[_Block]:
        blocks = []
        for index, source in enumerate(sources):
            text = " " * indent + f"source {quote(source.title)}"
            if source.article is not None:
                text += f" article {quote(source.article)}"
            lines = [text]
            if source.url is not None:
                url = f"url {quote(source.url)}"
                if len(text) + 1 + len(url) <= WIDTH:
                    lines = [f"{text} {url}"]
                else:
                    lines.append(" " * (indent + 2) + url)
            blocks.append(_spanned(lines, indent, (kind, index), source.span, bare_source=True))
        return blocks

    def meta(self, meta: ast.Metadata, indent: int, region: tuple[Pos, Pos] | None) -> list[_Block]:
        """titre, source, incertain, note: ranks 0 to 3."""
        pad = " " * indent
        blocks = self.sources(meta.sources, indent)
        if meta.title is not None:
            found = self._found("title", region)
            hit = found[0] if found and found[0].values == (meta.title,) else None
            blocks.append(self._hit_block([f"{pad}titre {quote(meta.title)}"], indent, (0, 0), hit))
        for kind, rank, keyword, values in (
            ("uncertain", 2, "incertain", meta.uncertain),
            ("note", 3, "note", meta.notes),
        ):
            found = self._found(kind, region)
            matches = [hit.values[0] for hit in found] == list(values)
            for index, value in enumerate(values):
                lines = [f"{pad}{keyword} {quote(value)}"]
                hit = found[index] if matches else None
                blocks.append(self._hit_block(lines, indent, (rank, index), hit))
        return blocks

    # ---------------------------------------------------------------- declarations
    def declaration(self, declaration: ast.Declaration) -> _Block:
        if isinstance(declaration, ast.Parameter):
            return self.parameter(declaration)
        if isinstance(declaration, ast.Definition):
            return self.definition(declaration)
        if isinstance(declaration, ast.Rule):
            return self.rule(declaration)
        return self.commitment(declaration)

    def _region(self, span: ast.Span, until: ast.Span | None = None) -> tuple[Pos, Pos] | None:
        start, end = _start(span), _end(span)
        if until is not None and _start(until) is not None:
            end = _start(until)
        return (start, end) if start is not None and end is not None else None

    def parameter(self, parameter: ast.Parameter) -> _Block:
        clauses = self.meta(parameter.meta, 2, self._region(parameter.span))
        if parameter.keys:
            keys = ", ".join(f"{key.name} : {key.type_name}" for key in parameter.keys)
            first, last = parameter.keys[0].span, parameter.keys[-1].span
            block = _Block([f"  clés {keys}"], 2, (4, 0), _start(first), _end(last), _end(last))
            clauses.append(block)
        for index, step in enumerate(parameter.steps):
            period = f"du {date_text(step.start)}"
            if step.end is not None:
                period += f" au {date_text(step.end)}"
            lines = _fill(2, [f"{period} : ", *_expr(step.value)])
            block = _spanned(lines, 2, (5, index), step.span, takes_sources=True)
            block.head_end = _end(step.value.span)
            block.children = self.sources(step.sources, 4)
            clauses.append(block)
        for index, table in enumerate(parameter.tables):
            text = f"  table {quote(table.path)}"
            if table.value_column is not None:
                text += f" valeur {table.value_column}"
            clauses.append(_spanned([text], 2, (6, index), table.span))
        for index, derivation in enumerate(parameter.derivations):
            target, origin = _expr(derivation.target, _ATOM), _expr(derivation.origin, _ATOM)
            chunks = [f"dérivé {derivation.key} = ", *target, " depuis ", *origin, " fois "]
            lines = _fill(2, [*chunks, *_expr(derivation.factor)])
            block = _spanned(lines, 2, (7, index), derivation.span, takes_sources=True)
            block.head_end = _end(derivation.factor.span)
            block.children = self.sources(derivation.sources, 4)
            clauses.append(block)
        header = f"paramètre {parameter.name} : {parameter.type_name}"
        return self._declaration([header], parameter.span, clauses)

    def definition(self, definition: ast.Definition) -> _Block:
        header = f"définition {definition.name} sur {definition.entity} ="
        chunks = _expr(definition.expr)
        lines = _fill(0, [header + " ", *chunks])
        if len(lines) > 1 or len(lines[0]) > WIDTH:
            lines = [header, *_fill(2, chunks)]
        clauses = self.meta(definition.meta, 2, self._region(definition.span))
        block = self._declaration(lines, definition.span, clauses)
        block.head_end = _end(definition.expr.span)
        return block

    def rule(self, rule: ast.Rule) -> _Block:
        first_version = rule.versions[0].span if rule.versions else None
        clauses = self.meta(rule.meta, 2, self._region(rule.span, first_version))
        bounds = rule.local_bounds
        if bounds is not None:
            parts: list[list[_Chunk]] = []
            if bounds.lower is not None:
                parts.append(["d'au moins ", *_expr(bounds.lower, _SUM)])  # bounds are sums
            if bounds.upper is not None:
                parts.append(["d'au plus ", *_expr(bounds.upper, _SUM)])
            lines = _fill(2, ["objectif local", *_joined([[" ", *part] for part in parts], " et")])
            clauses.append(_spanned(lines, 2, (4, 0), bounds.span))
        block = self._declaration([f"règle {rule.rule_id}"], rule.span, clauses)
        block.children.extend(self.version(version) for version in rule.versions)
        return block

    def version(self, version: ast.Version) -> _Block:
        """Canonical order: reprend, titre/source/incertain/note, retirer, soit, s'applique,
        parmi, par, exiger, sauf si, aussi."""
        clauses = self.meta(version.meta, 4, self._region(version.span))
        if version.amends:
            found = self._found("amends", self._region(version.span))
            hit = found[0] if len(found) == 1 else None
            clauses.append(self._hit_block(["    reprend la version précédente"], 4, (-1, 0), hit))
        for index, removal in enumerate(version.removals):
            lines = _fill(4, ["retirer ", *_removed(removal)])
            clauses.append(_spanned(lines, 4, (4, index), removal.span))
        for index, let in enumerate(version.lets):
            lines = _fill(4, [f"soit {let.name} = ", *_expr(let.value)])
            clauses.append(_spanned(lines, 4, (5, index), let.span))
        if version.applicability is not None:
            lines = _fill(4, ["s'applique si ", *_expr(version.applicability)])
            clauses.append(_spanned(lines, 4, (6, 0), version.applicability.span))
        population = version.population
        if population is not None:
            chunks: list[_Chunk] = [f"parmi les {population.entity}"]
            if population.where is not None:
                chunks += [" où ", *_expr(population.where)]
            clauses.append(_spanned(_fill(4, chunks), 4, (7, 0), population.span))
        for index, grouping in enumerate(version.groupings):
            whole = " sur l'ensemble des territoires" if grouping.whole else ""
            information = " pour information" if grouping.information else ""
            lines = [f"    par {', '.join(grouping.dimensions)}{whole}{information}"]
            clauses.append(_spanned(lines, 4, (8, index), grouping.span))
        requirement = version.requirement
        if requirement is not None:
            clauses.append(_spanned(self._requirement(requirement), 4, (9, 0), requirement.span))
        for index, exception in enumerate(version.exceptions):
            lines = _fill(4, ["sauf si ", *_expr(exception.condition)])
            block = _spanned(lines, 4, (10, index), exception.span, takes_sources=True)
            block.head_end = _end(exception.condition.span)
            block.children = self.sources(exception.sources, 6)
            clauses.append(block)
        for index, also in enumerate(version.also):
            lines = _fill(4, [f"aussi {quote(also.label)} : ", *_expr(also.condition)])
            clauses.append(_spanned(lines, 4, (11, index), also.span))
        header = f"  version du {date_text(version.start)}"
        if version.end is not None:
            header += f" au {date_text(version.end)}"
        block = _spanned([header], 2, (0, 0), version.span)
        block.blank_before, block.head_end = True, block.start
        block.children = _ordered(clauses)
        return block

    def _requirement(self, requirement: ast.Requirement) -> list[str]:
        if requirement.kind == "each":
            return _fill(4, ["exiger pour chacune : ", *_expr(requirement.condition)])
        what = "une part" if requirement.kind == "share" else "un nombre"
        bound = "d'au moins" if requirement.bound == "min" else "d'au plus"
        target = _expr(requirement.target) if requirement.target is not None else []
        condition = _expr(requirement.condition)
        return _fill(4, [f"exiger {what} {bound} ", *target, " vérifiant ", *condition])

    def commitment(self, commitment: ast.Commitment) -> _Block:
        region = self._region(commitment.span)
        clauses = self.meta(commitment.meta, 2, region)
        if commitment.territory is not None:
            found = self._found("territory", region)
            hit = found[0] if found and found[0].values == (commitment.territory,) else None
            line = f"  territoire {quote(commitment.territory)}"
            clauses.append(self._hit_block([line], 2, (4, 0), hit))
        if commitment.signatories:
            found = self._found("signatories", region)
            merged = tuple(value for found_hit in found for value in found_hit.values)
            hit = found[0] if merged == commitment.signatories else None
            line = "  signataires " + ", ".join(quote(name) for name in commitment.signatories)
            clauses.append(self._hit_block([line], 2, (5, 0), hit))
        if commitment.start is not None:
            dates = [date_text(commitment.start)]
            if commitment.end is not None:
                dates.append(date_text(commitment.end))
            found = self._found("period", region)
            hit = found[0] if found and list(found[0].values) == dates else None
            clauses.append(self._hit_block(["  du " + " au ".join(dates)], 2, (6, 0), hit))
        for index, objective in enumerate(commitment.objectives):
            chunks: list[_Chunk] = [f"objectif {objective.rule_id}"]
            if objective.scope:
                scope = ", ".join(f"{item.name} = {quote(item.value)}" for item in objective.scope)
                chunks.append(f" pour {scope}")
            chunks.append(" : ")
            if objective.bound is not None:
                chunks.append("au moins " if objective.bound == "min" else "au plus ")
            last: ast.Span
            if objective.value is None:
                for number, step in enumerate(objective.schedule):
                    # A long schedule is cut between two years, never inside one.
                    if number:
                        chunks.extend([",", _BREAK])
                    chunks.extend([f"en {step.year} : ", *_expr(step.value)])
                last = objective.schedule[-1].span
            else:
                chunks.extend(_objective_value(objective.value))
                last = objective.value.span
                if objective.cumulative is not None:
                    years = objective.cumulative
                    chunks.append(f" de {years.first} à {years.last}")
                    last = years.span
            lines = _fill(2, chunks)
            block = _spanned(lines, 2, (7, index), objective.span, takes_sources=True)
            block.head_end = _end(last)
            block.children = self.sources(objective.sources, 4)
            clauses.append(block)
        for index, qualitative in enumerate(commitment.qualitatives):
            lines = _fill(2, [f"qualitatif {quote(qualitative.text)}"])
            if qualitative.owed_by is not None:
                lines.append(f"    par {quote(qualitative.owed_by)}")
            if qualitative.due is not None:
                lines.append(f"    échéance {date_text(qualitative.due)}")
            if qualitative.done is not None:
                lines.append(f"    fait {date_text(qualitative.done)}")
            block = _spanned(lines, 2, (8, index), qualitative.span, takes_sources=True)
            block.head_end = _end(qualitative.head)
            block.children = self.sources(qualitative.sources, 4)
            clauses.append(block)
        header = f"engagement {commitment.commitment_id}"
        return self._declaration([header], commitment.span, clauses)

    def _declaration(self, lines: list[str], span: ast.Span, clauses: list[_Block]) -> _Block:
        block = _Block(lines, 0, (0, 0), _start(span), _end(span), _start(span))
        block.children = _ordered(clauses)
        return block


# ------------------------------------------------------------------------ comments


def _preorder(blocks: Sequence[_Block]) -> list[_Block]:
    found: list[_Block] = []
    for block in blocks:
        found.append(block)
        found.extend(_preorder(block.children))
    return found


def _attach(comments: list[_Comment], blocks: list[_Block]) -> list[_Comment]:
    """Give each comment to the block it is written before; return the trailing ones."""
    anchors = [
        (block.start, index, block)
        for index, block in enumerate(_preorder(blocks))
        if block.start is not None and block.end is not None
    ]
    trailing = []
    for comment in comments:
        target: _Block | None = None
        if not comment.own_line:  # the clause whose line it ends
            covering = [
                (start, index, block)
                for start, index, block in anchors
                if start <= comment.pos and block.end is not None and block.end[0] >= comment.pos[0]
            ]
            target = max(covering, key=lambda anchor: anchor[:2])[2] if covering else None
        if target is None:  # the clause whose text it interrupts
            inside = [
                (start, index, block)
                for start, index, block in anchors
                if block.head_end is not None and start < comment.pos < block.head_end
            ]
            target = max(inside, key=lambda anchor: anchor[:2])[2] if inside else None
        if target is None:  # the next clause
            after = [
                (start, index, block) for start, index, block in anchors if start > comment.pos
            ]
            target = min(after, key=lambda anchor: anchor[:2])[2] if after else None
        if target is None:
            trailing.append(comment)
        else:
            target.comments.append(comment)
    return trailing


def _comment_lines(comments: list[_Comment], keep_blanks: bool) -> list[str]:
    lines: list[str] = []
    for index, comment in enumerate(comments):
        if keep_blanks and index and comment.blank_before:
            lines.append("")
        lines.append(comment.text)
    return lines


def _emit(block: _Block, out: list[str]) -> None:
    if block.blank_before:
        out.append("")
    pad = " " * block.indent
    out.extend(pad + line for line in _comment_lines(block.comments, keep_blanks=False))
    out.extend(block.lines)
    for child in block.children:
        _emit(child, out)


# ------------------------------------------------------------------------ entry points


def format_module(module: ast.Module, source: str) -> str:
    """The canonical text of `module`; `source` is the text it was parsed from ("" if none)."""
    text = _SourceText(source)
    layout = _Layout(text)
    blocks = [layout.declaration(declaration) for declaration in module.declarations]
    trailing = _attach(text.comments, blocks)
    out: list[str] = []
    for index, block in enumerate(blocks):
        if index:
            out.append("")
        out.extend(_comment_lines(block.comments, keep_blanks=True))
        if block.comments and block.comments[-1].blank_after:
            out.append("")
        block.comments = []
        _emit(block, out)
    if trailing:
        if out:
            out.append("")
        out.extend(_comment_lines(trailing, keep_blanks=True))
    return "\n".join(out) + "\n" if out else ""


def unplaced(node: object) -> object:
    """The node with every span forgotten: the formatter then lays it out in canonical order."""
    if isinstance(node, tuple):
        return tuple(unplaced(item) for item in node)
    if isinstance(node, ast.Node):
        changes = {
            name: unplaced(getattr(node, name))
            for name in node.__dataclass_fields__
            if name != "span"
        }
        return dataclasses.replace(node, span=ast.NOWHERE, **changes)
    return node


def format_rule_in_force(rule: ast.Rule, version: ast.Version) -> str:
    """The rule with only `version`, written in full and in canonical order (what `mixite
    rules show --date` prints): a resolved version by difference reads as a whole one."""
    whole = dataclasses.replace(version, amends=False, removals=())
    alone = dataclasses.replace(rule, versions=(whole,))
    canonical = unplaced(alone)
    assert isinstance(canonical, ast.Rule)
    return format_module(ast.Module("", (canonical,)), "")


def format_text(text: str, file: str = "<texte>") -> tuple[str | None, list[Diagnostic]]:
    """Parse and format. None (with the diagnostics) when the text has errors: an impossible
    date, for one, must not be rewritten."""
    module, diagnostics = parse(text, file)
    if module is None or has_errors(diagnostics):
        return None, diagnostics
    try:
        return format_module(module, text), diagnostics
    except RecursionError:  # nesting the parser read but Python cannot print back
        span = ast.Span(file, 1, 1, 1, 2)
        too_deep = Diagnostic("E106", "expression trop imbriquée pour être réécrite", span,
                              hint="découpez-la en définitions intermédiaires")  # fmt: skip
        return None, [*diagnostics, too_deep]


__all__ = [
    "WIDTH",
    "date_text",
    "expression_text",
    "format_module",
    "format_rule_in_force",
    "format_text",
    "quote",
    "unplaced",
]
