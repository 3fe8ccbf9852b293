"""The rule table: one row per violation code, severities as the contract says."""

from __future__ import annotations

import pandas as pd

from replay.engine import RULES, SEVERITY, Code, Severity, prepare

#: A literal copy of the contract's table of codes (shared/DESIGN.md, README): never derived.
CONTRACT = {
    "unknown_status": "error",
    "missing_status": "error",
    "illegal_transition": "error",
    "after_terminal": "error",
    "pct_out_of_range": "error",
    "ts_not_increasing": "error",
    "pct_regression": "warning",
    "completed_not_100": "warning",
    "stalled": "warning",
    "no_terminal": "warning",
}


def test_severities_are_the_contracts() -> None:
    assert dict(SEVERITY) == CONTRACT
    assert [str(rule.code) for rule in RULES] == list(CONTRACT)  # contract order


def test_every_code_has_exactly_one_rule_with_a_check_and_a_detail() -> None:
    assert [rule.code for rule in RULES] == list(Code)
    assert all(callable(rule.check) and callable(rule.detail) for rule in RULES)
    assert {rule.severity for rule in RULES} == set(Severity)


def test_every_rule_runs_and_describes_on_an_empty_and_a_tiny_frame() -> None:
    tiny = pd.DataFrame(
        {
            "job_id": ["j", "j"],
            "seq": [0, 1],
            "ts": pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"]),
            "status": ["inProgress", "completed"],
        }
    )
    for frame in (tiny.iloc[:0], tiny):
        p = prepare(frame)
        for rule in RULES:
            mask = rule.check(p)
            assert mask.dtype == bool and len(mask) == p.n, rule.code
            rows = mask.nonzero()[0]
            assert len(rule.detail(p, rows)) == len(rows), rule.code
