"""Nothing the recorder took is lost: values Arrow cannot encode, and flushes that fail."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import replay
from replay import store
from replay.errors import RecorderError, UsageError
from replay.store.writer import escaped_text, safe_text

T0 = pd.Timestamp("2026-01-05T23:59:58Z")
HEALTHY = b'{"status": "inProgress", "percentageComplete": 40}'


def stored(frame: pd.DataFrame, job_id: str, column: str) -> object:
    """The value of ``column`` in the only row of ``job_id``."""
    rows = frame[frame["job_id"].astype(str) == job_id]
    assert len(rows) == 1
    return rows[column].iloc[0]


@pytest.mark.parametrize(
    ("body", "column", "expected", "raw"),
    [
        pytest.param(b'{"status": "\\ud800"}', "status", "\ufffd", "\\ud800", id="lone-escape"),
        pytest.param(
            b'{"status": "failed", "error": {"message": "cut \\ud83d"}}',
            "error_message",
            "cut \ufffd",
            "\\ud83d",
            id="half-an-emoji",
        ),
        pytest.param(
            b'{"status": "\\ud83d\\ude00"}', "status", "\U0001f600", "\\ud83d\\ude00", id="a-pair"
        ),
        pytest.param({"status": "x\udc80"}, "status", "x\ufffd", "x\\udc80", id="dict-body"),
        pytest.param({"operation": "\ud800"}, "operation", "\ufffd", "\\ud800", id="operation"),
    ],
)
def test_a_string_arrow_cannot_encode_is_stored_safely_beside_healthy_jobs(
    tmp_path: Path, body: bytes | dict[str, str], column: str, expected: str, raw: str
) -> None:
    with replay.Recorder(tmp_path) as rec:
        for i in range(30):
            rec.observe(f"healthy-{i}", HEALTHY, http_status=202)
        rec.observe("hostile", body, http_status=200)
    obs = replay.read(tmp_path)
    assert len(obs) == 31
    assert stored(obs, "hostile", column) == expected
    assert raw in str(stored(obs, "hostile", "body"))  # the raw text, escapes kept
    assert replay.read_jobs(tmp_path)["job_id"].nunique() == 31


def test_job_ids_that_differ_only_by_a_lone_surrogate_stay_two_jobs(tmp_path: Path) -> None:
    with replay.Recorder(tmp_path) as rec:
        rec.observe("job-\ud800", HEALTHY)
        rec.observe("job-\ud801", HEALTHY)
        rec.observe("job-\ud800", HEALTHY)
    obs = replay.read(tmp_path)
    assert sorted(obs["job_id"].astype(str)) == ["job-\\ud800", "job-\\ud800", "job-\\ud801"]
    assert sorted(obs["seq"]) == [0, 0, 1]
    with replay.Recorder(tmp_path) as rec:  # a restart continues the same job
        rec.observe("job-\ud800", HEALTHY)
    assert replay.read(tmp_path, jobs=["job-\\ud800"])["seq"].tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "safe", "escaped"),
    [
        ("plain", "plain", "plain"),
        ("déjà ✓", "déjà ✓", "déjà ✓"),
        ("a\ud800b", "a\ufffdb", "a\\ud800b"),
        ("\udfff", "\ufffd", "\\udfff"),
        ("\ud83d\ude00", "\U0001f600", "\U0001f600"),  # a pair as two code points: joined
    ],
)
def test_safe_and_escaped_text_are_utf8_and_change_only_surrogates(
    text: str, safe: str, escaped: str
) -> None:
    assert (safe_text(text), escaped_text(text)) == (safe, escaped)
    assert safe.encode("utf-8") and escaped.encode("utf-8")
    assert (safe_text(safe), escaped_text(escaped)) == (safe, escaped)  # idempotent


@pytest.mark.parametrize(
    ("http_status", "message"),
    [
        pytest.param(70_000, "http_status=70000 cannot be stored", id="too-large"),
        pytest.param("202", "expected a whole number", id="text"),
        pytest.param(True, "expected a whole number", id="bool"),
    ],
)
def test_a_value_that_does_not_fit_its_column_is_refused_at_once_and_nothing_is_lost(
    tmp_path: Path, http_status: object, message: str
) -> None:
    with replay.Recorder(tmp_path) as rec:
        rec.observe("job-1", HEALTHY, http_status=202)
        with pytest.raises(UsageError, match=message):
            rec.observe("job-1", HEALTHY, http_status=http_status)  # type: ignore[arg-type]
        rec.observe("job-1", HEALTHY, http_status=202)
    assert replay.read(tmp_path)["seq"].tolist() == [0, 1]


class FailingDisk:
    """Makes the store's ``name`` writer raise ENOSPC on its calls number ``failing``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, failing: set[int]) -> None:
        self.calls = 0
        self.real: Callable[..., Any] = getattr(store, name)
        self.failing = failing
        monkeypatch.setattr(store, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls in self.failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real(*args, **kwargs)


def two_days(rec: replay.Recorder, first: int) -> None:
    """Observations ``first`` and ``first + 1`` of job-1 (before and after midnight UTC)."""
    for i in (first, first + 1):
        rec.observe("job-1", HEALTHY, http_status=202, ts=T0 + pd.Timedelta(seconds=2 * i))


@pytest.mark.parametrize(
    ("writer", "failing"),
    [
        pytest.param("write_observations", {1}, id="observations-of-the-first-day"),
        pytest.param("write_observations", {2}, id="observations-of-the-second-day"),
        pytest.param("write_jobs", {1}, id="job-rows"),
        pytest.param("write_observations", {1, 3, 4}, id="several-flushes-in-a-row"),
    ],
)
def test_a_flush_that_fails_keeps_its_rows_says_so_and_the_next_writes_them_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str, failing: set[int]
) -> None:
    disk = FailingDisk(monkeypatch, writer, failing)
    with (
        pytest.warns(replay.ReplayWarning) as caught,
        replay.Recorder(tmp_path, flush_interval=1e-9) as rec,
    ):
        for first in range(0, 12, 2):
            two_days(rec, first)
    assert disk.calls > max(failing)
    said = [str(w.message) for w in caught]
    assert any("not written are kept in memory for the next flush" in m for m in said)
    assert any("the rows kept in memory reached the disk" in m for m in said)
    obs = replay.read(tmp_path)
    assert obs["seq"].tolist() == list(range(12))  # every row once, none twice
    assert replay.read_jobs(tmp_path)["outcome"].tolist() == ["abandoned"]


def test_a_last_flush_that_fails_raises_and_closing_again_writes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FailingDisk(monkeypatch, "write_observations", {1})
    rec = replay.Recorder(tmp_path, flush_interval=3600)
    two_days(rec, 0)
    with pytest.raises(RecorderError, match=r"2 observation\(s\) and 1 job row\(s\) not written"):
        rec.close()
    rec.close()
    assert replay.read(tmp_path)["seq"].tolist() == [0, 1]
