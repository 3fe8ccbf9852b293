"""The engine on dask (two worker processes) gives the in-memory engine's results row for row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster

from replay import distributed
from replay.engine import summarize, transitions, validate
from replay.errors import DatasetNotFoundError, UsageError
from replay.store import read, read_jobs, write_jobs, write_observations

Engine = Callable[..., pd.DataFrame]
MIDNIGHT = pd.Timestamp("2026-01-06T00:00:00Z")

ENGINES: dict[str, tuple[Engine, Engine]] = {
    "validate": (validate, distributed.validate),
    "transitions": (transitions, distributed.transitions),
    "summarize": (summarize, distributed.summarize),
}


def test_recording_straddles_midnight_in_several_partitions(recording: Path) -> None:
    """The fixture must really split jobs across date partitions, or equality proves little."""
    obs = read(recording)
    after = obs["ts"] >= MIDNIGHT
    by_job = after.groupby(obs["job_id"], observed=True)
    assert int((by_job.any() & ~by_job.all()).sum()) > 100
    assert distributed.read(recording, partition_rows=4000).npartitions >= 6


def test_read_gives_the_rows_and_dtypes_of_the_in_memory_reader(
    client: Client, recording: Path
) -> None:
    expected = read(recording)
    got = distributed.read(recording, partition_rows=4000).compute()
    got = got.sort_values(["job_id", "seq"], ignore_index=True)
    expected["job_id"] = expected["job_id"].astype("str")
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize(("name", "policy"), [
    pytest.param(name, policy, id=f"{name}-{policy}")
    for name in ENGINES
    for policy in ("graph-beta", "onedrive")
])  # fmt: skip
def test_engine_on_dask_equals_in_memory_row_for_row(
    client: Client, recording: Path, name: str, policy: str
) -> None:
    in_memory, on_dask = ENGINES[name]
    kwargs: dict[str, Any] = {"jobs": read_jobs(recording)} if name == "summarize" else {}
    expected = in_memory(read(recording), policy, **kwargs)
    got = on_dask(distributed.read(recording, partition_rows=4000), policy, **kwargs)
    assert len(expected) > 1000
    pd.testing.assert_frame_equal(got, expected)


def test_percentages_keep_nan_apart_from_null_through_the_shuffle(
    client: Client, recording: Path
) -> None:
    violations = distributed.validate(distributed.read(recording, partition_rows=4000))
    obs = read(recording)
    nan_rows = int(obs["percentage_complete"].isna().sum())
    pct = obs["percentage_complete"].array._pa_array.combine_chunks()
    real_nan = int(np.isnan(pct.fill_null(0).to_numpy()).sum())
    assert 0 < real_nan < nan_rows  # NaN and null both occur, and differ
    out_of_range = violations[violations["code"] == "pct_out_of_range"]
    flagged_nan = out_of_range["detail"].str.contains("not a number").sum()
    assert flagged_nan == real_nan


@pytest.mark.parametrize(("partition_rows", "n_jobs"), [(1, 5), (3, 40), (10_000, 2)])
def test_more_partitions_than_jobs_leaves_empty_partitions_harmless(
    client: Client,
    tmp_path: Path,
    record_fleet: Callable[..., Path],
    make_fleet: Callable[..., pd.DataFrame],
    partition_rows: int,
    n_jobs: int,
) -> None:
    root = record_fleet(tmp_path, n_jobs, seed=n_jobs, files=4)
    ddf = distributed.read(root, partition_rows=partition_rows)
    for name, (in_memory, on_dask) in ENGINES.items():
        pd.testing.assert_frame_equal(on_dask(ddf), in_memory(read(root)), obj=name)


def test_a_dask_frame_built_by_the_user_with_float_percentages(
    client: Client, make_fleet: Callable[..., pd.DataFrame]
) -> None:
    """Plain float64 percentages and string statuses work too (NaN then means missing)."""
    obs = make_fleet(300, seed=5)
    obs["percentage_complete"] = obs["percentage_complete"].astype("float64")
    ddf = dd.from_pandas(obs, npartitions=4)
    for name, (in_memory, on_dask) in ENGINES.items():
        pd.testing.assert_frame_equal(on_dask(ddf), in_memory(obs), obj=name)


def test_datasets_on_a_given_scheduler_match_and_print_the_dashboard(
    cluster: LocalCluster, recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = cluster.scheduler_address
    violations = distributed.validate_dataset(recording, policy="onedrive", scheduler=address)
    summary = distributed.summarize_dataset(recording, scheduler=address)
    obs = read(recording)
    pd.testing.assert_frame_equal(violations, validate(obs, "onedrive"))
    pd.testing.assert_frame_equal(summary, summarize(obs, jobs=read_jobs(recording)))
    assert (summary["outcome"] == "timed_out").any()
    assert capsys.readouterr().err.count("dask dashboard: http") == 2


def test_an_empty_recording_gives_empty_typed_results(
    client: Client, tmp_path: Path, make_fleet: Callable[..., pd.DataFrame]
) -> None:
    write_jobs(tmp_path, pd.DataFrame({"job_id": ["j"], "outcome": ["timed_out"]}))
    ddf = distributed.read(tmp_path)
    assert len(ddf.compute()) == 0
    pd.testing.assert_frame_equal(distributed.validate(ddf), validate(read(tmp_path)))
    assert list(distributed.summarize(ddf).columns) == list(summarize(make_fleet(1, 1)).columns)


def test_read_projects_columns_and_rejects_unknown_ones(client: Client, recording: Path) -> None:
    frame = distributed.read(recording, columns=["status"]).compute()
    assert list(frame.columns) == ["job_id", "seq", "status"]
    with pytest.raises(UsageError, match="'stauts'"):
        distributed.read(recording, columns=["stauts"])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"partition_rows": 0}, UsageError, "partition_rows=0"),
    ({"on_bad_file": "ignore"}, UsageError, "'ignore'"),
])  # fmt: skip
def test_read_rejects_bad_options(
    recording: Path, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        distributed.read(recording, **kwargs)


def test_read_of_a_missing_folder_says_what_a_recording_is(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        distributed.read(tmp_path / "nope")


def test_skip_mode_leaves_out_a_foreign_file_and_warns(
    client: Client, tmp_path: Path, record_fleet: Callable[..., Path]
) -> None:
    root = record_fleet(tmp_path, 50, seed=3, files=1)
    folder = next((root / "observations").iterdir())
    (folder / "part-zzz-foreign.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValueError, match="not a readable Parquet file"):
        distributed.read(root)
    with pytest.warns(UserWarning, match="foreign"):
        ddf = distributed.read(root, on_bad_file="skip")
    with pytest.warns(UserWarning, match="foreign"):
        expected = read(root, on_bad_file="skip")
    assert len(ddf.compute()) == len(expected) > 0


def test_a_frame_without_the_engine_columns_is_refused(client: Client) -> None:
    ddf = dd.from_pandas(pd.DataFrame({"job_id": ["a"], "seq": [0]}), npartitions=1)
    with pytest.raises(UsageError, match="ts, status"):
        distributed.validate(ddf)


def test_an_unreachable_scheduler_is_a_usage_error_naming_it() -> None:
    address = "tcp://127.0.0.1:9"
    with pytest.raises(UsageError, match=address) as info:
        distributed.client_for(address, timeout_s=0.5)
    assert "--scheduler" in str(info.value)


def test_rows_written_in_two_appends_of_one_job_meet_in_one_partition(
    client: Client, tmp_path: Path, make_fleet: Callable[..., pd.DataFrame]
) -> None:
    """A job's rows in different files and dates are replayed as one sequence."""
    obs = make_fleet(1, seed=9)
    half = len(obs) // 2
    write_observations(tmp_path, obs.iloc[half:])
    write_observations(tmp_path, obs.iloc[:half])
    got = distributed.summarize(distributed.read(tmp_path, partition_rows=1))
    assert got["n_obs"].tolist() == [len(obs)]
    pd.testing.assert_frame_equal(got, summarize(read(tmp_path)))


def test_validate_and_summarize_in_one_pass_equal_each_in_memory(
    cluster: LocalCluster, recording: Path
) -> None:
    violations, summary = distributed.validate_and_summarize_dataset(
        recording, policy="onedrive", scheduler=cluster.scheduler_address
    )
    obs = read(recording)
    pd.testing.assert_frame_equal(violations, validate(obs, "onedrive"))
    pd.testing.assert_frame_equal(summary, summarize(obs, "onedrive", jobs=read_jobs(recording)))


def test_a_simulated_fleet_of_every_scenario_equals_in_memory(
    client: Client, tmp_path: Path
) -> None:
    """The simulator's fleets straddle UTC midnight and exercise every catalogued quirk."""
    from replay.simulate import simulate

    root = simulate(400, seed=3).write(tmp_path)
    assert len(list((root / "observations").iterdir())) >= 2
    obs, jobs = read(root), read_jobs(root)
    violations, summary = distributed.validate_and_summarize(
        distributed.read(root, partition_rows=1), jobs=jobs
    )
    pd.testing.assert_frame_equal(violations, validate(obs))
    pd.testing.assert_frame_equal(summary, summarize(obs, jobs=jobs))
    got = distributed.transitions(distributed.read(root, partition_rows=1))
    pd.testing.assert_frame_equal(got, transitions(obs))


def test_client_for_without_address_starts_a_cluster_per_core_and_closes_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    with distributed.client_for() as own:
        workers = own.scheduler_info()["workers"].values()
        cluster = own.cluster
        assert len(workers) == len(os.sched_getaffinity(0))
        assert {w["nthreads"] for w in workers} == {1}
    assert cluster.status.name == "closed"
    assert "dask dashboard: http://" in capsys.readouterr().err


def test_a_relative_folder_is_read_by_workers_started_elsewhere(
    client: Client, recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's workers started in another working directory than the one given here."""
    monkeypatch.chdir(recording.parent)
    got = distributed.validate(distributed.read(recording.name, partition_rows=4000))
    pd.testing.assert_frame_equal(got, validate(read(recording)))
