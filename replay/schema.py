"""The Arrow schemas of a recording (version 1) and coercion of frames to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from replay.errors import DatasetError, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

__all__ = [
    "JOBS",
    "JOB_COLUMNS",
    "METADATA_KEY",
    "OBSERVATIONS",
    "OBSERVATION_COLUMNS",
    "SCHEMA_VERSION",
    "SOURCES",
    "jobs_table",
    "observations_table",
    "selected_columns",
]

#: Written as file-level key-value metadata ``replay.schema_version``; bump on incompatible change.
SCHEMA_VERSION = "1"
METADATA_KEY = b"replay.schema_version"
SOURCES = ("http", "import", "simulated", "api")

_UTC_US = pa.timestamp("us", tz="UTC")
_META = {METADATA_KEY: SCHEMA_VERSION.encode()}

OBSERVATIONS = pa.schema(
    [
        pa.field("job_id", pa.string(), nullable=False),
        pa.field("seq", pa.int32(), nullable=False),
        pa.field("ts", _UTC_US, nullable=False),
        pa.field("status", pa.string()),
        pa.field("percentage_complete", pa.float64()),
        pa.field("http_status", pa.int16()),
        pa.field("operation", pa.string()),
        pa.field("resource_id", pa.string()),
        pa.field("error_code", pa.string()),
        pa.field("error_message", pa.string()),
        pa.field("retry_after_s", pa.float64()),
        pa.field("latency_ms", pa.float64()),
        pa.field("source", pa.string(), nullable=False),
        pa.field("body", pa.string()),
    ],
    metadata=_META,
)

JOBS = pa.schema(
    [
        pa.field("job_id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("labels", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("first_seen", _UTC_US),
        pa.field("last_seen", _UTC_US),
        pa.field("outcome", pa.string()),
    ],
    metadata=_META,
)

OBSERVATION_COLUMNS: tuple[str, ...] = tuple(OBSERVATIONS.names)
JOB_COLUMNS: tuple[str, ...] = tuple(JOBS.names)
_REQUIRED_OBS = ("job_id", "seq", "ts")


def observations_table(frame: pd.DataFrame | pa.Table, *, source: str | None = None) -> pa.Table:
    """Return ``frame`` as an Arrow table of the observations schema (missing nullable columns null).

    ``source`` fills the ``source`` column when the frame has none. Raises DatasetError naming the
    missing or unconvertible column.
    """
    table = _as_table(frame)
    if "source" not in table.column_names and source is not None:
        table = table.append_column("source", pa.array([source] * table.num_rows, pa.string()))
    return _conform(table, OBSERVATIONS, required=(*_REQUIRED_OBS, "source"))


def jobs_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    """Return ``frame`` as an Arrow table of the jobs schema (missing nullable columns null)."""
    return _conform(_as_table(frame), JOBS, required=("job_id",))


def _as_table(frame: pd.DataFrame | pa.Table) -> pa.Table:
    if isinstance(frame, pa.Table):
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


def _conform(table: pa.Table, schema: pa.Schema, required: tuple[str, ...]) -> pa.Table:
    missing = [name for name in required if name not in table.column_names]
    if missing:
        raise DatasetError(
            f"missing required column(s) {', '.join(missing)}; expected {schema.names}"
        )
    columns = []
    for fld in schema:
        if fld.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, fld.type))
            continue
        column = table.column(fld.name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        try:
            column = column.cast(fld.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise DatasetError(
                f"column {fld.name!r} of type {column.type} cannot be stored as {fld.type}: {err}",
                column=fld.name,
            ) from None
        if not fld.nullable and column.null_count:
            raise DatasetError(f"column {fld.name!r} has {column.null_count} null value(s)")
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def selected_columns(columns: Sequence[str] | str | None) -> list[str]:
    """The observation columns to read, in schema order, job_id and seq always included."""
    if columns is None:
        return list(OBSERVATION_COLUMNS)
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
