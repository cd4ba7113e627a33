"""The language server (`mixite lsp`), driven over stdio by pygls' client as an editor would:
open a file, see a typing error, fix it, hover a parameter, go to its definition, complete."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from checker.lsp import word_at

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # a check loads the national rulebook: seconds on a busy machine

RULE = """règle ESSAI.LSP
  titre "Essai du serveur de langage"
  source "Texte d'essai" url "https://exemple.invalid"

  version du 01/01/2024
    source "Texte d'essai" url "https://exemple.invalid"
    parmi les attributions où bail_signe
    par epci
    exiger une part d'au moins taux_q1_hors_qpv vérifiant mutaton
"""


def test_word_under_the_cursor() -> None:
    line = "    parmi les attributions où epci.nom_arrete et L441-1.Q1-HORS-QPV"
    assert word_at(line, types.Position(line=0, character=6)) == "parmi"
    assert word_at(line, types.Position(line=0, character=33)) == "epci"
    assert word_at(line, types.Position(line=0, character=40)) == "nom_arrete"
    assert word_at(line, types.Position(line=0, character=55)) == "L441-1.Q1-HORS-QPV"
    assert word_at(line, types.Position(line=3, character=0)) is None


async def _session(folder: Path) -> None:
    client = LanguageClient("essai", "1")
    published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    await client.start_io(sys.executable, "-m", "checker", "lsp", cwd=str(ROOT))
    try:
        await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=from_fs_path(str(folder))
        ))  # fmt: skip
        client.initialized(types.InitializedParams())
        path = folder / "essai.regles"
        uri = from_fs_path(str(path)) or ""
        document = types.TextDocumentItem(uri=uri, language_id="mixite", version=1, text=RULE)
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=document))

        # 1. The typing error, where it is, with lint's code and hint.
        first = await asyncio.wait_for(published.get(), TIMEOUT)
        errors = [d for d in first.diagnostics if d.severity == types.DiagnosticSeverity.Error]
        assert [(d.code, d.range.start.line, d.range.start.character) for d in errors] == [
            ("E201", 8, 58)
        ]
        assert "« mutaton »" in errors[0].message and "mutation" in errors[0].message

        # 2. Fixed: no error any more (W102: no test for this rule yet).
        fixed = RULE.replace("mutaton", "mutation")
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)],
        ))  # fmt: skip
        second = await asyncio.wait_for(published.get(), TIMEOUT)
        assert [d.code for d in second.diagnostics] == ["W102"]

        # 3. Hover on the parameter: its value on the version's date, and its source.
        where = types.TextDocumentIdentifier(uri=uri)
        on_parameter = types.Position(line=8, character=35)
        hover = await asyncio.wait_for(client.text_document_hover_async(
            types.HoverParams(text_document=where, position=on_parameter)), TIMEOUT)  # fmt: skip
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "**paramètre taux_q1_hors_qpv**" in hover.contents.value
        assert "Le 01/01/2024 : **25 %**" in hover.contents.value
        assert "Loi n° 2017-86" in hover.contents.value

        # 4. Go to the parameter's declaration, in the national rules.
        found = await asyncio.wait_for(client.text_document_definition_async(
            types.DefinitionParams(text_document=where, position=on_parameter)), TIMEOUT)  # fmt: skip
        assert isinstance(found, types.Location)
        assert found.uri.endswith("rules/national/q1_hors_qpv.regles")
        assert found.range.start.line == 0

        # 5. Completion: fields, rule ids, keywords.
        completion = await asyncio.wait_for(client.text_document_completion_async(
            types.CompletionParams(text_document=where, position=types.Position(line=8, character=4))
        ), TIMEOUT)  # fmt: skip
        assert isinstance(completion, types.CompletionList)
        labels = {item.label for item in completion.items}
        assert {"mutation", "L441-1.Q1-HORS-QPV", "parmi", "premier_quartile"} <= labels

        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
    finally:
        await client.stop()


def test_the_server_through_open_error_hover_and_definition(tmp_path: Path) -> None:
    asyncio.run(_session(tmp_path))
