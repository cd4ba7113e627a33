"""`mixite lsp`: a language server for rule files (*.regles), on pygls.

While an author types, the server checks the rulebook the file belongs to (the bundled rules,
plus the file's own folder) with the file's unsaved text, and publishes the diagnostics of
`mixite rules lint` for that file. It answers hovers (a parameter's value on the date of the
version under the cursor, and today, with its source; a definition's expression; a rule's
title), go-to-definition (parameters, definitions, rules, a version's `soit` values) and
completion (fields, definitions, parameters, rule ids, keywords).

A check takes a second or two on the national rulebook: it runs in a worker thread, a little
after the last keystroke, and the last rulebook that loaded without error answers hovers and
definitions while the text being typed has errors.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from checker import frenchfmt
from checker.errors import MixiteError
from checker.paths import rules_dir
from checker.rulebook_loader import load_rules
from checker.schema import schema
from dsl import ast
from dsl.diagnostics import Diagnostic
from dsl.formatter import expression_text
from dsl.parser import _KEYWORDS
from dsl.rulebook import Rulebook

DEBOUNCE_SECONDS = 0.4
_WORD = re.compile(r"[A-Za-z0-9_À-ÿ'’.\-]+")
_RULE_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*\.[A-Z0-9]+(-[A-Z0-9]+)*")


@dataclass
class _State:
    rulebook: Rulebook | None = None  # the last one that loaded without error
    pending: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


server = LanguageServer("mixite", "0.1.0")
state = _State()


# ------------------------------------------------------------------------ checking


def _paths_for(document: Path) -> list[Path]:
    """The bundled rules, and the document's folder when it is elsewhere."""
    bundled = rules_dir().resolve()
    folder = document.resolve().parent
    if folder == bundled or bundled in folder.parents:
        return [bundled]
    return [bundled, folder]


def _range(span: ast.Span) -> types.Range:
    start = types.Position(line=max(span.line - 1, 0), character=max(span.column - 1, 0))
    end_line = max(span.end_line - 1, start.line)
    end_character = max(span.end_column - 1, 0)
    if (end_line, end_character) <= (start.line, start.character):
        end_line, end_character = start.line, start.character + 1
    return types.Range(start=start, end=types.Position(line=end_line, character=end_character))


def _same_file(span_file: str, document: Path) -> bool:
    return Path(span_file).resolve() == document.resolve()


def _lsp_diagnostic(diagnostic: Diagnostic) -> types.Diagnostic:
    assert diagnostic.span is not None
    message = diagnostic.message + (f"\nconseil : {diagnostic.hint}" if diagnostic.hint else "")
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=from_fs_path(str(Path(r.span.file).resolve())) or "", range=_range(r.span)
            ),
            message=r.message,
        )
        for r in diagnostic.related
    ]
    severity = (
        types.DiagnosticSeverity.Error if diagnostic.is_error else types.DiagnosticSeverity.Warning
    )
    return types.Diagnostic(
        range=_range(diagnostic.span),
        message=message,
        severity=severity,
        code=diagnostic.code,
        source="mixite",
        related_information=related or None,
    )


def diagnostics_for(document: Path, text: str) -> tuple[list[types.Diagnostic], Rulebook | None]:
    """What `mixite rules lint` says about `document` holding `text`."""
    try:
        loaded = load_rules(_paths_for(document), texts={document: text})
    except MixiteError as problem:
        position = types.Range(start=types.Position(line=0, character=0),
                               end=types.Position(line=0, character=1))  # fmt: skip
        return [types.Diagnostic(range=position, message=problem.message, source="mixite")], None
    found = [
        _lsp_diagnostic(d)
        for d in loaded.diagnostics
        if d.span is not None and _same_file(d.span.file, document)
    ]
    return found, loaded.rulebook


def _check(ls: LanguageServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    path = Path(to_fs_path(uri) or uri)
    with state.lock:
        found, rulebook = diagnostics_for(path, document.source)
        if rulebook is not None:
            state.rulebook = rulebook
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=document.version)
    )


async def _check_soon(ls: LanguageServer, uri: str, delay: float) -> None:
    previous = state.pending.pop(uri, None)
    if previous is not None:
        previous.cancel()

    async def later() -> None:
        await asyncio.sleep(delay)
        await asyncio.get_running_loop().run_in_executor(None, _check, ls, uri)

    state.pending[uri] = asyncio.ensure_future(later())


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    await _check_soon(ls, params.text_document.uri, 0)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    await _check_soon(ls, params.text_document.uri, DEBOUNCE_SECONDS)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    await _check_soon(ls, params.text_document.uri, 0)


# ------------------------------------------------------------------------ the word under the cursor


def word_at(text: str, position: types.Position) -> str | None:
    lines = text.split("\n")
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    for match in _WORD.finditer(line):
        if match.start() <= position.character <= match.end():
            word = match.group().strip(".'’-")
            rule_id = _RULE_ID.fullmatch(word)
            if rule_id:
                return word
            # A name stops at a dot (epci.nom_arrete): the part under the cursor.
            offset = position.character - match.start()
            parts = match.group().split(".")
            consumed = 0
            for part in parts:
                if consumed <= offset <= consumed + len(part):
                    return part.strip("'’-") or None
                consumed += len(part) + 1
    return None


def _version_start_at(text: str, line: int) -> dt.date | None:
    """The start of the version whose text holds `line` (for a parameter's value)."""
    for number in range(min(line, len(text.split("\n")) - 1), -1, -1):
        current = text.split("\n")[number]
        found = re.match(r"\s*version\s+du\s+(\d{2})/(\d{2})/(\d{4})", current, re.I)
        if found:
            day, month, year = (int(part) for part in found.groups())
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
        if re.match(r"(param[eè]tre|d[eé]finition|r[eè]gle|engagement)\b", current, re.I):
            return None
    return None


# ------------------------------------------------------------------------ hover


def _source_line(source: ast.Source) -> str:
    text = source.title + (f", article {source.article}" if source.article else "")
    return f"[{text}]({source.url})" if source.url else text


def parameter_hover(rulebook: Rulebook, name: str, days: list[dt.date]) -> str:
    parameter = rulebook.parameters[name]
    lines = [f"**paramètre {name}** : {parameter.type}"]
    if parameter.decl.meta.title:
        lines.append(parameter.decl.meta.title)
    if parameter.keys:
        keys = ", ".join(key for key, _ in parameter.keys)
        count = len(parameter.all_keys())
        lines.append(f"Une valeur par {keys} ({count} clé(s)) : `mixite param {name} --key …`")
        return "\n\n".join(lines)
    for day in dict.fromkeys(days):
        found = parameter.value_at(day)
        if found is None:
            lines.append(f"Le {frenchfmt.date(day)} : aucune valeur")
            continue
        value = frenchfmt.value(found.value, parameter.type)
        sources = " ; ".join(_source_line(source) for source in found.sources)
        lines.append(f"Le {frenchfmt.date(day)} : **{value}** (depuis le "
                     f"{frenchfmt.date(found.start)}) — source : {sources}")  # fmt: skip
    return "\n\n".join(lines)


def hover_text(rulebook: Rulebook, word: str, days: list[dt.date]) -> str | None:
    if word in rulebook.parameters:
        return parameter_hover(rulebook, word, days)
    for entity, definitions in rulebook.definitions.items():
        if word in definitions:
            definition = definitions[word]
            lines = [f"**définition {word}** sur {entity}", f"`{expression_text(definition.expr)}`"]
            lines += [f"Source : {_source_line(source)}" for source in definition.meta.sources]
            return "\n\n".join(lines)
    if word in rulebook.rules:
        rule = rulebook.rules[word]
        lines = [f"**règle {word}**", rule.meta.title or ""]
        lines += [f"Source : {_source_line(source)}" for source in rule.meta.sources]
        return "\n\n".join(lines)
    fields = [(entity.name, entity.fields[word]) for entity in schema().entities.values()
              if word in entity.fields]  # fmt: skip
    if fields:
        return "\n\n".join(f"**champ {word}** des {entity} : {type_}" for entity, type_ in fields)
    return None


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    word = word_at(document.source, params.position)
    rulebook = state.rulebook
    if word is None or rulebook is None:
        return None
    days = [day for day in [_version_start_at(document.source, params.position.line)] if day]
    text = hover_text(rulebook, word, [*days, dt.date.today()])
    if text is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))


# ------------------------------------------------------------------------ go to definition


def _location(span: ast.Span) -> types.Location:
    uri = from_fs_path(str(Path(span.file).resolve())) or span.file
    return types.Location(uri=uri, range=_range(span))


def definition_span(rulebook: Rulebook, word: str) -> ast.Span | None:
    if word in rulebook.parameters:
        return rulebook.parameters[word].decl.span
    for definitions in rulebook.definitions.values():
        if word in definitions:
            return definitions[word].span
    if word in rulebook.rules:
        return rulebook.rules[word].span
    return None


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> types.Location | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    word = word_at(document.source, params.position)
    if word is None:
        return None
    # A version's « soit » value: the nearest one above, in this document.
    lines = document.source.split("\n")
    for number in range(min(params.position.line, len(lines) - 1), -1, -1):
        found = re.match(rf"(\s*soit\s+){re.escape(word)}\s*=", lines[number], re.I)
        if found:
            start = types.Position(line=number, character=len(found.group(1)))
            end = types.Position(line=number, character=len(found.group(1)) + len(word))
            return types.Location(uri=document.uri, range=types.Range(start=start, end=end))
    rulebook = state.rulebook
    span = definition_span(rulebook, word) if rulebook is not None else None
    return _location(span) if span is not None else None


# ------------------------------------------------------------------------ completion


def completion_items(rulebook: Rulebook | None) -> list[types.CompletionItem]:
    items: dict[str, types.CompletionItem] = {}

    def add(label: str, kind: types.CompletionItemKind, detail: str) -> None:
        items.setdefault(label, types.CompletionItem(label=label, kind=kind, detail=detail))

    for entity in schema().entities.values():
        for name, type_ in entity.fields.items():
            add(name, types.CompletionItemKind.Field, f"champ des {entity.name} : {type_}")
    if rulebook is not None:
        for entity_name, definitions in rulebook.definitions.items():
            for name in definitions:
                add(name, types.CompletionItemKind.Function, f"définition sur {entity_name}")
        for name, parameter in rulebook.parameters.items():
            add(name, types.CompletionItemKind.Constant,
                f"paramètre : {parameter.decl.meta.title or parameter.type}")  # fmt: skip
        for rule_id, rule in rulebook.rules.items():
            add(rule_id, types.CompletionItemKind.Module, rule.meta.title or "règle")
    for keyword in _KEYWORDS:
        add(keyword, types.CompletionItemKind.Keyword, "mot-clé")
    return list(items.values())


@server.feature(types.TEXT_DOCUMENT_COMPLETION)
def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
    return types.CompletionList(is_incomplete=False, items=completion_items(state.rulebook))


def serve() -> None:
    """Run the server over standard input and output (what an editor starts)."""
    server.start_io()


__all__ = ["completion_items", "diagnostics_for", "hover_text", "serve", "server", "word_at"]
