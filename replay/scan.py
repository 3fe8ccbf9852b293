"""Look for credentials left in a folder: every file, every Parquet string value and metadata."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from replay.decode import text_of_bytes, wide_encoding
from replay.errors import DatasetNotFoundError
from replay.redact import PREFILTER_BYTES_RE2, PREFILTER_RE2, UNMASK_RE2, find_secrets, redact_text

__all__ = ["Finding", "ScanResult", "scan"]

_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
#: Text files are read in batches of lines of about this many bytes; a batch without a secret is
#: passed whole, so only batches with one are looked at line by line.
_TEXT_BATCH = 1 << 20


@dataclass(frozen=True, slots=True)
class Finding:
    """One place holding a secret: a file (relative path), where in it, and the kinds found."""

    path: str
    where: str
    kinds: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.path}: {self.where} ({', '.join(self.kinds)})"


@dataclass(slots=True)
class ScanResult:
    """What a scan looked at and found; ``unreadable`` lists (path, reason) it could not check."""

    files: int = 0
    values: int = 0
    findings: list[Finding] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether every file was read and nothing was found."""
        return not self.findings and not self.unreadable


def scan(root: str | os.PathLike[str]) -> ScanResult:
    """Scan every file under ``root`` (or the file ``root``) for unredacted secrets.

    Parquet files (told by their ``PAR1`` magic) are checked value by value (every string or
    binary column, nested ones included), along with column names and all key-value metadata;
    any other file as text (gzip decompressed). Values are checked for what they mean (JSON
    escapes, percent-encoding, UTF-16, full-width forms decoded, as redaction does). Anything that cannot be read (a file, a folder
    that cannot be listed, a symlinked folder, a FIFO) is named in ``unreadable``, so the result
    is not clean. Secrets are never copied into the result.
    Raises DatasetNotFoundError when ``root`` does not exist.
    """
    base = Path(root)
    if not base.exists():
        raise DatasetNotFoundError(
            f"no such folder: {base}; give the recording folder (or file) to scan", path=str(base)
        )
    result = ScanResult()
    for path in _files(base, result):
        relative = path.relative_to(base).as_posix() if base.is_dir() else path.name
        _scan_file(path, relative, result)
    return result


def _files(base: Path, result: ScanResult) -> list[Path]:
    """Every regular file under ``base``, sorted by path; what cannot be read (a folder that
    cannot be listed, a symlinked folder, which is not followed, a broken link, a FIFO or device)
    is added to ``result.unreadable``."""
    if not base.is_dir():
        return [base]
    found: list[Path] = []

    def unlisted(err: OSError) -> None:
        where = Path(err.filename or base)
        why = f"{type(err).__name__}: {err.strerror}; make it readable and scan again"
        result.unreadable.append((_relative(where, base), why))

    for folder, folders, names in os.walk(base, onerror=unlisted):
        for name in folders:
            path = Path(folder, name)
            if path.is_symlink():
                why = "a symbolic link to a folder, not followed; scan the folder it points to"
                result.unreadable.append((_relative(path, base), why))
        for name in names:
            path = Path(folder, name)
            if path.is_file():
                found.append(path)
            else:
                result.unreadable.append((_relative(path, base), _not_a_file(path)))
    return sorted(found, key=lambda p: p.parts)


def _relative(path: Path, base: Path) -> str:
    """``path`` as findings name it: relative to ``base``, redacted."""
    return redact_text(path.relative_to(base).as_posix())


def _not_a_file(path: Path) -> str:
    if path.is_symlink():
        return "a broken symbolic link; remove it or restore its target"
    return "not a regular file (a FIFO, socket or device); remove it from the folder"


class _Report:
    """Adds findings for one file to a ScanResult."""

    __slots__ = ("path", "result")

    def __init__(self, path: str, result: ScanResult) -> None:
        self.path = path
        self.result = result

    def check(self, where: str, text: str) -> None:
        """Count ``text`` as one value checked; record a finding when it holds a secret."""
        self.result.values += 1
        self.found(where, find_secrets(text))

    def found(self, where: str, kinds: list[str]) -> None:
        if kinds:
            self.result.findings.append(Finding(self.path, where, tuple(kinds)))


def _scan_file(path: Path, relative: str, result: ScanResult) -> None:
    """Scan one file; ``relative`` is its path as findings name it (shown redacted)."""
    result.files += 1
    report = _Report(redact_text(relative), result)
    report.check("file name", relative)
    try:
        with path.open("rb") as stream:
            magic = stream.read(4)
        if magic == _PARQUET_MAGIC:
            _scan_parquet_or_bytes(path, report)
        else:
            _scan_text(path, report, compressed=magic[:2] == _GZIP_MAGIC)
    except (OSError, EOFError, zlib.error) as err:
        result.unreadable.append((report.path, f"{type(err).__name__}: {err}"))


# -- text --------------------------------------------------------------------------------------


def _open_text(path: Path, compressed: bool) -> gzip.GzipFile | io.BufferedReader:
    return gzip.GzipFile(path, "rb") if compressed else path.open("rb")


def _scan_text(path: Path, report: _Report, *, compressed: bool) -> None:
    """Check a file's lines (``line N``); batches are tested whole first."""
    first = 1
    with _open_text(path, compressed) as stream:
        for lines in _line_batches(stream):
            report.result.values += len(lines)
            kinds = find_secrets("".join(lines))
            if kinds:
                _report_lines(lines, first, kinds, report)
            first += len(lines)


def _line_batches(stream: gzip.GzipFile | io.BufferedReader) -> Iterator[list[str]]:
    """The stream's lines in batches of about ``_TEXT_BATCH``: UTF-16 or UTF-32 when it starts
    so (a BOM, NULs), else UTF-8; undecodable bytes as U+FFFD."""
    encoding = wide_encoding(stream.read(256))
    stream.seek(0)
    if encoding is not None:
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        while lines := text.readlines(_TEXT_BATCH):
            yield lines
        return
    while batch := stream.readlines(_TEXT_BATCH):
        yield [line.decode("utf-8", errors="replace") for line in batch]


def _report_lines(lines: list[str], first: int, kinds: list[str], report: _Report) -> None:
    """Name each line holding a secret; a secret spread over lines is named by the line range."""
    before = len(report.result.findings)
    for number, line in enumerate(lines, start=first):
        report.found(f"line {number}", find_secrets(line))
    if len(report.result.findings) == before:
        report.found(f"lines {first}-{first + len(lines) - 1}", kinds)


# -- Parquet -----------------------------------------------------------------------------------


def _scan_parquet_or_bytes(path: Path, report: _Report) -> None:
    """A Parquet file's values and metadata; its raw bytes as text when it cannot be read."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, ValueError) as err:
        report.result.unreadable.append((report.path, f"not readable as Parquet: {err}"))
        _scan_text(path, report, compressed=False)
        return
    with parquet:
        _scan_parquet_metadata(parquet, report)
        _scan_parquet_values(parquet, report)


def _scan_parquet_metadata(parquet: pq.ParquetFile, report: _Report) -> None:
    """Column names, file and schema key-value metadata, field metadata and ``created_by``."""
    file_meta = parquet.metadata.metadata or {}
    _check_pairs(file_meta, "file metadata", report)
    schema = parquet.schema_arrow
    extra = {k: v for k, v in (schema.metadata or {}).items() if file_meta.get(k) != v}
    _check_pairs(extra, "schema metadata", report)
    for name, fld in _fields(schema):
        report.check(f"column name {redact_text(name)!r}", name)
        _check_pairs(fld.metadata or {}, f"column {redact_text(name)} metadata", report)
    report.check("created_by", parquet.metadata.created_by or "")


def _check_pairs(pairs: dict[bytes, bytes], where: str, report: _Report) -> None:
    for key, value in pairs.items():
        name = key.decode("utf-8", errors="replace")
        shown = redact_text(name)
        report.check(f"{where} key name {shown!r}", name)
        report.check(f"{where} key {shown!r}", value.decode("utf-8", errors="replace"))


def _fields(schema: pa.Schema) -> Iterator[tuple[str, pa.Field]]:
    """Every field of ``schema`` with its dotted name, nested ones included."""
    stack = [(f.name, f) for f in reversed(schema)]
    while stack:
        name, fld = stack.pop()
        yield name, fld
        stack.extend((f"{name}.{child.name}", child) for child in reversed(_children(fld.type)))


def _children(kind: pa.DataType) -> list[pa.Field]:
    if pa.types.is_struct(kind):
        return [kind.field(i) for i in range(kind.num_fields)]
    if pa.types.is_map(kind):
        return [kind.key_field, kind.item_field]
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return [kind.value_field]
    return []


def _scan_parquet_values(parquet: pq.ParquetFile, report: _Report) -> None:
    """Every string and binary value, a row group and a column at a time."""
    names = [f.name for f in parquet.schema_arrow if _holds_text(f.type)]
    offset = 0
    for group in range(parquet.num_row_groups):
        for name in names:
            column = parquet.read_row_group(group, columns=[name]).column(0)
            for chunk_offset, chunk in _chunks(column, offset):
                _scan_array(chunk, name, chunk_offset, None, report)
        offset += parquet.metadata.row_group(group).num_rows


def _holds_text(kind: pa.DataType) -> bool:
    """Whether a column of this type has string or binary values anywhere inside."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return _is_text(kind) or any(_holds_text(child.type) for child in _children(kind))


def _chunks(column: pa.ChunkedArray, offset: int) -> Iterator[tuple[int, pa.Array]]:
    for chunk in column.chunks:
        yield offset, chunk
        offset += len(chunk)


def _scan_array(
    array: pa.Array, name: str, offset: int, rows: np.ndarray | None, report: _Report
) -> None:
    """Scan ``array`` (its row i is file row ``offset + (rows[i] if rows else i)``)."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        array, kind = array.dictionary_decode(), kind.value_type
    if _is_text(kind):
        _scan_strings(array, name, offset, rows, report)
    elif pa.types.is_struct(kind):
        for child, fld in zip(array.flatten(), kind, strict=True):
            _scan_array(child, f"{name}.{fld.name}", offset, rows, report)
    elif _children(kind):
        values, parents = _flattened(array)
        owners = parents if rows is None else rows[parents]
        inner = name if pa.types.is_map(kind) else f"{name}[]"
        _scan_array(values, inner, offset, owners, report)


def _flattened(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The values of a list or map array (null lists' values too) and the row each belongs to."""
    rows = np.arange(len(array))
    if pa.types.is_fixed_size_list(array.type):
        size = array.type.list_size
        return array.values.slice(array.offset * size, len(array) * size), np.repeat(rows, size)
    offsets = array.offsets.to_numpy()
    values = array.values.slice(offsets[0], offsets[-1] - offsets[0])
    return values, np.repeat(rows, np.diff(offsets))


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
    )


def _scan_strings(
    array: pa.Array, name: str, offset: int, rows: np.ndarray | None, report: _Report
) -> None:
    """Match the whole column with the RE2 prefilter; check only the candidates in Python."""
    report.result.values += len(array) - array.null_count
    for index in _candidates(array):
        value = array[index].as_py()
        text = value if isinstance(value, str) else text_of_bytes(bytes(value))[0]
        row = offset + int(index if rows is None else rows[index])
        report.found(f"column {redact_text(name)}, row {row}", find_secrets(text))


def _candidates(array: pa.Array) -> np.ndarray:
    """Indices of the values that may hold a secret (a superset of the real ones)."""
    if pa.types.is_fixed_size_binary(array.type):
        array = array.cast(pa.binary())
    if array.null_count == len(array):
        return np.empty(0, dtype=np.int64)
    binary = pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type)
    unmasked = pc.replace_substring_regex(array, pattern=UNMASK_RE2, replacement=r"\1")
    prefilter = PREFILTER_BYTES_RE2 if binary else PREFILTER_RE2
    hits = pc.match_substring_regex(unmasked, pattern=prefilter, ignore_case=True)
    return np.flatnonzero(hits.fill_null(False).to_numpy(zero_copy_only=False))
