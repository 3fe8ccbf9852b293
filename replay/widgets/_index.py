"""The explorer's precomputed frames: each filter a vectorised mask over jobs, each job a row slice."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from replay.engine import Code, analyse
from replay.errors import UsageError
from replay.status import Policy

__all__ = ["Filters", "JobIndex", "label_frame"]


@dataclass(frozen=True)
class Filters:
    """What the explorer's controls ask for (empty selections mean "no filter")."""

    outcomes: Sequence[str] = ()
    label: str | None = None
    label_values: Sequence[str] = ()
    codes: Sequence[str] = ()
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None
    search: str = ""
    stuck_only: bool = False


class JobIndex:
    """Validate, summarize, transitions and ETA computed once; per-job row slices of each table."""

    def __init__(
        self, obs: pd.DataFrame, *, jobs: pd.DataFrame | None, policy: Policy | str | None
    ) -> None:
        self.obs = obs
        analysis = analyse(obs, policy, jobs=jobs)  # one preparation for the four tables
        self.violations = analysis.violations
        self.summary = analysis.summary
        self.transitions = analysis.transitions
        self.eta = analysis.eta()
        self.ids = self.summary["job_id"].astype(str).to_numpy()
        self._position = pd.Index(self.ids)
        self.labels = label_frame(self.ids, jobs)
        self.outcome = pd.Categorical(self.summary["outcome"].astype(str))
        self._first = self.summary["first_ts"].to_numpy("datetime64[ns]")
        self._last = self.summary["last_ts"].to_numpy("datetime64[ns]")
        self.row_job = self._positions(obs["job_id"])
        self._obs_rows = _Slices(self.row_job, len(self.ids))
        self._violation_rows = _Slices(self._positions(self.violations["job_id"]), len(self.ids))
        self._transition_rows = _Slices(self._positions(self.transitions["job_id"]), len(self.ids))
        self.codes = [c.value for c in Code]
        self._has_code = self._code_matrix()
        self._eta_job = self._positions(self.eta["job_id"])
        self.stuck = np.zeros(len(self.ids), dtype=bool)
        self.stuck[self._eta_job[self.eta["stuck"].to_numpy(dtype=bool)]] = True

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, f: Filters) -> np.ndarray:
        """Per job (summary order): whether it passes every filter of ``f``."""
        keep = np.ones(len(self.ids), dtype=bool)
        if f.outcomes:
            keep &= np.isin(self.outcome, list(f.outcomes))
        if f.label and f.label in self.labels.columns and f.label_values:
            keep &= self.labels[f.label].isin(list(f.label_values)).to_numpy()
        if f.codes:
            wanted = np.isin(self.codes, list(f.codes))
            keep &= self._has_code[:, wanted].any(axis=1)
        if f.window is not None:
            start, end = (np.datetime64(t.tz_convert(None).as_unit("ns")) for t in f.window)
            keep &= (self._first <= end) & (self._last >= start)
        if f.stuck_only:
            keep &= self.stuck
        if f.search:
            keep &= pd.Series(self.ids).str.contains(f.search, case=False, regex=False).to_numpy()
        return keep

    def rows_of(self, keep: np.ndarray) -> pd.DataFrame:
        """The observations of the jobs ``keep`` selects (all of them when it selects every job)."""
        if keep.all():
            return self.obs
        return self.obs.iloc[np.flatnonzero(keep[self.row_job])]

    def eta_of(self, keep: np.ndarray) -> pd.DataFrame:
        """The ETA rows (running jobs only) of the jobs ``keep`` selects."""
        return self.eta[keep[self._eta_job]]

    def job_obs(self, job_id: str) -> pd.DataFrame:
        """One job's observations."""
        return self.obs.iloc[self._obs_rows.of(self._at(job_id))]

    def job_violations(self, job_id: str) -> pd.DataFrame:
        """One job's violations, in seq order."""
        return self.violations.iloc[self._violation_rows.of(self._at(job_id))]

    def job_transitions(self, job_id: str) -> pd.DataFrame:
        """One job's transitions, in recorded order."""
        return self.transitions.iloc[self._transition_rows.of(self._at(job_id))]

    def job_summary(self, job_id: str) -> pd.Series:
        """One job's summary row."""
        row: pd.Series = self.summary.iloc[self._at(job_id)]
        return row

    def job_eta(self, job_id: str) -> pd.Series | None:
        """One running job's ETA row (None when the job ended)."""
        rows = self.eta.index[self._eta_job == self._at(job_id)]
        return None if not len(rows) else self.eta.loc[rows[0]]

    def time_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """The first and last observation time of the recording (None when it is empty)."""
        if not len(self.ids):
            return None
        return pd.Timestamp(self._first.min(), tz="UTC"), pd.Timestamp(self._last.max(), tz="UTC")

    def _at(self, job_id: str) -> int:
        """The summary position of ``job_id``; UsageError naming it when it is not a job here."""
        at = int(self._position.get_indexer(pd.Index([job_id]))[0])
        if at < 0:
            raise UsageError(
                f"no job {job_id!r} in this recording; pick one of the explorer's job_ids"
            )
        return at

    def _positions(self, job_ids: pd.Series) -> np.ndarray:
        """Per row of ``job_ids``: its job's position in the summary (categorical-aware)."""
        if isinstance(job_ids.dtype, pd.CategoricalDtype):
            where = self._position.get_indexer(pd.Index(job_ids.cat.categories.astype(str)))
            return np.append(where, -1)[job_ids.cat.codes.to_numpy()]
        return self._position.get_indexer(pd.Index(job_ids.astype(str)))

    def _code_matrix(self) -> np.ndarray:
        """Jobs x violation codes: whether the job has at least one violation of that code."""
        matrix = np.zeros((len(self.ids), len(self.codes)), dtype=bool)
        if len(self.violations):
            code = pd.Index(self.codes).get_indexer(pd.Index(self.violations["code"].astype(str)))
            matrix[self._positions(self.violations["job_id"]), code] = True
        return matrix


class _Slices:
    """Rows grouped by job position: ``of(i)`` gives job ``i``'s row numbers in original order."""

    def __init__(self, positions: np.ndarray, n_jobs: int) -> None:
        self._order = np.argsort(positions, kind="stable")
        self._bounds = np.searchsorted(positions[self._order], np.arange(n_jobs + 1))

    def of(self, i: int) -> np.ndarray:
        return self._order[self._bounds[i] : self._bounds[i + 1]]


def label_frame(ids: np.ndarray, jobs: pd.DataFrame | None) -> pd.DataFrame:
    """One row per job id in ``ids``: a column per label key of the jobs table (strings or NA)."""
    if jobs is None or "labels" not in jobs.columns or not len(jobs):
        return pd.DataFrame(index=pd.Index(ids, name="job_id"))
    latest = jobs.drop_duplicates("job_id", keep="last")
    parsed = [json.loads(text) if isinstance(text, str) else {} for text in latest["labels"]]
    frame = pd.DataFrame(parsed, index=latest["job_id"].astype(str)).astype("string")
    return frame.reindex(pd.Index(ids, name="job_id"))
