"""State transitions: one row per change of observed status within a job."""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay.engine._prepare import Prepared, prepare
from replay.status import Policy

__all__ = ["TRANSITION_COLUMNS", "transitions", "transitions_of"]

TRANSITION_COLUMNS = (
    "job_id",
    "from_status",
    "to_status",
    "ts_from",
    "ts_to",
    "dwell_s",
    "pct_from",
    "pct_to",
    "allowed",
)


def transitions(obs: pd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return one row per change of status within a job, in recorded order."""
    return transitions_of(prepare(obs, policy))


def transitions_of(p: Prepared) -> pd.DataFrame:
    """The transitions table of prepared observations."""
    rows = np.flatnonzero(p.changed)
    rows = rows[p.by_job(rows)]
    prev = p.prev_observed[rows]
    run_first = p.last_before(p.run_start, inclusive=True)[prev]
    codes_from = np.where(p.code[prev] >= 0, p.code[prev], p.policy.unknown_code)
    codes_to = np.where(p.code[rows] >= 0, p.code[rows], p.policy.unknown_code)
    allowed = p.policy.matrix[codes_from, codes_to] & ~p.terminal_before[rows]
    categories = pd.Index(p.raw_values.astype(str))
    return pd.DataFrame(
        {
            "job_id": p.job_ids[p.block[rows]].astype(str),
            "from_status": pd.Categorical.from_codes(p.raw[prev], categories=categories),
            "to_status": pd.Categorical.from_codes(p.raw[rows], categories=categories),
            "ts_from": pd.to_datetime(p.ts[run_first], unit="us", utc=True),
            "ts_to": pd.to_datetime(p.ts[rows], unit="us", utc=True),
            "dwell_s": (p.ts[rows] - p.ts[run_first]) / 1e6,
            "pct_from": _pct(p, prev),
            "pct_to": _pct(p, rows),
            "allowed": allowed,
        }
    )


def _pct(p: Prepared, rows: np.ndarray) -> pd.Series:
    """Percentages of ``rows`` as double[pyarrow], null where the response had none."""
    import pyarrow as pa

    values = pa.array(p.pct[rows], mask=p.pct_null[rows], type=pa.float64())
    return pd.Series(pd.arrays.ArrowExtensionArray(values))
