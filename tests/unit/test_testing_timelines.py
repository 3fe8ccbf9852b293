"""replay.testing.Timeline: from hand-written steps, a scenario, or a recorded dataset."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from replay.errors import UsageError
from replay.simulate import Timeline as SimulatedTimeline
from replay.simulate import simulate
from replay.testing import Response, Timeline


@pytest.mark.parametrize(
    ("steps", "dialect", "statuses", "percentages", "codes"),
    [
        pytest.param(
            ["notStarted", ("inProgress", 40), ("completed", 100)],
            "graph",
            ["notStarted", "inProgress", "completed"],
            [None, 40.0, 100.0],
            [202, 202, 200],
            id="graph-statuses-and-tuples",
        ),
        pytest.param(
            [("inProgress", 10), 429, 503, 404],
            "sharepoint-v21",
            ["inProgress", None, None, None],
            [10.0, None, None, None],
            [200, 429, 503, 404],
            id="bare-codes-are-error-bodies",
        ),
        pytest.param(
            ["notStarted", ("inProgress", 5)],
            "consumer",
            ["notStarted", "inProgress"],
            [None, 5.0],
            [202, 200],
            id="consumer-first-poll-202",
        ),
        pytest.param(
            [{"status": "failed", "error_code": "nameAlreadyExists", "http": 500}],
            "legacy",
            ["failed"],
            [None],
            [500],
            id="mapping-with-http",
        ),
        pytest.param(
            [Response(0.0, 200, b'{"status": "waiting"}'), ("completed", 100, 303)],
            "graph",
            ["waiting", "completed"],
            [None, 100.0],
            [200, 303],
            id="ready-response-and-triple",
        ),
    ],
)
def test_from_steps_renders_each_step(
    steps: list[Any],
    dialect: str,
    statuses: list[str | None],
    percentages: list[float | None],
    codes: list[int],
) -> None:
    timeline = Timeline.from_steps(steps, dialect=dialect)
    assert timeline.statuses() == statuses
    assert timeline.percentages() == percentages
    assert [r.http_status for r in timeline.responses] == codes
    assert timeline.dialect == dialect


def test_from_steps_spaces_steps_by_interval_unless_at_s_is_given() -> None:
    steps = ["notStarted", "inProgress", {"status": "completed", "at_s": 30.0}, 429]
    timeline = Timeline.from_steps(steps, interval_s=2.5)
    assert [r.at_s for r in timeline.responses] == [0.0, 2.5, 30.0, 32.5]
    assert timeline.responses[-1].header("Retry-After") == "1"


@pytest.mark.parametrize(
    ("steps", "options", "message"),
    [
        pytest.param([], {}, "at least one step", id="empty"),
        pytest.param(
            ["completed"], {"dialect": "klingon"}, "unknown dialect 'klingon'", id="dialect"
        ),
        pytest.param([{"state": "x"}], {}, "unknown key.*state.*expected some of", id="bad-key"),
        pytest.param([("a", 1, 2, 3)], {}, r"expected \(status, pct\)", id="long-tuple"),
        pytest.param([True], {}, "step 0 is True", id="bool"),
        pytest.param([1.5], {}, "step 0 is a float", id="float"),
    ],
)
def test_from_steps_rejects_bad_steps(
    steps: list[Any], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        Timeline.from_steps(steps, **options)


def test_from_scenario_is_seeded_and_a_testing_timeline() -> None:
    first = Timeline.from_scenario("throttled", "graph", seed=3)
    assert first == Timeline.from_scenario("throttled", "graph", seed=3)
    assert first != Timeline.from_scenario("throttled", "graph", seed=4)
    assert Timeline is SimulatedTimeline  # one class, whoever builds it
    assert first.scenario == "throttled"
    assert 429 in {r.http_status for r in first.responses}


@pytest.mark.parametrize(
    ("step", "status", "body", "headers"),
    [
        (
            {"http": 303, "location": "http://127.0.0.1:1/items/x"},
            303,
            b"",
            (("Location", "http://127.0.0.1:1/items/x"),),
        ),
        ({"http": 200, "body": b""}, 200, b"", ()),
        (
            {"status": "inProgress", "headers": {"Content-Type": "text/plain", "X-Id": "7"}},
            202,
            b'{"status":"inProgress"}',
            (("Content-Type", "text/plain"), ("X-Id", "7")),
        ),
        (
            {"http": 429, "headers": [("Retry-After", "9")]},
            429,
            None,
            (("Content-Type", "application/json"), ("Retry-After", "9")),
        ),
    ],
    ids=["303 with location", "empty body", "headers replace defaults", "headers on an error"],
)
def test_from_steps_takes_headers_and_location_and_labels_only_json_as_json(
    step: dict[str, Any], status: int, body: bytes | None, headers: tuple[tuple[str, str], ...]
) -> None:
    (response,) = Timeline.from_steps([step]).responses
    assert response.http_status == status
    assert response.headers == headers
    if body is not None:
        assert response.body.replace(b" ", b"") == body


def test_from_scenario_names_the_known_scenarios() -> None:
    with pytest.raises(UsageError, match=r"unknown scenario 'nope': expected one of .*happy_path"):
        Timeline.from_scenario("nope")


def pct_key(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    return "nan" if math.isnan(value) else float(value)


@pytest.mark.parametrize("dialect", ["legacy", "graph", "sharepoint-v21", "consumer"])
def test_from_dataset_serves_what_was_recorded(tmp_path: Path, dialect: str) -> None:
    """A simulated recording has no bodies: they are rendered in the job's dialect."""
    scenarios = ["happy_path", "throttled", "failed_with_error", "out_of_range_pct"]
    fleet = simulate(4, seed=2, scenarios=scenarios, dialects=[dialect])
    fleet.write(tmp_path)
    obs = fleet.observations()
    for job_id in fleet.jobs["job_id"].astype(str):
        timeline = Timeline.from_dataset(tmp_path, job_id)
        rows = obs[obs["job_id"] == job_id]
        assert timeline.dialect == dialect
        assert timeline.statuses() == [None if pd.isna(s) else s for s in rows["status"]]
        expected = [pct_key(p) for p in rows["percentage_complete"].tolist()]
        if dialect == "sharepoint-v21":  # that shape has no percentage on failure
            failed = rows["status"].isin(["failed", "deleteFailed"]).tolist()
            expected = [None if f else p for p, f in zip(expected, failed, strict=True)]
        assert [pct_key(p) for p in timeline.percentages()] == expected
        assert [r.http_status for r in timeline.responses] == rows["http_status"].tolist()
        seconds = (rows["ts"] - rows["ts"].iloc[0]).dt.total_seconds().tolist()
        assert [r.at_s for r in timeline.responses] == pytest.approx(seconds)


def test_from_dataset_names_the_jobs_it_has(tmp_path: Path) -> None:
    fleet = simulate(2, seed=0)
    fleet.write(tmp_path)
    some_id = str(fleet.jobs["job_id"].iloc[0])
    with pytest.raises(UsageError, match=f"no job 'missing'.*2 job ids.*{some_id}"):
        Timeline.from_dataset(tmp_path, "missing")
