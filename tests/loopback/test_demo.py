"""``replay demo``: a simulated fleet served on loopback, recorded over HTTP, analysed, reported."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from replay.cli._demo import run_demo
from replay.scan import scan


def test_demo_records_every_job_with_its_ground_truth_outcome_and_writes_every_output(
    tmp_path: Path,
) -> None:
    lines: list[str] = []

    result = run_demo(tmp_path / "out", jobs=40, seed=3, echo=lines.append)

    assert result.jobs == 40
    assert result.matching_outcomes == 40
    summary = pd.read_csv(result.out / "summary.csv")
    assert len(summary) == 40
    assert summary["outcome"].value_counts().to_dict() == result.outcomes
    violations = pd.read_csv(result.out / "violations.csv")
    assert violations["code"].value_counts().to_dict() == result.violations
    html = result.report.read_text(encoding="utf-8")
    HTMLParser().feed(html)
    assert "time x" in html  # the report used the demo's time-scaled policy
    assert not scan(result.recording).findings
    assert any(str(result.report) in line for line in lines)
