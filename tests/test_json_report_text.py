"""The JSON report and the receipt's results are written one result at a time; their text is
the one `json.dumps` gives for the whole document (`checker.report.json_report`,
`checker.runs.canonical_list`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from checker import runs
from checker.checking import run_check
from checker.evaluate.run import Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir, rules_dir
from checker.report import json_report
from checker.report.collect import YearRun
from checker.rulebook_loader import require_rules

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(receipt=_VALUES, results=st.lists(_VALUES, max_size=5), years=st.lists(_VALUES, max_size=3))
def test_the_text_written_piece_by_piece_is_json_dumps(
    receipt: Any, results: list[Any], years: list[Any]
) -> None:
    out = [json_report._open("receipt", 0, first=True), json_report._value(receipt, 1)]
    out.append(json_report._open("results", 0))
    out += json_report._array(iter(results), 1)
    out.append(json_report._open("years", 0))
    out += json_report._array(iter(years), 1)
    out.append("\n}\n")
    expected = {"receipt": receipt, "results": results, "years": years}
    assert "".join(out) == json_report.dumps(expected)
    assert runs.canonical_list(iter(results)) == runs.canonical(results)


@settings(max_examples=200, deadline=None)
@given(results=st.lists(_VALUES, max_size=5), options=_VALUES, size=st.integers(1, 70_000))
def test_a_new_runs_hash_is_the_hash_of_its_canonical_text(
    results: list[Any], options: Any, size: int
) -> None:
    text = runs.canonical_list(results)
    text += 'é"\\\n' * (size // 4)  # beyond one chunk, with characters JSON escapes
    fields = {"id": 3, "options": runs.canonical(options), "results": text, "previous_hash": "0"}
    assert runs._hash_of_new_run(fields) == runs._hash(fields)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("demo-json")
    os.environ["MIXITE_CLE_FICHIER"] = str(folder / "demo.cle")
    url = f"sqlite:///{folder / 'demo.db'}"
    import_bundle([demo_bundle_dir()], url)
    return url


def test_the_demo_reports_are_the_documents_dumped(demo_url: str) -> None:
    rulebook, _ = require_rules([rules_dir(), demo_bundle_dir() / "cia.regles"])
    engine = create_engine(demo_url)
    checked = []
    try:
        with engine.begin() as connection:
            for year in (2024, 2025):
                outcome = run_check(connection, rulebook, Period.year(year), Options(), None)
                checked.append(YearRun(year, outcome.results, outcome.receipt.as_json()))
            stored = connection.exec_driver_sql("SELECT results FROM run ORDER BY id").all()
    finally:
        engine.dispose()
    last = checked[-1]
    assert last.results and last.receipt is not None
    assert json_report.document_text(last.results, last.receipt) == json_report.dumps(
        json_report.document(last.results, last.receipt)
    )
    assert json_report.years_document_text(checked) == json_report.dumps(
        json_report.years_document(checked)
    )
    # The receipt stored each year's results as the canonical text of the whole list.
    assert [row[0] for row in stored] == [
        runs.canonical(json_report.results_block(run.results)) for run in checked
    ]


def test_a_report_is_written_with_the_bytes_of_its_text(tmp_path: Path) -> None:
    from checker.cli import out_guard

    text = "é\r\n€😀 résultat\n" * 200_000  # several slices, cut inside multi-byte characters
    target = tmp_path / "rapport.json"
    out_guard.write_files({target: text, tmp_path / "vide.csv": ""})
    assert target.read_bytes() == text.encode("utf-8")
    assert (tmp_path / "vide.csv").read_bytes() == b""
