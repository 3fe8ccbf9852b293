"""The replay engine on dask: the dataset as a dask DataFrame, shuffled by job, engine per partition."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from replay import _files
from replay.errors import UsageError
from replay.schema import OBSERVATION_COLUMNS, OBSERVATIONS
from replay.status import Policy, load_policy

if TYPE_CHECKING:
    import dask.dataframe as dd
    from distributed import Client

__all__ = [
    "ENGINE_COLUMNS",
    "PARTITION_ROWS",
    "client_for",
    "read",
    "summarize",
    "summarize_dataset",
    "transitions",
    "validate",
    "validate_and_summarize",
    "validate_and_summarize_dataset",
    "validate_dataset",
]

#: The observation columns the engine reads (the others never change its results).
ENGINE_COLUMNS = ("job_id", "seq", "ts", "status", "percentage_complete", "http_status")
#: Summaries also report each job's last error code.
_SUMMARY_COLUMNS = (*ENGINE_COLUMNS, "error_code")
#: Rows per partition of ``read`` (one 256k-row group of the store's files): a worker's peak
#: memory grows with this, not with the dataset (see ``read``).
PARTITION_ROWS = 250_000
#: status is read as an Arrow dictionary so its categories come cheaply; job_id as plain strings.
_FORMAT = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns={"status"}))
_SCHEMA = pa.schema(
    [pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name == "status" else f
     for f in OBSERVATIONS]
)  # fmt: skip
_STR = pd.StringDtype(storage="pyarrow", na_value=np.nan)
_INT16 = {pa.int16(): pd.Int16Dtype()}


@dataclass(frozen=True)
class _Piece:
    """One partition of ``read``: some row groups of one file, and the dataset's status values."""

    path: str
    row_groups: tuple[int, ...]
    statuses: tuple[str, ...]


def read(
    root: str | Path,
    *,
    columns: Sequence[str] | None = None,
    partition_rows: int = PARTITION_ROWS,
    on_bad_file: str = "raise",
) -> dd.DataFrame:
    """Return the observations of ``root`` as a dask DataFrame (dtypes as ``replay.store.read``).

    One partition per ``partition_rows`` rows (whole row groups of one file), in no job order:
    the engine functions below shuffle by job themselves. ``status`` is a categorical whose
    categories are every status value of the dataset (sorted, as the in-memory reader gives
    them); ``percentage_complete`` is ``double[pyarrow]`` (null and NaN stay apart); ``job_id``
    is ``str``. Only the files a compaction has not replaced are read.

    Memory: the shuffle stages rows on the workers' disks (dask's p2p shuffle), so a worker
    holds a few partitions at a time, never the dataset: its peak grows with ``partition_rows``,
    not with the number of observations. Measured (2 workers, 6M and 20M observations alike):
    0.5-0.6 GB per worker with the default 250k-row partitions, 1.2-1.4 GB with 1M-row ones.
    A ``memory_limit`` of 0.9 GB per worker runs comfortably with the default (0.7 GB runs,
    with pauses); lower the p2p buffer (``distributed.p2p.comm.buffer``, 1 GiB by default) to
    about an eighth of the limit.
    """
    import dask
    import dask.dataframe as dd

    if partition_rows < 1:
        raise UsageError(f"partition_rows={partition_rows!r} must be a whole number >= 1")
    footers = _live_footers(root, _bad_file_mode(on_bad_file))
    statuses = _status_values(footers)
    meta = _frame(_SCHEMA.empty_table(), statuses)
    pieces = _pieces(footers, statuses, partition_rows)
    # Keep ``str`` columns as store.read gives them (dask would make them ``string``, NA-valued).
    with dask.config.set({"dataframe.convert-string": False}):
        frame = (
            dd.from_pandas(meta, npartitions=1)  # type: ignore[no-untyped-call]
            if not pieces
            else dd.from_map(  # type: ignore[no-untyped-call]
                _load, pieces, meta=meta, label="replay-read", enforce_metadata=False
            )
        )
    return frame if columns is None else frame[_columns(columns)]


def validate(ddf: dd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return ``replay.validate.validate`` of the observations in ``ddf``, computed on dask."""
    from replay.validate import validate as engine

    return _run(ddf, engine, load_policy(policy), ENGINE_COLUMNS)


def transitions(ddf: dd.DataFrame, policy: Policy | str | None = None) -> pd.DataFrame:
    """Return ``replay.transitions.transitions`` of the observations in ``ddf``, computed on dask."""
    from replay.transitions import transitions as engine

    return _run(ddf, engine, load_policy(policy), ENGINE_COLUMNS)


def summarize(
    ddf: dd.DataFrame, policy: Policy | str | None = None, jobs: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return ``replay.summary.summarize`` of the observations in ``ddf``, computed on dask.

    ``jobs`` (the recording's jobs table, as ``replay.store.read_jobs`` returns it) supplies the
    recorder's outcomes; only its job ids with an outcome travel to the workers.
    """
    from replay.summary import summarize as engine

    outcomes = None if jobs is None else _recorder_outcomes(jobs)
    return _run(ddf, engine, load_policy(policy), _SUMMARY_COLUMNS, jobs=outcomes)


def validate_and_summarize(
    ddf: dd.DataFrame, policy: Policy | str | None = None, jobs: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(validate(ddf), summarize(ddf, jobs=jobs))`` from one shuffle of ``ddf``."""
    from replay.summary import summarize as summary_engine
    from replay.validate import validate as validate_engine

    pol = load_policy(policy)
    by_job = _by_job(ddf, _SUMMARY_COLUMNS)
    outcomes = None if jobs is None else _recorder_outcomes(jobs)
    violations, summary = _computed(
        [
            _lazy(by_job, validate_engine, pol),
            _lazy(by_job, summary_engine, pol, jobs=outcomes),
        ]
    )
    return violations, summary


def validate_dataset(
    root: str | Path,
    *,
    policy: Policy | str | None = None,
    scheduler: str | None = None,
    on_bad_file: str = "raise",
) -> pd.DataFrame:
    """Return the violations of the recording at ``root``, computed on a dask cluster.

    ``scheduler`` is the address of an existing cluster (its workers must see ``root`` at the
    same path); without one, a LocalCluster sized to this machine runs for the call.
    """
    with client_for(scheduler):
        return validate(read(root, on_bad_file=on_bad_file), policy)


def summarize_dataset(
    root: str | Path,
    *,
    policy: Policy | str | None = None,
    scheduler: str | None = None,
    on_bad_file: str = "raise",
) -> pd.DataFrame:
    """Return the per-job summary of the recording at ``root`` (with its jobs table), on dask."""
    from replay.store import read_jobs

    jobs = read_jobs(root, on_bad_file=_bad_file_mode(on_bad_file))
    with client_for(scheduler):
        return summarize(read(root, on_bad_file=on_bad_file), policy, jobs=jobs)


def validate_and_summarize_dataset(
    root: str | Path,
    *,
    policy: Policy | str | None = None,
    scheduler: str | None = None,
    on_bad_file: str = "raise",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the violations and the per-job summary of ``root`` from one pass on dask."""
    from replay.store import read_jobs

    jobs = read_jobs(root, on_bad_file=_bad_file_mode(on_bad_file))
    with client_for(scheduler):
        return validate_and_summarize(read(root, on_bad_file=on_bad_file), policy, jobs=jobs)


def client_for(scheduler: str | None = None, *, timeout_s: float = 10.0) -> Client:
    """Return a dask Client of ``scheduler``, or of a new LocalCluster sized to this machine.

    The client owns a cluster it started and closes it with itself (use it as a context
    manager). The dashboard link goes to stderr so the user can watch progress.
    """
    from distributed import Client

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as err:
            raise UsageError(
                f"cannot reach the dask scheduler at {scheduler!r} ({err}): check the address "
                f"(e.g. tcp://host:8786) and that the scheduler runs, or leave out --scheduler "
                f"to start a local cluster",
                key="scheduler",
            ) from None
    else:
        # The p2p shuffle logs each shuffle's start and end at WARNING in the scheduler, which
        # runs in this process for a local cluster: noise on a command's stderr.
        logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
        client = _local_client()
    print(_dashboard_line(client), file=sys.stderr)
    return client


def _local_client() -> Client:
    """A client owning a LocalCluster: a worker process per core, one thread each."""
    import dask
    from distributed import Client
    from distributed.system import MEMORY_LIMIT

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(cores or 1, 1)
    # The p2p shuffle buffers up to 1 GiB per worker by default: keep it an eighth of a
    # worker's share of the machine's memory, so small machines do not run out.
    buffer = int(min(2**30, MEMORY_LIMIT / workers / 8))
    with dask.config.set({"distributed.p2p.comm.buffer": buffer}):
        return Client(n_workers=workers, threads_per_worker=1)  # type: ignore[no-untyped-call]


def _dashboard_line(client: Client) -> str:
    hint = "" if importlib.util.find_spec("bokeh") else " (pip install bokeh to view it)"
    return f"dask dashboard: {client.dashboard_link}{hint}"


# -- the engine, per partition ------------------------------------------------------------------

Engine = Callable[..., pd.DataFrame]


def _run(
    ddf: dd.DataFrame, engine: Engine, policy: Policy, wanted: Sequence[str], **kwargs: Any
) -> pd.DataFrame:
    """``engine`` applied per job-whole partition of ``ddf``, concatenated in job-id order."""
    (result,) = _computed([_lazy(_by_job(ddf, wanted), engine, policy, **kwargs)])
    return result


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


def _lazy(
    by_job: dd.DataFrame, engine: Engine, policy: Policy, **kwargs: Any
) -> tuple[dd.DataFrame, pd.DataFrame]:
    """``engine`` mapped over the partitions of ``by_job``, and its typed empty result."""
    meta = _result_meta(engine, by_job._meta, policy, **kwargs)
    shared = {k: _shared(v) for k, v in kwargs.items() if v is not None}
    results = by_job.map_partitions(  # type: ignore[no-untyped-call]
        _apply, engine, policy, meta, meta=meta, enforce_metadata=False, **shared
    )
    return results, meta


def _computed(lazy: Sequence[tuple[dd.DataFrame, pd.DataFrame]]) -> list[pd.DataFrame]:
    """The lazy results computed together (a shared shuffle runs once), in job-id order.

    Each partition's result comes to this process on its own and is concatenated here: dask's
    own concatenation would gather every result on one worker, past its memory limit.
    """
    from dask.base import compute

    parts = [results.to_delayed() for results, _ in lazy]  # type: ignore[no-untyped-call]
    done = compute(*[p for group in parts for p in group])  # type: ignore[no-untyped-call]
    ends = np.cumsum([len(group) for group in parts])
    frames = [list(done[end - len(group) : end]) for group, end in zip(parts, ends, strict=True)]
    return [_in_job_order(f, meta) for f, (_, meta) in zip(frames, lazy, strict=True)]


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
    part: pd.DataFrame, engine: Engine, policy: Policy, meta: pd.DataFrame, **kwargs: Any
) -> pd.DataFrame:
    """``engine`` on one partition (whole jobs); the typed empty result when it has no rows.

    A jobs table is first cut to the partition's jobs: the engine would index all of it.
    """
    if part.empty:
        return meta
    jobs = kwargs.get("jobs")
    if jobs is not None:
        kwargs["jobs"] = jobs[_among(jobs["job_id"], part["job_id"])]
    return engine(part, policy, **kwargs)


def _result_meta(engine: Engine, meta: pd.DataFrame, policy: Policy, **kwargs: Any) -> pd.DataFrame:
    """The engine's empty result with the dtypes a non-empty partition gives.

    The engine runs on a two-row job built from ``meta`` (an empty frame has other dtypes);
    status categories are set to the frame's so concatenated partitions stay categorical.
    """
    sample = _sample_rows(meta)
    result = engine(sample, policy, **kwargs).iloc[:0]
    status = meta["status"].dtype
    if isinstance(status, pd.CategoricalDtype):
        for name in ("from_status", "to_status"):
            if name in result.columns:
                result[name] = result[name].astype(status)
    return result.reset_index(drop=True)


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


# -- reading ------------------------------------------------------------------------------------


def _bad_file_mode(value: str) -> _files.BadFile:
    if value == "raise":
        return "raise"
    if value == "skip":
        return "skip"
    raise UsageError(f"on_bad_file={value!r} is not one of 'raise', 'skip'", key="on_bad_file")


def _columns(columns: Sequence[str]) -> list[str]:
    """The columns to keep, in schema order, job_id and seq always included."""
    wanted = [columns] if isinstance(columns, str) else list(columns)
    unknown = [c for c in wanted if c not in OBSERVATION_COLUMNS]
    if unknown:
        raise UsageError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; the observation columns are "
            f"{', '.join(OBSERVATION_COLUMNS)}",
            key="columns",
        )
    keep = {"job_id", "seq", *wanted}
    return [c for c in OBSERVATION_COLUMNS if c in keep]


def _live_footers(root: str | Path, mode: _files.BadFile) -> list[_files.Footer]:
    """Footers of every observations file a reader must see (compacted sources left out)."""
    base = _files.recording_root(root)
    footers: list[_files.Footer] = []
    for _, folder in _files.partition_dirs(base, lambda e: _files.skip_or_raise(e, mode)):
        found = _files.check_footers(_files.data_files(folder), "observations", mode)
        footers.extend(_files.live_footers(found))
    return footers


def _status_values(footers: Sequence[_files.Footer]) -> tuple[str, ...]:
    """Every status value of the files, sorted (the in-memory reader's categories)."""
    dictionaries = [
        chunk.dictionary
        for f in footers
        for chunk in _fragment(f.path).to_table(schema=_SCHEMA, columns=["status"])["status"].chunks
    ]
    if not dictionaries:
        return ()
    values = pc.unique(pa.concat_arrays(dictionaries))
    return tuple(values.take(pc.sort_indices(values)).to_pylist())


def _pieces(
    footers: Sequence[_files.Footer], statuses: tuple[str, ...], partition_rows: int
) -> list[_Piece]:
    """Whole row groups of each file, grouped into pieces of about ``partition_rows`` rows."""
    pieces = []
    for footer in footers:
        sizes = np.array(
            [footer.fragment.metadata.row_group(i).num_rows
             for i in range(footer.fragment.metadata.num_row_groups)]
        )  # fmt: skip
        if not len(sizes):
            continue
        bins = (np.cumsum(sizes) - sizes) // partition_rows
        edges = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        for group in np.split(np.arange(len(sizes)), edges[1:]):
            pieces.append(_Piece(str(footer.path), tuple(int(i) for i in group), statuses))
    return pieces


def _fragment(path: str | Path, row_groups: Sequence[int] | None = None) -> ds.ParquetFileFragment:
    return _FORMAT.make_fragment(str(path), filesystem=_files._FS, row_groups=row_groups)


def _load(piece: _Piece, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One partition: the row groups of ``piece`` as a frame (only ``columns`` when given)."""
    names = list(OBSERVATION_COLUMNS) if columns is None else list(columns)
    table = _fragment(piece.path, piece.row_groups).to_table(schema=_SCHEMA, columns=names)
    return _frame(table, piece.statuses)


def _frame(table: pa.Table, statuses: tuple[str, ...]) -> pd.DataFrame:
    """``table`` in the dtypes of ``replay.store.read`` (job_id as ``str``, not categorical)."""
    return pd.DataFrame(
        {name: _series(table[name], name, statuses) for name in table.column_names}, copy=False
    )


def _series(column: pa.ChunkedArray, name: str, statuses: tuple[str, ...]) -> Any:
    if name == "status":
        return _statuses(column, statuses)
    if name == "percentage_complete":
        return pd.arrays.ArrowExtensionArray(column)
    if pa.types.is_string(column.type):
        return pd.arrays.ArrowStringArray(column, dtype=_STR)  # type: ignore[call-arg]
    return column.to_pandas(types_mapper=_INT16.get).array


def _statuses(column: pa.ChunkedArray, statuses: tuple[str, ...]) -> pd.Categorical:
    """A dictionary column as a categorical over the dataset's sorted status values."""
    categories = pd.Index(list(statuses), dtype="str")
    parts = [np.zeros(0, dtype=np.int32)]
    for chunk in column.chunks:
        position = categories.get_indexer(pd.Index(chunk.dictionary.to_pylist(), dtype="str"))
        lookup = np.append(position, -1).astype(np.int32)
        parts.append(lookup[chunk.indices.fill_null(-1).to_numpy()])
    dtype = pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(np.concatenate(parts), dtype=dtype, validate=False)
