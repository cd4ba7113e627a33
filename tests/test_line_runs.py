"""The lines of a file's rows kept as runs of consecutive lines (checker/ingest/line_runs.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checker.ingest.line_runs import LineRuns


def test_a_clean_file_is_one_run_whatever_its_size() -> None:
    lines = LineRuns()
    for line in range(2, 3_000_002):
        lines.append(line)
    assert lines.runs == 1
    assert len(lines) == 3_000_000
    assert (lines[0], lines[1_234_567], lines[2_999_999]) == (2, 1_234_569, 3_000_001)


def test_blank_lines_and_multi_line_cells_start_new_runs() -> None:
    lines = LineRuns()
    for line in (2, 3, 4, 6, 7, 10, 10, 11):  # 10 twice: never written, still kept as given
        lines.append(line)
    assert lines.runs == 4
    assert list(lines) == [2, 3, 4, 6, 7, 10, 10, 11]
    assert [lines[i] for i in range(len(lines))] == [2, 3, 4, 6, 7, 10, 10, 11]
    for outside in (-1, 8):
        with pytest.raises(IndexError):
            lines[outside]


@given(st.lists(st.integers(min_value=1, max_value=50), max_size=60))
def test_runs_give_back_the_lines_appended(steps: list[int]) -> None:
    lines, expected, line = LineRuns(), [], 1
    for step in steps:
        line += step % 3  # mostly the next line, sometimes the same or a gap
        lines.append(line)
        expected.append(line)
    assert list(lines) == expected
    assert [lines[i] for i in range(len(lines))] == expected
    assert len(lines) == len(expected)
