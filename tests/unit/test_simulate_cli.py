"""replay simulate: writes a readable recording, prints one line; bad arguments exit 2 in one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from replay import store
from replay.cli import main
from replay.cli.simulate_cmd import parse_scenarios
from replay.errors import UsageError
from replay.simulate import simulate


def test_simulate_writes_the_dataset_and_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rec"
    assert main(["simulate", "--jobs", "40", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip()
    match = re.fullmatch(r"wrote (\d+) observations of 40 jobs to (.+) in [\d.]+ s", printed)
    assert match and match.group(2) == str(out)
    expected = simulate(40, seed=3).observations()
    assert int(match.group(1)) == len(expected) == len(pd.read_parquet(out / "observations"))
    assert set(store.read_jobs(out)["job_id"]) == set(expected["job_id"])


def test_simulate_honours_scenarios_and_dialects(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    args = ["--scenarios", "throttled=3,legacy_303=1", "--dialects", "legacy,consumer"]
    assert main(["simulate", "--jobs", "30", "--out", str(out), *args]) == 0
    labels = [json.loads(text) for text in store.read_jobs(out)["labels"]]
    assert {label["scenario"] for label in labels} == {"throttled", "legacy_303"}
    assert {label["dialect"] for label in labels} <= {"legacy", "consumer"}


def test_simulate_start_moves_the_partitions(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    assert main(["simulate", "--jobs", "5", "--out", str(out), "--start", "2025-03-01T08:00Z"]) == 0
    assert [p.name for p in (out / "observations").iterdir()] == ["date=2025-03-01"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--jobs", "0"], "jobs must be a whole number at least 1"),
        (["--jobs", "many"], "not a whole number"),
        (["--jobs", "5", "--scenarios", "nope"], "unknown scenario"),
        (["--jobs", "5", "--scenarios", "happy_path=x"], "NAME=WEIGHT"),
        (["--jobs", "5", "--scenarios", "happy_path=1,slow_queue"], "NAME=WEIGHT"),
        (["--jobs", "5", "--scenarios", ","], "empty"),
        (["--jobs", "5", "--dialects", "soap"], "unknown dialect"),
        (["--jobs", "5", "--start", "yesterday"], "ISO 8601"),
        (["--jobs", "5", "--seed", "-1"], "the seed must be a whole number at least 0"),
        (["--seed", "1"], "required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = _exit_code(["simulate", "--out", str(tmp_path / "rec"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "rec").exists()


def _exit_code(argv: list[str]) -> int:
    """main's return value, or the code argparse exits with on a parse error."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


def test_simulate_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["simulate", "--jobs", "5", "--out", str(tmp_path)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("happy_path", ["happy_path"]),
        (" happy_path , slow_queue ", ["happy_path", "slow_queue"]),
        ("happy_path=5,slow_queue=1.5", {"happy_path": 5.0, "slow_queue": 1.5}),
    ],
)
def test_scenario_specs_parse_as_names_or_weights(
    text: str | None, expected: list[str] | dict[str, float] | None
) -> None:
    assert parse_scenarios(text) == expected


def test_a_bad_weight_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'b=two'"):
        parse_scenarios("a=1,b=two")


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_code(["simulate", "--help"]) == 0
    text = capsys.readouterr().out
    assert all(f"--{opt}" in text for opt in ("jobs", "seed", "out", "scenarios", "dialects"))
