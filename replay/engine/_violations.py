"""Violations: every rule of the table applied to prepared observations, as one table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from replay.engine._prepare import Prepared, prepare
from replay.engine._rules import RULES, Code, Severity
from replay.status import Policy

__all__ = ["validate", "violation_counts", "violations_of"]

_CODES = pd.CategoricalDtype([c.value for c in Code], ordered=True)
_SEVERITIES = pd.CategoricalDtype([s.value for s in Severity], ordered=True)
#: Per rule (in code order): the categorical code of its severity.
_SEVERITY_CODES = np.array([list(Severity).index(r.severity) for r in RULES], dtype=np.int8)


def validate(obs: pd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return one row per violation (``job_id, seq, ts, code, severity, detail``), by job and seq.

    To summarise the same observations too, ``replay.analyse`` prepares them once for both.
    """
    return violations_of(prepare(obs, policy))


def violations_of(p: Prepared) -> pd.DataFrame:
    """The violations table of prepared observations."""
    rows_parts, code_parts, detail_parts = [], [], []
    for index, rule in enumerate(RULES):
        rows = np.flatnonzero(rule.check(p))
        if len(rows):
            rows_parts.append(rows)
            code_parts.append(np.full(len(rows), index, dtype=np.int8))
            detail_parts.append(np.asarray(rule.detail(p, rows), dtype=object))
    if not rows_parts:
        return _empty()
    rows = np.concatenate(rows_parts)
    codes = np.concatenate(code_parts)
    details = np.concatenate(detail_parts)
    order = p.by_job(rows, codes)
    rows, codes, details = rows[order], codes[order], details[order]
    return pd.DataFrame(
        {
            "job_id": p.job_ids[p.block[rows]].astype(str),
            "seq": p.seq[rows].astype(np.int32),
            "ts": pd.to_datetime(p.ts[rows], unit="us", utc=True),
            "code": pd.Categorical.from_codes(codes, dtype=_CODES),
            "severity": pd.Categorical.from_codes(_SEVERITY_CODES[codes], dtype=_SEVERITIES),
            "detail": details.astype(str),
        }
    )


def violation_counts(violations: pd.DataFrame) -> dict[str, int]:
    """Violations per code, every code present (0 when clean), in contract order."""
    counts = violations["code"].astype(_CODES).value_counts(sort=False)
    return {str(code): int(counts.get(code, 0)) for code in _CODES.categories}


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "job_id": pd.Series([], dtype=str),
            "seq": pd.Series([], dtype=np.int32),
            "ts": pd.Series([], dtype="datetime64[us, UTC]"),
            "code": pd.Categorical([], dtype=_CODES),
            "severity": pd.Categorical([], dtype=_SEVERITIES),
            "detail": pd.Series([], dtype=str),
        }
    )
