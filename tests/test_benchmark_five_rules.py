"""The benchmark's « five indicators » folder holds the five main rules and nothing else.

Until December 2026 the copy deleted nothing (the rule files are under `rules/national/`) and
the « five indicators » figure was the whole rulebook's: this keeps the folder what its name
says, and loadable on its own, when rule files move or a rule comes to use another file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from checker.rulebook_loader import require_rules

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "feedback_benchmark.py"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feedback_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("feedback_benchmark", module)
    spec.loader.exec_module(module)
    return module


def test_the_five_rule_folder_holds_the_five_main_rules_and_loads_alone(tmp_path: Path) -> None:
    benchmark = _benchmark()
    folder = benchmark._five_rules_folder(tmp_path)
    rulebook, _ = require_rules([folder])
    assert sorted(rulebook.rules) == sorted(benchmark.FIVE_RULES)
    whole, _ = require_rules()
    assert len(whole.rules) > len(benchmark.FIVE_RULES)  # the copy did remove rules
