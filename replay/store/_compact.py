"""Compaction of a recording: many small files merged into few, with readers never disturbed."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from replay.errors import DatasetError, UsageError
from replay.schema import jobs_table, observations_table
from replay.store import _swap
from replay.store import files as _files
from replay.store.files import JOBS_DIR, REPLACES_KEY, Footer, Kind

__all__ = ["MAX_SOURCES", "CompactResult", "compact", "latest_rows", "merge_swap"]

#: At most this many files go into one output, so the names it lists in its footer stay small.
MAX_SOURCES = 512
#: Uncompressed bytes one merge reads at most (a merge holds a few copies of them in memory).
MAX_MERGE_BYTES = 64 * 1024 * 1024
_MAX_PASSES = 8


@dataclass(frozen=True)
class CompactResult:
    """Counts before and after a compaction (job rows drop when older rows of a job are merged)."""

    files_before: int
    files_after: int
    observation_rows: int
    job_rows_before: int
    job_rows_after: int
    temporaries_removed: int


def compact(
    root: str | Path, *, target_rows: int = 1_000_000, stale_after_s: float = 3600.0
) -> CompactResult:
    """Merge the small files of each date partition (and of jobs/) into files of ~``target_rows``.

    Observation rows are kept exactly (re-sorted by job_id, seq within each output); job rows are
    reduced to the latest row per job within each merged group, which ``read_jobs`` returns
    anyway. Each merge is one swap (see ``_swap.publish``): its intent is written, the output is
    renamed into place listing the files it replaces in its footer (``replay.replaces``), then
    those files are deleted. ``replay.read`` skips replaced files that are still visible, so a
    replay reader sees every row exactly once at any instant; plain Parquet readers (pandas,
    DuckDB) can see an output and its sources together only for the milliseconds between the
    rename and the deletions, and a merge killed there is finished by the next open (writer,
    reader or compaction). Temporary files older than ``stale_after_s`` (left by writers that
    died) are removed. One compaction runs at a time.
    """
    if isinstance(target_rows, bool) or not isinstance(target_rows, int) or target_rows < 1:
        raise UsageError(f"target_rows={target_rows!r} must be a whole number of rows, at least 1")
    base = _files.recording_root(root)
    with _swap.exclusive(base, wait=False) as held:
        if not held:
            raise DatasetError(
                f"another compaction (or import) of {base} is running: wait for it to finish",
                path=str(base),
            )
        _swap.finish_pending(base)
        folders: list[tuple[Path, Kind]] = [
            (f, "observations") for _, f in _files.partition_dirs(base, _raise)
        ]
        folders.append((base / JOBS_DIR, "jobs"))
        before = _census(folders)
        staging = [base / _files.STAGING_DIR, *(f for f, _ in folders)]
        removed = sum(_remove_temporaries(f, stale_after_s) for f in staging)
        for folder, kind in folders:
            _compact_folder(base, folder, kind, target_rows)
        after = _census(folders)
    return CompactResult(before[0], after[0], before[1], before[2], after[2], removed)


def _raise(err: DatasetError) -> None:
    raise err


def _census(folders: list[tuple[Path, Kind]]) -> tuple[int, int, int]:
    """(live files, observation rows, job rows) over ``folders``."""
    files = obs = jobs = 0
    for folder, kind in folders:
        footers = _live(folder, kind)
        files += len(footers)
        rows = sum(f.num_rows for f in footers)
        obs, jobs = (obs + rows, jobs) if kind == "observations" else (obs, jobs + rows)
    return files, obs, jobs


def _live(folder: Path, kind: Kind) -> list[Footer]:
    return _files.live_footers(_files.folder_footers(folder, kind, "raise"))


def _remove_temporaries(folder: Path, stale_after_s: float) -> int:
    stale = _files.stale_temporaries(folder, stale_after_s)
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def _compact_folder(base: Path, folder: Path, kind: Kind, target_rows: int) -> None:
    """Merge groups of consecutive small files in ``folder`` until nothing is left to merge."""
    if not folder.is_dir():
        return
    _swap.remove_replaced(folder, kind)
    for _ in range(_MAX_PASSES):
        groups = [g for g in _groups(_live(folder, kind), target_rows) if len(g) > 1]
        for group in groups:
            _swap.publish(base, merge_swap(base, folder, kind, group))
        if not groups:
            return


def _groups(footers: list[Footer], target_rows: int) -> list[list[Footer]]:
    """Consecutive runs (in file order) of at most ``target_rows`` rows, ``MAX_SOURCES`` files
    and ``MAX_MERGE_BYTES`` of uncompressed data: a merge's memory stays bounded when rows are
    large (64 KiB bodies) as well as when they are many."""
    groups: list[list[Footer]] = []
    current: list[Footer] = []
    rows = size = 0
    for footer in footers:
        grown = rows + footer.num_rows > target_rows or size + _bytes(footer) > MAX_MERGE_BYTES
        if current and (grown or len(current) >= MAX_SOURCES):
            groups.append(current)
            current, rows, size = [], 0, 0
        current.append(footer)
        rows += footer.num_rows
        size += _bytes(footer)
    return [*groups, current] if current else groups


def _bytes(footer: Footer) -> int:
    """The uncompressed size of ``footer``'s file, from its row groups' metadata."""
    meta = footer.fragment.metadata
    return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))


def merge_swap(base: Path, folder: Path, kind: Kind, group: list[Footer]) -> _swap.Swap:
    """The swap merging ``group``: the rows of its files staged as one output named to sort with
    its last source (listing the sources in its footer), and the sources to delete."""
    tables = [f.fragment.to_table() for f in group]
    merged = pa.concat_tables([_decoded(t) for t in tables])
    if kind == "observations":
        table = observations_table(merged).sort_by([("job_id", "ascending"), ("seq", "ascending")])
        if table.num_rows != sum(f.num_rows for f in group):
            raise DatasetError(f"compaction of {folder} lost rows; nothing was deleted")
    else:
        table = latest_rows(jobs_table(merged))
    names = [f.path.name for f in group]
    meta = {**(table.schema.metadata or {}), REPLACES_KEY: json.dumps(names).encode()}
    output = f"{names[-1].split('.')[0]}.c{secrets.token_hex(4)}.parquet"
    staged = _files.stage_table(table.replace_schema_metadata(meta), base, folder, output)
    return _swap.Swap((staged,), tuple(f.path for f in group))


def _decoded(table: pa.Table) -> pa.Table:
    """``table`` with dictionary columns cast back to their value type."""
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table[i].cast(field.type.value_type))
    return table


def latest_rows(table: pa.Table) -> pa.Table:
    """The last row per job_id of a jobs ``table`` (rows in file order) by ``last_seen``.

    Ties on ``last_seen`` (and null ``last_seen``, oldest) go to the later row. Sorted by job_id.
    """
    if table.num_rows == 0:
        return table
    job = pc.dictionary_encode(table["job_id"]).combine_chunks().indices.to_numpy()
    seen = table["last_seen"].cast(pa.int64()).fill_null(np.iinfo(np.int64).min).to_numpy()
    order = np.lexsort((np.arange(table.num_rows), seen, job))
    codes = job[order]
    last = np.r_[codes[1:] != codes[:-1], True]
    return table.take(order[last]).sort_by("job_id")
