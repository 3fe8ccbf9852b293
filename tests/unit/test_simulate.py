"""The fleet simulator: seeded, vectorised frames that agree with each other and with the timelines."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from replay import payload
from replay.errors import UsageError
from replay.schema import OBSERVATION_COLUMNS
from replay.simulate import Fleet, Timeline, simulate, simulate_job
from replay.simulate.scenarios import DIALECT_SHAPES, SCENARIOS

ALL = list(SCENARIOS)
#: The default mix: every scenario but the quirks served only by name (weight 0).
MIX = [name for name, s in SCENARIOS.items() if s.weight > 0]


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    """A default-mix fleet of 600 jobs (every scenario at least once)."""
    return simulate(600, seed=7)


@pytest.fixture(scope="module")
def every() -> Fleet:
    """Every scenario in equal shares over all dialects, 240 jobs."""
    return simulate(10 * len(ALL), seed=3, scenarios=ALL)


def _scenario_of(frame: pd.DataFrame) -> pd.Series:
    return frame.set_index("job_id")["labels"].map(lambda s: json.loads(s)["scenario"])


def _frames_equal(a: Fleet, b: Fleet) -> bool:
    try:
        pd.testing.assert_frame_equal(a.responses, b.responses)
        pd.testing.assert_frame_equal(a.jobs, b.jobs)
    except AssertionError:
        return False
    return True


def test_same_seed_gives_identical_frames() -> None:
    first, second = simulate(300, seed=5), simulate(300, seed=5)
    assert _frames_equal(first, second)
    pd.testing.assert_frame_equal(first.observations(), second.observations())


def test_different_seeds_give_different_fleets() -> None:
    first, second = simulate(300, seed=5), simulate(300, seed=6)
    assert not _frames_equal(first, second)
    assert set(first.jobs["job_id"]).isdisjoint(second.jobs["job_id"])


def test_default_mix_has_every_scenario_and_mostly_happy_path(fleet: Fleet) -> None:
    counts = _scenario_of(fleet.jobs).value_counts()
    assert set(counts.index) == set(MIX)
    assert counts["happy_path"] > len(fleet.jobs) / 3


@pytest.mark.parametrize(("n_jobs", "expected"), [(len(MIX), len(MIX)), (5, 5)])
def test_each_chosen_scenario_appears_once_when_jobs_allow(n_jobs: int, expected: int) -> None:
    scenarios = _scenario_of(simulate(n_jobs, seed=1).jobs)
    assert scenarios.nunique() == expected


@pytest.mark.parametrize(
    ("scenarios", "allowed"),
    [
        (["throttled"], {"throttled"}),
        (["legacy_303", "unauthorized"], {"legacy_303", "unauthorized"}),
        ({"happy_path": 1, "regression": 0, "no_terminal": 3}, {"happy_path", "no_terminal"}),
    ],
)
def test_scenario_mix_selects_only_the_named_scenarios(
    scenarios: list[str] | dict[str, float], allowed: set[str]
) -> None:
    assert set(_scenario_of(simulate(200, seed=2, scenarios=scenarios).jobs)) == allowed


def test_weights_set_the_shares() -> None:
    mix = {"happy_path": 3, "slow_queue": 1}
    counts = _scenario_of(simulate(4000, seed=4, scenarios=mix).jobs).value_counts()
    assert counts["happy_path"] / counts.sum() == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenarios": ["happy_path", "nope"]}, "unknown scenario"),
        ({"scenarios": "happy_path"}, "list of names"),
        ({"scenarios": {"happy_path": -1}}, "non-negative"),
        ({"scenarios": {"happy_path": 0}}, "positive total"),
        ({"dialects": ["graph", "soap"]}, "unknown dialect"),
        ({"dialects": []}, "unknown dialect"),
        ({"start": "not a time"}, "ISO 8601"),
        ({"start": ""}, "ISO 8601"),
        ({"dialects": "graph"}, "unknown dialect"),
        ({"seed": -1}, "non-negative"),
    ],
)
def test_bad_arguments_raise_usage_error_naming_the_valid_values(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        simulate(10, **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("n_jobs", [0, -3, 2.5, True])
def test_job_count_must_be_a_positive_integer(n_jobs: object) -> None:
    with pytest.raises(UsageError, match="positive number of jobs"):
        simulate(n_jobs)  # type: ignore[arg-type]


def test_unknown_names_are_listed_with_the_valid_ones() -> None:
    with pytest.raises(UsageError) as caught:
        simulate(10, scenarios=["nope"])
    assert all(name in str(caught.value) for name in ALL)


def test_responses_have_the_documented_columns(fleet: Fleet) -> None:
    expected = {
        "job_id", "seq", "t_s", "ts", "http_status", "status", "percentage_complete",
        "operation", "resource_id", "error_code", "error_message", "retry_after_s",
        "retry_after_header", "body_kind", "delay_s", "drop",
    }  # fmt: skip
    assert expected <= set(fleet.responses.columns)
    assert fleet.responses["percentage_complete"].dtype == pd.ArrowDtype(pa.float64())
    assert set(fleet.responses["body_kind"].dropna()) <= {"json", "empty", "html", "truncated"}


def test_observations_have_the_schema_columns_and_simulated_source(fleet: Fleet) -> None:
    obs = fleet.observations()
    assert tuple(obs.columns) == OBSERVATION_COLUMNS
    assert set(obs["source"]) == {"simulated"}
    assert obs["body"].isna().all()
    assert obs["percentage_complete"].dtype == pd.ArrowDtype(pa.float64())


def test_observations_are_the_responses_without_dropped_connections(fleet: Fleet) -> None:
    responses, obs = fleet.responses, fleet.observations()
    kept = responses[~responses["drop"]].reset_index(drop=True)
    assert len(obs) == len(kept) < len(responses)
    for column in ("job_id", "ts", "status", "http_status", "error_code", "retry_after_s"):
        assert obs[column].equals(kept[column]), column
    same = obs["percentage_complete"].isna() == kept["percentage_complete"].isna()
    assert same.all()


@pytest.mark.parametrize("frame", ["responses", "observations"])
def test_seq_counts_each_jobs_rows_from_zero(fleet: Fleet, frame: str) -> None:
    rows = fleet.responses if frame == "responses" else fleet.observations()
    seq = rows["seq"].to_numpy()
    expected = rows.groupby("job_id", observed=True, sort=False).cumcount().to_numpy()
    assert np.array_equal(seq, expected)


def test_nan_and_null_percentages_stay_apart(every: Fleet) -> None:
    obs = every.observations()
    values = pa.array(obs["percentage_complete"].array)
    nan = np.isnan(values.fill_null(0).to_numpy())
    scenario = _scenario_of(every.jobs)[obs["job_id"]].to_numpy()
    assert set(scenario[nan]) == {"nan_pct"}  # the quirk named for it; bodies elsewhere are JSON
    assert values.null_count > 0


@pytest.mark.parametrize(
    ("scenario", "rows"),
    [("unauthorized", {1}), ("instant_complete", {1}), ("regression", range(6, 400))],
)
def test_row_counts_per_job(every: Fleet, scenario: str, rows: range | set[int]) -> None:
    sizes = every.responses.groupby("job_id", observed=True).size()
    ids = _scenario_of(every.jobs)
    assert set(sizes[ids.index[ids == scenario]]) <= set(rows)


def test_jobs_average_about_thirty_responses() -> None:
    sizes = simulate(5000, seed=9).responses.groupby("job_id", observed=True).size()
    assert 25 <= sizes.mean() <= 35
    assert sizes.max() < 400


def test_a_large_fleet_builds_in_one_vectorised_pass() -> None:
    # The rate is measured by the benchmark, not asserted here: this checks the scale path works.
    big = simulate(20_000, seed=1)
    obs = big.observations()
    assert len(big.jobs) == 20_000
    assert obs["job_id"].nunique() == 20_000
    assert 400_000 < len(obs) < 800_000


def test_timestamps_increase_within_a_job_except_clock_skew(every: Fleet) -> None:
    obs = every.observations()
    back = obs.groupby("job_id", observed=True)["ts"].diff() <= pd.Timedelta(0)
    skewed = set(obs.loc[back, "job_id"])
    ids = _scenario_of(every.jobs)
    assert skewed == set(ids.index[ids == "clock_skew"])


def test_fleet_window_straddles_utc_midnight() -> None:
    jobs = simulate(2000, seed=2).jobs
    days = set(jobs["first_seen"].dt.date.astype(str))
    assert {"2026-01-05", "2026-01-06"} <= days
    assert jobs["first_seen"].min() >= pd.Timestamp("2026-01-05T22:00Z")


@pytest.mark.parametrize(
    "start", ["2025-06-01T08:00:00Z", datetime(2025, 6, 1, 8, tzinfo=UTC), "2025-06-01 08:00"]
)
def test_start_moves_the_window(start: str | datetime) -> None:
    first = simulate(50, seed=1, start=start).jobs["first_seen"].min()
    assert pd.Timestamp("2025-06-01T08:00Z") <= first < pd.Timestamp("2025-06-01T12:00Z")


def test_jobs_table_matches_the_observations(fleet: Fleet) -> None:
    obs, jobs = fleet.observations(), fleet.jobs.set_index("job_id")
    span = obs.groupby("job_id", observed=True)["ts"].agg(["min", "max"])
    assert span["min"].equals(jobs.loc[span.index, "first_seen"].rename("min"))
    assert span["max"].equals(jobs.loc[span.index, "last_seen"].rename("max"))
    assert jobs["size_bytes"].between(1_000_000, 50_000_000_000).all()
    outcomes = _scenario_of(fleet.jobs).map(lambda s: SCENARIOS[s].expected_outcome)
    assert jobs["outcome"].equals(outcomes.rename("outcome"))


def test_labels_are_json_objects_naming_scenario_and_dialect(fleet: Fleet) -> None:
    labels = [json.loads(text) for text in fleet.jobs["labels"]]
    assert all(set(label) >= {"scenario", "dialect"} for label in labels)
    assert {label["dialect"] for label in labels} == set(DIALECT_SHAPES)


@pytest.mark.parametrize(
    ("dialect", "path"),
    [
        ("legacy", "/monitor/"),
        ("graph", "/_api/v2.0/monitor/"),
        ("sharepoint-v21", "/_api/v2.1/drive/operations/"),
        ("consumer", "/v1.0/monitor/"),
    ],
)
def test_urls_have_the_dialect_shape_and_no_credentials(dialect: str, path: str) -> None:
    jobs = simulate(20, seed=1, dialects=[dialect]).jobs
    for job_id, url in zip(jobs["job_id"], jobs["url"], strict=True):
        assert url.startswith("https://") and f"{path}{job_id}" in url
        query = dict(part.split("=", 1) for part in url.partition("?")[2].split("&") if part)
        assert all(query[k] == "REDACTED" for k in ("tempauth", "c") if k in query)


def test_job_ids_are_what_the_recorder_derives_from_the_urls(fleet: Fleet) -> None:
    urls = fleet.jobs["url"]
    assert [payload.job_id_from_url(u) for u in urls] == list(fleet.jobs["job_id"])
    assert [payload.redact_url(u) for u in urls] == list(urls)


@pytest.mark.parametrize(
    ("dialect", "progress", "completion", "first"),
    [
        ("legacy", {202}, {303}, None),
        ("graph", {202}, {202}, None),
        ("sharepoint-v21", {200}, {200}, None),
        ("consumer", {200}, {200}, 202),
    ],
)
def test_http_codes_follow_the_dialect(
    dialect: str, progress: set[int], completion: set[int], first: int | None
) -> None:
    fleet = simulate(80, seed=3, scenarios=["happy_path", "waiting_retry"], dialects=[dialect])
    rows = fleet.responses
    later = rows["seq"] > 0
    assert set(rows.loc[later & (rows["status"] != "completed"), "http_status"]) == progress
    assert set(rows.loc[later & (rows["status"] == "completed"), "http_status"]) == completion
    if first is not None:
        assert set(rows.loc[~later, "http_status"]) == {first}


@pytest.mark.parametrize("asked", ["legacy", "graph", "consumer"])
def test_a_v20_copy_answered_by_a_v21_monitor_is_served_in_the_v21_shape(asked: str) -> None:
    fleet = simulate(40, seed=4, scenarios=["happy_path", "v21_monitor_on_v20"], dialects=[asked])
    labels = fleet.jobs["labels"].map(json.loads)
    v21 = labels.map(lambda x: x["scenario"] == "v21_monitor_on_v20").to_numpy()
    assert {x["dialect"] for x in labels[v21]} == {"sharepoint-v21"}
    assert {x["dialect"] for x in labels[~v21]} == {asked}
    assert fleet.jobs.loc[v21, "url"].str.contains("/_api/v2.1/drive/operations/").all()
    (timeline,) = [t for t in fleet.timelines() if t.scenario == "v21_monitor_on_v20"][:1]
    assert timeline.dialect == "sharepoint-v21"
    assert {r.http_status for r in timeline.responses} == {200}
    assert all(b"@odata.context" in r.body for r in timeline.responses)


@pytest.mark.parametrize(
    ("scenario", "operation"),
    [("lowercase_operation", "itemCopy"), ("move_job", "ItemMove"), ("happy_path", "ItemCopy")],
)
def test_bodies_name_the_operation_of_their_scenario(scenario: str, operation: str) -> None:
    observed = simulate(8, seed=2, scenarios=[scenario]).observations()
    assert set(observed["operation"].dropna().astype(str)) == {operation}


def test_failures_come_as_200_or_500_and_v21_failures_have_no_percentage() -> None:
    rows = simulate(200, seed=1, scenarios=["failed_with_error"]).responses
    failed = rows[rows["status"] == "failed"]
    assert set(failed["http_status"]) == {200, 500}
    assert failed["error_code"].notna().all()
    jobs = simulate(40, seed=1, scenarios=["failed_with_error"], dialects=["sharepoint-v21"])
    v21 = jobs.responses[jobs.responses["status"] == "failed"]
    assert v21["percentage_complete"].isna().all()


def test_throttled_polls_wait_for_retry_after(every: Fleet) -> None:
    rows = every.responses
    t_next = rows.groupby("job_id", observed=True)["t_s"].shift(-1)
    given = rows["retry_after_s"].notna() & t_next.notna()
    waited = (t_next - rows["t_s"])[given]
    assert given.sum() > 0
    assert (waited >= rows.loc[given, "retry_after_s"].astype(float)).all()
    headers = rows.loc[rows["http_status"] == 429, "retry_after_header"]
    assert headers.isna().any()
    assert headers.dropna().str.endswith(" GMT").any()
    assert headers.dropna().str.fullmatch(r"\d+").any()


def test_simulate_job_returns_a_labelled_timeline() -> None:
    timeline = simulate_job("throttled", dialect="consumer", seed=4)
    assert isinstance(timeline, Timeline)
    assert (timeline.scenario, timeline.dialect) == ("throttled", "consumer")
    assert timeline.labels["scenario"] == "throttled"
    assert simulate_job("throttled", dialect="consumer", seed=4) == timeline


def test_a_timeline_knows_the_time_its_start_stood_for(fleet: Fleet) -> None:
    first = fleet.responses.drop_duplicates("job_id").set_index("job_id")
    for job_id in fleet.jobs["job_id"].astype(str).head(20):
        timeline = fleet.timeline(job_id)
        assert timeline.origin is not None and timeline.origin.tzinfo is not None
        served_at = timeline.origin + pd.Timedelta(seconds=timeline.responses[0].at_s)
        assert abs(served_at - first.loc[job_id, "ts"]) < pd.Timedelta(milliseconds=1)


@pytest.mark.parametrize(("scenario", "dialect"), [("nope", "graph"), ("happy_path", "soap")])
def test_simulate_job_rejects_unknown_names(scenario: str, dialect: str) -> None:
    with pytest.raises(UsageError):
        simulate_job(scenario, dialect=dialect)


def test_timeline_of_an_unknown_job_is_a_usage_error(fleet: Fleet) -> None:
    with pytest.raises(UsageError, match="no job"):
        fleet.timeline("not-a-job")


@pytest.mark.parametrize("dialect", list(DIALECT_SHAPES))
@pytest.mark.parametrize("scenario", ALL)
def test_timeline_bodies_parse_back_to_the_observations(scenario: str, dialect: str) -> None:
    fleet = simulate(1, seed=21, scenarios=[scenario], dialects=[dialect])
    job_id = str(fleet.jobs["job_id"].iloc[0])
    timeline, rows = fleet.timeline(job_id), fleet.responses
    assert len(timeline) == len(rows)
    for response, (_, row) in zip(timeline.responses, rows.iterrows(), strict=True):
        assert response.at_s == pytest.approx(row["t_s"])
        assert (response.http_status, response.drop) == (row["http_status"], row["drop"])
        if response.drop:
            continue
        now = row["ts"].floor("s").to_pydatetime()
        fields = payload.normalize(
            response.body, http_status=response.http_status, headers=dict(response.headers), now=now
        )
        _assert_same_fields(fields, row)


def _assert_same_fields(fields: dict[str, object], row: pd.Series) -> None:
    for name in ("status", "operation", "resource_id", "error_code", "error_message"):
        expected = None if pd.isna(row[name]) else row[name]
        assert fields.get(name) == expected, name
    pct, got = row["percentage_complete"], fields.get("percentage_complete")
    if pd.isna(pct) and not isinstance(pct, float):
        assert got is None
    elif isinstance(pct, float) and math.isnan(pct):
        assert isinstance(got, float) and math.isnan(got)
    else:
        assert got == pytest.approx(pct)
    retry = row["retry_after_s"]
    assert fields.get("retry_after_s") == (None if pd.isna(retry) else pytest.approx(retry, abs=1))


def test_timeline_headers_carry_retry_after_location_and_content_type() -> None:
    fleet = simulate(60, seed=8, scenarios=["legacy_303", "throttled", "server_errors"])
    responses = [r for t in fleet.timelines() for r in t.responses]
    assert len({id(r) for r in responses}) == len(fleet.responses)
    see_other = [(t.dialect, r) for t in fleet.timelines() for r in t.responses]
    location = [(d, str(r.header("Location"))) for d, r in see_other if r.http_status == 303]
    assert location and all("/items/" in url for _, url in location)
    # The legacy item URL needs a bearer token; the others carry their own credential, shaped
    # like a real one, so redaction must catch it.
    assert all(("tempauth=" in url) == (dialect != "legacy") for dialect, url in location)
    credited = [url for _, url in location if "tempauth=" in url]
    redacted = [payload.redact_url(url) for url in credited]
    assert all("tempauth=REDACTED" in url and url not in credited for url in redacted)
    html = [r for r in responses if r.http_status == 503]
    assert html and all(str(r.header("Content-Type")).startswith("text/html") for r in html)
    assert any(r.header("Retry-After") for r in responses if r.http_status == 429)
    assert any(r.drop for r in responses) and any(r.delay_s > 0 for r in responses)


def test_truncated_and_empty_bodies_are_not_json() -> None:
    fleet = simulate(30, seed=2, scenarios=["protocol_error", "legacy_303"])
    kinds = fleet.responses["body_kind"].astype(str).to_numpy()
    bodies = [r.body for t in fleet.timelines() for r in t.responses]
    for kind, body in zip(kinds, bodies, strict=True):
        if kind in ("truncated", "html", "empty"):
            with pytest.raises(ValueError):
                json.loads(body)


def test_write_makes_a_recording_the_store_reads_back(tmp_path: Path, fleet: Fleet) -> None:
    from replay import store

    out = fleet.write(tmp_path / "rec")
    obs = store.read(out)
    assert len(obs) == len(fleet.observations())
    assert set(store.read_jobs(out)["job_id"]) == set(fleet.jobs["job_id"])
    days = sorted(p.name for p in (out / "observations").iterdir())
    assert days[:2] == ["date=2026-01-05", "date=2026-01-06"]
    foreign = pd.read_parquet(out / "observations")
    assert len(foreign) == len(obs)
