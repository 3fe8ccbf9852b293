"""What a report is made of: a recording's observations, summary, violations and provenance."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from replay.errors import UsageError
from replay.status import Policy, load_policy
from replay.store.files import bad_file_mode

if TYPE_CHECKING:
    from replay.store.files import BadFile

__all__ = ["SAMPLE_JOBS", "Recording", "load_recording", "top_violations"]

#: With ``engine="dask"`` the curves are drawn from the observations of this many jobs.
SAMPLE_JOBS = 5_000
_ENGINES = ("pandas", "dask")
_UNKNOWN_COLUMNS = ("job_id", "seq", "ts", "status")


@dataclass(frozen=True)
class Recording:
    """One recording, analysed once: ``obs`` (read from a folder: the engine's columns) may hold
    a sample of the jobs (``sampled``)."""

    name: str
    obs: pd.DataFrame
    summary: pd.DataFrame
    violations: pd.DataFrame
    jobs: pd.DataFrame | None
    policy: Policy
    path: str | None
    schema_versions: tuple[str, ...]
    engine: str = "pandas"
    #: With a sampled ``obs``: every observation of the jobs with an unknown status.
    unknown_obs: pd.DataFrame | None = None

    @property
    def sampled_jobs(self) -> int:
        """How many jobs ``obs`` holds (fewer than the summary's when sampled)."""
        return int(self.obs["job_id"].nunique()) if len(self.obs) else 0


def top_violations(violations: pd.DataFrame, top: int) -> pd.DataFrame:
    """The ``top`` violations worth reading first: the earliest of each code, then the second...

    Within a round errors come before warnings, then codes in contract order, so one frequent
    code cannot crowd the others out of the list.
    """
    by_time = violations.sort_values(["ts", "job_id", "seq"], kind="stable")
    rank = by_time.groupby("code", observed=True).cumcount().to_numpy()
    order = np.lexsort(
        (
            by_time["code"].cat.codes.to_numpy(),
            by_time["severity"].cat.codes.to_numpy(),
            rank,
        )
    )
    return by_time.iloc[order[: max(top, 0)]].reset_index(drop=True)


def load_recording(
    source: str | Path | pd.DataFrame,
    *,
    name: str | None = None,
    policy: Policy | str | None = None,
    jobs: pd.DataFrame | None = None,
    top: int = 50,
    on_bad_file: str = "raise",
    engine: str = "pandas",
    scheduler: str | None = None,
) -> Recording:
    """Read and analyse ``source`` (a recording folder or an observations frame) once."""
    pol = load_policy(policy)
    mode = bad_file_mode(on_bad_file)
    if engine not in _ENGINES:
        raise UsageError(f"engine must be one of {', '.join(_ENGINES)}, got {engine!r}")
    if isinstance(source, pd.DataFrame):
        if engine != "pandas":
            raise UsageError("engine='dask' reads a recording folder: pass its path, not a frame")
        return _analysed(source, name or "recording", pol, jobs, None, ())
    from replay.store import read, read_jobs

    path = str(source)
    label = name or Path(path).resolve().name
    if jobs is None:
        jobs = read_jobs(path, on_bad_file=mode)
    versions = schema_versions(path, mode)
    if engine == "pandas":
        from replay.engine import ENGINE_COLUMNS

        obs = read(path, columns=ENGINE_COLUMNS, on_bad_file=mode)  # all a report needs
        return _analysed(obs, label, pol, jobs, path, versions)
    from replay.distributed import validate_and_summarize_dataset

    violations, summary = validate_and_summarize_dataset(
        path, policy=pol, scheduler=scheduler, on_bad_file=mode
    )
    wanted = _sample_ids(summary, top_violations(violations, top))
    obs = read(path, jobs=wanted, on_bad_file=mode)
    unknown = violations.loc[violations["code"] == "unknown_status", "job_id"].astype(str)
    odd = read(path, jobs=sorted(set(unknown)), columns=_UNKNOWN_COLUMNS, on_bad_file=mode)
    return Recording(label, obs, summary, violations, jobs, pol, path, versions, "dask", odd)


def _analysed(
    obs: pd.DataFrame,
    name: str,
    policy: Policy,
    jobs: pd.DataFrame | None,
    path: str | None,
    versions: tuple[str, ...],
) -> Recording:
    from replay.engine import analyse

    violations, summary = analyse(obs, policy, jobs=jobs)
    return Recording(name, obs, summary, violations, jobs, policy, path, versions)


def _sample_ids(summary: pd.DataFrame, top: pd.DataFrame) -> list[str]:
    """Up to ``SAMPLE_JOBS`` job ids spread over the summary, plus every job of ``top``."""
    ids = summary["job_id"].astype(str).to_numpy()
    picked = ids[np.linspace(0, len(ids) - 1, min(SAMPLE_JOBS, len(ids))).astype(np.int64)]
    return sorted(set(picked.tolist()) | set(top["job_id"].astype(str)))


def schema_versions(path: str | Path, mode: BadFile) -> tuple[str, ...]:
    """The distinct ``replay.schema_version`` values in the footers of the observation files."""
    from replay.schema import METADATA_KEY
    from replay.store import files as _files

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the read already warned about skipped files
        footers = _files.observation_footers(_files.recording_root(path), mode)
    found = {(f.fragment.metadata.metadata or {}).get(METADATA_KEY, b"?") for f in footers}
    return tuple(sorted(v.decode(errors="replace") for v in found))
