"""A small, bounded version of benchmarks/web_load.py: a few readers of each role and one
importer at once against a real server on 127.0.0.1; no error (timings are the benchmark's
business, not this test's)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.web_load import changed_extracts, demo_people, prepare, run
from checker.web.config import WebConfig
from tests.browser_server import serving
from tests.conftest import DATA


def test_readers_and_an_importer_at_once(db_url: str, tmp_path: Path) -> None:
    people = demo_people(5, epci="910000009", bailleurs=("910000017", "910000025"),
                         reservataires=("AL",))  # fmt: skip
    prepare(db_url, DATA / "mini", people)
    extracts = changed_extracts(tmp_path, DATA / "mini", 1, step=1)
    with serving(WebConfig(db_url)) as base:
        report = run(base, people, requests=4, extracts=extracts, limit=120)
    assert report["erreurs"] == []
    assert report["requetes_lues"] == 5 * 4
    assert report["pages"]["import"]["n"] == 1
