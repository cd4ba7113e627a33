"""`mixite explain`: the records behind a figure are exactly those the check counted, shown
with pseudonyms only, French dates and no "None" for an absent value."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine

from checker.errors import MixiteError
from checker.evaluate.explain import explain
from checker.evaluate.run import Evaluator, Options, Period
from checker.ingest.importer import import_bundle
from checker.paths import demo_bundle_dir
from checker.rulebook_loader import require_rules
from tests.test_cli import mixite

EPCI = "980008015"  # the demo territory
FRENCH_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")


@contextmanager
def _demo_evaluator(url: str) -> Iterator[tuple[Connection, Evaluator]]:
    """The demo imported at `url`, a connection to it and an evaluator of 2025 on it."""
    import_bundle([demo_bundle_dir()], url)
    rulebook, _ = require_rules()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            yield connection, Evaluator(connection, rulebook, Period.year(2025), Options())
    finally:
        engine.dispose()


@pytest.fixture
def demo(db_url: str) -> str:
    import_bundle([demo_bundle_dir()], db_url)
    return db_url


@pytest.mark.parametrize(
    ("rule_id", "scope"),
    [
        ("L441-1.Q1-HORS-QPV", {"epci": EPCI}),
        ("L441-1.Q1-HORS-QPV", {"epci": EPCI, "bailleur": "912000379"}),
        ("R441-1.PLAFONDS-RESSOURCES", {"epci": EPCI}),
        ("L441-1.GESTION-EN-FLUX", {"epci": EPCI}),
    ],
)
def test_explain_counts_what_the_check_counts(
    demo: str, rule_id: str, scope: dict[str, str]
) -> None:
    rulebook, _ = require_rules()
    period = Period.year(2025)
    engine = create_engine(demo)
    try:
        with engine.connect() as connection:
            result = next(
                r
                for r in Evaluator(connection, rulebook, period, Options()).evaluate_rule(rule_id)
                if r.scope == scope
            )
            explanation = explain(connection, rulebook, rule_id, period, scope)
    finally:
        engine.dispose()
    assert result.denominator and result.denominator > 0
    assert (explanation.counted, explanation.qualifying, explanation.unknown) == (
        result.denominator,
        result.numerator,
        result.unknown,
    )
    assert len(explanation.rows) == explanation.counted
    shown = explanation.text_rows()
    cells = [cell for row in shown for cell in row]
    assert "None" not in cells
    keys = [column.key for column in explanation.columns]
    for name in ("date_bail", "signee_le"):
        if name in keys:
            column = keys.index(name)
            dates = [row[column] for row in shown if row[column]]
            assert dates and all(FRENCH_DATE.match(day) for day in dates), dates[:3]
    # Titles in French, no internal name (`compte_au_numerateur`, `seuil_q1[…]`).
    assert all("_" not in title and "[" not in title for title in explanation.titles)


def test_explain_csv_has_pseudonyms_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    import_bundle([demo_bundle_dir()], url)
    out = tmp_path / "q1.csv"
    done = mixite("explain", "L441-1.Q1-HORS-QPV", "--year", "2025", "--db", url,
                  "--format", "csv", "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines(), delimiter=";"))
    assert rows[0][0] == "Pseudonyme du ménage" and len(rows) > 100
    assert all(re.fullmatch(r"[0-9a-f]{64}", row[0]) for row in rows[1:])
    with (demo_bundle_dir() / "attributions.csv").open(encoding="utf-8") as handle:
        clear = {row["numero_unique"] for row in csv.DictReader(handle, delimiter=";")}
    assert not any(number in text for number in clear)


def _printed(parts: list[object], width: int) -> list[str]:
    from rich.console import Console

    # As the CLI's console: soft wrap, so that only what the listing wraps is wrapped.
    console = Console(width=width, no_color=True, record=True, file=io.StringIO(), soft_wrap=True)
    for part in parts:
        console.print(part)
    return console.export_text().splitlines()


def test_the_screen_listing_fits_its_width_whole_words() -> None:
    """A long name in a record's identity is wrapped at a word, like every other line; a
    narrow listing is a table; a value shared by every record is said once."""
    from checker.report.explain_screen import listing

    headers = ["Pseudonyme du ménage", "Bailleur", "Date du bail", "Remplit la condition",
               "Seuil du premier quartile"]  # fmt: skip
    long_name = "Société anonyme d'habitations à loyer modéré du Val de Lize et des environs"
    rows = [["ab12…", long_name, "01/01/2025", "non", "9 180 €"],
            ["cd34…", "Lize Habitat", "02/01/2025", "oui", "9 180 €"]]  # fmt: skip
    identity = [True, True, True, False, False]
    lines = _printed(listing(headers, rows, identity, 60), 60)
    assert max(len(line) for line in lines) <= 60
    flat = " ".join(" ".join(lines).split())
    assert long_name in flat and flat.count("9 180 €") == 1
    assert "Remplit la condition : non" in flat and "Remplit la condition : oui" in flat
    table = _printed(listing(headers[:1] + headers[2:4], [[r[0], r[2], r[3]] for r in rows],
                             [True, True, False], 60), 60)  # fmt: skip
    assert any(line.startswith("Pseudonyme du ménage") for line in table)
    assert any(line.startswith("ab12…") and "non" in line for line in table)


def test_a_listing_computes_each_definition_once_per_record_and_never_across_records() -> None:
    """The ceiling's definitions name one another (the household's size three times…): a
    listing's interpreter computes each once per record; another record gets its own."""
    import datetime as dt

    from checker.evaluate.interpret import Interpreter
    from checker.schema import schema

    rulebook, _ = require_rules()
    entity = schema().entities["attributions"]
    period = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    size = rulebook.definitions["attributions"]["personnes_plafonds"].expr
    category = rulebook.definitions["attributions"]["categorie_plafonds"].expr
    extra = rulebook.definitions["attributions"]["personnes_supplementaires_plafonds"].expr

    def household(adults: int, children: int) -> dict[str, object]:
        return {"nb_titulaires": adults, "nb_personnes_14_plus": 0, "nb_moins_14": children,
                "categorie_menage": None, "fact_date": "2024-06-01"}  # fmt: skip

    counting = Interpreter(rulebook, entity, period, remember_definitions=True)
    evaluated: list[object] = []
    original = Interpreter.eval

    def eval_counted(self: Interpreter, expr: object, record: dict[str, object]) -> object:
        if expr is size:
            evaluated.append(record)
        return original(self, expr, record)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Interpreter, "eval", eval_counted)
        small, large = household(1, 1), household(2, 7)
        answers = [(counting.eval(category, r), counting.eval(extra, r)) for r in (small, large)]
        plain = Interpreter(rulebook, entity, period)
        expected = [(plain.eval(category, r), plain.eval(extra, r)) for r in (small, large)]
    assert answers == expected == [(3, 0), (6, 3)]
    # The household's size: once per record remembered; without, at each mention (category;
    # extra persons through the category, and again when the category is 6).
    assert evaluated.count(small) == 1 + 2 and evaluated.count(large) == 1 + 3


def test_the_rows_of_a_narrower_scope_are_those_the_check_filters(tmp_path: Path) -> None:
    """`within` takes a scope's rows from an index of the widest listing: the same rows, in
    the same order, as filtering every row by the scope's keys, for every result's scope."""
    from checker.evaluate.explain import Explainer

    with _demo_evaluator(f"sqlite:///{tmp_path / 'demo.db'}") as (connection, evaluator):
        results = evaluator.evaluate()
        explainer = Explainer(connection, evaluator)
        compared = 0
        for rule in ("L441-1.PRIORITAIRES-25", "L441-1.Q1-HORS-QPV"):
            widest = explainer.explain(rule, {})
            for result in (r for r in results if r.rule == rule):
                expected = [i for i, values in enumerate(widest.dimensions)
                            if all(values.get(k) == v for k, v in result.scope.items())]  # fmt: skip
                narrower = widest.within(result.scope)
                assert narrower.rows == [widest.rows[i] for i in expected]
                assert narrower.states == [widest.states[i] for i in expected]
                compared += bool(expected)
    assert compared > 10


def test_a_report_listing_is_the_full_listing_without_the_rows_in_good_standing(
    db_url: str,
) -> None:
    """A report's listing (`listed_only`) takes each record's verdict from the check's SQL,
    computes and keeps the records it lists only, and tallies the others: the same counts as
    the full listing, the same states, scope values and cells for every record at fault or
    undecidable, and for each result's scope the same listed rows and counts as the full
    listing filtered."""
    from checker.evaluate.explain import EN_REGLE, Explainer
    from checker.report.collect import listings
    from checker.report.records import html_limit

    with _demo_evaluator(db_url) as (connection, evaluator):
        results = evaluator.evaluate()
        explainer = Explainer(connection, evaluator)
        listed = 0
        for rule in sorted({r.rule for r in results if r.kind != "structure"}):
            try:
                full = explainer.explain(rule, {"epci": EPCI})
            except MixiteError:  # a rule on no records (an EPCI's own figures)
                continue
            short = explainer.explain(rule, {"epci": EPCI}, listed_only=True)
            kept = [i for i, state in enumerate(full.states) if state != EN_REGLE]
            assert short.states == [full.states[i] for i in kept], rule
            assert short._met == [full._met[i] for i in kept], rule
            assert short.dimensions == [full.dimensions[i] for i in kept], rule
            assert short.rows == [full.rows[i] for i in kept], rule
            assert (short.counted, short.qualifying, short.unknown) == (
                full.counted, full.qualifying, full.unknown
            )  # fmt: skip
            listed += len(kept)
            with pytest.raises(ValueError):  # it keeps no record in good standing
                short.within({"epci": EPCI})
        compared = 0
        for listing in listings(explainer, results).values():
            whole = explainer.explain(listing.result.rule, {"epci": EPCI})
            narrower = whole.within(listing.result.scope)
            expected_rows = [
                cells for cells, state in zip(narrower.rows, narrower.states, strict=True)
                if state == listing.state
            ]  # fmt: skip
            assert [row for part in listing.slices(7) for row in part.rows] == expected_rows
            assert listing.total == len(expected_rows)
            held = expected_rows[: html_limit(listing.result.kind)]
            assert listing.explanation.rows == held
            assert listing.rows == list(range(len(held)))
            shown = listing.explanation
            assert (shown.counted, shown.qualifying, shown.unknown) == (
                narrower.counted, narrower.qualifying, narrower.unknown
            ), listing.result.scope  # fmt: skip
            compared += len(listing.result.scope) > 1
    assert listed > 20 and compared > 5


def test_a_report_listing_holds_only_the_records_the_html_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full report's listings hold in memory the records the HTML shows (its first
    `html_limit`), never a rule's whole explanation; every record listed is on disk and read
    back in order, the same as the full listing filtered (a national report lists 700 000
    records: held, they were most of its memory)."""
    from checker.evaluate.explain import Explainer, Explanation
    from checker.report import collect, records, spill

    monkeypatch.setattr(records, "HTML_LIMIT_EACH", 2)
    monkeypatch.setattr(records, "HTML_LIMIT_SHARE", 1)
    monkeypatch.setattr(spill, "FLUSH_BYTES", 200)  # a few records to a chunk: many chunks
    widest: list[Explanation] = []
    real_explain = Explainer.explain

    def kept(self: Explainer, *args: object, **kwargs: object) -> Explanation:
        found = real_explain(self, *args, **kwargs)  # type: ignore[arg-type]
        widest.append(found)
        return found

    with _demo_evaluator(f"sqlite:///{tmp_path / 'demo.db'}") as (connection, evaluator):
        results = evaluator.evaluate()
        explainer = Explainer(connection, evaluator)
        monkeypatch.setattr(Explainer, "explain", kept)
        found = collect.listings(explainer, results)
        monkeypatch.undo()
        spilled = 0
        for listing in found.values():
            limit = 2 if listing.result.kind == "each" else 1
            shown = listing.explanation
            assert len(shown.rows) == len(listing.rows) == min(limit, listing.total)
            assert len(shown.dimensions) == len(shown._met) == len(shown.rows)
            whole = explainer.explain(listing.result.rule, {"epci": EPCI})
            expected = [cells for cells, state in zip(whole.within(listing.result.scope).rows,
                                                      whole.within(listing.result.scope).states,
                                                      strict=True)
                        if state == listing.state]  # fmt: skip
            assert [row for part in listing.slices(3) for row in part.rows] == expected
            assert shown.rows == expected[:limit]
            spilled += listing.total > limit
    assert spilled > 5
    assert widest
    for explanation in widest:  # a rule's explanation keeps neither records nor a tally each
        assert not explanation.rows and not explanation.dimensions and not explanation.states
        assert not explanation._tally and not explanation._shared_dimensions
        assert explanation.tally_by and set(explanation._tallies) == set(explanation.tally_by)


def test_a_report_listing_refuses_a_verdict_the_two_engines_disagree_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records a report lists are interpreted again by the reference interpreter: where it
    disagrees with the database's verdict, the listing is refused, not shown half wrong."""
    from checker.evaluate import explain as explain_module
    from checker.evaluate.explain import Explainer

    real_eval = explain_module.Interpreter.eval

    def contrary(self: object, expr: object, record: dict[str, object]) -> object:
        value = real_eval(self, expr, record)  # type: ignore[arg-type]
        return (not value) if isinstance(value, bool) else value

    with _demo_evaluator(f"sqlite:///{tmp_path / 'demo.db'}") as (connection, evaluator):
        explainer = Explainer(connection, evaluator)
        listing = explainer.explain("L441-1.Q1-HORS-QPV", {"epci": EPCI}, listed_only=True)
        assert any(state != "en_regle" for state in listing.states)
        monkeypatch.setattr(explain_module.Interpreter, "eval", contrary)
        with pytest.raises(MixiteError, match="diffère entre la base"):
            explainer.explain("L441-1.Q1-HORS-QPV", {"epci": EPCI}, listed_only=True)


def test_the_failing_records_file_is_the_same_whatever_its_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV of the records at fault is written a slice of records at a time: the text does
    not depend on the slice, and has one line per listed record under one header."""
    from checker.evaluate.explain import Explainer
    from checker.report import tabular
    from checker.report.collect import listings
    from checker.report.names import Names

    with _demo_evaluator(f"sqlite:///{tmp_path / 'demo.db'}") as (connection, evaluator):
        found = listings(Explainer(connection, evaluator), evaluator.evaluate())
        names = Names.load(connection)
        whole = tabular.failing_csv(found, names, 2025)
        monkeypatch.setattr(tabular, "_CSV_SLICE", 3)
        sliced = list(tabular.failing_csv_pieces(found, names, 2025))
    assert "".join(sliced) == whole
    assert len(sliced) > len(found) + 1  # some listing was cut into several slices
    lines = list(csv.reader(io.StringIO(whole.lstrip("\ufeff")), delimiter=";"))
    assert len(lines) == 1 + sum(listing.total for listing in found.values())
    assert len({len(line) for line in lines}) == 1


def test_a_page_of_records_is_the_full_listing_cut_with_the_whole_counts(db_url: str) -> None:
    """`Explainer.page` (the web's records pages): the records of the page are those of the
    full listing at the same positions, with the same states and cells; the counts are the
    whole scope's, from the check's SQL; `territories` keeps what `in_territories` keeps."""
    from checker.evaluate.explain import Explainer

    with _demo_evaluator(db_url) as (connection, evaluator):
        explainer = Explainer(connection, evaluator)
        paged = 0
        for rule, scope in (
            ("L441-1.Q1-HORS-QPV", {"epci": EPCI}),
            ("L441-1.Q1-HORS-QPV", {"epci": EPCI, "bailleur": "912000379"}),
            ("R441-1.PLAFONDS-RESSOURCES", {"epci": EPCI}),
            ("L441-1.GESTION-EN-FLUX", {"epci": EPCI}),
            ("L441-1.Q1-HORS-QPV", {}),
        ):
            full = explainer.explain(rule, scope)
            assert full.counted > 7, rule
            for first, size in ((0, 7), (7, 7), (full.counted - 3, 7), (full.counted + 5, 7)):
                page = explainer.page(rule, scope, first, size)
                assert page.rows == full.rows[first : first + size], (rule, first)
                assert page.states == full.states[first : first + size], (rule, first)
                assert page.dimensions == full.dimensions[first : first + size]
                assert (page.counted, page.qualifying, page.unknown) == (
                    full.counted, full.qualifying, full.unknown
                ), (rule, scope)  # fmt: skip
                paged += len(page.rows)
            mine = full.in_territories((EPCI,))
            elsewhere = full.in_territories(("200000000",))
            for territories, expected in (((EPCI,), mine), (("200000000",), elsewhere)):
                page = explainer.page(rule, scope, 0, 10, territories)
                assert page.rows == expected.rows[:10]
                assert (page.counted, page.qualifying, page.unknown) == (
                    expected.counted, expected.qualifying, expected.unknown
                )  # fmt: skip
    assert paged > 50


def test_the_records_in_slices_are_the_full_listing(db_url: str) -> None:
    """`Explainer.slices` (a CSV of records written as they are read): its slices put end to
    end are the full listing, or its records in one state, in the same order."""
    from checker.evaluate.explain import EN_DEFAUT, INDECIDABLE, Explainer

    with _demo_evaluator(db_url) as (connection, evaluator):
        explainer = Explainer(connection, evaluator)
        for rule in ("L441-1.Q1-HORS-QPV", "R441-1.PLAFONDS-RESSOURCES"):
            full = explainer.explain(rule, {"epci": EPCI})
            for only in (None, EN_DEFAUT, INDECIDABLE):
                kept = [i for i, state in enumerate(full.states) if only in (None, state)]
                pieces = list(explainer.slices(rule, {"epci": EPCI}, only=only, size=4))
                # Slices of 1 to 4 records; without any, one empty slice (its columns title
                # the file).
                assert all(0 < len(piece.rows) <= 4 for piece in pieces) or (
                    len(pieces) == 1 and not pieces[0].rows and not kept
                )
                assert pieces[0].columns == full.columns
                assert [row for piece in pieces for row in piece.rows] == [
                    full.rows[i] for i in kept
                ], (rule, only)  # fmt: skip
                assert [state for piece in pieces for state in piece.states] == [
                    full.states[i] for i in kept
                ]
            assert any(state == EN_DEFAUT for state in full.states), rule


def test_a_csv_of_slices_is_the_csv_of_the_whole_listing(tmp_path: Path) -> None:
    """`explain_csv_pieces` (the CLI's `explain --format csv`, the web's download): the same
    text as the CSV of the whole listing made at once, all records or those at fault."""
    from checker.evaluate.explain import EN_DEFAUT, Explainer
    from checker.report.names import Names
    from checker.report.records import explain_csv, explain_csv_pieces, record_table

    with _demo_evaluator(f"sqlite:///{tmp_path / 'demo.db'}") as (connection, evaluator):
        explainer = Explainer(connection, evaluator)
        names = Names.load(connection)
        full = explainer.explain("L441-1.Q1-HORS-QPV", {"epci": EPCI})
        for only, rows in ((None, None), (EN_DEFAUT, full.failing())):
            whole = explain_csv(record_table(full, names, rows))
            slices = explainer.slices("L441-1.Q1-HORS-QPV", {"epci": EPCI}, only=only, size=3)
            assert "".join(explain_csv_pieces(slices, names)) == whole
            assert whole.count("\r\n") > 10


def test_a_page_interprets_the_records_of_the_page_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of records runs the reference interpreter on its own records, not on every
    record of the scope (which took 4 s and 60 MiB per rule at 100 000 attributions)."""
    from checker.evaluate import explain as explain_module
    from checker.evaluate.explain import Explainer

    interpreted: list[int] = []
    real_eval = explain_module.Interpreter.eval

    def counted(self: object, expr: object, record: dict[str, object]) -> object:
        interpreted.append(id(record))
        return real_eval(self, expr, record)  # type: ignore[arg-type]

    monkeypatch.setattr(explain_module.Interpreter, "eval", counted)
    with _demo_evaluator(f"sqlite:///{tmp_path / 'demo.db'}") as (connection, evaluator):
        explainer = Explainer(connection, evaluator)
        page = explainer.page("L441-1.Q1-HORS-QPV", {"epci": EPCI}, 5, 3)
        assert len(page.rows) == 3 and page.counted > 20
        assert len(set(interpreted)) == 3
