"""replay validate / replay summary: formats, exit codes and messages, on real files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from replay.cli import main
from replay.store import write_jobs, write_observations


@pytest.fixture
def dataset(tmp_path: Path, build_obs: Callable[..., pd.DataFrame]) -> Path:
    """A recording with one clean job, one with an error and one with only a warning."""
    obs = build_obs(
        {
            "clean": [(0, "inProgress", 10, 202), (9, "completed", 100, 202)],
            "error": [
                (0, "inProgress", 10, 202),
                (5, "notStarted", 10, 202),
                (9, "failed", None, 200),
            ],
            "warn": [(0, "inProgress", 10, 202), (9, "completed", 97, 202)],
        }
    )
    write_observations(tmp_path, obs)
    write_jobs(
        tmp_path,
        pd.DataFrame(
            {"job_id": ["clean", "error", "warn"], "outcome": ["completed", "failed", "completed"]}
        ),
    )
    return tmp_path


@pytest.mark.parametrize(
    ("extra", "expected_code"),
    [
        ([], 1),
        (["--fail-on", "warning"], 1),
        (["--policy", "onedrive"], 1),
    ],
)
def test_validate_exits_1_on_violations(
    dataset: Path, extra: list[str], expected_code: int
) -> None:
    assert main(["validate", str(dataset), *extra]) == expected_code


def test_validate_fail_on_separates_errors_from_warnings(
    tmp_path: Path, build_obs: Callable[..., pd.DataFrame]
) -> None:
    write_observations(
        tmp_path, build_obs({"warn": [(0, "inProgress", 10, 202), (9, "completed", 97, 202)]})
    )
    assert main(["validate", str(tmp_path)]) == 0
    assert main(["validate", str(tmp_path), "--fail-on", "warning"]) == 1


def test_validate_json_is_the_documented_shape(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["validate", str(dataset), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"violations", "counts"}
    first = doc["violations"][0]
    assert set(first) == {"job_id", "seq", "ts", "code", "severity", "detail"}
    assert first["ts"].endswith("Z") and first["job_id"] == "error"
    assert doc["counts"]["illegal_transition"] == 1 and doc["counts"]["completed_not_100"] == 1


def test_validate_table_names_codes_and_details(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["validate", str(dataset)])
    out = capsys.readouterr().out
    assert "policy graph-beta: 2 violation(s) in 2 job(s)" in out
    assert "inProgress -> notStarted is not allowed by policy graph-beta" in out


def test_summary_json_has_jobs_and_outcomes(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["summary", str(dataset), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["outcomes"] == {"completed": 2, "failed": 1}
    assert [j["job_id"] for j in doc["jobs"]] == ["clean", "error", "warn"]
    assert doc["jobs"][1]["n_violations"] == 1


def test_summary_csv_reads_back(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", str(dataset), "--format", "csv"]) == 0
    from io import StringIO

    back = pd.read_csv(StringIO(capsys.readouterr().out))
    assert list(back["outcome"]) == ["completed", "failed", "completed"]


def test_summary_table_counts_outcomes(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["summary", str(dataset)])
    out = capsys.readouterr().out
    assert "3 job(s)" in out and "completed" in out and "duration p50" in out


@pytest.mark.parametrize("command", ["validate", "summary"])
def test_a_missing_folder_is_one_line_and_exit_2(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err and "Traceback" not in err


def test_a_bad_policy_is_exit_2(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(dataset), "--policy", "no-such-policy"]) == 2
    assert "graph-beta, onedrive" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["validate"], ["validate", "x", "--format", "xml"], ["summary", "x", "--fail-on", "x"]]
)
def test_bad_arguments_exit_2_with_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "--help" in err


@pytest.mark.parametrize("command", ["validate", "summary"])
@pytest.mark.parametrize("engine", [[], ["--engine", "pandas"]])
def test_a_scheduler_without_the_dask_engine_is_exit_2(
    dataset: Path, capsys: pytest.CaptureFixture[str], command: str, engine: list[str]
) -> None:
    argv = [command, str(dataset), *engine, "--scheduler", "tcp://127.0.0.1:8786"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--engine dask" in err
