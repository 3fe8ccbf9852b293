"""Observation frames built in code from hand-written sequences (importable by any test)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

T0 = pd.Timestamp("2026-01-05T23:00:00Z")

#: One row of a hand-written sequence: (seconds after T0, status, percentage, http status).
Row = tuple[float, str | None, float | None, int | None]


def obs_frame(jobs: Mapping[str, Sequence[Row]], *, source: str = "api") -> pd.DataFrame:
    """An observations frame from hand-written sequences, one list of rows per job id."""
    records: list[dict[str, Any]] = []
    for job_id, rows in jobs.items():
        for seq, (dt, status, pct, http) in enumerate(rows):
            records.append(
                {
                    "job_id": job_id,
                    "seq": seq,
                    "ts": T0 + pd.Timedelta(seconds=dt),
                    "status": status,
                    "percentage_complete": pct,
                    "http_status": http,
                    "source": source,
                }
            )
    frame = pd.DataFrame.from_records(
        records,
        columns=["job_id", "seq", "ts", "status", "percentage_complete", "http_status", "source"],
    )
    pct = pa.array(
        [r["percentage_complete"] for r in records], type=pa.float64(), from_pandas=False
    )
    frame["percentage_complete"] = pd.Series(pd.arrays.ArrowExtensionArray(pct))
    frame["seq"] = frame["seq"].astype("int32")
    frame["http_status"] = frame["http_status"].astype("Int16")
    return frame
