"""``python -m yulian.bench.worstcase``: it measures what it says and checks the bound it is given.

No figure is asserted (performance lives in the benchmark): only that the command runs the
cases it is asked for, reports per operation the worst of them, derives the bound from the
slowest and the hungriest, and fails when the bound is over the stated limit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yulian.bench.adversarial import CASES
from yulian.bench.search import random_programs
from yulian.bench.worstcase import Measurement, main, measure_case, summarise


def test_the_command_reports_each_operation_and_the_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "worstcase.json"
    argv = ["--only", r"^loop|^str\.rfind \[99 in 2400\]|^keep \[dict\]", "--steps", "4000"]
    argv += ["--repeat", "1", "--search", "2", "--max-ms", "1e9", "--max-mib", "1e9"]
    assert main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    operations = {row["operation"] for row in report["rows"]}
    assert {"loop", "str.rfind", "keep"} <= operations
    slowest = max(row["ns_per_step"] for row in report["rows"])
    assert report["bound_ms"] == pytest.approx(slowest * report["step_limit"] / 1e6)
    assert report["median_ns_per_step"] > 0
    printed = capsys.readouterr().out
    assert "bound at the default step limit" in printed and "within" in printed


def test_the_command_fails_when_the_bound_is_over_the_limit() -> None:
    argv = ["--only", "^loop", "--steps", "2000", "--repeat", "1", "--search", "0"]
    assert main([*argv, "--max-ms", "0"]) == 1


def test_a_case_is_measured_apart_from_its_setup() -> None:
    (case,) = [c for c in CASES if c.name == "loop [while pass]"]
    measured = measure_case(case, 3000, 1)
    assert measured.status == "out_of_steps"
    assert 0 < measured.steps <= 3000  # the loop's own steps, set-up excluded
    refused = next(c for c in CASES if c.status == "rejected")
    assert measure_case(refused, 3000, 1).status == "rejected"


def test_random_programs_are_the_same_for_the_same_seed() -> None:
    assert random_programs(5, seed=3) == random_programs(5, seed=3)
    assert random_programs(5, seed=3) != random_programs(5, seed=4)


def test_summarise_ranks_only_what_ran_long_enough() -> None:
    cases = [c for c in CASES if c.name in ("loop [while pass]", "range() [big bounds]")]
    results = [measure_case(c, 3000, 1) for c in cases]
    summary = summarise(results, 3000, 1_000_000)
    assert [row["operation"] for row in summary["rows"]] == ["loop"]
    assert [m["operation"] for m in summary["refused"]] == ["range()"]


def test_summarise_survives_a_loop_too_short_to_time() -> None:
    """Under load a short loop's CPU time can come out below its set-up's (clamped to 0 ns):
    the summary then has no ratio to report, rather than dividing by zero."""
    untimed = Measurement("loop", "while pass", "out_of_steps", "", 3000, 0.0, 0.0)
    summary = summarise([untimed], 3000, 1_000_000)
    assert [row["ratio_to_median"] for row in summary["rows"]] == [None]
    assert summary["bound_ms"] == 0.0
