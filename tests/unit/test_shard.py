"""Sharding by job id: stable across processes, disjoint, covering, evenly spread."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from replay.errors import UsageError
from replay.recorder.shard import parse_shard, shard_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1/1", (1, 1)), ("1/4", (1, 4)), ("4/4", (4, 4)), (" 2/3 ", (2, 3)), ("10/16", (10, 16))],
)
def test_parse_shard_reads_k_of_n(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize(
    "text", ["", "3", "0/4", "5/4", "-1/4", "1/0", "a/b", "1/4/2", "1.5/4", "/4", "1/"]
)
def test_parse_shard_rejects_bad_text_naming_it(text: str) -> None:
    with pytest.raises(UsageError, match="K/N") as info:
        parse_shard(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("n", [0, -2, True])
def test_shard_of_rejects_a_count_below_one(n: int) -> None:
    with pytest.raises(UsageError, match="shard count"):
        shard_of("job-1", n)


@pytest.mark.parametrize(("n", "jobs"), [(1, 100), (3, 3000), (8, 8000)])
def test_shards_are_disjoint_cover_the_fleet_and_are_balanced(n: int, jobs: int) -> None:
    ids = [f"job-{i:06d}" for i in range(jobs)]
    shards = {k: {j for j in ids if shard_of(j, n) == k} for k in range(1, n + 1)}
    assert set().union(*shards.values()) == set(ids)
    assert sum(len(s) for s in shards.values()) == jobs
    expected = jobs / n
    assert all(abs(len(s) - expected) < 0.15 * expected + 5 for s in shards.values())


@pytest.mark.slow
def test_shard_of_is_the_same_in_another_process() -> None:
    # Python's hash() of a str is salted per process; the shard must not be.
    ids = [f"job-{i}" for i in range(50)] + ["ünïcode-job", ""]
    code = (
        "import json, sys; from replay.recorder.shard import shard_of; "
        "print(json.dumps([shard_of(j, 7) for j in json.load(sys.stdin)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(ids),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(done.stdout) == [shard_of(j, 7) for j in ids]


@pytest.mark.parametrize(
    ("job_id", "n", "expected"), [("job-1", 4, 4), ("abc", 2, 2), ("job-000042", 16, 10)]
)
def test_shard_of_is_pinned(job_id: str, n: int, expected: int) -> None:
    # Pinned values: changing the hash would reshuffle every running fleet's shards.
    assert shard_of(job_id, n) == expected
