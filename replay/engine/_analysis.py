"""One analysis of a recording: a single preparation shared, explicitly, by every table."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

import pandas as pd

from replay.engine._eta import eta_of
from replay.engine._prepare import Prepared, prepare
from replay.engine._summary import summary_of
from replay.engine._transitions import transitions_of
from replay.engine._violations import violations_of
from replay.status import Policy

__all__ = ["Analysis", "analyse"]


class Analysis:
    """Violations, summary, transitions and ETA of one observations frame, prepared once.

    Unpacks as ``violations, summary = replay.analyse(obs, policy, jobs=jobs)``; each table is
    computed on first use and kept. Holds the preparation (about 65 bytes per observation) for
    as long as the object lives: drop it when the tables are all you need.
    """

    def __init__(self, prepared: Prepared, jobs: pd.DataFrame | None = None) -> None:
        self.prepared = prepared
        self.jobs = jobs

    @cached_property
    def violations(self) -> pd.DataFrame:
        """``replay.validate(obs, policy)``."""
        return violations_of(self.prepared)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """``replay.summarize(obs, policy, jobs=jobs)``."""
        return summary_of(self.prepared, jobs=self.jobs, violations=self.violations)

    @cached_property
    def transitions(self) -> pd.DataFrame:
        """``replay.transitions(obs, policy)``."""
        return transitions_of(self.prepared)

    def eta(self, now: pd.Timestamp | str | None = None) -> pd.DataFrame:
        """``replay.eta.eta(obs, policy=policy, jobs=jobs, now=now)``."""
        summary = self.summary if now is None else None
        return eta_of(self.prepared, now=now, summary=summary, jobs=self.jobs)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        yield self.violations
        yield self.summary


def analyse(
    obs: pd.DataFrame, policy: Policy | str | None = None, *, jobs: pd.DataFrame | None = None
) -> Analysis:
    """Prepare ``obs`` once for every table: ``violations, summary = analyse(obs, policy)``,
    or ``analyse(...).transitions`` / ``.eta()`` for the others."""
    return Analysis(prepare(obs, policy), jobs)
