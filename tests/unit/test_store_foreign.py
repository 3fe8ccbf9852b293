"""Recordings written by other tools (pandas, DuckDB, Polars): read as schema version 1 when they fit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import replay
from replay.errors import DatasetError

ROWS = pd.DataFrame(
    {
        "job_id": ["copy-a", "copy-a", "copy-b"],
        "seq": [0, 1, 0],
        "ts": pd.to_datetime(
            ["2026-01-05T10:00:00Z", "2026-01-05T10:00:05Z", "2026-01-05T10:00:01Z"]
        ),
        "status": ["inProgress", "completed", "inProgress"],
        "percentage_complete": [10.0, 100.0, None],
        "source": "import",
    }
)


def with_pandas(folder: Path) -> None:
    ROWS.to_parquet(folder / "part-0.parquet", index=False)


def with_duckdb(folder: Path) -> None:
    import duckdb

    frame = ROWS  # noqa: F841  (DuckDB reads the local variable by name)
    duckdb.sql(f"COPY (SELECT * FROM frame) TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")


def with_polars(folder: Path) -> None:
    import polars as pl

    pl.from_pandas(ROWS).write_parquet(folder / "part-0.parquet")


@pytest.mark.parametrize("writer", [with_pandas, with_duckdb, with_polars])
def test_a_recording_written_by_another_tool_reads_as_version_1_with_a_notice(
    tmp_path: Path, writer: Callable[[Path], None]
) -> None:
    folder = tmp_path / "observations" / "date=2026-01-05"
    folder.mkdir(parents=True)
    writer(folder)
    with pytest.warns(replay.ReplayWarning, match="written by another tool"):
        obs = replay.read(tmp_path)
    assert obs["seq"].dtype == "int32" and len(obs) == 3
    assert obs["http_status"].isna().all()  # a missing optional column reads as null
    summary = replay.summarize(obs)
    assert summary.set_index("job_id")["outcome"].to_dict() == {
        "copy-a": "completed",
        "copy-b": "abandoned",
    }


@pytest.mark.parametrize(
    ("change", "column"),
    [
        (lambda f: f.assign(seq=f["seq"].astype(str)), "seq"),
        (lambda f: f.assign(ts=f["ts"].dt.tz_localize(None)), "ts"),
        (lambda f: f.drop(columns="job_id"), "job_id"),
    ],
    ids=["seq-as-text", "naive-timestamps", "no-job-id"],
)
def test_a_foreign_file_that_does_not_fit_is_refused_naming_the_column(
    tmp_path: Path, change: Callable[[pd.DataFrame], pd.DataFrame], column: str
) -> None:
    folder = tmp_path / "observations" / "date=2026-01-05"
    folder.mkdir(parents=True)
    change(ROWS).to_parquet(folder / "part-0.parquet", index=False)
    with pytest.raises(DatasetError, match=f"'{column}'"):
        replay.read(tmp_path)


def test_the_recording_guide_builds_a_recording_from_pandas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "recording.md").read_text()
    section = guide[guide.index("## A recording from your own data") :]
    code = section[
        section.index("```python\n") + 10 : section.index("```\n", section.index("```python"))
    ]
    monkeypatch.chdir(tmp_path)
    with pytest.warns(replay.ReplayWarning, match="written by another tool"):
        exec(compile(code, "docs/recording.md", "exec"), {})
        summary = replay.summarize(replay.read("own"))
    assert summary["outcome"].tolist() == ["completed"]
