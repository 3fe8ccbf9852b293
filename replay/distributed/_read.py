"""``replay.distributed.read``: a recording's live Parquet files as a dask DataFrame of row groups."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from replay.errors import UsageError
from replay.schema import OBSERVATION_COLUMNS, OBSERVATIONS, selected_columns
from replay.store import column_array
from replay.store import files as _files

if TYPE_CHECKING:
    import dask.dataframe as dd

__all__ = ["PARTITION_ROWS", "read"]

#: Rows per partition of ``read`` (one 256k-row group of the store's files): a worker's peak
#: memory grows with this, not with the dataset (see ``read``).
PARTITION_ROWS = 250_000
#: status is read as an Arrow dictionary so its categories come cheaply; job_id as plain strings.
_FORMAT = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns={"status"}))
_SCHEMA = pa.schema(
    [pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name == "status" else f
     for f in OBSERVATIONS]
)  # fmt: skip


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
    the engine functions shuffle by job themselves. ``status`` is a categorical whose
    categories are every status value of the dataset (sorted, as the in-memory reader gives
    them); ``percentage_complete`` is ``double[pyarrow]`` (null and NaN stay apart); ``job_id``
    is ``str``. Only the files a compaction has not replaced are read. ``on_bad_file="skip"``
    leaves out corrupt or foreign files with a warning instead of raising.

    Memory: the shuffle stages rows on the workers' disks (dask's p2p shuffle), so a worker
    holds a few partitions at a time, never the dataset: its peak grows with ``partition_rows``,
    not with the number of observations (figures in ``docs/scale.md``).
    """
    import dask
    import dask.dataframe as dd

    if partition_rows < 1:
        raise UsageError(f"partition_rows={partition_rows!r} must be a whole number >= 1")
    mode = _files.bad_file_mode(on_bad_file)
    footers = _files.observation_footers(_files.recording_root(root), mode)
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
    return frame if columns is None else frame[selected_columns(columns)]


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
    """Whole row groups of each file, grouped into pieces of about ``partition_rows`` rows.

    Paths are made absolute: workers need not share this process's working directory.
    """
    pieces = []
    for footer in footers:
        path = os.path.abspath(footer.path)
        sizes = np.array(
            [footer.fragment.metadata.row_group(i).num_rows
             for i in range(footer.fragment.metadata.num_row_groups)]
        )  # fmt: skip
        if not len(sizes):
            continue
        bins = (np.cumsum(sizes) - sizes) // partition_rows
        edges = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        for group in np.split(np.arange(len(sizes)), edges[1:]):
            pieces.append(_Piece(path, tuple(int(i) for i in group), statuses))
    return pieces


def _fragment(path: str | Path, row_groups: Sequence[int] | None = None) -> ds.ParquetFileFragment:
    return _FORMAT.make_fragment(str(path), filesystem=_files.FILESYSTEM, row_groups=row_groups)


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
    return column_array(name, column)


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
