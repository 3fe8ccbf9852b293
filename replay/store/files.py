"""Files of a recording folder: layout, unique names, atomic writes and footer checks."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import secrets
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from replay.errors import (
    DatasetError,
    DatasetNotFoundError,
    ReplayWarning,
    SchemaVersionError,
    UsageError,
)
from replay.schema import JOBS, METADATA_KEY, OBSERVATIONS, SCHEMA_VERSION

__all__ = [
    "DAY_US",
    "DICTIONARY_COLUMNS",
    "EPOCH",
    "FILESYSTEM",
    "FORMAT",
    "IMPORTS_DIR",
    "JOBS_DIR",
    "OBSERVATIONS_DIR",
    "REPLACES_KEY",
    "STAGING_DIR",
    "WRITERS_DIR",
    "BadFile",
    "Footer",
    "ReplayWarning",
    "Staged",
    "bad_file_mode",
    "data_files",
    "folder_footers",
    "fsync_dir",
    "live_footers",
    "make_dirs",
    "observation_footers",
    "partition_dirs",
    "partition_footers",
    "partition_name",
    "recording_root",
    "split_by_day",
    "stage_bytes",
    "stage_table",
    "stale_temporaries",
    "unique_name",
    "write_atomic",
]

#: Observations are partitioned by UTC day: the epoch's day and a day's length in microseconds.
EPOCH = dt.date(1970, 1, 1)
DAY_US = 86_400_000_000
OBSERVATIONS_DIR = "observations"
JOBS_DIR = "jobs"
#: Temporary files are written here, then renamed into observations/ or jobs/; the intents of
#: changes spanning several files (compactions, imports) are kept here until they are done.
STAGING_DIR = ".replay-tmp"
#: One lock file per process writing the recording (its pid, host and shard).
WRITERS_DIR = ".replay-writers"
#: One small JSON record per imported file, named by the SHA-256 of its content.
IMPORTS_DIR = "_imports"
#: Compaction outputs list the file names they replace (same folder) under this metadata key.
REPLACES_KEY = b"replay.replaces"
#: Rows per Parquet row group: large enough for fast scans, small enough for row-group pruning.
ROW_GROUP_ROWS = 256 * 1024
_TEMP_SUFFIX = ".tmp"
_LAYOUT = (
    "a recording folder holds observations/date=YYYY-MM-DD/part-*.parquet and jobs/part-*.parquet "
    "(made by 'replay record', 'replay simulate' or 'replay import' with --out)"
)
#: Low-cardinality string columns are read as Arrow dictionaries: job_id and status become
#: pandas categoricals cheaply, and the others are sorted as small integer codes, then decoded.
DICTIONARY_COLUMNS = ("job_id", "status", "source", "operation", "error_code", "error_message")
FORMAT = ds.ParquetFileFormat(
    read_options=ds.ParquetReadOptions(dictionary_columns=set(DICTIONARY_COLUMNS))
)
_PLAIN = ds.ParquetFileFormat()
FILESYSTEM = pa.fs.LocalFileSystem()

Kind = Literal["observations", "jobs"]
BadFile = Literal["raise", "skip"]


def recording_root(root: str | Path) -> Path:
    """Return ``root`` as a Path after checking it is a recording folder."""
    path = Path(root)
    if not path.is_dir() or not any((path / d).is_dir() for d in (OBSERVATIONS_DIR, JOBS_DIR)):
        what = "does not exist" if not path.exists() else "is not a recording"
        raise DatasetNotFoundError(f"{path} {what}: {_LAYOUT}", path=str(path))
    return path


def partition_name(day: dt.date) -> str:
    """The hive folder name of the observations of ``day`` (UTC)."""
    return f"date={day.isoformat()}"


def split_by_day(table: pa.Table) -> list[tuple[dt.date, pa.Table]]:
    """``table`` split by the UTC date of ``ts`` (input order kept within a date)."""
    if table.num_rows == 0:
        return []
    day = np.floor_divide(table["ts"].cast(pa.int64()).to_numpy(), DAY_US)
    days, inverse = np.unique(day, return_inverse=True)
    if len(days) > 1:
        order = np.argsort(inverse, kind="stable")
        table = table.take(order)
        inverse = inverse[order]
    ends = np.searchsorted(inverse, np.arange(len(days)), side="right")
    starts = np.r_[0, ends[:-1]]
    return [
        (EPOCH + dt.timedelta(days=int(d)), table.slice(s, e - s))
        for d, s, e in zip(days, starts, ends, strict=True)
    ]


def partition_dirs(
    root: Path, on_bad: Callable[[DatasetError], None]
) -> list[tuple[dt.date, Path]]:
    """The ``date=`` folders under observations/, with their dates, oldest first."""
    folder = root / OBSERVATIONS_DIR
    if not folder.is_dir():
        return []
    found = []
    for entry in _entries(folder):
        if entry.name.startswith((".", "_")):
            continue
        if not _is_dir(entry):
            if entry.name.endswith(".parquet"):
                on_bad(DatasetError(f"{entry.path} lies outside a date=YYYY-MM-DD partition, "
                                    f"so it is not read: move it into {folder}/date=YYYY-MM-DD/ "
                                    f"(the UTC date of its rows)", path=entry.path))  # fmt: skip
            continue
        try:
            found.append(
                (dt.date.fromisoformat(entry.name.removeprefix("date=")), Path(entry.path))
            )
        except ValueError:
            on_bad(DatasetError(f"{entry.path} is not a date=YYYY-MM-DD partition: {_LAYOUT}; "
                                f"move it out of {folder}", path=entry.path))  # fmt: skip
    return sorted(found)


def data_files(folder: Path) -> list[Path]:
    """Visible ``*.parquet`` files of ``folder`` in name order (the dataset's file order).

    Two listings are taken until they agree, so a listing never mixes states of a concurrent
    compaction (an output and its deleted sources seen half-way).
    """
    previous: list[Path] | None = None
    for _ in range(10):
        current = _list_parquet(folder)
        if current == previous:
            break
        previous = current
    return current


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` (none when it does not exist); a DatasetError naming it when
    it cannot be listed (a file where a folder belongs, no permission, a symlink loop)."""
    try:
        return list(os.scandir(folder))
    except FileNotFoundError:
        return []
    except OSError as err:
        why = "it is a file, not a folder" if isinstance(err, NotADirectoryError) else err.strerror
        raise DatasetError(
            f"cannot list {folder}: {why or err}; a recording folder holds folders "
            f"observations/ and jobs/ that replay can read (check the path and its permissions)",
            path=str(folder),
        ) from None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a folder (following links); a DatasetError when it cannot be told."""
    try:
        return entry.is_dir()
    except OSError as err:
        raise DatasetError(
            f"cannot read {entry.path}: {err.strerror or err} (a symbolic link to itself?); "
            "remove it or point it at a real folder",
            path=entry.path,
        ) from None


def _list_parquet(folder: Path) -> list[Path]:
    entries = _entries(folder)
    names = [e.name for e in entries if e.name.endswith(".parquet") and e.is_file()]
    return [folder / n for n in sorted(names) if not n.startswith((".", "_"))]


def stale_temporaries(folder: Path, older_than_s: float) -> list[Path]:
    """Temporary files left in ``folder`` by writers that died before renaming them."""
    limit = time.time() - older_than_s
    entries = _entries(folder)
    return [
        Path(e.path)
        for e in entries
        if e.name.startswith(".part-") and e.name.endswith(_TEMP_SUFFIX)
        if e.stat().st_mtime < limit
    ]


def unique_name() -> str:
    """A new file name: ``part-<utc yyyymmddThhmmssffffff>-<pid>-<8 hex>.parquet``."""
    now = dt.datetime.now(dt.UTC)
    return f"part-{now:%Y%m%dT%H%M%S%f}-{os.getpid()}-{secrets.token_hex(4)}.parquet"


@dataclass(frozen=True)
class Staged:
    """A complete, fsynced temporary file, and where renaming it publishes it."""

    temporary: Path
    final: Path

    def publish(self) -> Path:
        """Rename the temporary file into place (atomic) and make the rename durable."""
        os.replace(self.temporary, self.final)
        fsync_dir(self.final.parent)
        return self.final


def write_atomic(table: pa.Table, root: Path, folder: Path, name: str | None = None) -> Path:
    """Write ``table`` as ``folder/name`` (``folder`` inside recording ``root``) so that no reader
    ever sees a partial file.

    The data goes to a temporary file in ``root``/.replay-tmp/, outside every folder a reader
    lists (so pandas, pyarrow, DuckDB, Polars, Spark and dask never meet it, even while a write
    runs or after a writer died), is fsynced, then renamed into place (one atomic rename on the
    same file system) and the folder is fsynced. Where ``folder`` is on another file system than
    ``root``, the temporary file is a hidden ``.part-*.tmp`` in ``folder`` itself.
    """
    staged = stage_table(table, root, folder, name)
    try:
        return staged.publish()
    except BaseException:
        staged.temporary.unlink(missing_ok=True)
        raise


def stage_table(table: pa.Table, root: Path, folder: Path, name: str | None = None) -> Staged:
    """``table`` written as a temporary file, ready to be renamed to ``folder/name``."""
    return _staged(root, folder, name or unique_name(), lambda temp: _write_parquet(table, temp))


def stage_bytes(data: bytes, root: Path, folder: Path, name: str) -> Staged:
    """``data`` written as a temporary file, ready to be renamed to ``folder/name``."""
    return _staged(root, folder, name, lambda temp: temp.write_bytes(data))


def _staged(root: Path, folder: Path, name: str, write: Callable[[Path], object]) -> Staged:
    make_dirs(folder)
    final = folder / name
    temp = _staging(root, folder) / f".{final.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
    try:
        write(temp)
        _fsync_path(temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Staged(temp, final)


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(
        table, path, compression="zstd", use_dictionary=True, row_group_size=ROW_GROUP_ROWS
    )


def _staging(root: Path, folder: Path) -> Path:
    """Where temporary files for ``folder`` go: ``root``/.replay-tmp when on the same device."""
    staging = root / STAGING_DIR
    make_dirs(staging)
    return staging if staging.stat().st_dev == folder.stat().st_dev else folder


def make_dirs(folder: Path) -> None:
    """Create ``folder`` and missing parents, fsyncing each parent that got a new entry."""
    if folder.is_dir():
        return
    make_dirs(folder.parent)
    try:
        folder.mkdir()
    except FileExistsError:
        return
    fsync_dir(folder.parent)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(folder: Path) -> None:
    """Make renames and deletions in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(IsADirectoryError, PermissionError):  # Windows cannot open folders
        _fsync_path(folder)


@dataclass(frozen=True, eq=False)
class Footer:
    """What the footer of one data file says, with a fragment whose footer is already read.

    ``fragment`` reads the dictionary columns as dictionaries (fast scans); ``plain`` reads them
    as strings, which pyarrow needs to prune row groups by their statistics. ``plain`` is read on
    first use: a footer's parsed metadata takes tens of kilobytes, and most reads never prune.
    """

    path: Path
    num_rows: int
    replaces: tuple[str, ...]
    fragment: ds.ParquetFileFragment
    #: Written by another tool (no ``replay.schema_version``): read as schema version 1.
    foreign: bool = False

    @functools.cached_property
    def plain(self) -> ds.ParquetFileFragment:
        """A fragment of the file that reads every column as plain values (for pruning)."""
        plain = _PLAIN.make_fragment(str(self.path), filesystem=FILESYSTEM)
        plain.ensure_complete_metadata()
        return plain

    def row_groups(self, expr: ds.Expression, schema: pa.Schema) -> list[int]:
        """Ids of the row groups whose statistics allow rows matching ``expr``."""
        return [
            part.row_groups[0].id for part in self.plain.split_by_row_group(expr, schema=schema)
        ]

    def subset(self, row_groups: list[int]) -> ds.ParquetFileFragment:
        """A fast-scanning fragment of just ``row_groups``."""
        if len(row_groups) == self.fragment.num_row_groups:
            return self.fragment
        return FORMAT.make_fragment(str(self.path), filesystem=FILESYSTEM, row_groups=row_groups)


_FooterKey = tuple[str, int, int, str]
# folder -> (file name, size, mtime_ns, kind) -> Footer. Data files never change once renamed
# into place, so a footer read once stays true while the file's size and mtime are unchanged.
# Each listing of a folder replaces that folder's entries, so files deleted since (by a
# compaction in this process or another) are forgotten: a recorder that merges its small files
# every few minutes would otherwise hold the footer of every file it ever wrote.
_FOOTERS: dict[Path, dict[_FooterKey, Footer]] = {}
_FOOTER_CACHE_LIMIT = 200_000


def folder_footers(folder: Path, kind: Kind, on_bad_file: BadFile) -> list[Footer]:
    """Footers of the data files of ``folder`` (replaced ones included), in file order; a bad
    file raises, or with ``on_bad_file="skip"`` warns and is left out.

    The cache keeps this listing's footers only, so files deleted since the last listing (by a
    compaction in this process or another) are forgotten. A file that vanished between the
    listing and its footer (deleted by a concurrent compaction) raises FileNotFoundError.
    """
    footers = []
    listed: dict[_FooterKey, Footer] = {}
    cached = _FOOTERS.get(folder, {})
    for path in data_files(folder):
        try:
            footers.append(_footer(path, kind, cached, listed))
        except DatasetError as err:
            skip_or_raise(err, on_bad_file)
    _notice_foreign(folder, footers)
    if sum(map(len, _FOOTERS.values())) >= _FOOTER_CACHE_LIMIT:
        _FOOTERS.clear()
    if listed:
        _FOOTERS[folder] = listed
    else:
        _FOOTERS.pop(folder, None)
    return footers


def _notice_foreign(folder: Path, footers: Sequence[Footer]) -> None:
    """One warning per folder when some of its files were written by another tool."""
    foreign = [f for f in footers if f.foreign]
    if foreign:
        warnings.warn(
            f"{len(foreign)} file(s) in {folder} carry no {METADATA_KEY.decode()} (written by "
            f"another tool, e.g. {foreign[0].path.name}): read as schema version "
            f"{SCHEMA_VERSION}, their columns checked against it",
            ReplayWarning,
            stacklevel=3,
        )


def observation_footers(
    base: Path, on_bad_file: BadFile, lo_us: int | None = None, hi_us: int | None = None
) -> list[Footer]:
    """Footers of the live observation files (compacted sources left out) of the partitions
    that can hold rows with ``ts`` in [``lo_us``, ``hi_us``) (epoch microseconds; None: open)."""
    return live_footers(partition_footers(base, on_bad_file, lo_us, hi_us))


def partition_footers(
    base: Path, on_bad_file: BadFile, lo_us: int | None = None, hi_us: int | None = None
) -> list[Footer]:
    """Footers of every visible observation file (compacted sources still on disk included) of
    the partitions that can hold rows with ``ts`` in [``lo_us``, ``hi_us``)."""
    footers: list[Footer] = []
    for day, folder in partition_dirs(base, lambda e: skip_or_raise(e, on_bad_file)):
        start = (day - EPOCH).days * DAY_US
        if (hi_us is not None and start >= hi_us) or (
            lo_us is not None and start + DAY_US <= lo_us
        ):
            continue
        footers.extend(folder_footers(folder, "observations", on_bad_file))
    return footers


def skip_or_raise(err: DatasetError, on_bad_file: BadFile) -> None:
    """Raise ``err``, or in skip mode warn with its message and return."""
    if on_bad_file == "raise":
        raise err
    warnings.warn(f"skipped: {err}", ReplayWarning, stacklevel=4)


def live_footers(footers: Sequence[Footer]) -> list[Footer]:
    """``footers`` without the files that a visible compaction output already contains."""
    replaced = {(f.path.parent, name) for f in footers for name in f.replaces}
    return [f for f in footers if (f.path.parent, f.path.name) not in replaced]


def _footer(
    path: Path, kind: Kind, cached: dict[_FooterKey, Footer], keep: dict[_FooterKey, Footer]
) -> Footer:
    """The footer of ``path``, from ``cached`` when the file is unchanged; kept in ``keep``."""
    stat = path.stat()
    key = (path.name, stat.st_size, stat.st_mtime_ns, kind)
    footer = cached.get(key)
    if footer is None:
        footer = _read_footer(path, kind)
    keep[key] = footer
    return footer


def _read_footer(path: Path, kind: Kind) -> Footer:
    fragment = FORMAT.make_fragment(str(path), filesystem=FILESYSTEM)
    try:
        fragment.ensure_complete_metadata()
    except FileNotFoundError:
        raise
    except (pa.ArrowException, OSError) as err:
        raise DatasetError(
            f"{path} is not a readable Parquet file ({err}): it may be truncated or not Parquet "
            f"at all; move it out of the recording folder, or read with on_bad_file='skip'",
            path=str(path),
        ) from None
    meta = fragment.metadata.metadata or {}
    _check_version(path, meta.get(METADATA_KEY), fragment.physical_schema)
    _check_columns(path, fragment.physical_schema, OBSERVATIONS if kind == "observations" else JOBS)
    replaces = _replaced_names(path, meta[REPLACES_KEY]) if REPLACES_KEY in meta else ()
    foreign = METADATA_KEY not in meta
    return Footer(path, fragment.metadata.num_rows, replaces, fragment, foreign)


def _replaced_names(path: Path, raw: bytes) -> tuple[str, ...]:
    """The file names a compaction output says it replaces (a DatasetError when unreadable)."""
    try:
        names = json.loads(raw)
    except ValueError:
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DatasetError(
            f"{path} has unreadable {REPLACES_KEY.decode()} metadata (expected a JSON list of "
            "file names): it was not written by replay's compaction; move it out of the "
            "recording folder, or read with on_bad_file='skip'",
            path=str(path),
        )
    return tuple(names)


def _check_version(path: Path, raw: bytes | None, schema: pa.Schema) -> None:
    if raw is None:  # written by another tool: read as version 1 when its columns fit
        return
    version = raw.decode(errors="replace")
    if not version.isdigit() or len(version.lstrip("0")) > 9:
        raise DatasetError(
            f"{path} has an unreadable {METADATA_KEY.decode()} {version!r} (expected a number "
            f"such as {SCHEMA_VERSION!r}); move it out of the recording folder",
            path=str(path),
        )
    if int(version) > int(SCHEMA_VERSION):
        raise SchemaVersionError(
            f"{path} was written with replay schema version {version}; this replay reads "
            f"version {SCHEMA_VERSION} and older: upgrade replay (pip install -U replay)",
            path=str(path),
            version=version,
        )


def _check_columns(path: Path, found: pa.Schema, expected: pa.Schema) -> None:
    """Raise DatasetError when a required column is missing or a known one has another type."""
    for field in expected:
        index = found.get_field_index(field.name)
        if index < 0:
            if not field.nullable:
                raise DatasetError(
                    f"{path} lacks the required column {field.name!r} (its columns: "
                    f"{', '.join(found.names)}); move it out of the recording folder",
                    path=str(path),
                )
            continue
        actual = found.field(index).type
        if pa.types.is_dictionary(actual):
            actual = actual.value_type
        if not _fits(actual, field.type):
            raise DatasetError(
                f"{path} has column {field.name!r} of type {actual}, expected {field.type} (or "
                f"a type that converts to it without loss); write it as {field.type}, or move "
                "the file out of the recording folder",
                path=str(path),
            )


def _fits(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a column of type ``actual`` reads as ``expected`` without loss of meaning: the
    same type, large strings for strings, any integer width for an integer column, float32 for
    float64, and a UTC timestamp of any unit (what pandas, DuckDB and Spark write)."""
    if actual == expected:
        return True
    if pa.types.is_string(expected):
        return pa.types.is_large_string(actual) or pa.types.is_string(actual)
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual) and actual.tz in ("UTC", "+00:00", "Etc/UTC")
    return False


def bad_file_mode(value: str) -> BadFile:
    """``value`` checked as an ``on_bad_file`` mode ("raise" or "skip")."""
    if value == "raise":
        return "raise"
    if value == "skip":
        return "skip"
    raise UsageError(f"on_bad_file={value!r} is not one of 'raise', 'skip'", key="on_bad_file")
