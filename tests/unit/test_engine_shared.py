"""One preparation shared explicitly (analyse), none kept behind the caller's back, ENGINE_COLUMNS."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import replay
from replay.simulate import simulate

POLICIES = ["graph-beta", "onedrive"]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fleet")
    simulate(300, seed=11).write(out)
    return out


@pytest.fixture()
def obs(recording: Path) -> pd.DataFrame:
    return replay.read(recording)


@pytest.mark.parametrize("policy", POLICIES)
def test_analyse_gives_validate_and_summarize(obs: pd.DataFrame, policy: str) -> None:
    violations, summary = replay.analyse(obs, policy)
    pd.testing.assert_frame_equal(violations, replay.validate(obs.copy(), policy))
    expected = replay.summarize(obs.copy(), policy)
    pd.testing.assert_frame_equal(summary, expected)
    assert summary["n_violations"].sum() == len(violations) > 0


@pytest.mark.parametrize(
    ("validate_policy", "summary_policy"),
    [
        ("graph-beta", "graph-beta"),
        ("onedrive", "onedrive"),
        ("graph-beta", "onedrive"),
        ("onedrive", "graph-beta"),
    ],
)
def test_summarize_after_validate_matches_a_fresh_summary(
    obs: pd.DataFrame, validate_policy: str, summary_policy: str
) -> None:
    violations = replay.validate(obs, validate_policy)
    got = replay.summarize(obs, summary_policy, violations=violations)
    fresh = replay.summarize(obs.copy(), summary_policy, violations=violations.copy())
    pd.testing.assert_frame_equal(got, fresh)


def test_summarize_of_a_changed_frame_does_not_reuse_the_old_preparation(
    obs: pd.DataFrame,
) -> None:
    violations = replay.validate(obs)
    shorter = obs.iloc[: len(obs) // 2].reset_index(drop=True)
    got = replay.summarize(shorter, violations=violations)
    assert got["n_obs"].sum() == len(shorter)
    pd.testing.assert_frame_equal(got, replay.summarize(shorter.copy(), violations=violations))


@pytest.mark.parametrize("function", ["validate", "summarize", "transitions"])
def test_engine_keeps_nothing_of_a_frame_once_the_caller_drops_it(
    recording: Path, function: str
) -> None:
    obs = replay.read(recording)
    result = getattr(replay, function)(obs)
    gone = weakref.ref(obs)
    del obs
    gc.collect()
    assert gone() is None  # no hidden cache holds the frame (or a sorted copy of it)
    assert len(result) > 0


@pytest.mark.parametrize("policy", POLICIES)
def test_analysis_tables_equal_the_standalone_functions(
    recording: Path, obs: pd.DataFrame, policy: str
) -> None:
    jobs = replay.read_jobs(recording)
    analysis = replay.analyse(obs, policy, jobs=jobs)
    pd.testing.assert_frame_equal(analysis.transitions, replay.transitions(obs, policy))
    pd.testing.assert_frame_equal(analysis.summary, replay.summarize(obs, policy, jobs=jobs))
    pd.testing.assert_frame_equal(analysis.eta(), replay.eta.eta(obs, policy=policy, jobs=jobs))
    assert analysis.violations is analysis.violations  # computed once, kept


@pytest.mark.parametrize("function", ["validate", "summarize", "transitions"])
def test_reading_only_engine_columns_gives_the_same_results(
    recording: Path, obs: pd.DataFrame, function: str
) -> None:
    narrow = replay.read(recording, columns=replay.ENGINE_COLUMNS)
    assert list(narrow.columns) == list(replay.ENGINE_COLUMNS)
    engine = getattr(replay, function)
    pd.testing.assert_frame_equal(engine(narrow), engine(obs))


@pytest.mark.parametrize(
    "reorder",
    [
        pytest.param(lambda f: f.sample(frac=1.0, random_state=3), id="shuffled"),
        pytest.param(lambda f: f.iloc[::-1], id="reversed"),
        pytest.param(
            lambda f: f.assign(
                job_id=f["job_id"].cat.reorder_categories(f["job_id"].cat.categories[::-1])
            ),
            id="grouped-categories-reversed",
        ),
        pytest.param(lambda f: f.assign(job_id=f["job_id"].astype(str)), id="plain-strings"),
    ],
)
def test_row_order_and_job_id_dtype_of_the_input_do_not_change_results(
    obs: pd.DataFrame, reorder: Callable[[pd.DataFrame], pd.DataFrame]
) -> None:
    moved = reorder(obs).reset_index(drop=True)
    violations, summary = replay.analyse(moved)
    expected_violations, expected_summary = replay.analyse(obs)
    pd.testing.assert_frame_equal(violations, expected_violations)
    pd.testing.assert_frame_equal(summary, expected_summary)
