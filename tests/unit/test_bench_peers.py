"""The benchmark's peer implementations find exactly the violations replay.validate finds."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

# benchmarks/ lives beside replay/, outside the installed package: import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.peers import CODES, COLUMNS, PEERS, found, rules_of
from replay.engine import validate
from replay.schema import observations_table
from replay.simulate import SCENARIOS, simulate

_STATUSES = np.array(
    [
        "notStarted",
        "inProgress",
        "completed",
        "updating",
        "failed",
        "deletePending",
        "deleteFailed",
        "waiting",
        "cancelled",
        "cancelPending",
        "bogus",
        None,
    ],
    dtype=object,
)


def _triples(table: pa.Table) -> list[tuple[str, int, str]]:
    """Sorted (job_id, seq, code) rows, duplicates kept."""
    columns = [table[name].to_pylist() for name in ("job_id", "seq", "code")]
    return sorted(zip(*columns, strict=True))


def _peer_triples(name: str, obs: pd.DataFrame, policy: str) -> list[tuple[str, int, str]]:
    peer = PEERS[name]
    table = observations_table(obs, source="simulated").select(list(COLUMNS))
    return _triples(found(peer.validate(peer.native(table), rules_of(policy))))


@pytest.fixture(scope="module")
def fleet_obs() -> pd.DataFrame:
    """Observations of a small simulated fleet with every scenario of the catalogue."""
    return simulate(3 * len(SCENARIOS), seed=11, scenarios=list(SCENARIOS)).observations()


def _adversarial(n_jobs: int, seed: int) -> pd.DataFrame:
    """Random rows built to hit every code and edge: NaN, inf, nulls, 303, clocks going back."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 25, n_jobs)
    n = int(lengths.sum())
    seq = np.arange(n) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    pick = rng.integers(0, len(_STATUSES), n)
    sticky = (rng.random(n) < 0.6) & (seq > 0)
    pick = pick[np.maximum.accumulate(np.where(sticky, 0, np.arange(n)))]
    pct = np.where(rng.random(n) < 0.5, np.minimum(seq * 7.0, 100.0), rng.integers(0, 101, n))
    odd = rng.choice([np.nan, np.inf, -np.inf, -3.0, 140.0, 100.0, 0.0], n)
    pct = np.where(rng.random(n) < 0.15, odd, pct)
    gaps = rng.choice([0, 5, 60, 900, 1900, 4000], n) * (1 - 2 * (rng.random(n) < 0.05))
    starts = np.repeat(rng.integers(0, 10**6, n_jobs), lengths)
    ts = (
        starts + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[np.cumsum(lengths) - lengths], lengths)
    )
    http = rng.choice([200, 202, 303, 404, 429, 503, -1], n)
    frame = pd.DataFrame(
        {
            "job_id": [f"job-{j:04d}" for j in np.repeat(np.arange(n_jobs), lengths)],
            "seq": seq.astype(np.int32),
            "ts": pd.Timestamp("2026-01-05", tz="UTC") + pd.to_timedelta(ts, unit="s"),
            "status": _STATUSES[pick],
            "percentage_complete": pd.array(
                pa.array(pct, mask=rng.random(n) < 0.1), dtype=pd.ArrowDtype(pa.float64())
            ),
            "http_status": pd.array(np.where(http < 0, None, http), dtype="Int16"),
        }
    )
    return frame.sample(frac=1.0, random_state=seed, ignore_index=True)  # engines must sort


@pytest.mark.parametrize(("peer",), [(name,) for name in PEERS])
def test_peer_finds_the_same_violations_as_validate_on_every_scenario(
    peer: str, fleet_obs: pd.DataFrame
) -> None:
    expected = _triples(found(validate(fleet_obs)))
    assert {code for _, _, code in expected} == set(CODES)  # the catalogue hits every check
    assert _peer_triples(peer, fleet_obs, "graph-beta") == expected


@pytest.mark.parametrize(
    ("peer", "policy"),
    [(name, policy) for name in PEERS for policy in ("graph-beta", "onedrive")],
)
def test_peer_finds_the_same_violations_as_validate_on_adversarial_rows(
    peer: str, policy: str
) -> None:
    obs = _adversarial(150, seed=3)
    expected = _triples(found(validate(obs, policy)))
    assert {code for _, _, code in expected} == set(CODES)
    assert _peer_triples(peer, obs, policy) == expected
