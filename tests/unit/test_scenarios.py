"""The scenario catalogue: well-formed data, and the engine finds exactly what each scenario promises."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from replay.engine import Code, summarize, validate
from replay.payload import DIALECTS
from replay.simulate import simulate
from replay.simulate.scenarios import DIALECT_SHAPES, SCENARIOS, Phase
from replay.status import DIALECT_STATUSES, OUTCOMES, Status, load_policy

STALL_AFTER_S = load_policy("graph-beta").stall_after_s
#: Scenarios whose one stall is on purpose (a plateau of 2400-3600 s).
STALLING = {"slow_queue", "stuck_percentage", "never_starts"}
REQUIRED = {
    "happy_path": ("completed", {}),
    "slow_queue": ("completed", {"stalled": 1}),
    "stuck_percentage": ("completed", {"stalled": 1}),
    "zero_then_hundred": ("completed", {}),
    "waiting_retry": ("completed", {}),
    "updating_phase": ("completed", {}),
    "failed_with_error": ("failed", {}),
    "delete_failed": ("delete_failed", {}),
    "regression": ("completed", {"pct_regression": 1}),
    "unknown_status": ("cancelled", {"unknown_status": 2, "no_terminal": 1}),
    "out_of_range_pct": ("completed", {"pct_out_of_range": 2}),
    "no_terminal": ("timed_out", {"no_terminal": 1}),
    "throttled": ("completed", {}),
    "server_errors": ("completed", {}),
    "expired_monitor": ("monitor_expired", {"no_terminal": 1}),
    "completed_early": ("completed", {"completed_not_100": 1}),
    "requeued": ("completed", {"illegal_transition": 1}),
    "missing_status": ("completed", {"missing_status": 1}),
    "legacy_303": ("completed", {}),
    "unauthorized": ("unauthorized", {"no_terminal": 1}),
    "protocol_error": ("protocol_error", {"missing_status": 1, "no_terminal": 1}),
    "operation_not_found": ("monitor_expired", {"no_terminal": 1}),
    "v21_monitor_on_v20": ("completed", {}),
    "never_starts": ("timed_out", {"stalled": 1, "no_terminal": 1}),
    "lowercase_operation": ("completed", {}),
    "move_job": ("completed", {}),
    "after_terminal": ("completed", {"after_terminal": 2}),
    "clock_skew": ("completed", {"ts_not_increasing": 1}),
}


@pytest.fixture(scope="module")
def ground_truth() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame]:
    """Every scenario about 8 times in each dialect: observations, jobs, scenario per job, summary."""
    fleets = [
        simulate(8 * len(SCENARIOS), seed=11 + i, scenarios=list(SCENARIOS), dialects=[dialect])
        for i, dialect in enumerate(DIALECT_SHAPES)
    ]
    obs = pd.concat([f.observations() for f in fleets], ignore_index=True)
    jobs = pd.concat([f.jobs for f in fleets], ignore_index=True)
    scenario = jobs.set_index("job_id")["labels"].map(lambda s: json.loads(s)["scenario"])
    return obs, jobs, scenario, summarize(obs, jobs=jobs)


def _counts(violations: pd.DataFrame, job_ids: pd.Index) -> pd.DataFrame:
    """Violations per job (rows) and code (every code a column), zeros included."""
    table = violations.groupby(["job_id", "code"], observed=False).size().unstack(fill_value=0)
    return table.reindex(index=job_ids, columns=[c.value for c in Code], fill_value=0)


@pytest.mark.parametrize(("name", "outcome", "violations"), [(n, *v) for n, v in REQUIRED.items()])
def test_required_scenarios_promise_the_briefed_outcome_and_violations(
    name: str, outcome: str, violations: dict[str, int]
) -> None:
    scenario = SCENARIOS[name]
    assert (scenario.expected_outcome, dict(scenario.expected_violations)) == (outcome, violations)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_is_complete_data(name: str) -> None:
    scenario = SCENARIOS[name]
    assert scenario.name == name
    assert scenario.description and scenario.evidence and scenario.weight >= 0
    assert (scenario.weight == 0) == scenario.evidence.startswith("[QUIRK")  # by name only
    assert scenario.expected_outcome in OUTCOMES
    assert set(scenario.expected_violations) <= {c.value for c in Code}
    assert all(n > 0 for n in scenario.expected_violations.values())
    known = {s.value for s in Status} | set(DIALECT_STATUSES)
    assert all(p.status is None or p.status in known for p in scenario.phases)


def test_only_recorder_side_scenarios_cannot_be_served_over_http() -> None:
    offline = {name for name, s in SCENARIOS.items() if not s.over_http}
    assert offline == {"after_terminal", "clock_skew"}


def test_happy_path_dominates_the_default_mix() -> None:
    weights = {name: s.weight for name, s in SCENARIOS.items()}
    assert weights["happy_path"] > sum(weights.values()) / 2


@pytest.mark.parametrize(
    ("phase", "longest_s"),
    [
        pytest.param(p, (p.span_s or (0, 0))[1] * 1.1, id=f"{name}-{i}")
        for name, s in SCENARIOS.items()
        if name not in STALLING
        for i, p in enumerate(s.phases)
        if p.span_s is not None
    ],
)
def test_plateaus_of_non_stalling_scenarios_stay_under_the_stall_threshold(
    phase: Phase, longest_s: float
) -> None:
    # Jitter is at most +10 %, so a plateau lasts at most 1.1 times its span.
    assert longest_s < STALL_AFTER_S


def test_dialect_shapes_cover_the_payload_dialects() -> None:
    assert tuple(DIALECT_SHAPES) == DIALECTS


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_finds_exactly_the_expected_violations_per_job(
    ground_truth: tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame], name: str
) -> None:
    obs, _, scenario, _ = ground_truth
    ids = scenario.index[scenario == name]
    counts = _counts(validate(obs[obs["job_id"].isin(ids)]), ids)
    expected = pd.Series(dict(SCENARIOS[name].expected_violations), dtype="int64")
    expected = expected.reindex(counts.columns, fill_value=0)
    assert len(ids) >= 4 * len(DIALECT_SHAPES)
    assert (counts == expected).all(axis=None), counts[(counts != expected).any(axis=1)]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_summary_gives_the_expected_outcome_for_every_job(
    ground_truth: tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame], name: str
) -> None:
    _, _, scenario, summary = ground_truth
    outcomes = summary.set_index("job_id").loc[scenario.index[scenario == name], "outcome"]
    assert set(outcomes) == {SCENARIOS[name].expected_outcome}


def test_unknown_status_is_clean_under_policy_onedrive(
    ground_truth: tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame],
) -> None:
    obs, _, scenario, _ = ground_truth
    ids = scenario.index[scenario == "unknown_status"]
    assert SCENARIOS["unknown_status"].policy_violations["onedrive"] == {}
    assert validate(obs[obs["job_id"].isin(ids)], "onedrive").empty


def test_recorder_outcomes_come_from_the_jobs_table(
    ground_truth: tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.DataFrame],
) -> None:
    obs, _, scenario, _ = ground_truth
    # Without the jobs table the engine cannot know the recorder's reason: the job was abandoned.
    alone = summarize(obs).set_index("job_id")["outcome"]
    assert set(alone[scenario.index[scenario == "no_terminal"]]) == {"abandoned"}
    assert set(alone[scenario.index[scenario == "protocol_error"]]) == {"abandoned"}
    # An operationNotFound answer says it all by itself, whatever its HTTP status.
    assert set(alone[scenario.index[scenario == "operation_not_found"]]) == {"monitor_expired"}


@pytest.mark.parametrize("dialect", ["legacy", "graph", "sharepoint-v21", "consumer"])
def test_every_default_scenario_serves_strict_json(dialect: str) -> None:
    import json

    from replay.simulate import simulate

    def strict(token: str) -> None:
        raise ValueError(f"{token} is not JSON")

    every = [n for n, s in SCENARIOS.items() if s.over_http and s.weight > 0]
    fleet = simulate(len(every), seed=5, scenarios=every, dialects=[dialect])
    for timeline in fleet.timelines():
        for response in timeline.responses:
            if response.header("Content-Type") == "application/json" and response.body:
                try:
                    json.loads(response.body, parse_constant=strict)
                except ValueError as err:
                    if "not JSON" in str(err):
                        raise AssertionError(f"{timeline.scenario}: {err}") from None


def test_the_nan_quirk_is_served_only_by_name() -> None:
    from replay.check import plan_jobs

    assert "nan_pct" not in {job.scenario for job in plan_jobs(dialects=["graph"])}
    (job,) = plan_jobs(["nan_pct"], ["graph"])
    assert any(b"NaN" in r.body for r in job.timeline.responses)
