"""The engine on dask: observations shuffled so each job is whole in one partition, engine per partition."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from replay.engine import ENGINE_COLUMNS
from replay.errors import UsageError
from replay.status import Policy, load_policy

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["summarize", "transitions", "validate", "validate_and_summarize"]

#: Validation and transitions never look at error codes; summaries report each job's last one.
_CHECK_COLUMNS = tuple(c for c in ENGINE_COLUMNS if c != "error_code")

Engine = Callable[..., Any]


def validate(ddf: dd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return ``replay.validate.validate`` of the observations in ``ddf``, computed on dask."""
    from replay.engine import validate as engine

    (result,) = _run(ddf, _CHECK_COLUMNS, engine, load_policy(policy))
    return result


def transitions(ddf: dd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return ``replay.transitions.transitions`` of the observations in ``ddf``, computed on dask."""
    from replay.engine import transitions as engine

    (result,) = _run(ddf, _CHECK_COLUMNS, engine, load_policy(policy))
    return result


def summarize(
    ddf: dd.DataFrame, policy: Policy | str | None = None, jobs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return ``replay.summary.summarize`` of the observations in ``ddf``, computed on dask.

    ``jobs`` (the recording's jobs table, as ``replay.store.read_jobs`` returns it) supplies the
    recorder's outcomes; only its job ids with an outcome travel to the workers.
    """
    from replay.engine import summarize as engine

    outcomes = None if jobs is None else _recorder_outcomes(jobs)
    (result,) = _run(ddf, ENGINE_COLUMNS, engine, load_policy(policy), jobs=outcomes)
    return result


def validate_and_summarize(
    ddf: dd.DataFrame, policy: Policy | str | None = None, jobs: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(validate(ddf), summarize(ddf, jobs=jobs))`` from one shuffle of ``ddf``.

    Each partition is prepared once for both (``replay.summary.analyse``).
    """
    from replay.engine import analyse

    outcomes = None if jobs is None else _recorder_outcomes(jobs)
    violations, summary = _run(ddf, ENGINE_COLUMNS, analyse, load_policy(policy), jobs=outcomes)
    return violations, summary


def _run(
    ddf: dd.DataFrame, wanted: Sequence[str], engine: Engine, policy: Policy, **kwargs: Any
) -> tuple[pd.DataFrame, ...]:
    """``engine``'s result frame(s) per job-whole partition of ``ddf``, each in job-id order.

    Each partition's results come to this process on their own and are concatenated here:
    dask's own concatenation would gather every result on one worker, past its memory limit.
    """
    from dask.base import compute
    from dask.delayed import delayed

    by_job = _by_job(ddf, wanted)
    metas = _result_meta(engine, by_job._meta, policy, **kwargs)
    shared = {k: _shared(v) for k, v in kwargs.items() if v is not None}
    parts = by_job.to_delayed()  # type: ignore[no-untyped-call]
    tasks = [delayed(_apply, pure=True)(p, engine, policy, metas, **shared) for p in parts]
    done = compute(*tasks)  # type: ignore[no-untyped-call]
    return tuple(
        _in_job_order([results[i] for results in done], meta) for i, meta in enumerate(metas)
    )


def _by_job(ddf: dd.DataFrame, wanted: Sequence[str]) -> dd.DataFrame:
    """The ``wanted`` columns of ``ddf`` shuffled so that each job is whole in one partition."""
    missing = [c for c in ("job_id", "seq", "ts", "status") if c not in ddf.columns]
    if missing:
        raise UsageError(
            f"the dask frame lacks column(s) {', '.join(missing)}: pass one from "
            f"replay.distributed.read() or with the columns of the observation schema"
        )
    frame = _known_statuses(ddf[[c for c in wanted if c in ddf.columns]])
    return frame.shuffle("job_id", npartitions=max(frame.npartitions, 1))


def _shared(value: object) -> object:
    """``value`` sent once to every worker (scattered when a dask Client is current)."""
    from dask.delayed import delayed

    try:
        from distributed import default_client

        client = default_client()  # type: ignore[no-untyped-call]
    except (ImportError, ValueError):
        return delayed(value, pure=True)
    return client.scatter(value, broadcast=True, hash=False)


def _known_statuses(frame: dd.DataFrame) -> dd.DataFrame:
    """``frame`` with ``status`` a categorical of known categories (sorted when found here).

    Every partition then shares one set of categories, as the in-memory engine's single frame
    does, so transition tables concatenate with the in-memory categories.
    """
    from dask.dataframe.utils import has_known_categories

    status = frame["status"]
    if isinstance(status.dtype, pd.CategoricalDtype) and has_known_categories(status):  # type: ignore[no-untyped-call]
        return frame
    values = status.dropna().astype(str).unique().compute()
    dtype = pd.CategoricalDtype(pd.Index(sorted(values), dtype="str"))
    return frame.assign(status=status.astype(dtype))


def _apply(
    part: pd.DataFrame,
    engine: Engine,
    policy: Policy,
    metas: tuple[pd.DataFrame, ...],
    **kwargs: Any,
) -> tuple[pd.DataFrame, ...]:
    """``engine`` on one partition (whole jobs) as a tuple; the typed empty results when empty.

    A jobs table is first cut to the partition's jobs: the engine would index all of it.
    """
    if part.empty:
        return metas
    jobs = kwargs.get("jobs")
    if jobs is not None:
        kwargs["jobs"] = jobs[_among(jobs["job_id"], part["job_id"])]
    return _as_tuple(engine(part, policy, **kwargs))


def _as_tuple(result: pd.DataFrame | tuple[pd.DataFrame, ...]) -> tuple[pd.DataFrame, ...]:
    return (result,) if isinstance(result, pd.DataFrame) else tuple(result)


def _result_meta(
    engine: Engine, meta: pd.DataFrame, policy: Policy, **kwargs: Any
) -> tuple[pd.DataFrame, ...]:
    """The engine's empty result(s) with the dtypes a non-empty partition gives.

    The engine runs on a two-row job built from ``meta`` (an empty frame has other dtypes);
    status categories are set to the frame's so concatenated partitions stay categorical.
    """
    status = meta["status"].dtype
    metas = []
    for result in _as_tuple(engine(_sample_rows(meta), policy, **kwargs)):
        empty = result.iloc[:0]
        if isinstance(status, pd.CategoricalDtype):
            for name in ("from_status", "to_status"):
                if name in empty.columns:
                    empty[name] = empty[name].astype(status)
        metas.append(empty.reset_index(drop=True))
    return tuple(metas)


def _sample_rows(meta: pd.DataFrame) -> pd.DataFrame:
    """Two observations of one job with ``meta``'s dtypes (all values null but the keys)."""
    rows = meta.reindex([0, 1])
    rows["job_id"] = pd.Series(["j", "j"], dtype=meta["job_id"].dtype)
    rows["seq"] = pd.Series([0, 1], dtype=meta["seq"].dtype)
    rows["ts"] = pd.to_datetime([0, 1_000_000], unit="us", utc=True).astype(meta["ts"].dtype)
    return rows


def _in_job_order(parts: list[pd.DataFrame], meta: pd.DataFrame) -> pd.DataFrame:
    """Partition results concatenated and stably sorted by job id (the engine's order within)."""
    filled = [part for part in parts if len(part)]
    if not filled:
        return meta
    results = pd.concat(filled, ignore_index=True) if len(filled) > 1 else filled[0]
    return results.sort_values("job_id", kind="stable", ignore_index=True)


def _among(values: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Rows of ``values`` found in ``wanted`` (Arrow's hash join: pandas' isin is 100x slower)."""
    found = pc.is_in(
        pa.array(values.astype(str)), value_set=pc.unique(pa.array(wanted.astype(str)))
    )
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _recorder_outcomes(jobs: pd.DataFrame) -> pd.DataFrame:
    """The jobs table reduced to what summaries use: the last outcome of each job."""
    if "outcome" not in jobs.columns:
        return jobs.iloc[:0][["job_id"]]
    known = jobs[["job_id", "outcome"]].dropna(subset=["outcome"])
    return known.drop_duplicates("job_id", keep="last").reset_index(drop=True)
