"""The shipped sample: it reads, scans clean, and holds every servable scenario and dialect."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import replay
from replay.cli import main
from replay.simulate.scenarios import DIALECT_SHAPES, SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    """The sample's job labels (scenario, dialect, source) as columns."""
    jobs = replay.read_jobs(SAMPLE)
    return pd.DataFrame(jobs["labels"].map(json.loads).tolist(), index=jobs["job_id"])


def test_sample_reads_as_about_300_recorded_jobs() -> None:
    obs, jobs = replay.read(SAMPLE), replay.read_jobs(SAMPLE)
    assert 250 <= jobs["job_id"].nunique() <= 350
    assert set(obs["job_id"].astype(str)) == set(jobs["job_id"])
    assert set(obs["source"].astype(str)) == {"http"}
    assert obs["http_status"].notna().all()


def test_sample_scans_clean_with_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(SAMPLE)]) == 0
    assert capsys.readouterr().out.startswith("clean: ")


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("scenario", sorted(n for n, s in SCENARIOS.items() if s.over_http and s.weight > 0)),
        ("dialect", sorted(DIALECT_SHAPES)),
    ],
)
def test_sample_has_every_servable_scenario_and_dialect(
    labels: pd.DataFrame, column: str, expected: list[str]
) -> None:
    assert sorted(labels[column].unique()) == expected


def test_sample_outcomes_match_the_scenarios_ground_truth(labels: pd.DataFrame) -> None:
    obs, jobs = replay.read(SAMPLE), replay.read_jobs(SAMPLE)
    outcome = replay.summarize(obs, jobs=jobs).set_index("job_id")["outcome"]
    expected = labels["scenario"].map(lambda name: SCENARIOS[name].expected_outcome)
    got = outcome.reindex(expected.index)
    assert got[got != expected].to_dict() == {}


@pytest.mark.slow  # git check-ignore
def test_sample_is_compacted_small_and_tracked_by_git() -> None:
    files = [p for p in SAMPLE.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 5_000_000
    assert len([p for p in files if p.parent.name == "jobs"]) == 1
    ignored = subprocess.run(
        ["git", "check-ignore", *map(str, files)], cwd=ROOT, capture_output=True, check=False
    )
    assert ignored.stdout == b""


def test_the_data_card_shows_the_exact_commands_make_sample_runs() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "data" / "make_sample.py")
    assert spec is not None and spec.loader is not None
    make_sample = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_sample)
    card = " ".join((ROOT / "data" / "README.md").read_text().replace("\\\n", " ").split())
    for command in make_sample.COMMANDS:
        shown = command.format(tmp="$TMP", out="data/sample")
        assert shown in card
