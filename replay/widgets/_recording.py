"""A recording opened for a notebook: its frames read and analysed once, its path resolved."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from replay.errors import DatasetNotFoundError
from replay.status import Policy

__all__ = ["Recording", "load_recording", "resolve_data"]


@dataclass(frozen=True)
class Recording:
    """A recording's observations, jobs, violations and per-job summary."""

    path: Path
    obs: pd.DataFrame
    jobs: pd.DataFrame
    violations: pd.DataFrame
    summary: pd.DataFrame

    @property
    def labels(self) -> pd.DataFrame:
        """One row per job (summary order, indexed by job id): a column per label key."""
        from replay.widgets._index import label_frame

        return label_frame(self.summary["job_id"].astype(str).to_numpy(), self.jobs)

    def __repr__(self) -> str:
        return (
            f"Recording({str(self.path)!r}: {len(self.summary)} jobs, {len(self.obs)} "
            f"observations, {len(self.violations)} violations)"
        )


def resolve_data(data: str | Path) -> Path:
    """``data`` as given when it exists, else relative to the checkout (``data/sample``).

    Raises DatasetNotFoundError saying where it looked and how to pass another recording.
    """
    given = Path(data).expanduser()
    candidates = [given] if given.is_absolute() else [given, _checkout() / given]
    for candidate in candidates:
        if (candidate / "observations").is_dir():
            return candidate.resolve()
    looked = " and ".join(str(c) for c in candidates)
    raise DatasetNotFoundError(
        f"no recording at {looked}: set DATA to a folder made by replay record, replay import "
        "or replay simulate (papermill: -p DATA path/to/recording)",
        path=str(given),
    )


def load_recording(data: str | Path, policy: Policy | str | None = None) -> Recording:
    """Read the recording at ``data`` (see ``resolve_data``), validate and summarise it once."""
    import replay

    path = resolve_data(data)
    obs, jobs = replay.read(path), replay.read_jobs(path)
    violations = replay.validate(obs, policy)
    summary = replay.summarize(obs, policy, jobs=jobs, violations=violations)
    return Recording(path, obs, jobs, violations, summary)


def _checkout() -> Path:
    """The folder holding the ``replay`` package: the repository in a development install."""
    return Path(__file__).resolve().parents[2]
