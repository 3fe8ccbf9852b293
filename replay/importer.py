"""Import monitor payloads from users' own JSON-lines logs (gzip accepted) into a recording."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from replay import payload
from replay.errors import DatasetNotFoundError, PayloadError, UsageError
from replay.recorder.urls import without_userinfo
from replay.store.writer import (
    JobRow,
    ObservationBuffer,
    WriteBuffer,
    escaped_text,
    imported_digests,
    jobs_arrow,
    write_import,
)

__all__ = ["BadLine", "ImportSummary", "import_files", "parse_line"]

#: Keys of a line that describe the payload rather than belong to its body.
_META_KEYS = frozenset({"job_id", "ts", "url", "body", "http_status", "headers"})
_GZIP_MAGIC = b"\x1f\x8b"
#: Epoch numbers above this are milliseconds or worse, not seconds (year 5138).
_MAX_EPOCH_S = 1e11
#: The times a line may carry: what a timestamp, pandas and matplotlib all hold.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BadLine:
    """A line that could not be imported, where it is and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: rows and jobs written, files read, lines rejected, and the files
    skipped because the recording already holds their content."""

    out: Path
    files: int
    rows: int
    jobs: int
    bad_lines: tuple[BadLine, ...]
    skipped: tuple[str, ...] = ()

    def line(self) -> str:
        """The one-line summary ``replay import`` prints at the end."""
        again = f", {len(self.skipped)} already imported" if self.skipped else ""
        return (
            f"imported {self.rows} observation(s) of {self.jobs} job(s) from {self.files} "
            f"file(s), {len(self.bad_lines)} bad line(s){again} -> {self.out}"
        )


@dataclass(frozen=True)
class _Parsed:
    job_id: str
    ts_us: int
    url: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class _Source:
    """One file to import: its SHA-256 (of the decompressed content), good rows and bad lines."""

    path: Path
    digest: str
    rows: list[_Parsed]
    bad: list[BadLine]


def parse_line(text: str) -> tuple[str, int, str | None, dict[str, Any]]:
    """One log line as (job_id, ts in UTC epoch microseconds, redacted url or None, normalised
    fields); raise PayloadError saying what is wrong with it.

    Lines are ``{"job_id", "ts", <body fields>}`` or ``{"ts", "url", "body", "http_status"?}``.
    ``ts`` is ISO 8601 (read as UTC when it has no offset) or epoch seconds.
    """
    try:
        item = json.loads(text)
    except json.JSONDecodeError as err:
        raise PayloadError(f"not valid JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise PayloadError("JSON nested too deeply to be a monitor payload") from None
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise PayloadError(f"not a usable JSON payload ({err})") from None
    if not isinstance(item, dict):
        raise PayloadError(f"expected a JSON object, got {type(item).__name__}")
    ts = _ts_us(item.get("ts"))
    url = item.get("url")
    if url is not None and not isinstance(url, str):
        raise PayloadError(f'"url" must be a string, got {type(url).__name__}')
    job_id = _job_id(item.get("job_id"), url)
    http_status = _http_status(item.get("http_status"))
    headers = _headers(item.get("headers"))
    body = _body(item)
    when = datetime.fromtimestamp(ts / 1e6, UTC)
    fields = payload.normalize(body, http_status=http_status, headers=headers, now=when)
    return job_id, ts, None if url is None else payload.redact_url(without_userinfo(url)), fields


def _ts_us(value: Any) -> int:
    if value is None:
        raise PayloadError('no "ts": give each line the time the payload was received')
    if isinstance(value, bool):
        raise PayloadError(f'"ts" must be ISO 8601 or epoch seconds, got {value!r}')
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > _MAX_EPOCH_S:
            raise PayloadError(
                f'"ts" {value!r} is not epoch seconds (milliseconds? divide by 1000)'
            )
        if value < 0:
            raise PayloadError(f'"ts" {value!r} is before 1970: epoch seconds are positive')
        return round(value * 1_000_000)
    if not isinstance(value, str):
        raise PayloadError(f'"ts" must be ISO 8601 or epoch seconds, got {value!r}')
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(f'"ts" {value!r} is not ISO 8601 (e.g. 2026-01-05T23:00:00Z)') from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc < _LATEST:
        raise PayloadError(
            f'"ts" {value!r} is outside the times a recording holds '
            f"({_EARLIEST:%Y-%m-%d} to {_LATEST:%Y-%m-%d} UTC)"
        )
    return round(utc.timestamp() * 1_000_000)


def _job_id(value: Any, url: str | None) -> str:
    if value is not None:
        if not isinstance(value, str) or not value.strip():
            raise PayloadError(f'"job_id" must be a non-empty string, got {value!r}')
        return escaped_text(payload.redact_text(value))
    if url is None:
        raise PayloadError('no "job_id" and no "url": give one so the line belongs to a job')
    return escaped_text(payload.job_id_from_url(url))


def _http_status(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise PayloadError(f'"http_status" must be an HTTP status code (100-599), got {value!r}')
    return value


def _headers(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise PayloadError('"headers" must be an object of strings')
    return {str(k): v for k, v in value.items()}


def _body(item: Mapping[str, Any]) -> Any:
    if "body" in item or "url" in item:
        body = item.get("body")
        if not isinstance(body, dict | str):
            raise PayloadError('"body" must be the JSON object (or text) the monitor returned')
        extra = set(item) - _META_KEYS
        if extra:
            raise PayloadError(
                f'unexpected key(s) {", ".join(sorted(extra))} next to "body"; put body fields '
                'inside "body"'
            )
        return body
    return {k: v for k, v in item.items() if k not in _META_KEYS}


def _lines(path: Path, digest: Any) -> Iterator[str]:
    """The text lines of a file, gzip-compressed or not (told by its magic bytes); ``digest``
    (a hashlib object) is fed the decompressed bytes."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream: Iterable[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        for line in stream:
            digest.update(line)
            yield line.decode("utf-8", errors="replace")


def _read(path: Path) -> _Source:
    """``path`` read, hashed and parsed (UsageError when it cannot be read)."""
    rows: list[_Parsed] = []
    bad: list[BadLine] = []
    digest = hashlib.sha256()
    try:
        for number, line in enumerate(_lines(path, digest), start=1):
            if not line.strip():
                continue
            try:
                job_id, ts, url, fields = parse_line(line)
            except PayloadError as err:
                bad.append(BadLine(str(path), number, err.message))
                continue
            rows.append(_Parsed(job_id, ts, url, fields))
    except (OSError, EOFError, zlib.error) as err:
        raise UsageError(
            f"cannot read {path}: {err}; check the file (a cut-off gzip file can be "
            "recovered with 'zcat FILE > FILE.jsonl')",
            path=str(path),
        ) from None
    return _Source(path, digest.hexdigest(), rows, bad)


def _check_files(paths: Iterable[str | Path]) -> list[Path]:
    files = [Path(p) for p in paths]
    if not files:
        raise UsageError("no files to import: give one or more JSON-lines files")
    for path in files:
        if not path.is_file():
            raise DatasetNotFoundError(f"no such file: {path}", path=str(path))
    return files


def import_files(
    paths: Iterable[str | Path], out: str | Path, *, strict: bool = False
) -> ImportSummary:
    """Import JSON-lines payload logs into the recording at ``out``; return what was done.

    Each job's rows take ``seq`` in file order, continuing the dataset. Each file is written
    whole or not at all (with a record of its content's SHA-256 under ``_imports/``), and a file
    whose content the recording already holds is skipped: importing the same file again adds
    nothing, and an import that crashed can simply be run again. Bad lines are returned in the
    summary; with ``strict=True`` any bad line raises PayloadError and nothing is written.
    """
    sources = [_read(path) for path in _check_files(paths)]
    bad = [line for source in sources for line in source.bad]
    if strict and bad:
        listed = "; ".join(str(b) for b in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise PayloadError(
            f"{len(bad)} bad line(s), nothing imported: {listed}{more}; fix them or drop --strict",
            bad_lines=tuple(bad),
        )
    root = Path(out)
    if not any(source.rows for source in sources):
        return ImportSummary(root, len(sources), 0, 0, tuple(bad))
    writer = WriteBuffer(root, writer="import")
    next_seq, known = writer.open()
    try:
        return _import(root, sources, next_seq, known)
    finally:
        writer.close()


def _import(
    root: Path, sources: list[_Source], next_seq: dict[str, int], known: dict[str, JobRow]
) -> ImportSummary:
    """Write each source not imported yet, one change per file; ``next_seq`` and ``known`` (the
    dataset's state) follow what is written."""
    done = imported_digests(root)
    skipped: list[str] = []
    bad: list[BadLine] = []
    rows = 0
    jobs: set[str] = set()
    for source in sources:
        if source.digest in done:
            skipped.append(str(source.path))
            continue
        bad += source.bad
        if not source.rows:
            continue
        table = _observations(source.rows, next_seq)
        job_rows = _jobs(table, source.rows, known)
        write_import(root, source.digest, _record(source, table), table, jobs_arrow(job_rows))
        done.add(source.digest)
        next_seq.update(_next_seq(table))
        known.update((row.job_id, row) for row in job_rows)
        rows += table.num_rows
        jobs.update(row.job_id for row in job_rows)
    files = len(sources) - len(skipped)
    return ImportSummary(root, files, rows, len(jobs), tuple(bad), tuple(skipped))


def _record(source: _Source, table: pa.Table) -> dict[str, Any]:
    """What ``_imports/<sha256>.json`` says about an imported file."""
    return {
        "sha256": source.digest,
        "file": escaped_text(payload.redact_text(source.path.name)),
        "rows": table.num_rows,
        "bad_lines": len(source.bad),
        "imported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _next_seq(table: pa.Table) -> dict[str, int]:
    """``max(seq) + 1`` per job of ``table``."""
    grouped = table.group_by("job_id").aggregate([("seq", "max")])
    seqs = (np.asarray(grouped["seq_max"]) + 1).tolist()
    return dict(zip(grouped["job_id"].to_pylist(), seqs, strict=True))


def _observations(parsed: list[_Parsed], next_seq: Mapping[str, int]) -> pa.Table:
    buffer = ObservationBuffer()
    for row in parsed:
        buffer.append({**row.fields, "job_id": row.job_id, "ts": row.ts_us, "source": "import"})
    table = buffer.take()
    assert table is not None
    seq = _seq(table.column("job_id"), next_seq)
    return table.set_column(table.schema.get_field_index("seq"), "seq", seq)


def _seq(job_ids: pa.ChunkedArray, start: Mapping[str, int]) -> pa.Array:
    """Per-job running count in row order, offset by each job's next seq in the dataset."""
    codes = pc.dictionary_encode(job_ids).combine_chunks()
    indices = codes.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(indices, kind="stable")
    sorted_codes = indices[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    run = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    count = np.empty_like(run)
    count[order] = run
    offsets = np.array([start.get(j, 0) for j in codes.dictionary.to_pylist()], dtype=np.int64)
    return pa.array(count + offsets[indices], type=pa.int32())


def _jobs(table: pa.Table, parsed: list[_Parsed], known: Mapping[str, JobRow]) -> list[JobRow]:
    """One jobs row per imported job: first/last seen, url; merged with what the dataset knew."""
    micros = pa.table({"job_id": table["job_id"], "ts": table["ts"].cast(pa.int64())})
    spans = micros.group_by("job_id").aggregate([("ts", "min"), ("ts", "max")])
    urls = {row.job_id: row.url for row in parsed if row.url is not None}
    rows = []
    for job_id, first, last in zip(
        spans["job_id"].to_pylist(),
        spans["ts_min"].to_pylist(),
        spans["ts_max"].to_pylist(),
        strict=True,
    ):
        row = known.get(job_id) or JobRow(job_id, url=urls.get(job_id))
        row.first_seen = first if row.first_seen is None else min(first, row.first_seen)
        row.last_seen = last if row.last_seen is None else max(last, row.last_seen)
        rows.append(row)
    return rows
