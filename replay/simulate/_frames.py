"""A simulated fleet as frames: one row per response, and the jobs table a recorder would write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from replay.simulate.scenarios import DIALECT_SHAPES, SCENARIOS

__all__ = ["BODY_KINDS", "FleetFrames", "jobs_table", "responses_frame"]

BODY_KINDS = ("json", "empty", "html", "truncated")


class FleetFrames(NamedTuple):
    """What the simulator draws: every response, the jobs table, and per job its first row
    (``bounds``, one more than jobs) and dialect."""

    responses: pd.DataFrame
    jobs: pd.DataFrame
    bounds: np.ndarray
    dialects: np.ndarray


def jobs_table(
    r: dict[str, np.ndarray], jobs: dict[str, np.ndarray], shapes: tuple[str, ...]
) -> pd.DataFrame:
    """The jobs table a recorder would write for the fleet (outcome: the scenario's)."""
    names = np.array(list(SCENARIOS))[jobs["scenario"]]
    dialect = np.array(shapes)[jobs["dialect"]]
    templates = [DIALECT_SHAPES[name].monitor_url.split("{id}") for name in shapes]
    url = pc.binary_join_element_wise(
        pa.array(np.array([p for p, _ in templates])[jobs["dialect"]]),
        pa.array(jobs["job_id"]),
        pa.array(np.array([s for _, s in templates])[jobs["dialect"]]),
        "",
    )
    labels = pc.binary_join_element_wise(
        '{"scenario": "', pa.array(names), '", "dialect": "', pa.array(dialect), '"}', ""
    )
    starts = r["bounds"][:-1]
    kept_ts = np.where(r["drop"], np.iinfo(np.int64).max, r["ts"])
    first = np.minimum.reduceat(kept_ts, starts)
    last = np.maximum.reduceat(np.where(r["drop"], np.iinfo(np.int64).min, r["ts"]), starts)
    outcomes = np.array([s.expected_outcome for s in SCENARIOS.values()])[jobs["scenario"]]
    return pd.DataFrame(
        {
            "job_id": pd.array(jobs["job_id"], dtype="str"),
            "url": pd.array(url.to_numpy(zero_copy_only=False), dtype="str"),
            "labels": pd.array(labels.to_numpy(zero_copy_only=False), dtype="str"),
            "size_bytes": jobs["size"],
            "first_seen": pd.DatetimeIndex(first.astype("datetime64[us]")).tz_localize("UTC"),
            "last_seen": pd.DatetimeIndex(last.astype("datetime64[us]")).tz_localize("UTC"),
            "outcome": pd.array(outcomes, dtype="str"),
        }
    )


def _categorical(codes: np.ndarray, categories: Sequence[str] | np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(categories))


def _lookup(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes of ``values`` among their distinct non-empty values (-1: empty; last entry -1)."""
    distinct = list(dict.fromkeys(v for v in values if v))
    return np.array([distinct.index(v) if v else -1 for v in values] + [-1]), distinct


def _arrow_float(values: np.ndarray, null: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A double[pyarrow] column where ``null`` rows are null and NaN stays NaN."""
    return pd.arrays.ArrowExtensionArray(pa.array(values, type=pa.float64(), mask=null))


def responses_frame(
    r: dict[str, np.ndarray],
    jobs: dict[str, np.ndarray],
    statuses: tuple[str, ...],
    errors: tuple[tuple[str, str], ...],
) -> pd.DataFrame:
    """The responses frame: one row per response, dropped connections included.

    ``r`` holds the simulator's per-row columns, ``jobs`` its per-job ones; ``statuses`` and
    ``errors`` are what the row codes ``r["status"]`` and ``r["error"]`` index.
    """
    json_status = (r["status"] >= 0) & (r["body"] == 0)
    completed = json_status & (r["status"] == statuses.index("completed"))
    operations = list(dict.fromkeys(s.operation for s in SCENARIOS.values()))
    scenario_op = np.array([operations.index(s.operation) for s in SCENARIOS.values()])
    error_lut, codes = _lookup([e[0] for e in errors])
    message_lut, messages = _lookup([e[1] for e in errors])
    header, header_values = _retry_headers(r)
    return pd.DataFrame(
        {
            "job_id": _categorical(r["job"], jobs["job_id"]),
            "seq": r["seq"].astype(np.int32),
            "t_s": r["t_s"],
            "ts": pd.DatetimeIndex(r["ts"].astype("datetime64[us]")).tz_localize("UTC"),
            "http_status": r["http"],
            "status": _categorical(r["status"], statuses),
            "percentage_complete": _arrow_float(r["pct"], r["pct_null"]),
            "operation": _categorical(
                np.where(json_status, scenario_op[jobs["scenario"][r["job"]]], -1), operations
            ),
            "resource_id": _categorical(np.where(completed, r["job"], -1), jobs["item"]),
            "error_code": _categorical(error_lut[r["error"]], codes),
            "error_message": _categorical(message_lut[r["error"]], messages),
            "retry_after_s": _arrow_float(r["retry_s"], np.isnan(r["retry_s"])),
            "retry_after_header": _categorical(header, header_values),
            "body_kind": _categorical(r["body"], BODY_KINDS),
            "delay_s": r["delay_s"],
            "drop": r["drop"],
            "latency_ms": r["latency_ms"],
        }
    )


def _retry_headers(r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Retry-After header values as categorical codes: seconds, or an HTTP date at ts + seconds."""
    kind, seconds = r["retry_kind"], r["retry_s"]
    given = np.flatnonzero(kind >= 0)
    text = np.full(len(given), "", dtype=object)
    plain = kind[given] == 0
    text[plain] = seconds[given[plain]].astype(np.int64).astype(str)
    dated = given[kind[given] == 1]
    due = (r["ts"][dated] // 1_000_000 + seconds[dated].astype(np.int64)).astype("datetime64[s]")
    text[kind[given] == 1] = pd.DatetimeIndex(due).strftime("%a, %d %b %Y %H:%M:%S GMT")
    values, inverse = np.unique(text[kind[given] < 2].astype(str), return_inverse=True)
    codes = np.full(len(kind), -1)
    codes[given[kind[given] < 2]] = inverse
    return codes, values
