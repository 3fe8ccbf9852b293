"""Arrow scan results as pandas frames: sorted by (job, seq), categoricals, exact dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CATEGORICAL", "column_array", "observations_frame", "strings"]

#: Columns returned as pandas categoricals (categories sorted).
CATEGORICAL = ("job_id", "status")


def observations_frame(table: pa.Table) -> pd.DataFrame:
    """``table`` as a DataFrame sorted by (job_id, seq), categories sorted.

    Columns are converted one at a time and each Arrow column is released once converted, so the
    peak holds the scan plus one column in flight, not the scan plus a sorted copy of it.
    """
    table = table.unify_dictionaries()
    job_codes, job_values = _codes(table["job_id"])
    key = _sort_key(job_codes, _seq(table["seq"]))
    # The scan is a few runs already sorted (one per file): a stable merge sort finds them.
    order = None if _is_sorted(key) else np.argsort(key, kind="stable")
    del key
    taken = None if order is None else pa.array(order)
    names = table.column_names
    pending = dict(zip(names, table.columns, strict=True))
    del table
    columns: dict[str, object] = {}
    for name in names:
        column = pending.pop(name)
        if name in CATEGORICAL:
            codes, values = (job_codes, job_values) if name == "job_id" else _codes(column)
            del column
            columns[name] = pd.Categorical.from_codes(
                codes if order is None else codes[order], categories=values, validate=False
            )
            continue
        single = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        del column
        if taken is not None:
            single = single.take(taken)
        if pa.types.is_dictionary(single.type):
            single = single.cast(single.type.value_type)
        columns[name] = column_array(name, pa.chunked_array([single]))
        del single
    return pd.DataFrame(columns, copy=False)


def _seq(column: pa.ChunkedArray) -> np.ndarray:
    """``seq`` as integers; a DatasetError when a file left some out (they order each job)."""
    if column.null_count:
        from replay.errors import DatasetError

        raise DatasetError(
            f"column 'seq' has missing values ({column.null_count} of {len(column)} rows): every "
            "observation needs its index within its job (replay writes 0, 1, 2, ... per job)",
            column="seq",
        )
    return column.to_numpy()


def _sort_key(job_codes: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """One int64 per row ordering by (job code, seq): code in the high 32 bits, seq (shifted to
    be non-negative) in the low 32; built in place to keep a 6M-row read to two allocations."""
    key = job_codes.astype(np.int64)
    key <<= 32
    key += seq
    key += 1 << 31
    return key


def _is_sorted(key: np.ndarray) -> bool:
    return bool(np.all(key[1:] >= key[:-1]))


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 for null) into sorted categories, from a dictionary column with one dictionary."""
    chunks = column.chunks
    if not chunks:
        return np.zeros(0, np.int32), pd.Index([], dtype="str")
    dictionary = chunks[0].dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order) + 1, np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    rank[-1] = -1
    indices = [c.indices.fill_null(-1).to_numpy() for c in chunks]
    codes = rank[np.concatenate(indices)] if indices else np.zeros(0, np.int32)
    values = pd.Index(dictionary.take(order).to_pandas(), dtype="str")
    return codes, values


_INT16 = {pa.int16(): pd.Int16Dtype()}
#: pandas' ``str``: Arrow-backed strings whose missing value is NaN.
_STR = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def column_array(name: str, column: pa.ChunkedArray) -> object:
    """One non-categorical column in its pandas dtype (``replay.distributed`` reads with it too)."""
    if name == "percentage_complete":
        return pd.arrays.ArrowExtensionArray(column)
    if pa.types.is_string(column.type):
        return strings(column)
    return column.to_pandas(types_mapper=_INT16.get).array


def strings(column: pa.ChunkedArray) -> object:
    """A string column as pandas ``str``, wrapping the Arrow data without a copy."""
    return pd.arrays.ArrowStringArray(column, dtype=_STR)  # type: ignore[call-arg]
